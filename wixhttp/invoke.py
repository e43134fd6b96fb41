"""Calling a handler: ``async def`` ones awaited, plain ones in a thread pool, each under the
timeout; and turning what it returned into a response.

In debug mode (``wixhttp dev``) a handler that calls an async function without ``await`` (ported
promise-style code: the call does nothing) is logged with the file:line of that call.
"""

from __future__ import annotations

import asyncio
import contextvars
import inspect
import logging
import os
import re
import sys
import threading
import warnings
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TextIO

from wixhttp.deadlines import Watchdog
from wixhttp.errors import HandlerError
from wixhttp.logs import current_function
from wixhttp.loopwatch import LoopWatch
from wixhttp.request import WixHttpFunctionRequest
from wixhttp.responses import WixHttpFunctionResponse, valid_status
from wixhttp.routing import Handler

__all__ = [
    "POOL_SIZE",
    "THREAD_SHARE",
    "Invoker",
    "Overloaded",
    "coerce",
    "late_answer",
    "watch_unawaited",
]

#: Threads running plain ``def`` handlers, per app (per worker process).
POOL_SIZE = min(64, (os.cpu_count() or 1) * 4 + 8)
#: The most of them one function may hold at a time, its calls past their timeout included: a
#: function whose calls hang cannot take the whole pool from the others.
THREAD_SHARE = max(1, POOL_SIZE // 2)


class Overloaded(Exception):
    """A function already holds its :data:`THREAD_SHARE` of the handler threads (a 503)."""

#: Set by the app around a handler call: answers the caller (504) when an ``async def``
#: handler caught the cancellation at its timeout and carries on (it cannot be stopped).
late_answer: contextvars.ContextVar[Callable[[], None] | None] = contextvars.ContextVar(
    "late_answer", default=None
)


class Invoker:
    """Runs handlers under a ``timeout`` (past it: :class:`~wixhttp.deadlines.DeadlineExceeded`)."""

    def __init__(self, timeout: float, *, debug: bool = False) -> None:
        self._executor: ThreadPoolExecutor | None = None
        self._held: dict[str, int] = {}  # threads in use by function name
        self._lock = threading.Lock()  # threads release theirs
        self._watchdog = Watchdog(timeout)
        self._debug = debug
        self._loopwatch = LoopWatch()  # dev: says which async handler blocks the loop
        if debug:
            watch_unawaited()

    async def run(self, handler: Handler, request: WixHttpFunctionRequest) -> Any:
        """What the handler returned, awaited if it returned an awaitable."""
        if self._debug:
            _track_coroutine_origins()  # on the event loop's thread, for async handlers
            if handler.is_async:
                self._loopwatch.watch(handler)
        if handler.is_async:
            call = handler.func(request) if handler.takes_request else handler.func()
            result = await self._watchdog.run(call, late_answer.get())
        else:
            result = await self._call_sync(handler, request)
        if not isinstance(result, WixHttpFunctionResponse) and inspect.isawaitable(result):
            # Ported Velo code returns promises: a handler may return an awaitable.
            result = await self._watchdog.run(_settle(result), late_answer.get())
        return result

    async def _call_sync(self, handler: Handler, request: WixHttpFunctionRequest) -> Any:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(
                max_workers=POOL_SIZE,
                thread_name_prefix="wixhttp-handler",
                initializer=_track_coroutine_origins if self._debug else None,
            )
        name = request.function_name
        with self._lock:
            held = self._held.get(name, 0)
            if held >= THREAD_SHARE:
                raise Overloaded(f"function {name!r} holds {held} threads, its share of the pool")
            self._held[name] = held + 1
        context = contextvars.copy_context()
        args = (request,) if handler.takes_request else ()
        try:
            done = self._executor.submit(context.run, handler.func, *args)
        except BaseException:
            self._release(name)
            raise
        # Counted until the thread is done, not until the caller is answered.
        done.add_done_callback(lambda _: self._release(name))
        # A sync handler past its timeout cannot be stopped; the caller gets 504 and the thread
        # finishes on its own (as on Wix, where code may run on after the connection closes).
        return await self._watchdog.run(asyncio.wrap_future(done))

    def _release(self, name: str) -> None:
        with self._lock:
            self._held[name] -= 1

    def close(self) -> None:
        """Release the thread pool (threads still running finish on their own)."""
        self._loopwatch.close()
        if self._executor is not None:
            self._executor.shutdown(wait=False)
            self._executor = None


async def _settle(awaitable: Awaitable[Any]) -> Any:
    result = await awaitable
    while not isinstance(result, WixHttpFunctionResponse) and inspect.isawaitable(result):
        result = await result
    return result


_UNAWAITED = re.compile(r"coroutine '([^']+)' was never awaited")
_ORIGIN = re.compile(r'File "([^"]+)", line (\d+)')
_previous_showwarning = warnings.showwarning


def _track_coroutine_origins() -> None:
    # Per thread: a never-awaited warning then says where its coroutine was created, not
    # where it was garbage-collected (for `task = helper(request)`, after the handler returned).
    if sys.get_coroutine_origin_tracking_depth() < 1:
        sys.set_coroutine_origin_tracking_depth(1)


def _showwarning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: TextIO | None = None,
    line: str | None = None,
) -> None:
    name = current_function.get()
    found = _UNAWAITED.match(str(message)) if issubclass(category, RuntimeWarning) else None
    if found is None or name is None:
        _previous_showwarning(message, category, filename, lineno, file, line)
        return
    origins = _ORIGIN.findall(str(message))
    where = ":".join(origins[-1]) if origins else f"{filename}:{lineno}"
    logging.getLogger("wixhttp.error").warning(
        "%s: handler %s called async function %s() without await, so its code never ran; "
        "make the handler async def and write `await %s(...)`",
        where,
        name,
        found.group(1),
        found.group(1),
    )


def watch_unawaited() -> None:
    """Log Python's "coroutine ... was never awaited" warnings raised inside a handler as
    wixhttp errors naming the handler and the line that dropped the coroutine (process-wide;
    other warnings are shown as before; a warning filter that makes them errors still wins)."""
    global _previous_showwarning
    if warnings.showwarning is not _showwarning:
        _previous_showwarning = warnings.showwarning
        warnings.showwarning = _showwarning


def coerce(result: Any, handler: Handler) -> WixHttpFunctionResponse:
    """Turn a handler's return value into a response.

    A response object is used as is. Ported Velo code often returns a plain object with a
    numeric ``status`` (and ``body``/``headers``): a dict with those keys, or any object with
    those attributes, is accepted. Anything else is a handler error (500) whose message says
    what to return instead.
    """
    if isinstance(result, WixHttpFunctionResponse):
        return result
    hint = "return ok(...), not_found(...) or another response helper"
    if result is None:
        raise HandlerError(
            f"{handler.location}: handler {handler.export_name} returned None; {hint}"
        )
    if isinstance(result, dict):
        status, body, headers = result.get("status"), result.get("body"), result.get("headers")
    else:
        status = getattr(result, "status", None)
        body, headers = getattr(result, "body", None), getattr(result, "headers", None)
    if valid_status(status):
        return WixHttpFunctionResponse(status, body, headers if isinstance(headers, dict) else None)
    raise HandlerError(
        f"{handler.location}: handler {handler.export_name} returned "
        f"{type(result).__name__} {_short(result)}; {hint}"
    )


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else f"{text[:77]}..."
