"""Raw ASGI: one request, for what an HTTP client cannot observe (a HEAD body, the messages),
and an app's lifespan run around a block (httpx's ``ASGITransport`` does not run it)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any


@dataclass
class AsgiResult:
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    messages: list[dict[str, Any]] = field(default_factory=list)


#: ``await asgi_call(app, scope, body_chunks)`` (the fixture in ``tests/conftest.py``).
AsgiCall = Callable[..., Awaitable[AsgiResult]]


def http_scope(
    method: str = "GET",
    path: str = "/",
    *,
    headers: Iterable[tuple[str, str]] = (),
    query: bytes = b"",
    client: tuple[str, int] = ("127.0.0.1", 50000),
    root_path: str = "",
) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": root_path,
        "query_string": query,
        "headers": [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers],
        "client": client,
        "server": ("testserver", 80),
    }


async def call_asgi(app: Any, scope: dict[str, Any], chunks: Iterable[bytes] = ()) -> AsgiResult:
    """Run one request through the ASGI app and collect what it sends (at most 5 s)."""
    pending = list(chunks)
    result = AsgiResult()

    async def receive() -> dict[str, Any]:
        if pending:
            chunk = pending.pop(0)
            return {"type": "http.request", "body": chunk, "more_body": bool(pending)}
        if scope["type"] == "http":
            return {"type": "http.request", "body": b"", "more_body": False}
        await asyncio.sleep(3600)  # pragma: no cover - never reached
        return {}

    async def send(message: dict[str, Any]) -> None:
        result.messages.append(message)
        if message["type"] == "http.response.start":
            result.status = message["status"]
            result.headers = {
                k.decode("latin-1"): v.decode("latin-1") for k, v in message["headers"]
            }
        elif message["type"] == "http.response.body":
            result.body += message.get("body", b"")

    await asyncio.wait_for(app(scope, receive, send), 5)
    return result


@asynccontextmanager
async def lifespan(app: Any, timeout: float = 10.0) -> AsyncIterator[None]:
    """Start ``app`` through the ASGI lifespan protocol, run the block, then shut it down: what
    a server does around its requests. A startup or shutdown failure raises (bounded waits)."""
    to_app: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    from_app: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
    task = asyncio.create_task(app(scope, to_app.get, from_app.put))

    async def step(event: str) -> None:
        await to_app.put({"type": f"lifespan.{event}"})
        answer = asyncio.ensure_future(from_app.get())
        await asyncio.wait({answer, task}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        if not answer.done():
            answer.cancel()
            if task.done():
                task.result()  # the app's own exception, if it raised one
            raise AssertionError(f"no answer to lifespan.{event} within {timeout} s")
        message = answer.result()
        if message["type"] != f"lifespan.{event}.complete":
            if task.done():
                task.result()
            raise AssertionError(f"lifespan.{event} failed: {message}")

    await step("startup")
    try:
        yield
    finally:
        await step("shutdown")
        await asyncio.wait_for(task, timeout)
