"""Dev only: saying which ``async def`` handler blocks the event loop (``time.sleep``, a blocking
client), since every other request of the process waits meanwhile.

A thread posts a no-op to the loop every :data:`INTERVAL` seconds; when it has not run after
:data:`THRESHOLD` seconds, the loop thread's stack is read (``sys._current_frames``) and, when a
handler is on it, a warning names the handler and its line. Nothing is logged for a loop
blocked outside handlers.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import threading
from types import CodeType, FrameType

from wixhttp.routing import Handler

__all__ = ["INTERVAL", "THRESHOLD", "LoopWatch"]

INTERVAL = 0.1
THRESHOLD = 0.25

log = logging.getLogger("wixhttp.error")


class LoopWatch:
    """Watches one event loop for async handlers that block it."""

    def __init__(self) -> None:
        self.handlers: dict[CodeType, Handler] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop = threading.Event()

    def watch(self, handler: Handler) -> None:
        """Called on the loop thread before ``handler`` runs: start watching that loop."""
        code = getattr(handler.func, "__code__", None)
        if code is not None:
            self.handlers[code] = handler
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            self._loop = loop
            thread = threading.Thread(
                target=self._run,
                args=(loop, threading.get_ident()),
                name="wixhttp-loopwatch",
                daemon=True,
            )
            thread.start()

    def close(self) -> None:
        self._stop.set()

    def _run(self, loop: asyncio.AbstractEventLoop, loop_thread: int) -> None:
        beat = threading.Event()
        while not self._stop.wait(INTERVAL) and loop is self._loop and loop.is_running():
            beat.clear()
            try:
                loop.call_soon_threadsafe(beat.set)
            except RuntimeError:  # the loop is closed
                return
            if beat.wait(THRESHOLD):
                continue
            frame = sys._current_frames().get(loop_thread)
            found = self._handler_frame(frame)
            if found is not None:
                handler, line = found
                log.warning(
                    "%s:%d: async handler %s is blocking the event loop (over %.2gs so far): "
                    "every request waits meanwhile; use await asyncio.sleep(...) or an async "
                    "client, or make it a plain def handler (run in a thread)",
                    handler.file or "<unknown>",
                    line,
                    handler.export_name,
                    THRESHOLD,
                )
            while not beat.wait(INTERVAL) and not self._stop.is_set() and loop.is_running():
                pass  # one warning per blocking

    def _handler_frame(self, frame: FrameType | None) -> tuple[Handler, int] | None:
        while frame is not None:
            handler = self.handlers.get(frame.f_code)
            if handler is not None:
                return handler, frame.f_lineno
            frame = frame.f_back
        return None
