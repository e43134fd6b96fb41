"""Executions: synchronous, asynchronous, scheduled and cron; recorded with their logs.

An execution is one HTTP request into a function's active deployment, sent to its worker as a
call to ``/functions/{id}/_functions/...`` would be (see :mod:`wixhttp.platform.calls`).

* **Synchronous**: run at once; the caller waits at most ``sync_timeout`` (30 s), then gets
  408 ``function_synchronous_timeout`` and the execution is recorded as failed.
* **Asynchronous**: persisted as ``waiting`` before the 202, run by ``workers`` asyncio tasks
  (``processing`` is persisted before the handler is called, so an execution is never run
  twice), each bounded by the function's ``timeout`` (the worker enforces it).
* **Scheduled** and **cron**: :mod:`wixhttp.platform.scheduler` queues them when due.

After a restart, :mod:`wixhttp.platform.recovery` takes up the unfinished ones.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
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
)
from wixhttp.platform.capture import CAPTURE_HEADER, FETCH_LOGS_HEADER, LOGS_PATH, tail
from wixhttp.platform.config import ExecutionConfig
from wixhttp.platform.queries import ListRequest
from wixhttp.platform.recovery import INTERRUPTED, NO_PENDING, append_text, failed_values, recover
from wixhttp.platform.scheduler import Scheduler, iso
from wixhttp.platform.store import ExecutionRow, Store, new_id, now
from wixhttp.platform.targets import Target, Targets
from wixhttp.platform.workers import ProxyResponse, WorkerError, WorkerPool, WorkerSpec
from wixhttp.platform.writer import BatchWriter

__all__ = ["ExecutionService"]

log = logging.getLogger("wixhttp.platform")

class ExecutionService:
    """Runs, queues, schedules and records executions (one per platform)."""

    def __init__(
        self,
        store: Store,
        writer: BatchWriter,
        targets: Targets,
        workers: WorkerPool,
        scheduler: Scheduler,
        project_id: str,
        config: ExecutionConfig,
    ) -> None:
        self.store = store
        self.writer = writer
        self.targets = targets
        self.workers = workers
        self.scheduler = scheduler
        self.project_id = project_id
        self.config = config
        self.clock = time.time
        self._tasks: list[asyncio.Task[None]] = []
        self._background: set[asyncio.Task[Any]] = set()

    async def start(self) -> None:
        """Recover what the last run left unfinished, then start the runners (their owner
        starts the writer before this, and the scheduler after)."""
        await recover(self.store, self.writer, self.scheduler, self.project_id, self.clock)
        for index in range(max(1, self.config.workers)):
            self._tasks.append(
                asyncio.create_task(self._work(), name=f"wixhttp-execution-worker-{index}")
            )
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

    # -- creating executions ---------------------------------------------------------------------

    def _new(
        self, target: Target, call: Call, trigger: str, status: str, due: float | None = None
    ) -> tuple[Row, Job]:
        """A new execution; its request is kept in its row unless it runs at once."""
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
            scheduled_at=None if due is None else iso(due),
            pending=status != "processing",
        )

    async def run_sync(self, target: Target, call: Call) -> tuple[Row, Outcome]:
        """Run now; the caller waits at most ``sync_timeout`` (then 408, recorded as failed)."""
        spec = target.production
        assert spec is not None
        row, job = self._new(target, call, "http", "processing")
        started = time.perf_counter()
        task = asyncio.ensure_future(self.call(spec, job, bool(target.function["logging"])))
        done, _ = await asyncio.wait({task}, timeout=self.config.sync_timeout)
        if done:
            outcome = task.result()
            row.update(finished(outcome, now()))
            self.writer.insert(row)
            return row, outcome
        limit = f"{self.config.sync_timeout:g}"
        message = (
            f"Synchronous function execution timed out after {limit} seconds: the caller "
            "got 408. Use an asynchronous execution (async: true) for longer runs."
        )
        row.update(failed_values(message), duration=time.perf_counter() - started)
        self.writer.insert(row)
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
        self.writer.update(
            execution_id, {"logs": outcome.logs, "errors": text, "updated_at": now()}
        )

    async def _persist(self, row: Row) -> None:
        """Insert a new execution and wait until it is on disk; if the database fails, the
        caller gets the error and the execution is not written later behind its back."""
        try:
            await self.writer.flush(self.writer.insert(row))
        except Exception:
            self.writer.forget(str(row["id"]))
            raise

    async def enqueue(self, target: Target, call: Call) -> Row:
        """Persist a ``waiting`` execution, then queue it."""
        row, job = self._new(target, call, "http", "waiting")
        await self._persist(row)
        self.scheduler.put(job)
        return row

    async def schedule(self, target: Target, call: Call, due: float) -> Row:
        """Persist a ``scheduled`` execution, then set its timer."""
        row, job = self._new(target, call, "schedule", "scheduled", due)
        await self._persist(row)
        # Scheduled far ahead, a request's headers and body (up to 10 MiB) wait on disk, not
        # in memory: the job reads them back when it comes due.
        job.headers, job.body, job.stored = [], b"", True
        self.scheduler.put_at(job, due)
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
        """Delete a finished execution, or cancel a scheduled one that has not started."""
        row = await self.get(function_id, execution_id)
        status = row["status"]
        if status in ("waiting", "processing") or (
            status == "scheduled" and not self.scheduler.cancel(row["id"])
        ):
            raise errors.execution_in_progress(
                f"The execution is {status if status != 'scheduled' else 'starting'}: it can be "
                "deleted once it has completed or failed (a scheduled one, until it starts)."
            )
        await self.writer.flush(self.writer.delete(row["id"]))

    # -- running ---------------------------------------------------------------------------------

    async def call(self, spec: WorkerSpec, job: Job, capture: bool) -> Outcome:
        """Send ``job``'s request to the worker; the handler's logs come back if ``capture``."""
        headers = job.headers
        if capture:
            headers = [*headers, (CAPTURE_HEADER, job.id.encode("latin-1"))]
        started = time.perf_counter()
        try:
            result = await self.workers.forward(spec, job.method, job.target, headers, job.body)
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
        path = (LOGS_PATH + quote(ref, safe="")).encode("ascii")
        try:
            response = await self.workers.forward(
                spec, "GET", path, [(FETCH_LOGS_HEADER, b"1")], b""
            )
            data = json.loads(response.body) if response.status == 200 else {}
        except (WorkerError, ValueError) as exc:
            data = {"errors": f"(the execution's logs could not be fetched: {exc})"}
        outcome.logs = tail(str(data.get("logs", "")))
        outcome.errors = tail(str(data.get("errors", "")), errors=True)

    async def _work(self) -> None:
        while True:
            job = await self.scheduler.next()
            try:
                await self._run(job)
            except asyncio.CancelledError:  # the platform is stopping
                if job.started:
                    self.writer.update(job.id, failed_values(INTERRUPTED))
                elif not job.stored:  # it never reached the worker: it runs after a restart
                    self.writer.update(job.id, {"status": "waiting", **job.pending()})
                raise
            except Exception as exc:
                log.exception("execution %s failed inside the platform", job.id)
                message = f"The platform failed to run this execution: {exc!r}"
                self.writer.update(job.id, failed_values(message))

    async def _run(self, job: Job) -> None:
        if job.stored:
            pending = await self.store.pending_request(self.project_id, job.id)
            if pending is None:
                return  # deleted meanwhile
            job.load(*pending)
        target = await self.targets.lookup(job.function_id)
        if target is None:
            return  # the function was deleted, and its executions with it
        spec = target.production
        if spec is None:
            message = "Deployment not found: the function has no active deployment any more."
            self.writer.update(job.id, {**failed_values(message), **NO_PENDING})
            return
        processing = {"status": "processing", "deployment_id": spec.deployment_id}
        update = self.writer.update(job.id, {**processing, "updated_at": now(), **NO_PENDING})
        await self.writer.flush(update)
        job.started = True
        outcome = await self.call(spec, job, bool(target.function["logging"]))
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
