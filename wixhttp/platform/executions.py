"""Executions: synchronous, asynchronous, scheduled and cron; recorded with their logs.

An execution is one HTTP request into a function's active deployment, sent to its worker as a
call to ``/functions/{id}/_functions/...`` would be (see :mod:`wixhttp.platform.calls`).

* **Synchronous**: run at once; the caller waits at most ``sync_timeout`` (30 s), then gets
  408 ``function_synchronous_timeout`` and the execution is recorded as failed.
  On a shared database its record is committed before the reply: any node reads it at once.
* **Asynchronous**: persisted as ``waiting`` before the 202; any node sharing the database
  claims it (:mod:`wixhttp.platform.runner`: the claim persists ``processing`` before the
  handler is called, so an execution is never run twice) and runs it in one of its ``workers``
  slots, bounded by the function's ``timeout`` (the worker enforces it).
* **Scheduled**: persisted as ``scheduled``, due at ``scheduledAt``, then claimed the same way;
  deleted from any node until claimed. **Cron** ticks: :mod:`wixhttp.platform.scheduler`
  inserts a ``waiting`` execution per tick.

What a stopped node left ``processing`` is :mod:`wixhttp.platform.recovery`'s.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from wixhttp.platform import errors
from wixhttp.platform.calls import (
    Call,
    Headers,
    Job,
    Outcome,
    Row,
    finished,
    http_execution,
    new_execution,
    parse_response,
    request_target,
)
from wixhttp.platform.capture import CAPTURE_HEADER, FETCH_LOGS_HEADER, LOGS_PATH, tail
from wixhttp.platform.config import ExecutionConfig
from wixhttp.platform.dynamic_keys import DynamicKeys
from wixhttp.platform.queries import ListRequest
from wixhttp.platform.recovery import INTERRUPTED, NO_PENDING, append_text, failed_values
from wixhttp.platform.runner import ClaimLoop
from wixhttp.platform.scheduler import iso
from wixhttp.platform.store import ExecutionRow, FunctionRow, Store, new_id, now
from wixhttp.platform.store.executions import Claimed
from wixhttp.platform.targets import Target, Targets
from wixhttp.platform.workers import ProxyResponse, WorkerError, WorkerPool, WorkerSpec
from wixhttp.platform.writer import BatchWriter

__all__ = ["MAX_RESPONSE_BODY", "ExecutionService"]

log = logging.getLogger("wixhttp.platform")

#: The most of a response body an execution keeps (direct calls stream it all to the caller).
MAX_RESPONSE_BODY = 10 * 1024 * 1024


class ExecutionService:
    """Runs, queues, schedules and records executions (one per platform)."""

    def __init__(
        self,
        store: Store,
        writer: BatchWriter,
        targets: Targets,
        workers: WorkerPool,
        project_id: str,
        config: ExecutionConfig,
        node: str,
        db_clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.writer = writer
        self.targets = targets
        self.workers = workers
        self.project_id = project_id
        self.config = config
        self.clock = time.time
        self.db_clock = db_clock
        self.claims = ClaimLoop(
            store, project_id, node, config.workers, self._execute, self._release
        )
        self._tasks: list[asyncio.Task[None]] = []
        self._background: set[asyncio.Task[Any]] = set()
        self.dynamic_keys = DynamicKeys(store)

    async def start(self) -> None:
        """Start claiming and running executions (their owner starts the writer before this,
        and stops it after :meth:`stop`)."""
        self.claims.start()
        if self.config.retention > 0:
            retention = expire(self.store, self.project_id, self.config.retention, self.clock)
            self._tasks.append(asyncio.create_task(retention, name="wixhttp-retention"))

    async def stop(self) -> None:
        await self.claims.stop()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        for task in list(self._background):
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)

    def wake(self, work: str = "executions") -> None:
        """Look for executions to claim: created here, or announced by another node on the
        bus's ``wixhttp_work`` channel (``work`` says what kind: builds are not ours)."""
        if work == "executions":
            self.claims.wake()

    # -- creating executions ---------------------------------------------------------------------

    def _new(
        self, target: Target, call: Call, trigger: str, status: str, run_after: float | None = None
    ) -> tuple[Row, Job]:
        """A new execution; its request is kept in its row unless it runs at once, and it is
        claimable from ``run_after`` (a scheduled one's time) on."""
        spec = target.production
        return new_execution(
            call,
            execution_id=new_id(),
            project_id=self.project_id,
            function_id=str(target.function["id"]),
            deployment_id=spec.deployment_id if spec is not None else "",
            created_at=now(),
            trigger=trigger,
            status=status,
            scheduled_at=iso(run_after) if status == "scheduled" and run_after else None,
            pending=status != "processing",
            run_after=run_after,
        )

    async def run_sync(self, target: Target, call: Call) -> tuple[Row, Outcome]:
        """Run now; the caller waits at most ``sync_timeout`` (then 408, recorded as failed)."""
        spec = target.production
        assert spec is not None
        row, job = self._new(target, call, "http", "processing")
        started = time.perf_counter()
        task = asyncio.ensure_future(self.call(spec, job, target.function))
        done, _ = await asyncio.wait({task}, timeout=self.config.sync_timeout)
        if done:
            outcome = task.result()
            row.update(finished(outcome, now()))
            await self._record(row)
            return row, outcome
        limit = f"{self.config.sync_timeout:g}"
        message = (
            f"Synchronous function execution timed out after {limit} seconds: the caller "
            "got 408. Use an asynchronous execution (async: true) for longer runs."
        )
        row.update(failed_values(message), duration=time.perf_counter() - started)
        await self._record(row)
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        task.add_done_callback(lambda t: self._late(row["id"], t, message))
        raise errors.synchronous_timeout(
            "Synchronous function execution timed out. Use asynchronous execution instead, "
            f"or ensure the execution duration doesn't exceed {limit} seconds."
        )

    def _late(self, execution_id: str, task: asyncio.Future[Outcome], message: str) -> None:
        """A synchronous execution the caller stopped waiting for has finished: keep its logs."""
        if task.cancelled() or task.exception() is not None:
            return
        outcome = task.result()
        text = tail(append_text(message, outcome.errors), errors=True)
        values = {"logs": outcome.logs, "errors": text, "updated_at": now()}
        self.writer.update(execution_id, values)

    async def _record(self, row: Row) -> None:
        """Insert a synchronous execution's record; on a shared database, committed before the
        reply so any node reads it (SQLite's one node waits for its own writes when it reads).
        If the database fails, the caller still gets the answer; the write stays queued."""
        generation = self.writer.insert(row)
        if not self.store.shared:
            return
        try:
            await self.writer.flush(generation)
        except Exception:
            log.exception("execution %s: its record is not written yet; retrying", row["id"])

    async def _persist(self, row: Row) -> None:
        """Insert a new execution and wait until it is on disk; if the database fails, the
        caller gets the error and the execution is not written later behind its back."""
        try:
            await self.writer.flush(self.writer.insert(row))
        except Exception:
            self.writer.forget(str(row["id"]))
            raise

    async def enqueue(self, target: Target, call: Call) -> Row:
        """Persist a ``waiting`` execution, claimable at once by any node (a second early by
        the database's clock, whatever this node's estimate of it is off by)."""
        row, _job = self._new(target, call, "http", "waiting", self.db_clock() - 1)
        await self._persist(row)
        self.wake()
        return row

    async def schedule(self, target: Target, call: Call, due: float) -> Row:
        """Persist a ``scheduled`` execution, claimable from ``due`` on; its request (up to
        10 MiB) waits on disk, not in memory."""
        row, _job = self._new(target, call, "schedule", "scheduled", due)
        await self._persist(row)
        self.wake()  # the claim loop sleeps until the soonest due row
        return row

    async def get(self, function_id: str, execution_id: str) -> ExecutionRow:
        """An execution's record (its batched writes flushed first, so it is current)."""
        if self.writer.has(execution_id):
            await self.writer.flush()
        row = await self.store.get_execution(self.project_id, function_id, execution_id)
        if row is None:
            raise errors.execution_not_found()
        return row

    async def page(
        self, function_id: str, request: ListRequest
    ) -> tuple[list[ExecutionRow], int]:
        if self.writer.busy:
            await self.writer.flush()
        return await self.store.list_executions(self.project_id, function_id, request)

    async def delete(self, function_id: str, execution_id: str) -> None:
        """Delete a finished execution, or cancel a scheduled one no node has claimed."""
        row = await self.get(function_id, execution_id)
        if row["status"] == "scheduled":
            if await self.store.delete_scheduled_execution(self.project_id, row["id"]):
                return
            row = await self.get(function_id, execution_id)  # claimed meanwhile
        status = row["status"]
        if status in ("waiting", "processing", "scheduled"):
            raise errors.execution_in_progress(
                f"The execution is {status if status != 'scheduled' else 'starting'}: it can be "
                "deleted once it has completed or failed (a scheduled one, until it starts)."
            )
        await self.writer.flush(self.writer.delete(row["id"]))

    # -- running ---------------------------------------------------------------------------------

    async def call(self, spec: WorkerSpec, job: Job, function: FunctionRow) -> Outcome:
        """Send ``job``'s request and a fresh dynamic key to the worker (logs if ``logging``)."""
        headers = [*job.headers, await self.dynamic_keys.header(self.project_id, function)]
        if capture := bool(function["logging"]):
            headers.append((CAPTURE_HEADER, job.id.encode("latin-1")))
        outcome, ref, whole = await _send(self.workers, spec, job, headers)
        if not capture:  # nothing was captured: log headers could only be the handler's own
            outcome.logs = outcome.errors = ""
        elif ref:
            await self._fetch_logs(spec, ref, outcome)
        if not whole:
            cut = f"The response body was cut to its first {MAX_RESPONSE_BODY} bytes."
            outcome.errors = append_text(outcome.errors, cut)
        return outcome

    async def _fetch_logs(self, spec: WorkerSpec, ref: str, outcome: Outcome) -> None:
        """Logs too large for headers wait in the worker: fetch them (once)."""
        path = (LOGS_PATH + quote(ref, safe="")).encode("ascii")
        try:
            response = await self.workers.forward(
                spec, "GET", path, [(FETCH_LOGS_HEADER, b"1")], b""
            )
            content, _whole = await response.read()
            data = json.loads(content) if response.status == 200 else {}
        except (WorkerError, OSError, asyncio.IncompleteReadError, ValueError) as exc:
            data = {"errors": f"(the execution's logs could not be fetched: {exc})"}
        outcome.logs = tail(str(data.get("logs", "")))
        outcome.errors = tail(str(data.get("errors", "")), errors=True)

    async def _execute(self, claimed: Claimed) -> None:
        """Run an execution this node claimed (it is ``processing`` already)."""
        job = Job(
            claimed.id,
            claimed.function_id,
            claimed.request_method,
            request_target(claimed.request_path),
            [],
            b"",
            status=claimed.status,
        )
        job.load(claimed.pending_headers, claimed.pending_body)
        try:
            await self._run(job)
        except asyncio.CancelledError:  # the platform is stopping
            if job.started:
                self.writer.update(job.id, {**failed_values(INTERRUPTED), **NO_PENDING})
            else:
                self._release(claimed)
            raise
        except Exception as exc:
            log.exception("execution %s failed inside the platform", job.id)
            message = f"The platform failed to run this execution: {exc!r}"
            self.writer.update(job.id, {**failed_values(message), **NO_PENDING})

    def _release(self, claimed: Claimed) -> None:
        """Claimed, never sent to the handler (the platform is stopping): claimable again."""
        values = {"status": claimed.status, "claimed_by": None, "updated_at": now()}
        self.writer.update(claimed.id, values)

    async def _run(self, job: Job) -> None:
        target = await self.targets.lookup(job.function_id)
        if target is None:
            return  # the function was deleted, and its executions with it
        spec = target.production
        if spec is None:
            message = "Deployment not found: the function has no active deployment any more."
            self.writer.update(job.id, {**failed_values(message), **NO_PENDING})
            return
        self.writer.update(job.id, {"deployment_id": spec.deployment_id})
        job.started = True
        outcome = await self.call(spec, job, target.function)
        self.writer.update(job.id, finished(outcome, now()))

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
        row = http_execution(
            execution_id,
            self.project_id,
            spec.function_id,
            spec.deployment_id,
            created_at,
            method,
            target,
            request_headers,
            client_ip,
        )
        if ref is None:
            self.writer.record({**row, **finished(outcome, now())})
            return

        async def fetch_then_record() -> None:
            await self._fetch_logs(spec, ref, outcome)
            self.writer.record({**row, **finished(outcome, now())})

        task = asyncio.ensure_future(fetch_then_record())
        self._background.add(task)
        task.add_done_callback(self._background.discard)


async def _send(
    workers: WorkerPool, spec: WorkerSpec, job: Job, headers: Headers
) -> tuple[Outcome, str | None, bool]:
    """Send ``job``: the outcome, its logs' reference, and whether the body is whole."""
    started = time.perf_counter()
    try:
        response = await workers.forward(spec, job.method, job.target, headers, job.body)
        body, whole = await response.read(MAX_RESPONSE_BODY)
    except (WorkerError, OSError, asyncio.IncompleteReadError, ValueError) as exc:
        broken = f"the function's worker broke off its response: {type(exc).__name__}"
        message = str(exc) if isinstance(exc, WorkerError) else broken
        return Outcome(500, [], b"", "", message, time.perf_counter() - started), None, True
    outcome, ref = parse_response(ProxyResponse(response.status, response.headers, body), started)
    return outcome, ref, whole


async def expire(
    store: Store, project_id: str, retention: float, clock: Callable[[], float]
) -> None:
    """Delete finished executions older than ``retention`` seconds, checked every tenth of it
    (at most hourly), as Appwrite's maintenance does."""
    every = min(3600.0, retention / 10)
    while True:
        try:
            removed = await store.delete_executions_before(project_id, iso(clock() - retention))
            if removed:
                log.info("retention: deleted %d finished execution(s)", removed)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("deleting old executions failed; trying again later")
        await asyncio.sleep(every)
