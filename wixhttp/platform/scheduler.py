"""The execution queue and its clock: jobs to run now, ``scheduledAt`` timers and cron.

* **Queued** jobs (asynchronous executions) wait in :attr:`Scheduler.queue` for the runners.
* **Scheduled** jobs (``scheduledAt``) wait in a timer heap until they are due (checked at
  least once a second), then join the queue; cancelling one drops it.
* **Cron** (the function's ``schedule``, evaluated by croniter in UTC; a sixth field is
  seconds): one execution per tick while the function is enabled and has an active deployment.
  The request is ``POST /_functions/schedule`` (a ``post_schedule`` or ``use_schedule``
  handler), or the path in the function variable ``WIXHTTP_SCHEDULE_PATH``. The last tick
  fired is persisted per function in the same transaction as its execution, so a tick never
  fires twice. Ticks missed while the platform was down are not replayed: on start-up the next
  tick is computed from the current time (and after the last one fired); if the scheduler
  falls behind, it also skips to the next tick in the future rather than firing a burst.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from urllib.parse import urlsplit

from croniter import croniter

from wixhttp.platform import errors
from wixhttp.platform.calls import Call, Job, new_execution
from wixhttp.platform.store import Store, new_id, now
from wixhttp.platform.targets import Targets

__all__ = [
    "DEFAULT_SCHEDULE_PATH",
    "SCHEDULE_PATH_VARIABLE",
    "Scheduler",
    "iso",
    "parse_time",
    "scheduled_time",
]

log = logging.getLogger("wixhttp.platform")

SCHEDULE_PATH_VARIABLE = "WIXHTTP_SCHEDULE_PATH"
DEFAULT_SCHEDULE_PATH = "/_functions/schedule"


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
    raise errors.bad_request(
        f"Execution schedule must be a valid date, and at least {lead} from now"
    )


@dataclass
class _Cron:
    expression: str
    next: float


def _next_tick(expression: str, after: float) -> float:
    start = datetime.fromtimestamp(after, timezone.utc)
    return float(croniter(expression, start).get_next(float))


class Scheduler:
    """Holds the jobs not started yet and queues each when it is due (one per platform)."""

    def __init__(
        self,
        store: Store,
        targets: Targets,
        project_id: str,
        endpoint: str,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.targets = targets
        self.project_id = project_id
        self.host = urlsplit(endpoint).netloc  # the Host of a cron tick's request
        self.clock = clock
        self.queue: asyncio.Queue[Job] = asyncio.Queue()
        self._jobs: dict[str, Job] = {}  # not started yet: waiting or scheduled
        self._heap: list[tuple[float, str]] = []
        self._cron: dict[str, _Cron] = {}
        self._last_ticks: dict[str, float] = {}
        self._dirty: set[str] = set()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Read the cron schedules and the last ticks fired, then start the clock."""
        self._last_ticks = await self.store.last_cron_ticks(self.project_id)
        for function in await self.store.all_functions():
            if function["project_id"] == self.project_id and function["schedule"]:
                self._dirty.add(function["id"])
        self._task = asyncio.create_task(self._run(), name="wixhttp-scheduler")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    # -- jobs ------------------------------------------------------------------------------------

    def put(self, job: Job) -> None:
        """Queue ``job`` to run as soon as a runner is free."""
        self._jobs[job.id] = job
        self.queue.put_nowait(job)

    def put_at(self, job: Job, due: float) -> None:
        """Queue ``job`` at the epoch time ``due``."""
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

    async def next(self) -> Job:
        """The next job to run (it can no longer be cancelled)."""
        while True:
            job = await self.queue.get()
            if not job.cancelled:
                self._jobs.pop(job.id, None)
                return job

    def function_changed(self, function_id: str) -> None:
        """A function changed (or was created or deleted): re-read its cron schedule."""
        self._dirty.add(function_id)
        self._wake.set()

    # -- the clock -------------------------------------------------------------------------------

    async def _run(self) -> None:
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
            self.queue.put_nowait(job)
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
        target = await self.targets.lookup(function_id)
        if target is None or not target.function["enabled"] or target.production is None:
            return
        path = target.production.env.get(SCHEDULE_PATH_VARIABLE) or DEFAULT_SCHEDULE_PATH
        row, job = new_execution(
            Call(method="POST", path=path, host=self.host),
            execution_id=new_id(),
            project_id=self.project_id,
            function_id=function_id,
            deployment_id=target.production.deployment_id,
            created_at=now(),
            trigger="schedule",
            status="waiting",
            scheduled_at=iso(tick),
            pending=True,
        )
        fired = await self.store.create_cron_execution(self.project_id, function_id, tick, row)
        self._last_ticks[function_id] = max(tick, self._last_ticks.get(function_id, 0.0))
        if fired:
            self.put(job)
