"""What every route module shares: the services it calls, who the caller is, JSON replies."""

from __future__ import annotations

import asyncio
from typing import Any, Protocol

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from wixhttp.platform.auth import Caller, KeyCache, authenticate, require_scope
from wixhttp.platform.config import PlatformConfig
from wixhttp.platform.deployments import DeploymentService
from wixhttp.platform.errors import AppwriteError, WixError
from wixhttp.platform.executions import ExecutionService
from wixhttp.platform.functions import FunctionService
from wixhttp.platform.store import FunctionRow
from wixhttp.platform.targets import Targets

__all__ = ["Resource", "Services", "error_response", "json_response", "no_content"]

#: Errors are never cached by a proxy or a browser.
NO_CACHE = {
    "Cache-Control": "no-cache, no-store, must-revalidate",
    "Expires": "0",
    "Pragma": "no-cache",
}


class Services(Protocol):
    """The platform as the HTTP layer sees it (the composition root provides it)."""

    project_id: str
    keys: KeyCache
    functions: FunctionService
    deployments: DeploymentService
    executions: ExecutionService
    targets: Targets

    @property
    def config(self) -> PlatformConfig: ...


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return JSONResponse(data, status_code=status, headers=headers)


def no_content() -> Response:
    # The SDK reads Content-Type on every response, and parses it as JSON if it says so.
    return Response(status_code=204, media_type="text/html; charset=UTF-8")


def error_response(error: AppwriteError | WixError) -> Response:
    if isinstance(error, WixError):
        return JSONResponse(error.body(), status_code=error.status, headers=error.headers)
    return JSONResponse(
        error.body(), status_code=error.status, headers={**NO_CACHE, **error.headers}
    )


class Resource:
    """Base of the route classes: the services, the project, and who is calling."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.project = services.project_id

    async def caller(self, request: Request, scope: str | None) -> Caller:
        caller = await authenticate(
            request.headers,
            self.services.keys,
            self.project,
            asyncio.get_running_loop().time(),
            query_project=request.query_params.get("project", ""),
        )
        if scope is not None:
            require_scope(caller, scope, self.project)
        return caller

    async def scoped_function(self, request: Request, scope: str) -> FunctionRow:
        """Check the caller has ``scope``, then find the path's function."""
        await self.caller(request, scope)
        return await self.services.functions.get(request.path_params["function_id"])
