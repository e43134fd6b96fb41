"""Calling a handler: ``async def`` ones awaited, plain ones in a thread pool, each under the
timeout; and turning what it returned into a response."""

from __future__ import annotations

import asyncio
import contextvars
import inspect
import os
from collections.abc import Awaitable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from wixhttp.deadlines import Watchdog
from wixhttp.errors import HandlerError
from wixhttp.request import WixHttpFunctionRequest
from wixhttp.responses import WixHttpFunctionResponse, valid_status
from wixhttp.routing import Handler

__all__ = ["Invoker", "coerce"]


class Invoker:
    """Runs handlers under a ``timeout`` (past it: :class:`~wixhttp.deadlines.DeadlineExceeded`)."""

    def __init__(self, timeout: float) -> None:
        self._executor: ThreadPoolExecutor | None = None
        self._watchdog = Watchdog(timeout)

    async def run(self, handler: Handler, request: WixHttpFunctionRequest) -> Any:
        """What the handler returned, awaited if it returned an awaitable."""
        if handler.is_async:
            call = handler.func(request) if handler.takes_request else handler.func()
            result = await self._watchdog.run(call)
        else:
            result = await self._call_sync(handler, request)
        if not isinstance(result, WixHttpFunctionResponse) and inspect.isawaitable(result):
            # Ported Velo code returns promises: a handler may return an awaitable.
            result = await self._watchdog.run(_settle(result))
        return result

    async def _call_sync(self, handler: Handler, request: WixHttpFunctionRequest) -> Any:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(
                max_workers=min(64, (os.cpu_count() or 1) * 4 + 8),
                thread_name_prefix="wixhttp-handler",
            )
        loop = asyncio.get_running_loop()
        context = contextvars.copy_context()
        args = (request,) if handler.takes_request else ()
        future = loop.run_in_executor(self._executor, context.run, handler.func, *args)
        # A sync handler past its timeout cannot be stopped; the caller gets 504 and the thread
        # finishes on its own (as on Wix, where code may run on after the connection closes).
        return await self._watchdog.run(future)

    def close(self) -> None:
        """Release the thread pool (threads still running finish on their own)."""
        if self._executor is not None:
            self._executor.shutdown(wait=False)
            self._executor = None


async def _settle(awaitable: Awaitable[Any]) -> Any:
    result = await awaitable
    while not isinstance(result, WixHttpFunctionResponse) and inspect.isawaitable(result):
        result = await result
    return result


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
