"""The platform as one ASGI app: the API's routes, the function URLs, and a lifespan that
starts and stops the platform."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.types import Receive, Scope, Send

from wixhttp.platform import api, errors
from wixhttp.platform.api.context import error_response
from wixhttp.platform.config import PlatformConfig
from wixhttp.platform.proxy import FunctionProxy
from wixhttp.platform.service import Platform

__all__ = ["PlatformApp", "create_platform_app"]

log = logging.getLogger("wixhttp.platform")


def create_platform_app(config: PlatformConfig, platform: Platform | None = None) -> PlatformApp:
    """The platform as an ASGI app; its lifespan starts and stops builds and workers."""
    platform = platform or Platform(config)

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        await platform.start()
        try:
            yield
        finally:
            await platform.stop()

    app = Starlette(
        routes=api.routes(platform),
        lifespan=lifespan,
        exception_handlers=dict(api.EXCEPTION_HANDLERS),
    )
    proxies = {
        prefix: FunctionProxy(
            prefix,
            platform.project_id,
            platform.keys,
            platform.targets,
            platform.workers,
            platform.executions,
        )
        for prefix in ("_functions", "_functions-dev")
    }
    return PlatformApp(app, platform, proxies)


class PlatformApp:
    """The ASGI entry point. Function traffic (``/functions/{id}/_functions[-dev]/...``) goes
    straight to the proxy, skipping the router and middleware: it is the hot path. Everything
    else, lifespan included, is the Starlette app's."""

    def __init__(
        self, app: Starlette, platform: Platform, proxies: dict[str, FunctionProxy]
    ) -> None:
        self.app = app
        self.platform = platform
        self._proxies = proxies

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and (lost := self.platform.store.lost()):
            await error_response(errors.database_lost(lost))(scope, receive, send)
            return
        if scope["type"] == "http":
            path: str = scope["path"]
            if path.startswith("/functions/"):
                parts = path.split("/", 4)
                if len(parts) >= 4 and parts[2]:
                    proxy = self._proxies.get(parts[3])
                    if proxy is not None:
                        scope["path_params"] = {"function_id": parts[2]}
                        try:
                            await proxy(scope, receive, send)
                        except Exception:
                            log.exception("proxy error on %s", path)
                            await error_response(errors.server_error())(scope, receive, send)
                        return
        await self.app(scope, receive, send)
