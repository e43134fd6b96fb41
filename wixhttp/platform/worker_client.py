"""The platform's HTTP/1.1 client to one worker's Unix socket, with pooled keep-alive connections.

Hand-written because the peer is known (the core app under uvicorn) and the path is hot: one
request head built in one join, the body written with it when small, the response read with no
per-header objects, its body streamed in bounded pieces. A pooled connection the worker closed
meanwhile is retried once on a new one.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass

from wixhttp.platform.calls import FRAMING, HOP_BY_HOP

__all__ = ["ProxyResponse", "StreamedResponse", "WorkerClient", "request_head"]

#: What the client never passes on: hop-by-hop headers, and the framing it sets itself.
_NOT_FORWARDED = HOP_BY_HOP | FRAMING
#: Dropped from a worker's response: hop-by-hop headers (and a Host, which means nothing there).
_NOT_RETURNED = HOP_BY_HOP | {b"host"}
_NO_BODY_METHODS = ("GET", "HEAD", "DELETE", "OPTIONS")
_MAX_IDLE = 64
_SMALL_BODY = 65536  # written in the same call as the head
_PIECE = 65536  # the most of a response body read at once
_READ_LIMIT = 1024 * 1024  # a connection's read buffer (it stops reading past twice this)


@dataclass
class ProxyResponse:
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes


def request_head(
    method: str, target: bytes, headers: Iterable[tuple[bytes, bytes]], body: bytes
) -> bytes:
    """The request line and headers: hop-by-hop headers dropped, the caller's ``Host`` kept
    (the handler sees the URL the caller used), ``Content-Length`` set from ``body``."""
    lines = [f"{method} ".encode("latin-1") + target + b" HTTP/1.1"]
    host = b"worker"
    for name, value in headers:
        lower = name.lower()
        if lower == b"host":
            host = value
        elif lower not in _NOT_FORWARDED:
            lines.append(name + b": " + value)
    lines.append(b"host: " + host)
    if body or method not in _NO_BODY_METHODS:
        lines.append(b"content-length: " + str(len(body)).encode())
    return b"\r\n".join(lines) + b"\r\n\r\n"


class _Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.writer.close()


class _StaleConnection(Exception):
    """A pooled keep-alive connection was closed before it answered: retry on a new one."""


class WorkerClient:
    """Requests to the worker listening on ``sock``, over a pool of keep-alive connections."""

    def __init__(self, sock: str) -> None:
        self.sock = sock
        self._idle: list[_Connection] = []

    async def request(self, method: str, head: bytes, body: bytes) -> ProxyResponse:
        """Send one request (``head`` from :func:`request_head`) and read the whole response."""
        response = await self.open(method, head, body)
        content, _complete = await response.read()
        return ProxyResponse(response.status, response.headers, content)

    async def open(self, method: str, head: bytes, body: bytes) -> StreamedResponse:
        """Send one request and read the response's head; its body is read from the returned
        response (the connection goes back to the pool once the body is read to its end).
        A connection that fails or is cancelled mid-exchange is closed, never pooled."""
        for attempt in (1, 2):
            conn, reused = await self._connection()
            try:
                return await _exchange(self, conn, head, body, method)
            except _StaleConnection:
                conn.close()
                if reused and attempt == 1:
                    continue
                raise ConnectionResetError("the worker closed the connection") from None
            except BaseException:
                conn.close()
                raise
        raise AssertionError("unreachable")  # pragma: no cover

    def close(self) -> None:
        for conn in self._idle:
            conn.close()
        self._idle.clear()

    async def _connection(self) -> tuple[_Connection, bool]:
        """A connection to the worker, and whether it was reused from the pool."""
        while self._idle:
            conn = self._idle.pop()
            if not conn.reader.at_eof() and not conn.writer.is_closing():
                return conn, True
            conn.close()
        reader, writer = await asyncio.open_unix_connection(self.sock, limit=_READ_LIMIT)
        return _Connection(reader, writer), False

    def release(self, conn: _Connection) -> None:
        if len(self._idle) < _MAX_IDLE:
            self._idle.append(conn)
        else:
            conn.close()


class StreamedResponse:
    """A worker's response whose body is still on the connection: read it with :meth:`chunks`
    (pieces of at most 64 KiB, so memory stays bounded whatever the body's size) or
    :meth:`read`; :meth:`close` drops the connection if the body is not wanted to its end."""

    def __init__(
        self,
        client: WorkerClient,
        conn: _Connection,
        status: int,
        headers: list[tuple[bytes, bytes]],
        framing: tuple[int, bool, bool],
    ) -> None:
        self.status = status
        self.headers = headers
        self._client = client
        self._conn: _Connection | None = conn
        self._length, self._chunked, self._keep_alive = framing
        if self._length == 0 and not self._chunked:
            self._finish()

    @property
    def length(self) -> int | None:
        """The body's length if the worker said it (``Content-Length``), else None."""
        return None if self._chunked or self._length < 0 else self._length

    async def chunks(self) -> AsyncIterator[bytes]:
        """The body, piece by piece; the connection is pooled again after the last one."""
        conn = self._conn
        if conn is None:
            return
        try:
            if self._chunked:
                async for piece in _chunked_pieces(conn.reader):
                    yield piece
            elif self._length >= 0:
                left = self._length
                while left:
                    piece = await conn.reader.readexactly(min(left, _PIECE))
                    left -= len(piece)
                    yield piece
            else:
                self._keep_alive = False
                while piece := await conn.reader.read(_PIECE):
                    yield piece
        except BaseException:
            self.close()
            raise
        self._finish()

    async def read(self, limit: int | None = None) -> tuple[bytes, bool]:
        """The body, up to ``limit`` bytes, and whether it was read whole (a longer one is cut
        and its connection dropped, never pooled)."""
        pieces: list[bytes] = []
        size = 0
        async for piece in self.chunks():
            if limit is not None and size + len(piece) > limit:
                pieces.append(piece[: limit - size])
                self.close()
                return b"".join(pieces), False
            pieces.append(piece)
            size += len(piece)
        return b"".join(pieces), True

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _finish(self) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        if self._keep_alive:
            self._client.release(conn)
        else:
            conn.close()


async def _exchange(
    client: WorkerClient, conn: _Connection, head: bytes, body: bytes, method: str
) -> StreamedResponse:
    """Send one HTTP/1.1 request and read the response's head."""
    conn.writer.write(head + body if len(body) < _SMALL_BODY else head)
    if len(body) >= _SMALL_BODY:
        conn.writer.write(body)
    await conn.writer.drain()
    status, lines = await _read_head(conn.reader)
    headers: list[tuple[bytes, bytes]] = []
    length = -1
    chunked = False
    keep_alive = lines[0].startswith(b"HTTP/1.1")
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        value = value.strip()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding":
            chunked = b"chunked" in value.lower()
        elif name == b"connection":
            keep_alive = b"close" not in value.lower() and (
                keep_alive or b"keep-alive" in value.lower()
            )
        if name not in _NOT_RETURNED:
            headers.append((name, value))
    if method == "HEAD" or status in (204, 304):
        length, chunked = 0, False
    return StreamedResponse(client, conn, status, headers, (length, chunked, keep_alive))


async def _read_head(reader: asyncio.StreamReader) -> tuple[int, list[bytes]]:
    """The final response's status and head lines, past any interim (1xx) responses."""
    while True:
        try:
            raw = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError as exc:
            if not exc.partial:
                raise _StaleConnection from None
            raise
        lines = raw[:-4].split(b"\r\n")
        status = int(lines[0].split(b" ", 2)[1])
        if 100 <= status < 200 and status != 101:
            continue  # an interim response (e.g. 100 Continue): the real one follows
        return status, lines


async def _chunked_pieces(reader: asyncio.StreamReader) -> AsyncIterator[bytes]:
    while True:
        size_line = await reader.readuntil(b"\r\n")
        size = int(size_line.split(b";", 1)[0].strip(), 16)
        if size == 0:
            await reader.readuntil(b"\r\n")  # no trailers from uvicorn
            return
        while size:
            piece = await reader.readexactly(min(size, _PIECE))
            size -= len(piece)
            yield piece
        await reader.readexactly(2)
