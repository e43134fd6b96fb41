"""Wix-style publishing: ``upsertFunctionActivation`` and ``deleteFunctionActivation``.

``POST /functions/v1/activations/upsert`` with ``{"functionActivation": {"functionId": ...}}``
activates the function's latest deployment (it must be ready) and returns
``{"functionActivation": {id, functionId, revision, status, deploymentId, createdDate,
updatedDate}}``. ``revision`` (an int64 written as a string, Wix style) grows by one on every
upsert, even one that changes nothing. ``DELETE /functions/v1/activations/{functionId}``
deactivates: ``/_functions`` answers 404 until the next activation, ``/_functions-dev`` keeps
serving the latest ready deployment.

Activation and Appwrite's ``deploymentId`` are one state: an upsert sets the function's
``deploymentId``, a delete clears it, and ``PATCH /v1/functions/{id}/deployment`` is an
activation that does not touch the revision.

Errors use Wix's envelope ``{"message", "details": {"applicationError": {"code",
"description", "data"}}}``:

- 400 (validationError): ``functionActivation.functionId`` missing or not a string
- 401 UNAUTHENTICATED: no valid API key in ``Authorization`` (bare or ``Bearer``)
- 403 PERMISSION_DENIED: the key lacks ``functions.write``
- 404 FUNCTION_NOT_FOUND: no function with that id
- 428 FUNCTION_DISABLED, RUNTIME_UNAVAILABLE, NO_DEPLOYMENT, DEPLOYMENT_NOT_READY,
  DEPLOYMENT_FAILED, DEPLOYMENT_CANCELED, DEPLOYMENT_FILES_MISSING: the latest deployment cannot
  be activated (see :meth:`~wixhttp.platform.functions.FunctionService.wix_activate`)
- 429 ACTIVATION_RATE_EXCEEDED: more than ``activation_limit`` upserts of one function in a
  window of ``activation_window`` seconds (fixed windows on the database's clock, whole seconds,
  counted by every node together; ``Retry-After`` says when the next window starts)
"""

from __future__ import annotations

import asyncio
import json
import math

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from wixhttp.platform import errors, models
from wixhttp.platform.api.context import Resource, Services, json_response
from wixhttp.platform.auth import secret_from

__all__ = ["ActivationsApi"]


class ActivationsApi(Resource):
    def __init__(self, services: Services) -> None:
        super().__init__(services)
        self.limit = services.config.activation_limit
        self.window = services.config.activation_window
        self.store = services.functions.store

    def routes(self) -> list[Route]:
        return [
            Route("/functions/v1/activations/upsert", self.upsert, methods=["POST"]),
            Route("/functions/v1/activations/{function_id}", self.delete, methods=["DELETE"]),
        ]

    async def _authorize(self, request: Request) -> None:
        secret = secret_from(request.headers, authorization="wix").secret
        if not secret:
            raise errors.WixError(
                401, "UNAUTHENTICATED", "Send an API key in the Authorization header."
            )
        caller, project = await self.services.keys.resolve(
            secret, asyncio.get_running_loop().time()
        )
        if not caller.is_key or project != self.project:
            raise errors.WixError(401, "UNAUTHENTICATED", "The API key is not valid.")
        if not caller.has("functions.write"):
            raise errors.WixError(
                403, "PERMISSION_DENIED", "The API key lacks the functions.write scope."
            )

    async def _count(self, function_id: str) -> tuple[str, int]:
        """Count one activation of the function (429 past the limit): its counter's key and
        window, to take it back if the activation fails."""
        key = f"activation:{self.project}:{function_id}"
        window = max(1, math.ceil(self.window))
        count, start, clock = await self.store.count_hit(key, window)
        if count > self.limit:
            retry = max(1, math.ceil(start + window - clock))
            raise errors.WixError(
                429,
                "ACTIVATION_RATE_EXCEEDED",
                f"Function {function_id!r} was activated {self.limit} times in the last "
                f"{self.window:g} s; try again in {retry} s.",
                data={"functionId": function_id, "limit": self.limit, "windowSeconds": self.window},
                headers={"Retry-After": str(retry)},
            )
        return key, start

    async def upsert(self, request: Request) -> Response:
        await self._authorize(request)
        try:
            body = json.loads(await request.body() or b"{}")
        except ValueError:
            raise errors.wix_validation_error("body", "must be a JSON object") from None
        activation = body.get("functionActivation") if isinstance(body, dict) else None
        function_id = activation.get("functionId") if isinstance(activation, dict) else None
        if not isinstance(function_id, str) or not function_id:
            raise errors.wix_validation_error(
                "functionActivation.functionId", "is required and must be a string"
            )
        function = await self.services.functions.wix_function(function_id)
        key, window = await self._count(function_id)
        try:
            row = await self.services.functions.wix_activate(function)
        except Exception:
            await self.store.forget_hit(key, window)  # only activations count
            raise
        return json_response({"functionActivation": models.activation_json(row)})

    async def delete(self, request: Request) -> Response:
        await self._authorize(request)
        functions = self.services.functions
        function = await functions.wix_function(request.path_params["function_id"])
        await functions.deactivate(function)
        return json_response({})
