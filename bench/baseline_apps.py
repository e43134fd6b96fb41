"""The apps ``bench/http.py`` serves, each under ``uvicorn`` in its own process.

Every app answers ``GET`` with the same bytes: status 200, body ``{"message":"hello"}``,
``content-type: application/json; charset=utf-8`` (wixhttp's default for JSON), and a
``content-length`` (uvicorn adds ``date`` and ``server`` to all of them).

- ``raw_app``: a bare ASGI callable sending pre-built bytes, the ceiling for this server stack.
- ``starlette_app``: a bare Starlette app whose routes build a ``JSONResponse`` per request,
  ``/_functions/hello`` with an ``async def`` endpoint and ``/_functions/hello_sync`` with a
  plain ``def`` one (run in Starlette's thread pool), like the two wixhttp handlers.
- ``wixhttp_app``: a factory (``uvicorn --factory``) serving ``bench/sites/hello`` with wixhttp,
  its access log turned off (``wixhttp.access`` at WARNING) so neither side writes log lines.

Import this module as ``bench.baseline_apps`` from the repository root, never with ``bench/`` on
``sys.path``: ``bench/http.py`` would then shadow the standard library's ``http`` package.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

SITE = Path(__file__).resolve().parent / "sites" / "hello"
CONTENT = {"message": "hello"}
MEDIA_TYPE = "application/json; charset=utf-8"
BODY = b'{"message":"hello"}'
HEADERS = [
    (b"content-type", MEDIA_TYPE.encode("latin-1")),
    (b"content-length", str(len(BODY)).encode("latin-1")),
]


async def raw_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """The ceiling: no routing, no request object, no serialisation."""
    if scope["type"] == "http":
        await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
        await send({"type": "http.response.body", "body": BODY})
    elif scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return


async def hello(request: Request) -> JSONResponse:
    return JSONResponse(CONTENT, media_type=MEDIA_TYPE)


def hello_sync(request: Request) -> JSONResponse:
    return JSONResponse(CONTENT, media_type=MEDIA_TYPE)


starlette_app = Starlette(
    routes=[
        Route("/_functions/hello", hello, methods=["GET"]),
        Route("/_functions/hello_sync", hello_sync, methods=["GET"]),
    ]
)


def wixhttp_app() -> Any:
    """The wixhttp app for ``uvicorn --factory bench.baseline_apps:wixhttp_app``."""
    import wixhttp

    logging.getLogger("wixhttp.access").setLevel(logging.WARNING)
    return wixhttp.create_app(SITE)
