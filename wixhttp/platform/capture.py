"""Per-execution log capture inside a worker process.

The platform marks a request it wants logs for with ``x-wixhttp-capture: <execution id>``. For
that request, everything the handler prints to stdout or logs below WARNING goes to ``logs``;
stderr, WARNING and above, and an uncaught exception's traceback go to ``errors``. Capture is
keyed by a context variable, so executions running at the same time (async handlers on the loop,
sync handlers in threads, which inherit the context) never mix their output.

The captured text travels back on the response: inline as ``x-wixhttp-logs`` /
``x-wixhttp-errors`` headers (percent-encoded) when small, otherwise parked in the worker and
fetched once by the platform with ``GET /__wixhttp/logs/<id>``. The platform strips these
headers before anything reaches a client.

Whatever the worker writes, captured or not (its stderr's tail is the error of an execution it
failed to start for), names no server path (:class:`PathScrubber`): a function's owner learns
about their code, not the server's disk. The deployment's code folder reads as paths relative
to it (``File "src/main.py"``, ``.`` for the folder itself), the data directory as ``<data>``,
the folder the server is installed in as ``<server>`` and Python's own as ``<python>``.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from contextvars import ContextVar
from pathlib import Path
from typing import TextIO
from urllib.parse import quote

from starlette.types import ASGIApp, Message, Receive, Scope, Send

import wixhttp
from wixhttp.logs import StreamProxy

__all__ = [
    "CAPTURE_HEADER",
    "Capture",
    "CaptureMiddleware",
    "ERRORS_HEADER",
    "LOGS_HEADER",
    "LOGS_PATH",
    "LOGS_REF_HEADER",
    "DURATION_HEADER",
    "ERRORS_TRUNCATED",
    "FETCH_LOGS_HEADER",
    "LOG_LIMIT",
    "PathScrubber",
    "TRUNCATED",
    "install",
    "tail",
]

CAPTURE_HEADER = b"x-wixhttp-capture"
LOGS_HEADER = b"x-wixhttp-logs"
ERRORS_HEADER = b"x-wixhttp-errors"
LOGS_REF_HEADER = b"x-wixhttp-logs-ref"
DURATION_HEADER = b"x-wixhttp-duration"
LOGS_PATH = "/__wixhttp/logs/"
FETCH_LOGS_HEADER = b"x-wixhttp-fetch-logs"  # sent by the platform only, with LOGS_PATH

LOG_LIMIT = 1_000_000
TRUNCATED = "[WARNING] Logs truncated. The output exceeded 1000000 characters.\n"
ERRORS_TRUNCATED = "[WARNING] Errors truncated. The output exceeded 1000000 characters.\n"
INLINE_LIMIT = 6 * 1024  # encoded bytes in headers; larger logs are fetched separately
PARKED_MAX = 1024  # parked log sets kept for the platform to fetch, oldest dropped first

#: What the worker's output goes through before anyone reads it (set by :func:`install`).
_scrub: Callable[[str], str] = str


def tail(text: str, limit: int = LOG_LIMIT, *, errors: bool = False) -> str:
    """At most ``limit`` characters: the text, or Appwrite's truncation warning followed by the
    text's tail (warning included in the count, as Appwrite does). ``errors`` picks the
    warning Appwrite writes for errors ("Errors truncated")."""
    if len(text) <= limit:
        return text
    warning = ERRORS_TRUNCATED if errors else TRUNCATED
    if limit <= len(warning):
        return warning[:limit]
    return warning + text[len(text) - (limit - len(warning)) :]


class Capture:
    """The logs and errors of one execution, each bounded (the tail is kept)."""

    __slots__ = ("_logs", "_errors", "_log_size", "_error_size")

    def __init__(self) -> None:
        self._logs: list[str] = []
        self._errors: list[str] = []
        self._log_size = 0
        self._error_size = 0

    def log(self, text: str) -> None:
        text = _scrub(text)
        self._logs.append(text)
        self._log_size += len(text)
        if self._log_size > 2 * LOG_LIMIT:
            self._logs = [tail("".join(self._logs))]
            self._log_size = len(self._logs[0])

    def error(self, text: str) -> None:
        text = _scrub(text)
        self._errors.append(text)
        self._error_size += len(text)
        if self._error_size > 2 * LOG_LIMIT:
            self._errors = [tail("".join(self._errors), errors=True)]
            self._error_size = len(self._errors[0])

    @property
    def logs(self) -> str:
        return tail("".join(self._logs))

    @property
    def errors(self) -> str:
        return tail("".join(self._errors), errors=True)


# -- server paths out of what callers read ---------------------------------------------------------

#: The environment variable naming the entrypoint relative to the code folder (the runtime's).
ENTRYPOINT_ENV = "OPEN_RUNTIMES_ENTRYPOINT"

#: Where the server's code is installed (its checkout, or site-packages).
SERVER_DIR = str(Path(wixhttp.__file__).resolve().parent.parent)


def code_folder(entry_dir: Path, entrypoint: str) -> Path:
    """The code folder of a deployment whose entrypoint (``src/main.py``, relative to that
    folder) is in ``entry_dir``: ``entry_dir`` less the entrypoint's folders."""
    depth = len(Path(entrypoint).parts) - 1
    if depth <= 0 or entry_dir.parts[-depth:] != Path(entrypoint).parts[:-1]:
        return entry_dir
    return entry_dir.parents[depth - 1]


class PathScrubber:
    """Replaces server paths in text: ``scrub = PathScrubber(code, data=...); scrub(text)``."""

    def __init__(self, code: Path | None = None, *, data: Path | None = None) -> None:
        hidden: dict[str, str] = {}
        for path, name in (
            (SERVER_DIR, "<server>"),
            (sys.base_prefix, "<python>"),
            (sys.prefix, "<python>"),
        ):
            hidden[path] = name
            hidden[os.path.realpath(path)] = name
        if data is not None:
            for path in {str(data), os.path.realpath(data)}:
                hidden[path] = "<data>"
        if code is not None:
            for path in {str(code), os.path.realpath(code)}:
                hidden[path + os.sep] = ""
                hidden[path] = "."
        # Longest first, so a folder inside another is replaced before its parent; "/" never.
        self._hidden = sorted(
            ((path, name) for path, name in hidden.items() if len(path) > 1),
            key=lambda item: -len(item[0]),
        )

    def __call__(self, text: str) -> str:
        for path, name in self._hidden:
            if path in text:
                text = text.replace(path, name)
        return text


# -- capture ---------------------------------------------------------------------------------------


current_capture: ContextVar[Capture | None] = ContextVar("wixhttp_capture", default=None)


class _CaptureStream(StreamProxy):
    """stdout/stderr: text written during a captured execution goes to its capture."""

    def __init__(self, target: TextIO, *, is_error: bool) -> None:
        super().__init__(target)
        self.is_error = is_error

    def write(self, text: str) -> int:
        capture = current_capture.get()
        text = self.as_text(text)
        if capture is None:
            self.target.write(_scrub(text))
            return len(text)
        if self.is_error:
            capture.error(text)
        else:
            capture.log(text)
        return len(text)

    def isatty(self) -> bool:
        return False


class _CaptureHandler(logging.Handler):
    """Logging records emitted during a captured execution go to its logs or errors."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        capture = current_capture.get()
        if capture is None:
            return
        try:
            text = self.format(record) + "\n"
        except Exception:  # pragma: no cover - a broken record must not break the handler
            text = f"{record.getMessage()}\n"
        if record.levelno >= logging.WARNING:
            capture.error(text)
        else:
            capture.log(text)


class _OutsideCapture(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return current_capture.get() is None


_installed = False


def install(code: Path | None = None) -> None:
    """Route stdout, stderr and logging through the capture (idempotent), hiding server paths
    and naming files relative to ``code``, the deployment's code folder (by default, the one
    holding the current directory, the entrypoint's folder, per ``OPEN_RUNTIMES_ENTRYPOINT``)."""
    global _installed, _scrub
    if _installed:
        return
    _installed = True
    if code is None:
        code = code_folder(Path(os.getcwd()), os.environ.get(ENTRYPOINT_ENV, ""))
    _scrub = PathScrubber(code)
    root = logging.getLogger()
    if not root.handlers:
        # Outside a captured request, warnings and errors must still reach the worker's log as
        # logging's last resort would print them; adding the capture handler below turns the
        # last resort off.
        fallback = logging.StreamHandler(sys.stderr)
        fallback.setLevel(logging.WARNING)
        root.addHandler(fallback)
    sys.stdout = _CaptureStream(sys.stdout, is_error=False)
    sys.stderr = _CaptureStream(sys.stderr, is_error=True)
    for handler in root.handlers:
        handler.addFilter(_OutsideCapture())  # captured records are not also printed
    root.addHandler(_CaptureHandler())
    if root.level > logging.INFO or root.level == logging.NOTSET:
        root.setLevel(logging.INFO)


class _Parked:
    """Log sets too large for headers, waiting for the platform to fetch them once."""

    def __init__(self) -> None:
        self._items: OrderedDict[str, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def put(self, key: str, payload: bytes) -> None:
        with self._lock:
            self._items[key] = payload
            while len(self._items) > PARKED_MAX:
                self._items.popitem(last=False)

    def pop(self, key: str) -> bytes | None:
        with self._lock:
            return self._items.pop(key, None)


class CaptureMiddleware:
    """Wraps the core app in a worker: captures marked requests, serves parked logs."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.parked = _Parked()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        execution_id = ""
        fetch = False
        for key, value in scope["headers"]:
            if key == CAPTURE_HEADER:
                execution_id = value.decode("latin-1")
            elif key == FETCH_LOGS_HEADER:
                fetch = True
        # Only the platform reaches the parked logs: it strips every x-wixhttp-* header that
        # callers send, so a request with this one came from the platform itself.
        if fetch and scope["path"].startswith(LOGS_PATH):
            await self._serve_parked(scope["path"][len(LOGS_PATH) :], send)
            return
        if not execution_id:
            await self.app(scope, receive, send)
            return
        # The marker is the platform's, not the caller's: the handler does not see it.
        scope = {**scope, "headers": [h for h in scope["headers"] if h[0] != CAPTURE_HEADER]}

        capture = Capture()
        token = current_capture.set(capture)
        started = time.perf_counter()

        async def send_with_logs(message: Message) -> None:
            if message["type"] == "http.response.start":
                duration = time.perf_counter() - started
                # The handler's own x-wixhttp-* headers could forge logs: only ours go out.
                headers = [
                    h for h in message.get("headers", []) if not h[0].startswith(b"x-wixhttp-")
                ]
                headers.append((DURATION_HEADER, f"{duration:.6f}".encode()))
                headers.extend(self._log_headers(execution_id, capture))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_logs)
        finally:
            current_capture.reset(token)

    def _log_headers(self, execution_id: str, capture: Capture) -> list[tuple[bytes, bytes]]:
        logs, errors = capture.logs, capture.errors
        if not logs and not errors:
            return []
        encoded_logs = quote(logs, safe="").encode("ascii")
        encoded_errors = quote(errors, safe="").encode("ascii")
        if len(encoded_logs) + len(encoded_errors) <= INLINE_LIMIT:
            return [(LOGS_HEADER, encoded_logs), (ERRORS_HEADER, encoded_errors)]
        payload = json.dumps({"logs": logs, "errors": errors}).encode("utf-8")
        self.parked.put(execution_id, payload)
        return [(LOGS_REF_HEADER, quote(execution_id, safe="").encode("ascii"))]

    async def _serve_parked(self, key: str, send: Send) -> None:
        payload = self.parked.pop(key)
        status = 200 if payload is not None else 404
        body = payload if payload is not None else b'{"logs": "", "errors": ""}'
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
