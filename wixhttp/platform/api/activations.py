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
- 429 ACTIVATION_RATE_EXCEEDED: more than ``activation_limit`` upserts of one function per
  ``activation_window`` seconds (``Retry-After`` says when to retry)
"""

from __future__ import annotations

import asyncio
import json
import math
from collections import deque

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
        self._recent: dict[str, deque[float]] = {}

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

    def _check_rate(self, function_id: str) -> None:
        now = asyncio.get_running_loop().time()
        recent = self._recent.setdefault(function_id, deque())
        while recent and now - recent[0] >= self.window:
            recent.popleft()
        if len(recent) >= self.limit:
            retry = max(1, math.ceil(self.window - (now - recent[0])))
            raise errors.WixError(
                429,
                "ACTIVATION_RATE_EXCEEDED",
                f"Function {function_id!r} was activated {self.limit} times in the last "
                f"{self.window:g} s; try again in {retry} s.",
                data={"functionId": function_id, "limit": self.limit, "windowSeconds": self.window},
                headers={"Retry-After": str(retry)},
            )

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
        self._check_rate(function_id)
        row = await self.services.functions.wix_activate(function)
        self._recent.setdefault(function_id, deque()).append(asyncio.get_running_loop().time())
        return json_response({"functionActivation": models.activation_json(row)})

    async def delete(self, request: Request) -> Response:
        await self._authorize(request)
        functions = self.services.functions
        function = await functions.wix_function(request.path_params["function_id"])
        await functions.deactivate(function)
        return json_response({})
