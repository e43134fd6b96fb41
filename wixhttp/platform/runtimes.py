"""Worker processes, one per (function, deployment), and the proxy in front of them.

A worker is ``python -m wixhttp.platform.worker`` serving one deployment's code with the core
app over a Unix socket. It is started on first use and kept warm. User code never runs in the
platform process: a handler that calls ``os._exit`` or loops forever takes down only its own
worker, which is replaced on the next request.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import shutil
import signal
import sys
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from wixhttp.deadlines import DeadlineExceeded, Watchdog

__all__ = [
    "HANG_GRACE",
    "ProxyResponse",
    "WorkerCrashed",
    "WorkerError",
    "WorkerPool",
    "WorkerSpec",
    "WorkerStartFailed",
    "WorkerTimeout",
]

log = logging.getLogger("wixhttp.platform")

#: Seconds past a function's timeout after which the platform gives up on a worker that has not
#: answered (its event loop is blocked): the request fails and the worker is replaced.
HANG_GRACE = 5.0

_HOP_BY_HOP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-authenticate",
        b"proxy-authorization",
        b"te",
        b"trailer",
        b"transfer-encoding",
        b"upgrade",
        b"host",
    }
)


class WorkerError(Exception):
    """A worker could not answer; ``status`` is what the platform replies with."""

    status = 502


class WorkerStartFailed(WorkerError):
    status = 503


class WorkerCrashed(WorkerError):
    status = 502


class WorkerTimeout(WorkerError):
    status = 504


@dataclass(frozen=True)
class WorkerSpec:
    """What a worker serves and how."""

    function_id: str
    deployment_id: str
    entry: Path  # the deployment's entrypoint file
    env: Mapping[str, str] = field(default_factory=dict)
    timeout: float = 15.0  # the handler timeout; the proxy allows a little more
    log_path: Path | None = None

    @property
    def key(self) -> tuple[str, str]:
        return (self.function_id, self.deployment_id)


@dataclass
class ProxyResponse:
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes


class _Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.writer.close()


class Worker:
    """One worker process and a pool of keep-alive connections to its socket."""

    def __init__(self, spec: WorkerSpec, sock: str, process: asyncio.subprocess.Process) -> None:
        self.spec = spec
        self.sock = sock
        self.process = process
        self._idle: list[_Connection] = []

    @property
    def alive(self) -> bool:
        return self.process.returncode is None

    async def connection(self) -> tuple[_Connection, bool]:
        """A connection to the worker, and whether it was reused from the pool."""
        while self._idle:
            conn = self._idle.pop()
            if not conn.reader.at_eof() and not conn.writer.is_closing():
                return conn, True
            conn.close()
        reader, writer = await asyncio.open_unix_connection(self.sock, limit=1024 * 1024)
        return _Connection(reader, writer), False

    def release(self, conn: _Connection) -> None:
        if len(self._idle) < _MAX_IDLE:
            self._idle.append(conn)
        else:
            conn.close()

    async def stop(self, *, hung: bool = False) -> None:
        """Stop the worker: SIGTERM, then SIGKILL after 3 s; at once with SIGKILL if ``hung``
        (a blocked event loop would not act on SIGTERM before the handler returns)."""
        for conn in self._idle:
            conn.close()
        self._idle.clear()
        if self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.process.pid, signal.SIGKILL if hung else signal.SIGTERM)
            try:
                await asyncio.wait_for(self.process.wait(), 3)
            except asyncio.TimeoutError:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self.process.wait(), 3)
        with contextlib.suppress(OSError):
            os.unlink(self.sock)


_MAX_IDLE = 64


class _StaleConnection(Exception):
    """A pooled keep-alive connection was closed before it answered: retry on a new one."""


async def _exchange(
    conn: _Connection, head: bytes, body: bytes, method: str
) -> tuple[int, list[tuple[bytes, bytes]], bytes, bool]:
    """Send one HTTP/1.1 request and read the response: status, headers, body, keep-alive."""
    conn.writer.write(head + body if len(body) < 65536 else head)
    if len(body) >= 65536:
        conn.writer.write(body)
    await conn.writer.drain()
    while True:
        try:
            raw = await conn.reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError as exc:
            if not exc.partial:
                raise _StaleConnection from None
            raise
        lines = raw[:-4].split(b"\r\n")
        parts = lines[0].split(b" ", 2)
        status = int(parts[1])
        if 100 <= status < 200 and status != 101:
            continue  # an interim response (e.g. 100 Continue): the real one follows
        break
    headers: list[tuple[bytes, bytes]] = []
    length = -1
    chunked = False
    keep_alive = lines[0].startswith(b"HTTP/1.1")
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        value = value.strip()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding":
            chunked = b"chunked" in value.lower()
        elif name == b"connection":
            keep_alive = b"close" not in value.lower() and (
                keep_alive or b"keep-alive" in value.lower()
            )
        headers.append((name, value))
    if method == "HEAD" or status in (204, 304):
        return status, headers, b"", keep_alive
    if chunked:
        pieces: list[bytes] = []
        while True:
            size_line = await conn.reader.readuntil(b"\r\n")
            size = int(size_line.split(b";", 1)[0].strip(), 16)
            if size == 0:
                await conn.reader.readuntil(b"\r\n")  # no trailers from uvicorn
                break
            pieces.append(await conn.reader.readexactly(size))
            await conn.reader.readexactly(2)
        return status, headers, b"".join(pieces), keep_alive
    if length >= 0:
        return status, headers, await conn.reader.readexactly(length), keep_alive
    return status, headers, await conn.reader.read(), False


def _tail(path: Path | None, limit: int = 4000) -> str:
    if path is None:
        return ""
    try:
        with open(path, "rb") as file:
            file.seek(0, os.SEEK_END)
            size = file.tell()
            file.seek(max(0, size - limit))
            return file.read().decode("utf-8", "replace").strip()
    except OSError:
        return ""


class WorkerPool:
    """Starts, reuses, replaces and stops workers."""

    def __init__(self, *, start_timeout: float = 30.0) -> None:
        self._dir = tempfile.mkdtemp(prefix="wxp-")  # short: socket paths max out at 107 bytes
        self._workers: dict[tuple[str, str], Worker] = {}
        self._locks: dict[tuple[str, str], asyncio.Lock] = {}
        self._counter = itertools.count(1)
        self._start_timeout = start_timeout
        self._watchdogs: dict[float, Watchdog] = {}  # one per time limit (functions share them)

    def _watchdog(self, limit: float) -> Watchdog:
        watchdog = self._watchdogs.get(limit)
        if watchdog is None:
            watchdog = self._watchdogs[limit] = Watchdog(limit)
        return watchdog

    def __len__(self) -> int:
        return len(self._workers)

    def running(self) -> list[tuple[str, str]]:
        return [key for key, worker in self._workers.items() if worker.alive]

    async def get(self, spec: WorkerSpec) -> Worker:
        worker = self._workers.get(spec.key)
        if worker is not None and worker.alive:
            return worker
        lock = self._locks.setdefault(spec.key, asyncio.Lock())
        async with lock:
            worker = self._workers.get(spec.key)
            if worker is not None and worker.alive:
                return worker
            if worker is not None:
                await self._discard(worker)
            worker = await self._start(spec)
            self._workers[spec.key] = worker
            return worker

    async def _start(self, spec: WorkerSpec) -> Worker:
        sock = os.path.join(self._dir, f"w{next(self._counter)}.sock")
        with contextlib.suppress(OSError):
            os.unlink(sock)
        args = [
            sys.executable,
            "-m",
            "wixhttp.platform.worker",
            "--site",
            str(spec.entry),
            "--uds",
            sock,
            "--timeout",
            f"{spec.timeout:g}",
            "--parent-pid",
            str(os.getpid()),
        ]
        output: int | None = asyncio.subprocess.DEVNULL
        log_file = None
        if spec.log_path is not None:
            spec.log_path.parent.mkdir(parents=True, exist_ok=True)
            log_file = open(spec.log_path, "ab")  # noqa: SIM115 - handed to the child
            output = log_file.fileno()
        try:
            process = await asyncio.create_subprocess_exec(
                *args,
                cwd=str(spec.entry.parent),
                env=dict(spec.env),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=output,
                stderr=output,
                start_new_session=True,
            )
        finally:
            if log_file is not None:
                log_file.close()
        worker = Worker(spec, sock, process)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._start_timeout
        while True:
            if process.returncode is not None:
                await worker.stop()
                detail = _tail(spec.log_path)
                raise WorkerStartFailed(
                    f"the function's worker exited while starting (exit code "
                    f"{process.returncode})" + (f": {detail}" if detail else "")
                )
            if os.path.exists(sock):
                try:
                    _reader, writer = await asyncio.open_unix_connection(sock)
                except OSError:
                    pass
                else:
                    writer.close()
                    with contextlib.suppress(OSError):
                        await writer.wait_closed()
                    log.info(
                        "worker for %s/%s started (pid %s)",
                        spec.function_id,
                        spec.deployment_id,
                        process.pid,
                    )
                    return worker
            if loop.time() > deadline:
                await worker.stop()
                raise WorkerStartFailed(
                    f"the function's worker did not start within {self._start_timeout:g} s"
                )
            await asyncio.sleep(0.01)

    async def _discard(self, worker: Worker, *, hung: bool = False) -> None:
        if self._workers.get(worker.spec.key) is worker:
            del self._workers[worker.spec.key]
        await worker.stop(hung=hung)

    async def forward(
        self,
        spec: WorkerSpec,
        method: str,
        target: bytes,
        headers: Iterable[tuple[bytes, bytes]],
        body: bytes,
    ) -> ProxyResponse:
        """Send one request to the worker for ``spec`` (starting it if needed)."""
        worker = await self.get(spec)
        lines = [f"{method} ".encode("latin-1") + target + b" HTTP/1.1"]
        host = b"worker"
        for name, value in headers:
            lower = name.lower()
            if lower == b"host":
                host = value  # the handler sees the URL the caller used
            elif lower not in _HOP_BY_HOP and lower not in (b"content-length", b"expect"):
                lines.append(name + b": " + value)
        lines.append(b"host: " + host)
        if body or method not in ("GET", "HEAD", "DELETE", "OPTIONS"):
            lines.append(b"content-length: " + str(len(body)).encode())
        head = b"\r\n".join(lines) + b"\r\n\r\n"
        # The handler timeout is enforced by the worker itself (it answers 504); this is the
        # backstop for code that blocks the worker's event loop.
        limit = spec.timeout + HANG_GRACE
        holder: list[_Connection] = []

        async def exchange() -> tuple[int, list[tuple[bytes, bytes]], bytes, bool]:
            for attempt in (1, 2):
                conn, reused = await worker.connection()
                holder[:] = [conn]
                try:
                    return await _exchange(conn, head, body, method)
                except _StaleConnection:
                    conn.close()
                    if not (reused and attempt == 1):
                        raise ConnectionResetError("the worker closed the connection") from None
            raise AssertionError("unreachable")  # pragma: no cover

        try:
            status, out, content, keep_alive = await self._watchdog(limit).run(exchange())
        except DeadlineExceeded:
            for conn in holder:
                conn.close()
            log.warning(
                "worker for %s/%s did not answer within %g s; restarting it",
                spec.function_id,
                spec.deployment_id,
                limit,
            )
            await self._discard(worker, hung=True)
            raise WorkerTimeout(
                f"the function did not answer within {limit:g} s; its worker was restarted"
            ) from None
        except (OSError, asyncio.IncompleteReadError, ValueError, IndexError) as exc:
            for conn in holder:
                conn.close()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(worker.process.wait(), 1.0)
            code = worker.process.returncode
            await self._discard(worker)
            if code is not None:
                log.warning(
                    "worker for %s/%s crashed (exit code %s)",
                    spec.function_id,
                    spec.deployment_id,
                    code,
                )
                raise WorkerCrashed(
                    f"the function's worker crashed (exit code {code}) while handling the "
                    "request; it is restarted on the next request"
                ) from None
            raise WorkerCrashed(
                f"the function's worker failed: {type(exc).__name__}; it was restarted"
            ) from None
        if keep_alive:
            worker.release(holder[0])
        else:
            holder[0].close()
        return ProxyResponse(status, [(k, v) for k, v in out if k not in _HOP_BY_HOP], content)

    async def retire(self, function_id: str, keep: Iterable[str] = ()) -> None:
        """Stop ``function_id``'s workers except those serving a deployment in ``keep``."""
        keep_ids = set(keep)
        for key, worker in list(self._workers.items()):
            if key[0] == function_id and key[1] not in keep_ids:
                await self._discard(worker)

    async def close(self) -> None:
        workers = list(self._workers.values())
        self._workers.clear()
        await asyncio.gather(*(w.stop() for w in workers), return_exceptions=True)
        shutil.rmtree(self._dir, ignore_errors=True)
