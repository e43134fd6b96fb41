"""Executions: synchronous, asynchronous, scheduled and cron; recorded with their logs.

An execution is one HTTP request into a function's active deployment, sent to its worker
exactly as a call to ``/functions/{id}/_functions/...`` would be: ``path`` (with its query),
``method``, ``headers`` and ``body``, plus the headers Appwrite injects
(``x-appwrite-execution-id``, ``x-appwrite-trigger``, ``x-appwrite-client-ip``, ...). The
worker captures what the handler prints or logs (see :mod:`wixhttp.platform.capture`).

* **Synchronous**: run at once; the caller waits at most ``sync_timeout`` (30 s), then gets
  408 ``function_synchronous_timeout`` and the execution is recorded as failed.
* **Asynchronous**: persisted as ``waiting`` before the 202, run by a pool of
  ``workers`` asyncio tasks (``processing`` is persisted before the handler is called, so an
  execution is never run twice), each bounded by the function's ``timeout`` (the worker
  enforces it).
* **Scheduled** (``scheduledAt``): persisted as ``scheduled``; an in-memory timer queue fires it
  at its time (checked at least once a second); deleting it cancels it.
* **Cron** (the function's ``schedule``, evaluated by croniter in UTC; a sixth field is
  seconds): one execution per tick while the function is enabled and has an active deployment.
  The request is ``POST /_functions/schedule`` (a ``post_schedule`` or ``use_schedule``
  handler), or the path in the function variable ``WIXHTTP_SCHEDULE_PATH``. The last tick
  fired is persisted per function in the same transaction as its execution, so a tick never
  fires twice. Ticks missed while the platform was down are not replayed: on start-up the next
  tick is computed from the current time (and after the last one fired); if the scheduler
  falls behind, it also skips to the next tick in the future rather than firing a burst.

Writes go through :class:`BatchWriter`: it coalesces writes per execution and applies them in
one transaction per batch. Writes that must be durable before the platform answers (a new
``waiting``/``scheduled`` execution, the move to ``processing``) are awaited and flushed at
once, so concurrent ones share a commit; the others (finished executions, records of direct
HTTP calls) are flushed after at most ``write_delay`` seconds, off the request path. Reads
wait for pending writes of what they read, so a client always sees its own execution.

Start-up (:meth:`Executions.start`): ``processing`` executions are marked failed (the platform
stopped while they ran); ``waiting`` ones are queued again; ``scheduled`` ones are
rescheduled, and run at once if overdue.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import json
import logging
import math
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote, urlsplit

from croniter import croniter

from wixhttp.platform.capture import (
    CAPTURE_HEADER,
    DURATION_HEADER,
    ERRORS_HEADER,
    FETCH_LOGS_HEADER,
    LOGS_HEADER,
    LOGS_PATH,
    LOGS_REF_HEADER,
    tail,
)
from wixhttp.platform.errors import AppwriteError
from wixhttp.platform.runtimes import ProxyResponse, WorkerError, WorkerSpec
from wixhttp.platform.store import new_id, now
from wixhttp.platform.writer import BatchWriter

if TYPE_CHECKING:
    from wixhttp.platform.service import FunctionRoutes, Platform

__all__ = [
    "Call",
    "ExecutionConfig",
    "Executions",
    "Outcome",
    "RateLimiter",
    "iso",
    "parse_response",
    "parse_time",
    "scheduled_time",
]

log = logging.getLogger("wixhttp.platform")
Row = dict[str, Any]
Headers = list[tuple[bytes, bytes]]

#: Request headers an execution record keeps (Appwrite's allow-list).
REQUEST_HEADERS_KEPT = frozenset(
    {"content-type", "agent", "content-length", "host", "x-appwrite-client-ip"}
)
#: Response headers a stored execution keeps (the reply to a synchronous create has them all).
RESPONSE_HEADERS_KEPT = frozenset({"content-type", "content-length"})
#: Headers the platform sets on every request into a function; a caller's copies are dropped.
INJECTED_HEADERS = (
    "x-appwrite-execution-id",
    "x-appwrite-trigger",
    "x-appwrite-user-id",
    "x-appwrite-user-jwt",
    "x-appwrite-country-code",
    "x-appwrite-continent-code",
    "x-appwrite-continent-eu",
    "x-appwrite-client-ip",
)
INJECTED_HEADER_BYTES = frozenset(name.encode() for name in INJECTED_HEADERS)
INTERRUPTED = "The platform stopped while this execution was running; it was not retried."
SCHEDULE_PATH_VARIABLE = "WIXHTTP_SCHEDULE_PATH"
DEFAULT_SCHEDULE_PATH = "/_functions/schedule"


@dataclass(frozen=True)
class ExecutionConfig:
    workers: int = 8  # asyncio tasks running asynchronous and scheduled executions
    sync_timeout: float = 30.0  # seconds a synchronous execution may take (then 408)
    min_schedule_lead: float = 60.0  # scheduledAt must be more than this far ahead
    rate_limit: int = 60  # creations per minute per client IP without an API key; 0: none
    write_delay: float = 0.02  # seconds non-urgent writes wait to join a batch
    max_pending_records: int = 100_000  # direct-HTTP records beyond this backlog are dropped
    retention: float = 1_209_600.0  # seconds finished executions are kept; 0: forever


def iso(timestamp: float) -> str:
    """An epoch time the way Appwrite writes times: ``2025-01-01T00:00:00.000+00:00``."""
    return datetime.fromtimestamp(timestamp, timezone.utc).isoformat(timespec="milliseconds")


def parse_time(text: str | None) -> datetime | None:
    """An ISO 8601 date-time (``Z`` or an offset; none means UTC), or None if it is not one."""
    if not text or not isinstance(text, str):
        return None
    value = text.strip()
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed


# -- rate limit ----------------------------------------------------------------------------------


class RateLimiter:
    """Fixed one-minute windows (aligned to the clock, like Appwrite's abuse limits)."""

    def __init__(
        self, limit: int, window: float = 60.0, clock: Callable[[], float] = time.time
    ) -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self._start = 0.0
        self._counts: dict[str, int] = {}

    def hit(self, key: str) -> tuple[bool, dict[str, str]]:
        """Count one request from ``key``: whether it is allowed, and the X-RateLimit-*."""
        start = math.floor(self._clock() / self.window) * self.window
        if start != self._start:
            self._start = start
            self._counts.clear()
        count = self._counts.get(key, 0) + 1
        self._counts[key] = count
        headers = {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(max(0, self.limit - count)),
            "X-RateLimit-Reset": str(int(start + self.window)),
        }
        return count <= self.limit, headers


# -- requests into functions ---------------------------------------------------------------------


@dataclass
class Call:
    """What an execution asks the function: the caller's request, as validated."""

    method: str = "POST"
    path: str = "/"  # path and query, as given
    headers: Mapping[str, str] = field(default_factory=dict)
    body: str = ""
    client_ip: str = ""
    host: str = ""
    scheme: str = "http"


@dataclass(eq=False)
class Job:
    """An execution waiting to run (asynchronous, scheduled or cron)."""

    id: str
    function_id: str
    method: str
    target: bytes
    headers: Headers
    body: bytes
    cancelled: bool = False
    queued: bool = False
    started: bool = False  # "processing" is on disk: the handler may have run
    stored: bool = False  # headers and body are left in the database until it is due


@dataclass
class Outcome:
    """What the worker answered (``x-wixhttp-*`` headers taken out), or why it could not."""

    status: int
    headers: Headers
    body: bytes
    logs: str = ""
    errors: str = ""
    duration: float = 0.0


def request_target(path: str) -> bytes:
    """The HTTP request target for an execution's ``path`` (fragment dropped, unsafe
    characters percent-encoded, a leading ``/`` added if missing)."""
    path = path.split("#", 1)[0]
    if not path.startswith("/"):
        path = "/" + path
    return quote(path, safe="/?&=%:@!$'()*+,;~[]").encode("ascii")


def injected_headers(execution_id: str, trigger: str, client_ip: str) -> list[tuple[str, str]]:
    """The headers Appwrite adds to a function's request. There are no users or sessions
    here, so the user id and JWT are empty; there is no GeoIP database, so neither are the
    country and continent known. No ``x-appwrite-key`` is minted (no dynamic keys)."""
    return [
        ("x-appwrite-execution-id", execution_id),
        ("x-appwrite-trigger", trigger),
        ("x-appwrite-user-id", ""),
        ("x-appwrite-user-jwt", ""),
        ("x-appwrite-country-code", ""),
        ("x-appwrite-continent-code", ""),
        ("x-appwrite-continent-eu", "false"),
        ("x-appwrite-client-ip", client_ip),
    ]


def kept_headers(pairs: Iterable[tuple[str, str]], allowed: frozenset[str]) -> list[dict[str, str]]:
    return [{"name": name, "value": value} for name, value in pairs if name.lower() in allowed]


def _decode_pairs(headers: Headers) -> list[tuple[str, str]]:
    return [(k.decode("latin-1"), v.decode("utf-8", "replace")) for k, v in headers]


def _append(first: str, second: str) -> str:
    return f"{first}\n{second}" if first and second else first or second


# -- the service ---------------------------------------------------------------------------------


@dataclass
class _Cron:
    expression: str
    next: float


def _next_tick(expression: str, after: float) -> float:
    start = datetime.fromtimestamp(after, timezone.utc)
    return float(croniter(expression, start).get_next(float))


class Executions:
    """Runs, queues, schedules and records executions (one per platform)."""

    def __init__(self, platform: Platform, config: ExecutionConfig) -> None:
        self.platform = platform
        self.config = config
        self.store = platform.store
        self.project_id = platform.project_id
        self.writer = BatchWriter(
            platform.store, delay=config.write_delay, max_pending=config.max_pending_records
        )
        self.rate_limiter = RateLimiter(config.rate_limit)
        self.clock: Callable[[], float] = time.time
        self._queue: asyncio.Queue[Job] = asyncio.Queue()
        self._jobs: dict[str, Job] = {}  # not started yet: waiting or scheduled
        self._running: set[str] = set()
        self._heap: list[tuple[float, str]] = []
        self._cron: dict[str, _Cron] = {}
        self._last_ticks: dict[str, float] = {}
        self._dirty: set[str] = set()
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._background: set[asyncio.Task[Any]] = set()

    # -- lifecycle -------------------------------------------------------------------------------

    async def start(self) -> None:
        self.writer.start()
        await self._recover()
        self._last_ticks = await self.store.last_cron_ticks(self.project_id)
        for function in await self.store.all_functions():
            if function["project_id"] == self.project_id and function["schedule"]:
                self._dirty.add(function["id"])
        for index in range(max(1, self.config.workers)):
            self._tasks.append(
                asyncio.create_task(self._work(), name=f"wixhttp-execution-worker-{index}")
            )
        self._tasks.append(asyncio.create_task(self._scheduler(), name="wixhttp-scheduler"))
        if self.config.retention > 0:
            self._tasks.append(asyncio.create_task(self._expire(), name="wixhttp-retention"))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        for task in list(self._background):
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)
        await self.writer.stop()

    async def _recover(self) -> None:
        stamp = now()
        failed = queued = scheduled = 0
        for row in await self.store.unfinished_executions(self.project_id):
            if row["status"] == "processing" or row["pending_headers"] is None:
                self.writer.update(
                    row["id"],
                    {
                        "status": "failed",
                        "errors": tail(_append(row["errors"], INTERRUPTED), errors=True),
                        "response_status_code": row["response_status_code"] or 500,
                        "pending_headers": None,
                        "pending_body": None,
                        "updated_at": stamp,
                    },
                )
                failed += 1
                continue
            job = Job(
                id=row["id"],
                function_id=row["function_id"],
                method=row["request_method"],
                target=request_target(row["request_path"]),
                headers=[],
                body=b"",
                stored=True,
            )
            if row["status"] == "waiting":
                self._load(job, row["pending_headers"], row["pending_body"] or "")
                self._jobs[job.id] = job
                self._queue.put_nowait(job)
                queued += 1
            else:
                due = parse_time(row["scheduled_at"])
                self._add_scheduled(job, due.timestamp() if due else self.clock())
                scheduled += 1
        await self.writer.flush()
        if failed or queued or scheduled:
            log.info(
                "executions after restart: %d interrupted (failed), %d queued again, %d scheduled",
                failed,
                queued,
                scheduled,
            )

    # -- creating executions ---------------------------------------------------------------------

    def _new(
        self,
        routes: FunctionRoutes,
        call: Call,
        *,
        trigger: str,
        status: str,
        scheduled_at: str | None = None,
        pending: bool = False,
    ) -> tuple[Row, Job]:
        function_id = str(routes.function["id"])
        spec = routes.production
        execution_id = new_id()
        injected = injected_headers(execution_id, trigger, call.client_ip)
        host = call.host
        sent: list[tuple[str, str]] = []
        for name, value in call.headers.items():
            lower = name.lower()
            if lower == "host":
                host = value
            elif not lower.startswith(("x-forwarded-", "x-wixhttp-", "x-appwrite-")):
                sent.append((lower, value))
        sent.extend(injected)
        if call.client_ip:
            sent.append(("x-forwarded-for", call.client_ip))
        sent.append(("x-forwarded-proto", call.scheme))
        sent.append(("x-forwarded-prefix", f"/functions/{function_id}"))
        sent.append(("host", host or "localhost"))
        stamp = now()
        row: Row = {
            "id": execution_id,
            "project_id": self.project_id,
            "function_id": function_id,
            "deployment_id": spec.deployment_id if spec is not None else "",
            "created_at": stamp,
            "updated_at": stamp,
            "trigger": trigger,
            "status": status,
            "request_method": call.method,
            "request_path": call.path,
            "request_headers": kept_headers(
                [*call.headers.items(), *injected], REQUEST_HEADERS_KEPT
            ),
            "response_status_code": 0,
            "response_headers": [],
            "logs": "",
            "errors": "",
            "duration": 0.0,
            "scheduled_at": scheduled_at,
            "pending_headers": [list(pair) for pair in sent] if pending else None,
            "pending_body": call.body if pending else None,
        }
        job = Job(
            id=execution_id,
            function_id=function_id,
            method=call.method,
            target=request_target(call.path),
            headers=[],
            body=b"",
        )
        self._load(job, sent, call.body)
        return row, job

    @staticmethod
    def _load(job: Job, headers: Iterable[Sequence[str]], body: str) -> None:
        """Give ``job`` its request as stored (text pairs and text), encoded for the wire."""
        job.headers = [(k.encode("latin-1"), v.encode("utf-8")) for k, v in headers]
        job.body = body.encode("utf-8")
        job.stored = False

    async def run_sync(self, routes: FunctionRoutes, call: Call) -> tuple[Row, Outcome]:
        """Run now; the caller waits at most ``sync_timeout`` (then 408, recorded as failed)."""
        spec = routes.production
        assert spec is not None
        row, job = self._new(routes, call, trigger="http", status="processing")
        logging_on = bool(routes.function["logging"])
        started = time.perf_counter()
        task = asyncio.ensure_future(self.call(spec, job, logging_on))
        done, _ = await asyncio.wait({task}, timeout=self.config.sync_timeout)
        if not done:
            limit = f"{self.config.sync_timeout:g}"
            message = (
                f"Synchronous function execution timed out after {limit} seconds: the caller "
                "got 408. Use an asynchronous execution (async: true) for longer runs."
            )
            row.update(
                status="failed",
                response_status_code=500,
                errors=message,
                duration=time.perf_counter() - started,
                updated_at=now(),
            )
            self.writer.insert(row)
            self._background.add(task)
            task.add_done_callback(self._background.discard)
            task.add_done_callback(lambda t: self._late(row["id"], t, message))
            raise AppwriteError(
                408,
                "function_synchronous_timeout",
                "Synchronous function execution timed out. Use asynchronous execution instead, "
                f"or ensure the execution duration doesn't exceed {limit} seconds.",
            )
        outcome = task.result()
        row.update(self._finished(outcome))
        self.writer.insert(row)
        return row, outcome

    def _late(self, execution_id: str, task: asyncio.Future[Outcome], message: str) -> None:
        """A synchronous execution the caller stopped waiting for has finished: keep its logs."""
        if task.cancelled() or task.exception() is not None:
            return
        outcome = task.result()
        self.writer.update(
            execution_id,
            {
                "logs": outcome.logs,
                "errors": tail(_append(message, outcome.errors), errors=True),
                "updated_at": now(),
            },
        )

    async def _persist(self, row: Row) -> None:
        """Insert a new execution and wait until it is on disk; if the database fails, the
        caller gets the error and the execution is not written later behind its back."""
        try:
            await self.writer.flush(self.writer.insert(row))
        except Exception:
            self.writer.forget(str(row["id"]))
            raise

    async def enqueue(self, routes: FunctionRoutes, call: Call) -> Row:
        """Persist a ``waiting`` execution, then queue it."""
        row, job = self._new(routes, call, trigger="http", status="waiting", pending=True)
        await self._persist(row)
        self._jobs[job.id] = job
        self._queue.put_nowait(job)
        return row

    async def schedule(self, routes: FunctionRoutes, call: Call, due: float) -> Row:
        """Persist a ``scheduled`` execution, then set its timer."""
        row, job = self._new(
            routes,
            call,
            trigger="schedule",
            status="scheduled",
            scheduled_at=iso(due),
            pending=True,
        )
        await self._persist(row)
        # Scheduled far ahead, a request's headers and body (up to 10 MiB) wait on disk, not
        # in memory: the job reads them back when it comes due.
        job.headers, job.body, job.stored = [], b"", True
        self._add_scheduled(job, due)
        return row

    def _add_scheduled(self, job: Job, due: float) -> None:
        self._jobs[job.id] = job
        heapq.heappush(self._heap, (due, job.id))
        self._wake.set()

    def cancel(self, execution_id: str) -> bool:
        """Cancel an execution that has not started (scheduled or waiting)."""
        job = self._jobs.pop(execution_id, None)
        if job is None:
            return False
        job.cancelled = True
        return True

    def running(self, execution_id: str) -> bool:
        return execution_id in self._running

    # -- running ---------------------------------------------------------------------------------

    async def call(self, spec: WorkerSpec, job: Job, capture: bool) -> Outcome:
        """Send ``job``'s request to the worker; the handler's logs come back if ``capture``."""
        headers = job.headers
        if capture:
            headers = [*headers, (CAPTURE_HEADER, job.id.encode("latin-1"))]
        started = time.perf_counter()
        try:
            result = await self.platform.workers.forward(
                spec, job.method, job.target, headers, job.body
            )
        except WorkerError as exc:
            return Outcome(500, [], b"", "", str(exc), time.perf_counter() - started)
        outcome, ref = parse_response(result, started)
        if not capture:  # nothing was captured: log headers could only be the handler's own
            outcome.logs = outcome.errors = ""
        elif ref:
            await self._fetch_logs(spec, ref, outcome)
        return outcome

    async def _fetch_logs(self, spec: WorkerSpec, ref: str, outcome: Outcome) -> None:
        """Logs too large for headers wait in the worker: fetch them (once)."""
        try:
            response = await self.platform.workers.forward(
                spec,
                "GET",
                (LOGS_PATH + quote(ref, safe="")).encode("ascii"),
                [(FETCH_LOGS_HEADER, b"1")],
                b"",
            )
            data = json.loads(response.body) if response.status == 200 else {}
        except (WorkerError, ValueError) as exc:
            data = {"errors": f"(the execution's logs could not be fetched: {exc})"}
        outcome.logs = tail(str(data.get("logs", "")))
        outcome.errors = tail(str(data.get("errors", "")), errors=True)

    def _finished(self, outcome: Outcome) -> Row:
        return {
            "status": "failed" if outcome.status >= 500 else "completed",
            "response_status_code": outcome.status,
            "response_headers": kept_headers(_decode_pairs(outcome.headers), RESPONSE_HEADERS_KEPT),
            "logs": outcome.logs,
            "errors": outcome.errors,
            "duration": round(outcome.duration, 6),
            "updated_at": now(),
            "pending_headers": None,
            "pending_body": None,
        }

    async def _work(self) -> None:
        while True:
            job = await self._queue.get()
            if job.cancelled:
                continue
            self._jobs.pop(job.id, None)
            self._running.add(job.id)
            try:
                await self._run(job)
            except asyncio.CancelledError:  # the platform is stopping
                if job.started:
                    self.writer.update(
                        job.id,
                        {
                            "status": "failed",
                            "response_status_code": 500,
                            "errors": INTERRUPTED,
                            "updated_at": now(),
                        },
                    )
                elif not job.stored:  # it never reached the worker: it runs after a restart
                    self.writer.update(
                        job.id,
                        {
                            "status": "waiting",
                            "pending_headers": [
                                [k.decode("latin-1"), v.decode("utf-8")] for k, v in job.headers
                            ],
                            "pending_body": job.body.decode("utf-8"),
                        },
                    )
                raise
            except Exception as exc:
                log.exception("execution %s failed inside the platform", job.id)
                self.writer.update(
                    job.id,
                    {
                        "status": "failed",
                        "response_status_code": 500,
                        "errors": f"The platform failed to run this execution: {exc!r}",
                        "updated_at": now(),
                    },
                )
            finally:
                self._running.discard(job.id)

    async def _run(self, job: Job) -> None:
        if job.stored:
            pending = await self.store.pending_request(self.project_id, job.id)
            if pending is None:
                return  # deleted meanwhile
            self._load(job, *pending)
        routes = await self.platform.function_routes(job.function_id)
        if routes is None:
            return  # the function was deleted, and its executions with it
        spec = routes.production
        if spec is None:
            self.writer.update(
                job.id,
                {
                    "status": "failed",
                    "response_status_code": 500,
                    "errors": "Deployment not found: the function has no active deployment "
                    "any more.",
                    "updated_at": now(),
                    "pending_headers": None,
                    "pending_body": None,
                },
            )
            return
        await self.writer.flush(
            self.writer.update(
                job.id,
                {
                    "status": "processing",
                    "deployment_id": spec.deployment_id,
                    "updated_at": now(),
                    "pending_headers": None,
                    "pending_body": None,
                },
            )
        )
        job.started = True
        outcome = await self.call(spec, job, bool(routes.function["logging"]))
        self.writer.update(job.id, self._finished(outcome))

    # -- direct HTTP calls -----------------------------------------------------------------------

    def record_http(
        self,
        spec: WorkerSpec,
        execution_id: str,
        created_at: str,
        method: str,
        target: bytes,
        request_headers: Headers,
        client_ip: str,
        result: ProxyResponse | WorkerError,
        started: float,
    ) -> None:
        """Record a call through ``/functions/{id}/_functions...`` (trigger ``http``), off the
        request path: a batched insert, after fetching large logs in the background."""
        if isinstance(result, WorkerError):
            outcome = Outcome(500, [], b"", "", str(result), time.perf_counter() - started)
            ref = None
        else:
            outcome, ref = parse_response(result, started)
        caller_headers = [(k, v) for k, v in request_headers if k not in INJECTED_HEADER_BYTES]
        kept = kept_headers(
            [*_decode_pairs(caller_headers), ("x-appwrite-client-ip", client_ip)],
            REQUEST_HEADERS_KEPT,
        )
        row: Row = {
            "id": execution_id,
            "project_id": self.project_id,
            "function_id": spec.function_id,
            "deployment_id": spec.deployment_id,
            "created_at": created_at,
            "trigger": "http",
            "request_method": method,
            "request_path": target.decode("latin-1"),
            "request_headers": kept,
            "scheduled_at": None,
        }
        if ref is None:
            row.update(self._finished(outcome))
            self.writer.record(row)
            return

        async def fetch_then_record() -> None:
            await self._fetch_logs(spec, ref, outcome)
            row.update(self._finished(outcome))
            self.writer.record(row)

        task = asyncio.ensure_future(fetch_then_record())
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    # -- retention -------------------------------------------------------------------------------

    async def _expire(self) -> None:
        """Delete finished executions older than ``retention``, checked every tenth of it (at
        most hourly), as Appwrite's maintenance does."""
        every = min(3600.0, self.config.retention / 10)
        while True:
            try:
                removed = await self.store.delete_executions_before(
                    self.project_id, iso(self.clock() - self.config.retention)
                )
                if removed:
                    log.info("retention: deleted %d finished execution(s)", removed)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("deleting old executions failed; trying again later")
            await asyncio.sleep(every)

    # -- the scheduler ---------------------------------------------------------------------------

    def function_changed(self, function_id: str) -> None:
        """A function changed (or was created or deleted): re-read its cron schedule."""
        self._dirty.add(function_id)
        self._wake.set()

    async def _scheduler(self) -> None:
        while True:
            self._wake.clear()
            try:
                await self._tick()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("the execution scheduler failed; retrying in a second")
            delay = 1.0
            if self._heap:
                delay = min(delay, self._heap[0][0] - self.clock())
            for cron in self._cron.values():
                delay = min(delay, cron.next - self.clock())
            if delay > 0:
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), delay)

    async def _tick(self) -> None:
        current = self.clock()
        while self._heap and self._heap[0][0] <= current:
            _due, execution_id = heapq.heappop(self._heap)
            job = self._jobs.get(execution_id)
            if job is None or job.cancelled or job.queued:
                continue
            job.queued = True
            self._queue.put_nowait(job)
        dirty, self._dirty = self._dirty, set()
        for function_id in dirty:
            try:
                await self._reload(function_id, current)
            except asyncio.CancelledError:
                self._dirty.add(function_id)
                raise
            except Exception:
                log.exception("function %s: reading its schedule failed; retrying", function_id)
                self._dirty.add(function_id)
        for function_id, cron in list(self._cron.items()):
            if cron.next <= current:
                tick = cron.next
                # The next tick after now: a scheduler that fell behind does not fire a burst.
                cron.next = _next_tick(cron.expression, max(tick, current))
                await self._fire(function_id, tick)

    async def _reload(self, function_id: str, current: float) -> None:
        function = await self.store.get_function(self.project_id, function_id)
        expression = str(function["schedule"]) if function is not None else ""
        known = self._cron.get(function_id)
        if not expression:
            self._cron.pop(function_id, None)
            if function is None:
                self._last_ticks.pop(function_id, None)
            return
        if known is not None and known.expression == expression:
            return
        try:
            start = max(current, self._last_ticks.get(function_id, 0.0))
            self._cron[function_id] = _Cron(expression, _next_tick(expression, start))
        except (ValueError, KeyError) as exc:
            log.warning("function %s: cannot schedule %r: %s", function_id, expression, exc)
            self._cron.pop(function_id, None)

    async def _fire(self, function_id: str, tick: float) -> None:
        routes = await self.platform.function_routes(function_id)
        if routes is None or not routes.function["enabled"] or routes.production is None:
            return
        path = routes.production.env.get(SCHEDULE_PATH_VARIABLE) or DEFAULT_SCHEDULE_PATH
        call = Call(method="POST", path=path, host=urlsplit(self.platform.config.endpoint).netloc)
        row, job = self._new(
            routes, call, trigger="schedule", status="waiting", scheduled_at=iso(tick), pending=True
        )
        fired = await self.store.create_cron_execution(self.project_id, function_id, tick, row)
        self._last_ticks[function_id] = max(tick, self._last_ticks.get(function_id, 0.0))
        if fired:
            self._jobs[job.id] = job
            self._queue.put_nowait(job)


def parse_response(result: ProxyResponse, started: float) -> tuple[Outcome, str | None]:
    """Split a worker's response into the handler's response and the captured logs (or the
    reference to fetch them with)."""
    headers: Headers = []
    logs = errors = ""
    ref: str | None = None
    duration: float | None = None
    for name, value in result.headers:
        if not name.startswith(b"x-wixhttp-"):
            headers.append((name, value))
        elif name == LOGS_HEADER:
            logs = unquote(value.decode("latin-1"))
        elif name == ERRORS_HEADER:
            errors = unquote(value.decode("latin-1"))
        elif name == LOGS_REF_HEADER:
            ref = unquote(value.decode("latin-1"))
        elif name == DURATION_HEADER:
            with contextlib.suppress(ValueError):
                duration = float(value)
    if duration is None:
        duration = time.perf_counter() - started
    return Outcome(result.status, headers, result.body, logs, errors, duration), ref


def scheduled_time(text: str, min_lead: float, clock: Callable[[], float] = time.time) -> float:
    """Validate ``scheduledAt``: a date-time more than ``min_lead`` seconds ahead, with minute
    precision when the lead is a minute or more (Appwrite's rule); returns its epoch time."""
    parsed = parse_time(text)
    if parsed is not None:
        due = parsed.timestamp()
        precise = min_lead < 60 or (parsed.second == 0 and parsed.microsecond == 0)
        if precise and due - clock() > min_lead:
            return due
    lead = "1 minute" if min_lead == 60 else f"{min_lead:g} seconds"
    raise AppwriteError(
        400,
        "general_bad_request",
        f"Execution schedule must be a valid date, and at least {lead} from now",
    )
