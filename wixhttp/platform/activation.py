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
- 428 FUNCTION_DISABLED: the function is disabled (``enabled: false``)
- 428 RUNTIME_UNAVAILABLE: the function's runtime is not one this host can run
- 428 NO_DEPLOYMENT: the function has no (fully uploaded) deployment
- 428 DEPLOYMENT_NOT_READY: the latest deployment is still waiting/processing/building
- 428 DEPLOYMENT_FAILED: the latest deployment's build failed
- 428 DEPLOYMENT_CANCELED: the latest deployment's build was canceled
- 428 DEPLOYMENT_FILES_MISSING: the latest deployment's built files are gone from disk
- 429 ACTIVATION_RATE_EXCEEDED: more than ``activation_limit`` upserts of one function per
  ``activation_window`` seconds (``Retry-After`` says when to retry)
"""

from __future__ import annotations

import asyncio
import json
import math
from collections import deque
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from wixhttp.platform import models
from wixhttp.platform.service import Platform

__all__ = ["ActivationApi", "ActivationError"]


class ActivationError(Exception):
    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        data: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.data = data or {}
        self.headers = headers or {}

    def response(self) -> Response:
        body = {
            "message": self.message,
            "details": {
                "applicationError": {
                    "code": self.code,
                    "description": self.message,
                    "data": self.data,
                }
            },
        }
        return JSONResponse(body, status_code=self.status, headers=self.headers)


def _validation_error(field: str, description: str) -> Response:
    body = {
        "message": f"{field}: {description}",
        "details": {
            "validationError": {"fieldViolations": [{"field": field, "description": description}]}
        },
    }
    return JSONResponse(body, status_code=400)


class ActivationApi:
    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self._recent: dict[str, deque[float]] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def _authorize(self, request: Request) -> None:
        header = request.headers.get("authorization", "").strip()
        secret = header[7:].strip() if header.lower().startswith("bearer ") else header
        secret = secret or request.headers.get("x-appwrite-key", "")
        if not secret:
            raise ActivationError(
                401, "UNAUTHENTICATED", "Send an API key in the Authorization header."
            )
        caller, project = await self.platform.keys.resolve(
            secret, asyncio.get_running_loop().time()
        )
        if not caller.is_key or project != self.platform.project_id:
            raise ActivationError(401, "UNAUTHENTICATED", "The API key is not valid.")
        if not caller.has("functions.write"):
            raise ActivationError(
                403, "PERMISSION_DENIED", "The API key lacks the functions.write scope."
            )

    async def _function(self, function_id: str) -> dict[str, Any]:
        function = await self.platform.store.get_function(self.platform.project_id, function_id)
        if function is None:
            raise ActivationError(
                404,
                "FUNCTION_NOT_FOUND",
                f"Function {function_id!r} does not exist.",
                data={"functionId": function_id},
            )
        return function

    def _check_rate(self, function_id: str) -> None:
        limit = self.platform.config.activation_limit
        window = self.platform.config.activation_window
        now = asyncio.get_running_loop().time()
        recent = self._recent.setdefault(function_id, deque())
        while recent and now - recent[0] >= window:
            recent.popleft()
        if len(recent) >= limit:
            retry = max(1, math.ceil(window - (now - recent[0])))
            raise ActivationError(
                429,
                "ACTIVATION_RATE_EXCEEDED",
                f"Function {function_id!r} was activated {limit} times in the last "
                f"{window:g} s; try again in {retry} s.",
                data={"functionId": function_id, "limit": limit, "windowSeconds": window},
                headers={"Retry-After": str(retry)},
            )

    async def _ready_deployment(self, function: dict[str, Any]) -> dict[str, Any]:
        function_id = function["id"]
        data: dict[str, Any] = {"functionId": function_id}
        if not function["enabled"]:
            raise ActivationError(
                428,
                "FUNCTION_DISABLED",
                "The function is disabled; enable it (update with enabled=true) first.",
                data=data,
            )
        if function["runtime"] not in models.RUNTIMES:
            raise ActivationError(
                428,
                "RUNTIME_UNAVAILABLE",
                f"The function's runtime {function['runtime']!r} is not available on this host "
                f"(available: {', '.join(models.RUNTIMES)}); update the function's runtime.",
                data={**data, "runtime": function["runtime"]},
            )
        latest = await self.platform.store.latest_deployment(self.platform.project_id, function_id)
        if latest is None:
            raise ActivationError(
                428,
                "NO_DEPLOYMENT",
                "The function has no deployment yet; deploy code first (wixhttp deploy).",
                data=data,
            )
        data["deploymentId"] = latest["id"]
        status = latest["status"]
        if status in ("waiting", "processing", "building"):
            raise ActivationError(
                428,
                "DEPLOYMENT_NOT_READY",
                f"The latest deployment {latest['id']} is still {status}; activate it when "
                "its build is ready.",
                data={**data, "status": status},
            )
        if status == "failed":
            raise ActivationError(
                428,
                "DEPLOYMENT_FAILED",
                f"The latest deployment {latest['id']} failed to build; see its buildLogs and "
                "deploy a fixed version.",
                data=data,
            )
        if status == "canceled":
            raise ActivationError(
                428,
                "DEPLOYMENT_CANCELED",
                f"The latest deployment {latest['id']} was canceled; deploy again.",
                data=data,
            )
        code = self.platform.paths.code(function_id, latest["id"])
        if not (code / latest["entrypoint"]).is_file():
            raise ActivationError(
                428,
                "DEPLOYMENT_FILES_MISSING",
                f"The built files of deployment {latest['id']} are missing from the data "
                "directory; deploy again.",
                data=data,
            )
        return latest

    async def upsert(self, request: Request) -> Response:
        try:
            await self._authorize(request)
            try:
                body = json.loads(await request.body() or b"{}")
            except ValueError:
                return _validation_error("body", "must be a JSON object")
            activation = body.get("functionActivation") if isinstance(body, dict) else None
            function_id = activation.get("functionId") if isinstance(activation, dict) else None
            if not isinstance(function_id, str) or not function_id:
                return _validation_error(
                    "functionActivation.functionId", "is required and must be a string"
                )
            function = await self._function(function_id)
            self._check_rate(function_id)
            deployment = await self._ready_deployment(function)
            # Serialised per function so concurrent upserts each get their own revision.
            if function["deployment_id"] != deployment["id"]:
                await self.platform.activate(function_id, deployment)
            row = await self.platform.store.upsert_activation(
                self.platform.project_id, function_id, deployment["id"]
            )
            self._recent.setdefault(function_id, deque()).append(asyncio.get_running_loop().time())
            return JSONResponse({"functionActivation": models.activation_json(row)})
        except ActivationError as error:
            return error.response()

    async def delete(self, request: Request) -> Response:
        try:
            await self._authorize(request)
            function_id = request.path_params["function_id"]
            function = await self._function(function_id)
            if function["deployment_id"]:
                await self.platform.update_function(
                    function_id, {"deployment_id": "", "deployment_created_at": ""}
                )
                await self.platform.retire_unused(function_id)
            await self.platform.store.deactivate(self.platform.project_id, function_id)
            return JSONResponse({})
        except ActivationError as error:
            return error.response()
