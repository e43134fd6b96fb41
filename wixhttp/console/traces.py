"""What a handler printed and logged during one request the console sent (its try-it panel).

The page tags its request with :data:`TRACE_HEADER`. Only tagged requests are traced, and only
while a console page is open (the page holds the live feed open; with none, a request pays one
check): the console wraps the app's handler call (:func:`traced`), and for a tagged request sets
:data:`current_trace` around it; :class:`TraceHandler`, on the root logger, appends every
record emitted while it is set. Since handlers' ``print`` becomes a log record of theirs
(:mod:`wixhttp.logs`), that holds what the handler printed too. The trace lives in the context
of that one call, so a concurrent request's lines never land in it.
"""

from __future__ import annotations

import logging
import re
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Collection
from contextvars import ContextVar
from typing import Any, TypeVar, cast

from wixhttp.request import WixHttpFunctionRequest
from wixhttp.routing import Handler

__all__ = ["TRACE_HEADER", "TraceHandler", "Traces", "current_trace", "traced"]

TRACE_HEADER = "x-wixhttp-console-trace"
#: Traces kept for the page to fetch; the oldest go first.
KEPT_TRACES = 200
#: Lines kept per trace; a handler printing in a loop does not fill the memory.
KEPT_LINES = 1000
_TRACE_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")

current_trace: ContextVar[list[dict[str, Any]] | None] = ContextVar(
    "wixhttp_console_trace", default=None
)

Run = TypeVar("Run", bound=Callable[[Handler, WixHttpFunctionRequest], Awaitable[Any]])


class TraceHandler(logging.Handler):
    """Appends each record emitted inside a traced handler call to its trace."""

    def emit(self, record: logging.LogRecord) -> None:
        trace = current_trace.get()
        if trace is None or len(trace) >= KEPT_LINES:
            return
        line: dict[str, Any] = {
            "time": record.created,
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            line["exception"] = logging.Formatter().formatException(record.exc_info)
        trace.append(line)


class Traces:
    """The last :data:`KEPT_TRACES` traces, by the id the page gave them."""

    def __init__(self) -> None:
        self._traces: OrderedDict[str, list[dict[str, Any]]] = OrderedDict()

    def start(self, trace_id: str) -> list[dict[str, Any]] | None:
        """A new, empty trace under ``trace_id`` (None for an id that is not one)."""
        if not _TRACE_ID.match(trace_id):
            return None
        trace: list[dict[str, Any]] = []
        self._traces[trace_id] = trace
        self._traces.move_to_end(trace_id)
        while len(self._traces) > KEPT_TRACES:
            self._traces.popitem(last=False)
        return trace

    def get(self, trace_id: str) -> list[dict[str, Any]] | None:
        return self._traces.get(trace_id)


def install_handler() -> None:
    """Put one :class:`TraceHandler` on the root logger (again after ``logs.install``)."""
    root = logging.getLogger()
    if not any(isinstance(h, TraceHandler) for h in root.handlers):
        root.addHandler(TraceHandler())


def traced(run: Run, traces: Traces, watchers: Collection[object]) -> Run:
    """``run`` (the app's handler call), tracing the requests tagged with :data:`TRACE_HEADER`
    while ``watchers`` (the live feed's subscribers: open console pages) is not empty."""

    async def run_traced(handler: Handler, request: WixHttpFunctionRequest) -> Any:
        if not watchers:
            return await run(handler, request)
        trace_id = request.headers.get(TRACE_HEADER)
        trace = traces.start(trace_id) if trace_id else None
        if trace is None:
            return await run(handler, request)
        install_handler()  # logs.install replaces the root's handlers; it runs before the app
        token = current_trace.set(trace)
        try:
            return await run(handler, request)
        except BaseException as exc:  # the response says more; the trace says it ended there
            trace.append({"level": "ERROR", "logger": "wixhttp", "message": _ended(exc)})
            raise
        finally:
            current_trace.reset(token)

    return cast(Run, run_traced)


def _ended(exc: BaseException) -> str:
    return f"the handler raised {type(exc).__name__}: {exc}".rstrip(": ")
