"""The console's live feed: requests and reloads, as server-sent events.

Publishing never waits: each subscriber (an open ``/_wixhttp/events`` stream) has a bounded
queue, and an event that does not fit is dropped for that subscriber, so a slow browser loses
events, never slows a request. With no subscriber, the app's one check (:attr:`Feed.subscribers`
is empty) is all a request pays.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any

from starlette.types import Receive, Send

__all__ = ["QUEUE_SIZE", "Feed"]

#: Events a subscriber may fall behind by before new ones are dropped for it.
QUEUE_SIZE = 256
#: How often an idle stream checks whether the server is stopping, and sends a comment to keep
#: the connection from being timed out by something in between.
WAKE_SECONDS = 0.5
HEARTBEAT_SECONDS = 15.0

_encode = json.JSONEncoder(separators=(",", ":")).encode  # one encoder, not one per event
_HEADERS = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-store"),
    (b"x-accel-buffering", b"no"),
]


class Feed:
    """Subscribers' queues, and the events published to them."""

    def __init__(self) -> None:
        self.subscribers: set[asyncio.Queue[bytes]] = set()  # one set, never replaced
        self.dropped = 0
        #: Whether the server is shutting down: open streams end then, so they do not hold
        #: up a graceful shutdown (the dev CLI sets it from uvicorn's ``should_exit``).
        self.stopping: Callable[[], bool] = lambda: False

    def publish(self, kind: str, data: dict[str, Any]) -> None:
        """Queue one event for every subscriber that has room (never blocks)."""
        if not self.subscribers:
            return
        frame = f"event: {kind}\ndata: {_encode(data)}\n\n".encode()
        for queue in self.subscribers:
            try:
                queue.put_nowait(frame)
            except asyncio.QueueFull:
                self.dropped += 1

    def request(self, name: str, method: str, path: str, status: int, seconds: float) -> None:
        """A served request (called by the app only when someone is subscribed)."""
        self.publish(
            "request",
            {
                "time": time.time(),
                "function": name,
                "method": method,
                "path": path,
                "status": status,
                "duration_ms": round(seconds * 1000, 1),
            },
        )

    def reload(self, ok: bool, message: str, generation: int) -> None:
        """A reload of the site: ``ok``, or the error that stopped it."""
        data = {"time": time.time(), "ok": ok, "message": message, "generation": generation}
        self.publish("reload", data)

    async def stream(self, receive: Receive, send: Send) -> None:
        """Serve one ``text/event-stream`` until the browser leaves or the server stops."""
        queue: asyncio.Queue[bytes] = asyncio.Queue(QUEUE_SIZE)
        await send({"type": "http.response.start", "status": 200, "headers": _HEADERS})
        await _write(send, b"retry: 1000\n\n")  # a dropped stream is reopened after 1 s
        self.subscribers.add(queue)
        left = asyncio.ensure_future(_disconnected(receive))
        try:
            await self._pump(queue, send, left)
        finally:
            self.subscribers.discard(queue)
            left.cancel()
        await send({"type": "http.response.body", "body": b""})

    async def _pump(
        self, queue: asyncio.Queue[bytes], send: Send, left: asyncio.Future[None]
    ) -> None:
        idle = 0.0
        while not left.done() and not self.stopping():
            get = asyncio.ensure_future(queue.get())
            waiting: set[asyncio.Future[Any]] = {get, left}
            done, _ = await asyncio.wait(waiting, timeout=WAKE_SECONDS)
            if get not in done:
                get.cancel()
                idle += WAKE_SECONDS
                if idle >= HEARTBEAT_SECONDS:
                    idle = 0.0
                    await _write(send, b": -\n\n")
                continue
            idle = 0.0
            frames = [get.result()]
            while not queue.empty():  # what piled up goes in one write
                frames.append(queue.get_nowait())
            await _write(send, b"".join(frames))


async def _write(send: Send, data: bytes) -> None:
    await send({"type": "http.response.body", "body": data, "more_body": True})


async def _disconnected(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass
