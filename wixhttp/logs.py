"""Attribute log output to the HTTP function that produced it.

The app sets :data:`current_function` around each handler call. :func:`install` (used by the
CLI and platform workers) makes ``print`` output and ``logging`` records carry that name, so
``[get_items] hello`` shows which function printed what, also under concurrency.
"""

from __future__ import annotations

import io
import logging
import sys
from contextvars import ContextVar
from typing import Any, TextIO

__all__ = ["FunctionFilter", "FunctionStream", "StreamProxy", "current_function", "install"]

current_function: ContextVar[str | None] = ContextVar("wixhttp_function", default=None)


class FunctionFilter(logging.Filter):
    """Adds ``record.function`` (the running handler's name, or ``-``) and ``record.where``
    (``"[name] "`` inside a handler, else ``""``) to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        name = current_function.get()
        record.function = name or "-"
        record.where = f"[{name}] " if name else ""
        return True


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
    """A text stream that prefixes each line written inside a handler with ``[name] ``."""

    def __init__(self, target: TextIO) -> None:
        super().__init__(target)
        self._pending: dict[str, str] = {}

    def write(self, text: str) -> int:
        name = current_function.get()
        if name is None:
            return self.target.write(text)
        text = self.as_text(text)
        buffered = self._pending.pop(name, "") + text
        *lines, rest = buffered.split("\n")
        for line in lines:
            self.target.write(f"[{name}] {line}\n")
        if rest:
            self._pending[name] = rest
        return len(text)


def install(level: int = logging.INFO) -> None:
    """Route ``print``/``logging`` output through the function-aware stream and format."""
    if not isinstance(sys.stdout, FunctionStream):
        sys.stdout = FunctionStream(sys.stdout)
    if not isinstance(sys.stderr, FunctionStream):
        sys.stderr = FunctionStream(sys.stderr)
    # Log records already name their function: write them past the prefixing stream.
    handler = logging.StreamHandler(sys.stderr.target)
    handler.addFilter(FunctionFilter())
    handler.setFormatter(logging.Formatter("%(levelname)-8s %(where)s%(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("watchfiles").setLevel(logging.WARNING)  # our reload line says it all
