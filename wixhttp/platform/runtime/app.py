"""The ASGI app a worker serves for an Appwrite-style deployment: every request, any method and
any path, becomes a call of ``main(context)``; what it returns becomes the response.

As the open-runtimes Python runtime does: request headers are lower-cased (``x-open-runtimes-*``
dropped), ``scheme`` comes from ``X-Forwarded-Proto``, ``host``/``port`` from ``Host``; an
exception in ``main`` is a 500 with its traceback in the errors, so is a ``main`` that returns
nothing or runs past the timeout; the response's ``content-type`` defaults to ``text/plain``
and gets ``; charset=utf-8`` unless it names a charset or is ``multipart/``.

A direct call reaches the worker as ``/_functions/<path>`` (or ``/_functions-dev/<path>``):
``main`` sees ``/<path>``, the path it would see behind an Appwrite function domain.
"""

from __future__ import annotations

import asyncio
import inspect
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from starlette.types import Receive, Scope, Send

from wixhttp.platform.capture import PathScrubber
from wixhttp.platform.runtime.context import Context, Output, Request

__all__ = ["RuntimeApp"]

_CALL_PREFIXES = ("/_functions-dev", "/_functions")
_NO_RETURN = "Return statement missing. return context.res.empty() if no response is expected."
Headers = list[tuple[bytes, bytes]]


class _TooLarge(Exception):
    pass


class RuntimeApp:
    """Serves ``main`` (sync functions run in a thread, async ones on the loop), each call
    bounded by ``timeout`` seconds and each body by ``max_body_size`` bytes; ``code`` is the
    code folder, which tracebacks in the errors leave out of the paths they show."""

    def __init__(
        self,
        main: Callable[[Any], Any],
        *,
        timeout: float | None = None,
        max_body_size: int | None = None,
        code: Path | None = None,
    ) -> None:
        self.main = main
        self.timeout = timeout
        self.max_body_size = max_body_size
        # Tracebacks name the user's files relative to the code folder, as the build logs do,
        # and no other server path.
        self._scrub = PathScrubber(code)
        self._is_async = inspect.iscoroutinefunction(main)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return  # no lifespan, no websockets
        try:
            body = await self._read_body(receive)
        except _TooLarge:
            await _send(send, 413, [(b"content-type", b"text/plain; charset=utf-8")], b"")
            return
        context = Context(_request(scope, body))
        output = await self._run(context)
        status, headers, payload = _response(output)
        await _send(send, status, headers, b"" if scope["method"] == "HEAD" else payload)

    async def _read_body(self, receive: Receive) -> bytes:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if self.max_body_size is not None and size > self.max_body_size:
                raise _TooLarge
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks)

    async def _run(self, context: Context) -> Output:
        """``main``'s output, or the runtime's 500 (with the reason in the errors)."""
        try:
            call = self.main(context) if self._is_async else asyncio.to_thread(self.main, context)
            output = await asyncio.wait_for(call, self.timeout)
        except asyncio.TimeoutError:
            context.error("Execution timed out.")
            return context.res.text("", 500)
        except Exception as exc:  # noqa: BLE001 - the user's exception, reported as Appwrite does
            context.error(self._scrub("".join(traceback.format_exception(exc)).rstrip("\n")))
            return context.res.text("", 500)
        if output is None:
            context.error(_NO_RETURN)
            return context.res.text("", 500)
        if not isinstance(output, dict):
            context.error(
                f"main returned {type(output).__name__}; return context.res.json(...), "
                "context.res.text(...), context.res.send(...) or context.res.empty()"
            )
            return context.res.text("", 500)
        return output


def _request(scope: Scope, body: bytes) -> Request:
    headers: dict[str, str] = {}
    for raw_name, raw_value in scope["headers"]:
        name = raw_name.decode("latin-1").lower()
        if not name.startswith("x-open-runtimes-"):
            headers[name] = raw_value.decode("utf-8", "replace")
    scheme = headers.get("x-forwarded-proto", "http")
    host, _, port = headers.get("host", "").partition(":")
    path: str = scope["path"]
    for prefix in _CALL_PREFIXES:
        if path == prefix or path.startswith(prefix + "/"):
            path = path[len(prefix) :] or "/"
            break
    return Request(
        method=scope["method"],
        scheme=scheme,
        host=host,
        port=int(port) if port.isdigit() else (443 if scheme == "https" else 80),
        path=path,
        query_string=unquote(scope.get("query_string", b"").decode("latin-1")),
        headers=headers,
        body=body,
    )


def _response(output: Output) -> tuple[int, Headers, bytes]:
    """The HTTP response for ``main``'s output dict."""
    body = output.get("body", b"")
    if isinstance(body, str):
        payload = body.encode("utf-8")
    elif isinstance(body, (bytes, bytearray, memoryview)):
        payload = bytes(body)
    elif body is None:
        payload = b""
    else:
        print(
            f"the response body is a {type(body).__name__}; send str or bytes "
            "(context.res.json(...) for data)",
            file=sys.stderr,
        )
        return 500, [(b"content-type", b"text/plain; charset=utf-8")], b""
    headers: dict[str, str] = {}
    for name, value in dict(output.get("headers") or {}).items():
        if not str(name).lower().startswith("x-open-runtimes-"):
            headers[str(name).lower()] = str(value)
    content_type = headers.get("content-type", "text/plain").lower()
    if not content_type.startswith("multipart/") and "charset=" not in content_type:
        content_type += "; charset=utf-8"
    headers["content-type"] = content_type
    headers["content-length"] = str(len(payload))
    encoded = [(k.encode("latin-1"), v.encode("utf-8")) for k, v in headers.items()]
    return int(output.get("statusCode", 200)), encoded, payload


async def _send(send: Send, status: int, headers: Headers, body: bytes) -> None:
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
