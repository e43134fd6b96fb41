"""One log format for ``wixhttp dev`` and ``serve``, with each line attributed to its function.

The app sets :data:`current_function` around each handler call. :func:`install` (used by the
CLI) sends every line through one handler and format: the access log (client address,
function, method, path, status, duration), uvicorn's own lines, ``logging`` records, and what
handlers ``print``, which becomes a log record of its handler, so ``[get_items] hello`` shows
which function printed what, also under concurrency. ``text`` or ``json`` (one object a line).
"""

from __future__ import annotations

import io
import json
import logging
import sys
import time
from contextvars import ContextVar
from datetime import datetime, timezone
from typing import Any, TextIO

__all__ = [
    "LOG_FORMATS",
    "FunctionFilter",
    "FunctionStream",
    "JsonFormatter",
    "StreamProxy",
    "TextFormatter",
    "access_fields",
    "current_function",
    "install",
]

LOG_FORMATS = ("text", "json")
current_function: ContextVar[str | None] = ContextVar("wixhttp_function", default=None)
output_log = logging.getLogger("wixhttp.output")

#: Fields an access record carries besides its message (see :func:`access_fields`).
ACCESS_FIELDS = ("client", "function", "method", "path", "status", "duration_ms")


def access_fields(
    scope: Any, function: str, method: str, path: str, status: int, duration_ms: float
) -> dict[str, Any]:
    """The ``extra`` of an access record: the peer's ``host:port`` and the request's outcome."""
    client = scope.get("client")
    address = f"{client[0]}:{client[1]}" if client else "-"
    return {
        "client": address,
        "function": function,
        "method": method,
        "path": path,
        "status": status,
        "duration_ms": round(duration_ms, 1),
    }


class FunctionFilter(logging.Filter):
    """Adds ``record.function`` (the running handler's name, or ``-``; an access record keeps
    its own) and ``record.where`` (``"[name] "`` inside a handler, else ``""``)."""

    def filter(self, record: logging.LogRecord) -> bool:
        name = current_function.get()
        if not hasattr(record, "function"):
            record.function = name or "-"
        record.where = f"[{name}] " if name else ""
        return True


class TextFormatter(logging.Formatter):
    """``2026-01-31 12:00:00.123 INFO     127.0.0.1:50000 items GET /_functions/items 200 1.2ms``;
    a line from inside a handler reads ``... INFO     [get_items] hello``."""

    _second: tuple[int, str] = (-1, "")  # the last second formatted, and its text

    def format(self, record: logging.LogRecord) -> str:
        second = int(record.created)
        cached = self._second
        if cached[0] != second:  # one strftime a second, not one a line
            cached = (second, time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(second)))
            self._second = cached
        stamp = cached[1]
        client = getattr(record, "client", None)
        line = (
            f"{stamp}.{int(record.msecs):03d} {record.levelname:<8} "
            f"{f'{client} ' if client else ''}{getattr(record, 'where', '')}{record.getMessage()}"
        )
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


class JsonFormatter(logging.Formatter):
    """One JSON object a line: ``time`` (UTC, ISO 8601), ``level``, ``logger``, ``function``
    (null outside a handler), ``message``; access records add ``client``, ``method``, ``path``,
    ``status`` and ``duration_ms``; ``exception`` holds a traceback."""

    def format(self, record: logging.LogRecord) -> str:
        function = getattr(record, "function", "-")
        data: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "function": None if function == "-" else function,
            "message": record.getMessage(),
        }
        if hasattr(record, "status"):  # an access record
            data.update((key, getattr(record, key)) for key in ACCESS_FIELDS)
        if record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
        return json.dumps(data, ensure_ascii=False, default=str)


class StreamProxy(io.TextIOBase):
    """A text stream standing in for stdout/stderr in front of ``target``: it looks like the
    real one to code written for a terminal (``encoding``, ``errors``, ``buffer``,
    ``fileno``), and takes bytes too (click writes bytes to what it takes for a binary
    stream). Bytes written to ``buffer`` or the descriptor go straight to ``target``."""

    def __init__(self, target: TextIO) -> None:
        self.target = target

    def writable(self) -> bool:
        return True

    def flush(self) -> None:
        self.target.flush()

    def isatty(self) -> bool:
        return self.target.isatty()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self.target, "encoding", None) or "utf-8"

    @property
    def errors(self) -> str | None:  # type: ignore[override]
        return getattr(self.target, "errors", None)

    @property
    def buffer(self) -> Any:
        return self.target.buffer

    def fileno(self) -> int:
        return self.target.fileno()

    def as_text(self, text: str | bytes | bytearray) -> str:
        """What was written, as text (bytes decoded); a TypeError as a real stream's."""
        if isinstance(text, str):
            return text
        if isinstance(text, (bytes, bytearray)):
            return bytes(text).decode(self.encoding, "replace")
        raise TypeError(f"write() argument must be str, not {type(text).__name__}")


class FunctionStream(StreamProxy):
    """A text stream that attributes each line written inside a handler to it: prefixed with
    ``[name] `` in ``target``, or, given a ``logger``, as a record of it at ``level`` (see
    :func:`install`). Outside a handler, text passes through to ``target`` unchanged."""

    def __init__(
        self, target: TextIO, level: int = logging.INFO, logger: logging.Logger | None = None
    ) -> None:
        super().__init__(target)
        self.level = level
        self.logger = logger
        self._pending: dict[str, str] = {}

    def write(self, text: str) -> int:
        name = current_function.get()
        if name is None:
            return self.target.write(text)
        text = self.as_text(text)
        buffered = self._pending.pop(name, "") + text
        *lines, rest = buffered.split("\n")
        for line in lines:
            if self.logger is None:
                self.target.write(f"[{name}] {line}\n")
            else:
                self.logger.log(self.level, "%s", line)
        if rest:
            self._pending[name] = rest
        return len(text)


def install(level: int = logging.INFO, *, log_format: str = "text") -> None:
    """Send every log line (uvicorn's too) and what handlers print through one handler on
    stderr, in ``log_format`` (``text`` or ``json``)."""
    if log_format not in LOG_FORMATS:
        raise ValueError(f"log format {log_format!r} is not one of {', '.join(LOG_FORMATS)}")
    # What handlers print becomes a record: INFO from stdout, WARNING from stderr.
    if not isinstance(sys.stdout, FunctionStream):
        sys.stdout = FunctionStream(sys.stdout, logging.INFO, output_log)
    if not isinstance(sys.stderr, FunctionStream):
        sys.stderr = FunctionStream(sys.stderr, logging.WARNING, output_log)
    # Records are written past the prefixing stream, to the real stderr.
    handler = logging.StreamHandler(sys.stderr.target)
    handler.addFilter(FunctionFilter())
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    output_log.setLevel(logging.INFO)  # what handlers print is shown whatever the level
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "uvicorn.asgi"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    logging.getLogger("watchfiles").setLevel(logging.WARNING)  # our reload line says it all
