"""The response object a handler returns and the Wix helpers that build it.

Each fixed-status helper (``ok``, ``created``, ...) takes the Wix options dict
(``ok({"body": b, "headers": h})``) or keywords (``ok(body=b, headers=h)``); a ``status``
given to them is ignored, as in Wix. ``response`` sets any status and defaults to 200.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Protocol, TypeGuard

from wixhttp.jsonify import Encoder, encode, utf8

__all__ = [
    "WixHttpFunctionResponse",
    "ok",
    "created",
    "bad_request",
    "forbidden",
    "not_found",
    "server_error",
    "response",
    "badRequest",
    "notFound",
    "serverError",
]

JSON_TYPE = "application/json; charset=utf-8"
BYTES_TYPE = "application/octet-stream"
_JSON_TYPE_BYTES = JSON_TYPE.encode("latin-1")
_BYTES_TYPE_BYTES = BYTES_TYPE.encode("latin-1")
_ZERO_LENGTH = (b"content-length", b"0")

#: Headers about the connection, not the response (RFC 9110 7.6.1): the server sets them. A
#: handler's are dropped: ``Transfer-Encoding: chunked`` beside the computed Content-Length
#: would let a proxy and a client read the body differently (response splitting).
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)


class WixHttpFunctionResponse:
    """An HTTP response: read/write ``status``, ``body`` and ``headers``.

    Body serialisation: dict/list (and other JSON values) are sent as JSON, written as
    JavaScript's ``JSON.stringify`` writes them (see :mod:`wixhttp.jsonify`); ``str`` as UTF-8;
    ``bytes`` as is; ``None`` as an empty body. Without a user-set Content-Type, JSON and ``str``
    bodies are sent as ``application/json; charset=utf-8`` (the Wix default) and ``bytes`` as
    ``application/octet-stream``. A 204 or 304 status sends no body at all. Content-Length is
    always computed, and headers about the connection (``Transfer-Encoding``, ``Connection``,
    ... :data:`HOP_BY_HOP`) are the server's: a handler's are dropped.
    """

    __slots__ = ("status", "body", "headers")

    def __init__(
        self,
        status: int = 200,
        body: Any = None,
        headers: Mapping[str, Any] | None = None,
    ) -> None:
        self.status = status
        self.body = body
        self.headers: dict[str, Any] = dict(headers) if headers else {}

    def __repr__(self) -> str:
        return f"WixHttpFunctionResponse(status={self.status!r}, body={self.body!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, WixHttpFunctionResponse):
            return NotImplemented
        return (self.status, self.body, self.headers) == (other.status, other.body, other.headers)

    __hash__ = None  # type: ignore[assignment]

    def render(self, encode: Encoder = encode) -> tuple[bytes, list[tuple[bytes, bytes]]]:
        """Serialise to body bytes and raw header pairs, defaulting Content-Type; a JSON body
        is written by ``encode`` (the app's, which applies its ``json_default``).

        Header names are case-insensitive: when the same name is given twice in different
        cases (``Content-Type`` and ``content-type``), the later one is sent.

        Raises ``ValueError`` when ``status`` is not an int from 200 to 599 (it is read/write, so
        it is checked here), a header name is not an HTTP token, or a header value holds a
        control character (CR/LF: header injection) or a character outside Latin-1; and
        :class:`~wixhttp.jsonify.UnencodableBody` (a ``TypeError``) when the body cannot be
        serialised. The app turns these into a 500.
        """
        _check_status(self.status)
        body = self.body
        default_type = _JSON_TYPE_BYTES
        # 204 and 304 responses cannot carry content (RFC 9110): a body given with them is
        # dropped, so it cannot be read as the start of the next response on the connection.
        bodiless = self.status in (204, 304)
        if body is None or bodiless:
            data = b""
        elif isinstance(body, bytes | bytearray | memoryview):
            data = bytes(body)
            default_type = _BYTES_TYPE_BYTES
        elif isinstance(body, str):
            data = utf8(body)
        else:
            data = encode(body)

        if not self.headers:  # the common case: only the defaults
            if not data:
                return data, ([] if bodiless else [_ZERO_LENGTH])
            return data, [(b"content-type", default_type), (b"content-length", b"%d" % len(data))]
        by_name = _headers_by_name(self.headers)
        raw = [pair for pairs in by_name.values() for pair in pairs]
        if "content-type" not in by_name and data:
            raw.append((b"content-type", default_type))
        if not bodiless:
            raw.append((b"content-length", b"%d" % len(data)))
        return data, raw


def _headers_by_name(headers: Mapping[str, Any]) -> dict[str, list[tuple[bytes, bytes]]]:
    """Checked raw header pairs by lower-case name, Content-Length (computed from the body) and
    :data:`HOP_BY_HOP` headers left out. A list value sends the header once per item; a later
    spelling of a name wins."""
    by_name: dict[str, list[tuple[bytes, bytes]]] = {}
    for name, value in headers.items():
        key = str(name)
        lowered = key.lower()
        if lowered == "content-length" or lowered in HOP_BY_HOP:
            continue
        if not _TOKEN.fullmatch(key):
            raise ValueError(f"invalid response header name {key!r}: use letters, digits and -")
        pairs: list[tuple[bytes, bytes]] = []
        for item in value if isinstance(value, list | tuple) else (value,):
            text = str(item)
            if _BAD_VALUE.search(text):
                raise ValueError(
                    f"invalid response header {key!r}: {text!r} (control characters such "
                    "as CR/LF, or characters outside Latin-1)"
                )
            pairs.append((lowered.encode("latin-1"), text.encode("latin-1")))
        by_name.pop(lowered, None)  # a later spelling of the same name replaces it
        by_name[lowered] = pairs
    return by_name


def valid_status(status: object) -> TypeGuard[int]:
    """An int from 200 to 599: 1xx are interim responses, and a handler's answer is final."""
    return isinstance(status, int) and not isinstance(status, bool) and 200 <= status <= 599


def _check_status(status: object) -> None:
    if not valid_status(status):
        raise ValueError(f"response status must be an int from 200 to 599, got {status!r}")


# RFC 9110 field names are tokens; values may not hold control characters other than tab
# (CR/LF would split the response) and must be encodable as Latin-1.
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_BAD_VALUE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]|[^\x00-\xff]")


def _build(
    status: int,
    options: Mapping[str, Any] | None,
    body: Any,
    headers: Mapping[str, Any] | None,
) -> WixHttpFunctionResponse:
    if options is not None:
        if not isinstance(options, Mapping):
            raise TypeError(
                "response options must be a dict like {'body': ..., 'headers': {...}}, "
                f"got {type(options).__name__}"
            )
        if body is None:
            body = options.get("body")
        if headers is None:
            headers = options.get("headers")
    return WixHttpFunctionResponse(status, body, headers)


class ResponseHelper(Protocol):
    """The call signature shared by the fixed-status helpers."""

    def __call__(
        self,
        options: Mapping[str, Any] | None = None,
        *,
        body: Any = None,
        headers: Mapping[str, Any] | None = None,
        status: int | None = None,
    ) -> WixHttpFunctionResponse: ...


def _fixed(code: int, name: str, reason: str) -> ResponseHelper:
    def helper(
        options: Mapping[str, Any] | None = None,
        *,
        body: Any = None,
        headers: Mapping[str, Any] | None = None,
        status: int | None = None,
    ) -> WixHttpFunctionResponse:
        return _build(code, options, body, headers)

    helper.__name__ = helper.__qualname__ = name
    helper.__doc__ = f"{code} {reason}; a ``status`` given to it is ignored, as in Wix."
    return helper


ok = _fixed(200, "ok", "OK")
created = _fixed(201, "created", "Created")
bad_request = _fixed(400, "bad_request", "Bad Request")
forbidden = _fixed(403, "forbidden", "Forbidden")
not_found = _fixed(404, "not_found", "Not Found")
server_error = _fixed(500, "server_error", "Internal Server Error")


def response(
    options: Mapping[str, Any] | None = None,
    *,
    body: Any = None,
    headers: Mapping[str, Any] | None = None,
    status: int | None = None,
) -> WixHttpFunctionResponse:
    """Any status: ``response({"status": 204, ...})`` or ``response(status=204)``; default 200."""
    if status is None and options is not None and isinstance(options, Mapping):
        status = options.get("status")
    if status is None:
        status = 200
    _check_status(status)
    return _build(status, options, body, headers)


badRequest = bad_request
notFound = not_found
serverError = server_error
