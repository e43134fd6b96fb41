"""The request object handlers receive, shaped like Velo's ``WixHttpFunctionRequest``.

Everything is computed lazily from the ASGI scope on first access, so a handler that reads only
``request.path`` pays for nothing else.
"""

from __future__ import annotations

import json
from asyncio import _get_running_loop as _running_loop
from collections.abc import Awaitable
from functools import cached_property
from typing import Any, Protocol
from urllib.parse import parse_qsl, quote, unquote

from starlette.types import Scope

from wixhttp.jsobject import Headers, JSObject, Query
from wixhttp.settings import TrustedProxies

__all__ = [
    "AsyncRequest",
    "AsyncRequestBody",
    "Body",
    "InvalidJSONBody",
    "MAX_JSON_DEPTH",
    "Request",
    "RequestBody",
    "WixHttpFunctionRequest",
]


_SAFE = "/!$&'()*+,;=:@-._~"  # characters a URL path may hold unencoded (RFC 3986 pchar)


def app_path(scope: Scope) -> str:
    """The request path below the app's root path, still percent-encoded (so an encoded ``/``
    stays inside its segment). Without ``raw_path`` (some servers omit it) the decoded path is
    encoded again."""
    raw_path: bytes | None = scope.get("raw_path")
    path = raw_path.decode("latin-1") if raw_path else quote(scope["path"], safe=_SAFE)
    root: str = scope.get("root_path", "")
    if root and path.startswith(root):
        path = path[len(root) :]
    return path


class InvalidJSONBody(ValueError):
    """``body.json()`` was called on a body that is empty or not valid JSON.

    A handler may catch it (it is a ``ValueError``); left uncaught it becomes a 400 response.
    """


def _reject_constant(name: str) -> Any:
    raise InvalidJSONBody(f"request body is not valid JSON: {name} is not a JSON value")


MAX_JSON_DEPTH = 512
"""How deeply arrays and objects may nest in a JSON request body. Deeper is a 400: whatever
``body.json()`` gave can then always be written back as JSON (the encoder recurses too, on a
deeper stack than the parser's), far from Python's recursion limit (1000)."""


def _decode_json(data: bytes) -> Any:
    """Strict JSON, as JavaScript's ``JSON.parse`` reads it: no ``NaN``/``Infinity``. Nesting
    deeper than :data:`MAX_JSON_DEPTH` and integers longer than Python converts (4300 digits)
    are invalid JSON (a 400), not a ``RecursionError`` or ``ValueError`` (a 500). Objects
    become :class:`~wixhttp.jsobject.JSObject` dicts: a missing key reads ``None``."""
    if not data.strip():
        raise InvalidJSONBody("request body is empty; expected JSON")
    try:
        value = json.loads(data, object_hook=JSObject, parse_constant=_reject_constant)
    except InvalidJSONBody:
        raise
    except RecursionError:
        value = None  # deeper than the parser goes: over the limit too
    except ValueError as exc:  # bad JSON, bad UTF-8, an integer with too many digits
        raise InvalidJSONBody(f"request body is not valid JSON: {exc}") from None
    else:
        # Only a body with more brackets than the limit can nest past it.
        if data.count(b"[") + data.count(b"{") <= MAX_JSON_DEPTH or _depth_ok(value):
            return value
    raise InvalidJSONBody(
        "request body is not valid JSON: it is nested too deeply (arrays and objects more "
        f"than {MAX_JSON_DEPTH} levels deep)"
    )


def _depth_ok(value: Any) -> bool:
    """Whether ``value`` nests at most :data:`MAX_JSON_DEPTH` levels (without recursion)."""
    if not isinstance(value, dict | list):
        return True
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item
        for child in children:
            if isinstance(child, dict | list):
                if depth >= MAX_JSON_DEPTH:
                    return False
                stack.append((child, depth + 1))
    return True


class Body:
    """The request body: ``text()``, ``json()`` and ``buffer()``, readable any number of times.

    Called with no event loop running in the thread (a plain ``def`` handler, in its worker
    thread) they return the value; called on the event loop (an ``async def`` handler, or an
    ``async def`` helper that a ``def`` handler returned) they return an awaitable of it, as in
    Velo. Type handlers with :class:`Request` or :class:`AsyncRequest` to get the precise types.
    """

    __slots__ = ("_data",)

    def __init__(self, data: bytes) -> None:
        self._data = data

    def text(self) -> Any:
        """The body decoded as UTF-8 (invalid bytes become U+FFFD)."""
        if _running_loop() is None:
            return self._data.decode("utf-8", errors="replace")
        return self._atext()

    def json(self) -> Any:
        """The body parsed as JSON; raises :class:`InvalidJSONBody` (a ``ValueError``)."""
        if _running_loop() is None:
            return _decode_json(self._data)
        return self._ajson()

    def buffer(self) -> Any:
        """The raw body bytes."""
        if _running_loop() is None:
            return self._data
        return self._abuffer()

    async def _atext(self) -> str:
        return self._data.decode("utf-8", errors="replace")

    async def _ajson(self) -> Any:
        return _decode_json(self._data)

    async def _abuffer(self) -> bytes:
        return self._data


class RequestBody(Protocol):
    """The body as a plain ``def`` handler sees it: the methods return the value."""

    def text(self) -> str: ...
    def json(self) -> Any: ...
    def buffer(self) -> bytes: ...


class AsyncRequestBody(Protocol):
    """The body as an ``async def`` handler sees it: ``await request.body.json()``."""

    def text(self) -> Awaitable[str]: ...
    def json(self) -> Awaitable[Any]: ...
    def buffer(self) -> Awaitable[bytes]: ...


class _RequestFields(Protocol):
    @property
    def method(self) -> str: ...
    @property
    def url(self) -> str: ...
    @property
    def base_url(self) -> str: ...
    @property
    def baseUrl(self) -> str: ...  # noqa: N802 - Velo spelling
    @property
    def function_name(self) -> str: ...
    @property
    def functionName(self) -> str: ...  # noqa: N802 - Velo spelling
    @property
    def path(self) -> list[str]: ...
    @property
    def query(self) -> Query: ...
    @property
    def headers(self) -> Headers: ...
    @property
    def ip(self) -> str: ...


class Request(_RequestFields, Protocol):
    """The request type for a plain ``def`` handler: ``request.body.json()`` is the value."""

    @property
    def body(self) -> RequestBody: ...


class AsyncRequest(_RequestFields, Protocol):
    """The request type for an ``async def`` handler: ``await request.body.json()``."""

    @property
    def body(self) -> AsyncRequestBody: ...


class WixHttpFunctionRequest:
    """An incoming call to an HTTP function.

    ``path`` holds the percent-decoded segments after the function name (empty segments are
    dropped, so a trailing slash gives ``[]``). ``query`` maps each key to its value, or to a list
    of values when the key is repeated (``?a=1&a=2`` gives ``{"a": ["1", "2"]}``), as Express
    does. ``headers`` has lower-case names, found in any case; repeated headers are joined
    with ``", "``. In ``query``, ``headers`` and JSON bodies a missing key reads ``None``, as
    JavaScript reads ``undefined``.

    This is the runtime class; annotate handlers with :class:`Request` (``def``) or
    :class:`AsyncRequest` (``async def``).
    """

    def __init__(
        self,
        scope: Scope,
        prefix: str,
        function_name: str,
        rest: str,
        body: bytes,
        *,
        trusted_proxies: TrustedProxies | None = None,
    ) -> None:
        self._scope = scope
        self._prefix = prefix
        self._rest = rest
        self._trusted = trusted_proxies
        self.function_name = function_name
        self.method: str = scope["method"]
        self.body = Body(body)

    def __repr__(self) -> str:
        return f"<WixHttpFunctionRequest {self.method} {self.url}>"

    @property
    def functionName(self) -> str:  # noqa: N802 - Velo spelling
        return self.function_name

    @cached_property
    def path(self) -> list[str]:
        return [unquote(seg) for seg in self._rest.split("/") if seg]

    @cached_property
    def query(self) -> Query:
        result = Query()
        raw = self._scope.get("query_string", b"")
        if not raw:
            return result
        for key, value in parse_qsl(raw.decode("latin-1"), keep_blank_values=True):
            current = result.get(key)
            if current is None:
                result[key] = value
            elif isinstance(current, list):
                current.append(value)
            else:
                result[key] = [current, value]
        return result

    @cached_property
    def headers(self) -> Headers:
        result = Headers()
        for raw_name, raw_value in self._scope["headers"]:
            name = raw_name.decode("latin-1").lower()
            value = raw_value.decode("latin-1")
            previous = dict.get(result, name)
            result[name] = value if previous is None else f"{previous}, {value}"
        return result

    @cached_property
    def _forwarded(self) -> bool:
        if self._trusted is None:
            return False
        client = self._scope.get("client")
        # A Unix-socket peer has no address: only "*" (trust every peer) covers it.
        return self._trusted.any or bool(client and self._trusted.trusts(client[0]))

    @cached_property
    def ip(self) -> str:
        client = self._scope.get("client")
        peer = client[0] if client else ""
        if self._forwarded:
            forwarded = self.headers.get("x-forwarded-for")
            if forwarded and self._trusted is not None:
                return self._trusted.client_from_chain(forwarded, peer)
        return peer

    @cached_property
    def _origin(self) -> str:
        scheme: str = self._scope.get("scheme", "http")
        host: str = self.headers.get("host", "")
        if self._forwarded:
            scheme = self.headers.get("x-forwarded-proto", scheme).split(",")[0].strip() or scheme
            host = self.headers.get("x-forwarded-host", host).split(",")[0].strip() or host
        if not host:
            server = self._scope.get("server")
            host = f"{server[0]}:{server[1]}" if server else "localhost"
        return f"{scheme}://{host}"

    @cached_property
    def _public_root(self) -> str:
        """The mount point callers see: the ASGI root path, under a trusted proxy's
        ``X-Forwarded-Prefix`` (e.g. the platform's ``/functions/<id>``)."""
        root: str = self._scope.get("root_path", "")
        if self._forwarded:
            prefix: str = self.headers.get("x-forwarded-prefix", "").split(",")[0].strip()
            if prefix.startswith("/"):
                return prefix.rstrip("/") + root
        return root

    @cached_property
    def base_url(self) -> str:
        return f"{self._origin}{self._public_root}/{self._prefix}"

    @property
    def baseUrl(self) -> str:  # noqa: N802 - Velo spelling
        return self.base_url

    @cached_property
    def url(self) -> str:
        query = self._scope.get("query_string", b"")
        suffix = f"?{query.decode('latin-1')}" if query else ""
        return f"{self._origin}{self._public_root}{app_path(self._scope)}{suffix}"
