"""Worker processes, one per (function, deployment), and the policy for talking to them.

A worker is ``python -m wixhttp.platform.worker`` serving one deployment's code with the core
app over a Unix socket. It is started on first use and kept warm. User code never runs in the
platform process: a handler that calls ``os._exit`` or loops forever takes down only its own
worker, which is replaced on the next request. The HTTP client itself is
:mod:`wixhttp.platform.worker_client`.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import secrets
import shutil
import sys
import tempfile
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from wixhttp.deadlines import DeadlineExceeded, Watchdog
from wixhttp.platform import sandbox
from wixhttp.platform.config import MAX_FORWARDED_BODY
from wixhttp.platform.spawn import SECRET_ENV, SECRET_HEADER, kill_group, tail, worker_env
from wixhttp.platform.worker_client import (
    ProxyResponse,
    StreamedResponse,
    WorkerClient,
    request_head,
)

__all__ = [
    "HANG_GRACE",
    "ProxyResponse",
    "StreamedResponse",
    "Worker",
    "WorkerCrashed",
    "WorkerError",
    "WorkerPool",
    "WorkerSpec",
    "WorkerStartFailed",
    "WorkerTimeout",
    "kill_group",
    "worker_env",
]

log = logging.getLogger("wixhttp.platform")

#: Seconds past a function's timeout after which the platform gives up on a worker that has not
#: answered (its event loop is blocked): the request fails and the worker is replaced.
HANG_GRACE = 5.0

#: Errors reading or writing a worker's socket that mean it crashed or misbehaved.
_BROKEN = (OSError, asyncio.IncompleteReadError, ValueError, IndexError)


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


def _code_dir(spec: WorkerSpec) -> Path:
    """The deployment's code folder: the entrypoint's, less the entrypoint's own folders."""
    parts = Path(spec.env.get("OPEN_RUNTIMES_ENTRYPOINT", spec.entry.name)).parts
    if parts and spec.entry.parts[-len(parts) :] == parts:
        return spec.entry.parents[len(parts) - 1]
    return spec.entry.parent


class Worker:
    """One worker process and the client to its socket."""

    def __init__(
        self,
        spec: WorkerSpec,
        sock: str,
        process: asyncio.subprocess.Process,
        *,
        sandboxed: bool = False,
        secret: bytes = b"",
    ) -> None:
        self.spec = spec
        self.sock = sock
        self.process = process
        self.sandboxed = sandboxed
        self.client = WorkerClient(sock)
        #: Sent on every request (:data:`~wixhttp.platform.spawn.SECRET_HEADER`): the worker
        #: answers nobody else, whoever finds its socket.
        self.secret = secret

    @property
    def alive(self) -> bool:
        return self.process.returncode is None

    async def stop(self, *, hung: bool = False, grace: float = 3.0) -> None:
        """Stop the worker: SIGTERM (it finishes the requests it is serving), then SIGKILL
        after ``grace`` seconds; at once with SIGKILL if ``hung`` (a blocked event loop would
        not act on SIGTERM before the handler returns)."""
        self.client.close()
        if self.process.returncode is None:
            await kill_group(
                self.process, grace=0.0 if hung else grace, wait=3.0, spare_root=self.sandboxed
            )
        shutil.rmtree(os.path.dirname(self.sock), ignore_errors=True)


class WorkerPool:
    """Starts, reuses, replaces and stops workers."""

    def __init__(
        self, *, start_timeout: float = 30.0, max_body_size: int = MAX_FORWARDED_BODY
    ) -> None:
        self._dir = tempfile.mkdtemp(prefix="wxp-")  # short: socket paths max out at 107 bytes
        # Each worker's socket is in a folder of its own that only its user (and the platform)
        # may enter; a sandbox shows a worker its own folder only.
        os.chmod(self._dir, 0o711)
        self._workers: dict[tuple[str, str], Worker] = {}
        self._locks: dict[tuple[str, str], asyncio.Lock] = {}
        self._counter = itertools.count(1)
        self._draining: set[asyncio.Future[None]] = set()
        self._start_timeout = start_timeout
        self._max_body_size = max_body_size
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
        box = sandbox.current()
        folder = os.path.join(self._dir, f"w{next(self._counter)}")
        shutil.rmtree(folder, ignore_errors=True)
        os.mkdir(folder, 0o700)
        if box.active and os.geteuid() == 0:
            uid = sandbox.sandbox_uid(spec.function_id)
            os.chown(folder, uid, uid)
        sock = os.path.join(folder, "s.sock")
        secret = secrets.token_urlsafe(24).encode()
        process = await self._spawn(spec, sock, box, secret)
        worker = Worker(spec, sock, process, sandboxed=box.active, secret=secret)
        await self._wait_ready(worker)
        log.info(
            "worker for %s/%s started (pid %s)",
            spec.function_id,
            spec.deployment_id,
            worker.process.pid,
        )
        return worker

    async def _spawn(
        self, spec: WorkerSpec, sock: str, box: sandbox.Sandbox, secret: bytes
    ) -> asyncio.subprocess.Process:
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
            "--max-body-size",
            str(self._max_body_size),
        ]
        if not box.active:  # a sandboxed worker cannot see the platform: bwrap watches it
            args += ["--parent-pid", str(os.getpid())]
        code = _code_dir(spec)
        args = box.wrap(
            args, function_id=spec.function_id, code=code, writable=[os.path.dirname(sock)]
        )
        output: int | None = asyncio.subprocess.DEVNULL
        log_file = None
        if spec.log_path is not None:
            spec.log_path.parent.mkdir(parents=True, exist_ok=True)
            log_file = open(spec.log_path, "ab")  # noqa: SIM115 - handed to the child
            output = log_file.fileno()
        try:
            return await asyncio.create_subprocess_exec(
                *args,
                cwd=str(code),
                env={**spec.env, SECRET_ENV: secret.decode()},
                stdin=asyncio.subprocess.DEVNULL,
                stdout=output,
                stderr=output,
                start_new_session=True,
            )
        finally:
            if log_file is not None:
                log_file.close()

    async def _wait_ready(self, worker: Worker) -> None:
        """Wait until the worker accepts connections; stop it and raise if it exits or takes
        longer than the start timeout."""
        process, sock = worker.process, worker.sock
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._start_timeout
        while True:
            if process.returncode is not None:
                await worker.stop()
                detail = tail(worker.spec.log_path)
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
                    return
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
    ) -> StreamedResponse:
        """Send one request to the worker for ``spec`` (starting it if needed); the response's
        body is the caller's to stream. A worker that does not answer in time is killed
        (:class:`WorkerTimeout`), one that breaks the connection is replaced
        (:class:`WorkerCrashed`)."""
        worker = await self.get(spec)
        kept = [(k, v) for k, v in headers if k.lower() != SECRET_HEADER]
        kept.append((SECRET_HEADER, worker.secret))
        head = request_head(method, target, kept, body)
        # The handler timeout is enforced by the worker itself (it answers 504); this is the
        # backstop for code that blocks the worker's event loop.
        limit = spec.timeout + HANG_GRACE
        try:
            result: StreamedResponse = await self._watchdog(limit).run(
                worker.client.open(method, head, body)
            )
        except DeadlineExceeded:
            raise await self._timed_out(worker, limit) from None
        except _BROKEN as exc:
            raise await self._crashed(worker, exc) from None
        return result

    async def _timed_out(self, worker: Worker, limit: float) -> WorkerTimeout:
        spec = worker.spec
        log.warning(
            "worker for %s/%s did not answer within %g s; restarting it",
            spec.function_id,
            spec.deployment_id,
            limit,
        )
        await self._discard(worker, hung=True)
        return WorkerTimeout(
            f"the function did not answer within {limit:g} s; its worker was restarted"
        )

    async def _crashed(self, worker: Worker, exc: BaseException) -> WorkerCrashed:
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(worker.process.wait(), 1.0)
        code = worker.process.returncode
        await self._discard(worker)
        if code is None:
            return WorkerCrashed(
                f"the function's worker failed: {type(exc).__name__}; it was restarted"
            )
        log.warning(
            "worker for %s/%s crashed (exit code %s)",
            worker.spec.function_id,
            worker.spec.deployment_id,
            code,
        )
        return WorkerCrashed(
            f"the function's worker crashed (exit code {code}) while handling the "
            "request; it is restarted on the next request"
        )

    async def retire(self, function_id: str, keep: Iterable[str] = ()) -> None:
        """Retire ``function_id``'s workers except those serving a deployment in ``keep``."""
        keep_ids = set(keep)
        for key, worker in list(self._workers.items()):
            if key[0] == function_id and key[1] not in keep_ids:
                self._drain(worker)

    async def retire_stale(self, function_id: str, serving: Collection[WorkerSpec]) -> None:
        """Retire ``function_id``'s workers whose spec is not one of ``serving`` (another
        deployment, other variables or settings)."""
        for key, worker in list(self._workers.items()):
            if key[0] == function_id and worker.spec not in serving:
                self._drain(worker)

    def _drain(self, worker: Worker) -> None:
        """Take ``worker`` out of the pool at once (new requests start a fresh one) and stop it
        in the background once its requests in flight are done, within their timeout. The
        change that retires it is not held up by it: a function that changes its own variables
        through the API would otherwise wait on its own worker's stop, and be killed."""
        if self._workers.get(worker.spec.key) is worker:
            del self._workers[worker.spec.key]
        task = asyncio.ensure_future(worker.stop(grace=worker.spec.timeout + 5.0))
        self._draining.add(task)
        task.add_done_callback(self._draining.discard)

    async def close(self) -> None:
        workers = list(self._workers.values())
        self._workers.clear()
        stopping = [w.stop() for w in workers]
        await asyncio.gather(*stopping, *self._draining, return_exceptions=True)
        shutil.rmtree(self._dir, ignore_errors=True)
