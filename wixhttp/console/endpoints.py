"""The paths under ``/_wixhttp/``: the reload state the error page polls (dev server), and,
with the console on, its page, its data and the live feed.

Reached only for paths outside ``/_functions``: the app checks ``/_wixhttp/`` on its not-found
branch, so function requests never come here.
"""

from __future__ import annotations

import inspect
import json
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from starlette.types import Receive, Scope, Send

from wixhttp.errorpage import RELOAD_STATE_PATH, error_page, reload_state
from wixhttp.loading import LoadedSite, SiteLoadError
from wixhttp.routing import Handler, RouteTable
from wixhttp.settings import Settings

if TYPE_CHECKING:
    from wixhttp.console import Console


class App(Protocol):
    """What the console reads of the app (:class:`wixhttp.app.WixHttpApp`)."""

    site: LoadedSite | None
    routes: RouteTable
    load_error: SiteLoadError | None
    generation: int
    live_reload: bool
    settings: Settings
    console: Console | None

__all__ = ["PREFIX", "catalog", "serve_path"]

PREFIX = "/_wixhttp/"
_Reply = tuple[int, list[tuple[bytes, bytes]], bytes]
_TYPES = {
    ".html": b"text/html; charset=utf-8",
    ".js": b"text/javascript; charset=utf-8",
    ".css": b"text/css; charset=utf-8",
    ".png": b"image/png",
}
#: The page's own files, shipped in the package (``wixhttp/console/static``).
_PAGE_FILES = {"": "console.html", "console.js": "console.js", "console.css": "console.css"}
#: Swagger UI's files, from the ``openapi-ui-bundles`` package (the ``console`` extra).
_DOCS_FILES = frozenset({"swagger-ui.css", "swagger-ui-bundle.js", "favicon-32x32.png"})
DOCS_EXTRA = "pip install 'wixhttp[console]'"


def _reply(body: bytes, content_type: bytes, status: int = 200, cache: bool = False) -> _Reply:
    headers = [
        (b"content-type", content_type),
        (b"content-length", str(len(body)).encode()),
        (b"cache-control", b"max-age=3600" if cache else b"no-store"),
    ]
    return status, headers, body


def _json(data: Any) -> _Reply:
    return _reply(json.dumps(data).encode(), b"application/json")


def _where(handler: Handler, directory: Path | None) -> str:
    location = handler.location
    if directory is not None and handler.file:
        try:
            relative = str(Path(handler.file).relative_to(directory))
        except ValueError:
            return location
        location = location.replace(handler.file, relative)
    return location


def catalog(app: App) -> dict[str, Any]:
    """The site's functions as the page lists them, and its load error if it has one."""
    directory = app.site.directory if app.site else None
    functions = []
    for name in sorted(app.routes.functions):
        route = app.routes.functions[name]
        handlers = []
        for handler in route.handlers.values():
            doc = inspect.getdoc(handler.func) or ""
            handlers.append(
                {
                    "method": handler.method,
                    "handler": handler.export_name,
                    "location": _where(handler, directory),
                    "summary": doc.partition("\n")[0].strip(),
                    "doc": doc,
                }
            )
        functions.append({"name": name, "methods": list(route.methods), "handlers": handlers})
    error = app.load_error
    return {
        "generation": app.generation,
        "functions": functions,
        "load_error": None if error is None else {
            "message": str(error), "file": error.file, "line": error.line
        },
    }


def _load_error(app: App, scope: Scope) -> _Reply:
    error = app.load_error
    if error is None:
        return _reply(b"<p>The site loaded.</p>", _TYPES[".html"], 404)
    directory = app.site.directory if app.site else None
    return error_page(
        error, status=500, code="site_load_error", message=str(error), scope=scope, body=None,
        directory=directory, request=False,
    )


def _docs_file(name: str) -> _Reply | None:
    if name == "":
        return _static("docs.html")
    if name not in _DOCS_FILES:
        return None
    try:
        from openapi_ui_bundles import swagger_ui
    except ImportError:
        message = f"Swagger UI is not installed; run: {DOCS_EXTRA}".encode()
        return _reply(message, b"text/plain; charset=utf-8", 404)
    path = Path(swagger_ui.static_path) / name
    return _reply(path.read_bytes(), _TYPES[path.suffix], cache=True)


def _static(name: str) -> _Reply:
    data = (resources.files("wixhttp.console") / "static" / name).read_bytes()
    return _reply(data, _TYPES[Path(name).suffix])


def _console_reply(app: App, console: Console, scope: Scope, rest: str) -> _Reply | None:
    if rest in _PAGE_FILES:
        return _static(_PAGE_FILES[rest])
    if rest == "functions.json":
        return _json(catalog(app))
    if rest == "openapi.json":
        return _reply(console.openapi(app.generation, app.routes), b"application/json")
    if rest.startswith("traces/"):
        trace = console.traces.get(rest[len("traces/") :])
        return None if trace is None else _json({"lines": trace})
    if rest == "load-error":
        return _load_error(app, scope)
    if rest.startswith("docs/"):
        return _docs_file(rest[len("docs/") :])
    return None


async def serve_path(
    app: App, scope: Scope, receive: Receive, send: Send, path: str
) -> bool:
    """Answer ``path`` (under :data:`PREFIX`) if it is one of ours; False: the app's 404."""
    if scope["method"] not in ("GET", "HEAD"):
        return False
    reply: _Reply | None = None
    if path == RELOAD_STATE_PATH:
        if not (app.live_reload and app.settings.debug):
            return False
        reply = reload_state(app.generation)  # polled: not logged
    elif app.console is None:
        return False
    elif path == PREFIX + "events" and scope["method"] == "GET":
        await app.console.feed.stream(receive, send)
        return True
    else:
        reply = _console_reply(app, app.console, scope, path[len(PREFIX) :])
    if reply is None:
        return False
    status, headers, body = reply
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body})
    return True
