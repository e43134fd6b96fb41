"""Reading a request before its handler runs: the header size and the body, as HTTP frames it.

Kept out of :mod:`wixhttp.app` so the request path there stays short; the app calls
:meth:`Intake.read` once per function request.
"""

from __future__ import annotations

from starlette.types import Receive, Scope

__all__ = ["Disconnected", "Intake", "Refused"]

_NO_BODY = b""
_DELETE_MESSAGE = "a DELETE request cannot carry a body or a Content-Type of application/json"


class Refused(Exception):
    """A request refused before its handler runs."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


class Disconnected(Exception):
    """The caller left before its body was read."""


class Intake:
    """Checks a request's headers against ``max_header_size`` (bytes of names and values) and
    reads its body up to ``max_body_size``."""

    def __init__(self, max_body_size: int, max_header_size: int) -> None:
        self.max_body = max_body_size
        self.max_header = max_header_size

    async def read(self, scope: Scope, receive: Receive) -> bytes:
        """The request body as HTTP frames it (Content-Length, Transfer-Encoding).

        Raises :class:`Refused` for headers over the limit (431), a bad Content-Length (400), a
        DELETE with a body (400) or a body over the limit (413), and :class:`Disconnected` when
        the caller leaves (499).
        """
        length: int | None = None
        chunked = False
        json_type = False
        header_size = 0
        for key, value in scope["headers"]:
            header_size += len(key) + len(value)
            if key == b"content-length":
                try:
                    length = int(value)
                except ValueError:
                    length = -1
                if length < 0:
                    raise Refused(400, "bad_request", "invalid Content-Length header")
            elif key == b"transfer-encoding":
                chunked = True
            elif key == b"content-type":
                json_type = value.split(b";", 1)[0].strip().lower() == b"application/json"
        if header_size > self.max_header:
            message = f"request headers are larger than the {self.max_header} byte limit"
            raise Refused(431, "request_header_fields_too_large", message)
        # HTTP/1.x has a body only with Content-Length or Transfer-Encoding; HTTP/2 and 3 may
        # send one with neither.
        has_body = chunked or (
            length > 0 if length is not None else scope.get("http_version", "1.1")[0] > "1"
        )
        delete = scope["method"] == "DELETE"
        if delete and (json_type or (length or 0) > 0):
            raise Refused(400, "bad_request", _DELETE_MESSAGE)
        if length is not None and length > self.max_body:
            raise self._too_large()
        if not has_body:
            return _NO_BODY
        body = await self._receive_body(receive)
        if delete and body:
            raise Refused(400, "bad_request", _DELETE_MESSAGE)
        return body

    async def _receive_body(self, receive: Receive) -> bytes:
        chunks: list[bytes] = []
        size = 0
        limit = self.max_body
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise Disconnected
            chunk: bytes = message.get("body", b"")
            if chunk:
                size += len(chunk)
                if size > limit:
                    raise self._too_large()
                chunks.append(chunk)
            if not message.get("more_body", False):
                return chunks[0] if len(chunks) == 1 else b"".join(chunks)

    def _too_large(self) -> Refused:
        message = f"request body is larger than the {self.max_body} byte limit"
        return Refused(413, "payload_too_large", message)
