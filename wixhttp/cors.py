"""CORS for a site's functions, as a setting (:class:`wixhttp.settings.CORS`).

Behaves like Starlette's ``CORSMiddleware`` and Express's ``cors``: a preflight (``OPTIONS``
with ``Origin`` and ``Access-Control-Request-Method``) to a function without an ``options_``
handler is answered here, 204 with the function's methods; a preflight from an origin not
allowed is a 400 without CORS headers. Every other answer from an allowed origin, wixhttp's own
errors included (a browser cannot read a 404 or a 500 without them), gets
``Access-Control-Allow-Origin``, unless the handler set that header itself: then its headers go
out untouched. The app holds no :class:`Cors` at all when CORS is off.
"""

from __future__ import annotations

from starlette.types import Message, Scope, Send

from wixhttp.errors import error_response
from wixhttp.request import app_path
from wixhttp.routing import FunctionRoute
from wixhttp.settings import CORS

TOOLS_PREFIX = "/_wixhttp/"  # the dev server's own pages: same-origin only

__all__ = ["Cors"]

_Reply = tuple[int, list[tuple[bytes, bytes]], bytes]
_ALL_METHODS = b"GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"
_ALLOW_ORIGIN = b"access-control-allow-origin"
_VARY = b"vary"


class Cors:
    """The CORS headers of a site, computed once from its settings."""

    def __init__(self, config: CORS) -> None:
        self.config = config
        self._any = config.origins == ("*",)
        self._origins = frozenset(o.encode("latin-1") for o in config.origins)
        # "*" is sent as is only without credentials: browsers refuse it with credentials, so
        # then (as Starlette does) the caller's origin is echoed.
        self._star = self._any and not config.allow_credentials
        common: list[tuple[bytes, bytes]] = []
        if config.allow_credentials:
            common.append((b"access-control-allow-credentials", b"true"))
        self._preflight_common = [
            *common,
            (b"access-control-max-age", str(config.max_age).encode()),
        ]
        self._allow_headers = ", ".join(config.allow_headers).encode("latin-1")
        if config.expose_headers:
            expose = ", ".join(config.expose_headers).encode("latin-1")
            common.append((b"access-control-expose-headers", expose))
        self._actual_common = common

    @classmethod
    def of(cls, config: CORS) -> Cors | None:
        """A :class:`Cors` when ``config`` allows any origin, else None (CORS off)."""
        return cls(config) if config else None

    def allows(self, origin: bytes) -> bool:
        return self._any or origin in self._origins

    def preflight(self, scope: Scope, route: FunctionRoute) -> _Reply | None:
        """The answer to a preflight for ``route``; None when the request is not one."""
        origin = requested = asked_headers = None
        for key, value in scope["headers"]:
            if key == b"origin":
                origin = value
            elif key == b"access-control-request-method":
                requested = value
            elif key == b"access-control-request-headers":
                asked_headers = value
        if origin is None or requested is None:
            return None
        if not self.allows(origin):
            message = f"origin {origin.decode('latin-1')!r} is not allowed (CORS)"
            return error_response(400, "cors_origin_not_allowed", message)
        methods = _ALL_METHODS if route.fallback else route.allow.encode("latin-1")
        headers = [
            (_ALLOW_ORIGIN, b"*" if self._star else origin),
            (_VARY, b"Origin"),
            (b"access-control-allow-methods", methods),
            *self._preflight_common,
        ]
        allow_headers = self._allow_headers or asked_headers
        if allow_headers:
            headers.append((b"access-control-allow-headers", allow_headers))
        return 204, headers, b""

    def wrap(self, scope: Scope, send: Send) -> Send:
        """``send`` adding the CORS headers of this request's origin to the response. The dev
        tools under ``/_wixhttp/`` (console, traces) are never opened to other origins."""
        if app_path(scope).startswith(TOOLS_PREFIX):
            return send
        origin = None
        for key, value in scope["headers"]:
            if key == b"origin":
                origin = value
                break
        if self._star:
            if origin is None:
                return send
            extra = [(_ALLOW_ORIGIN, b"*"), *self._actual_common]
        elif origin is not None and self.allows(origin):
            extra = [(_ALLOW_ORIGIN, origin), *self._actual_common]
        else:
            extra = []
        # The answer depends on Origin unless it is a plain "*": caches must know.
        vary = not self._star

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers: list[tuple[bytes, bytes]] = message["headers"]
                # Names are lower case here: responses, errors and preflights all render so.
                if not any(key == _ALLOW_ORIGIN for key, _ in headers):
                    headers = [*headers, *extra]
                    if vary:
                        _add_vary_origin(headers)
                    message = {**message, "headers": headers}
            await send(message)

        return send_with_cors


def _add_vary_origin(headers: list[tuple[bytes, bytes]]) -> None:
    for i, (key, value) in enumerate(headers):
        if key == _VARY:
            tokens = {t.strip().lower() for t in value.split(b",")}
            if b"origin" not in tokens and b"*" not in tokens:
                headers[i] = (key, value + b", Origin")
            return
    headers.append((_VARY, b"Origin"))
