"""Cron, and the times of ``scheduledAt`` (asynchronous and scheduled executions themselves are
rows of the queue, claimed by :mod:`wixhttp.platform.runner`).

**Cron** (the function's ``schedule``, evaluated by croniter in UTC; a sixth field is seconds):
one execution per tick while the function is enabled and has an active deployment. The request
is ``POST /_functions/schedule`` (a ``post_schedule`` or ``use_schedule`` handler), or the path
in the function variable ``WIXHTTP_SCHEDULE_PATH``. Every node keeps the schedules and fires
ticks on the **database's clock**; the database decides which node fires a tick: the last tick
fired is moved forward conditionally in the same transaction as the tick's execution (a
``waiting`` row due at the tick, run by whichever node claims it), and only while the function's
schedule is still the one the tick belongs to. So a tick fires once across nodes, and a cleared
schedule fires no more once cleared. Schedules are read again when a function changes
(:meth:`Scheduler.function_changed`) and every ``SWEEP_EVERY`` seconds for functions whose
``updated_at`` changed (changes made through other nodes). Ticks missed while no node ran are
not replayed: the next tick is computed from the current time (and after the last one fired);
a scheduler that falls behind skips to the next tick in the future rather than firing a burst.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from urllib.parse import urlsplit

from croniter import croniter

from wixhttp.platform import errors
from wixhttp.platform.calls import Call, new_execution
from wixhttp.platform.store import Store, new_id
from wixhttp.platform.targets import Targets

__all__ = [
    "DEFAULT_SCHEDULE_PATH",
    "SCHEDULE_PATH_VARIABLE",
    "SWEEP_EVERY",
    "Scheduler",
    "iso",
    "parse_time",
    "scheduled_time",
]

log = logging.getLogger("wixhttp.platform")

SCHEDULE_PATH_VARIABLE = "WIXHTTP_SCHEDULE_PATH"
DEFAULT_SCHEDULE_PATH = "/_functions/schedule"
#: Seconds between two reads of every function's schedule (and of the database's clock).
SWEEP_EVERY = 10.0


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
    """Fires the cron ticks of the project's functions (one per platform); ``wake`` is called
    after a tick's execution is inserted (the local claim loop's wake-up)."""

    def __init__(
        self,
        store: Store,
        targets: Targets,
        project_id: str,
        endpoint: str,
        wake: Callable[[], None] = lambda: None,
    ) -> None:
        self.store = store
        self.targets = targets
        self.project_id = project_id
        self.host = urlsplit(endpoint).netloc  # the Host of a cron tick's request
        self.wake = wake
        self.offset = 0.0  # the database's clock minus this machine's
        self._cron: dict[str, _Cron] = {}
        self._seen: dict[str, str] = {}  # function id -> updated_at when last read
        self._last_ticks: dict[str, float] = {}
        self._dirty: set[str] = set()
        self._swept = float("-inf")
        self._changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def clock(self) -> float:
        """The database's current time (estimated from this machine's and the last offset)."""
        return time.time() + self.offset

    async def start(self) -> None:
        """Read the database's clock, the schedules and the last ticks fired; start the clock."""
        await self._sweep()
        self._task = asyncio.create_task(self._run(), name="wixhttp-scheduler")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    def function_changed(self, function_id: str) -> None:
        """A function changed (or was created or deleted): re-read its cron schedule."""
        self._dirty.add(function_id)
        self._changed.set()

    # -- the clock -------------------------------------------------------------------------------

    async def _run(self) -> None:
        while True:
            self._changed.clear()
            try:
                await self._tick()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("the cron scheduler failed; retrying in a second")
            delay = 1.0
            for cron in self._cron.values():
                delay = min(delay, cron.next - self.clock())
            if delay > 0:
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), delay)

    async def _sweep(self) -> None:
        """Refresh the clock's offset, the last ticks, and the schedules that changed."""
        before = time.time()
        database = await self.store.clock()
        self.offset = database - (before + time.time()) / 2
        self._last_ticks = await self.store.last_cron_ticks(self.project_id)
        schedules = await self.store.function_schedules(self.project_id)
        for function_id, (_schedule, updated_at) in schedules.items():
            if self._seen.get(function_id) != updated_at:
                self._dirty.add(function_id)
        self._dirty.update(set(self._cron) - set(schedules))
        for gone in set(self._seen) - set(schedules):
            del self._seen[gone]
        self._swept = time.monotonic()

    async def _tick(self) -> None:
        if time.monotonic() - self._swept >= SWEEP_EVERY:
            await self._sweep()
        current = self.clock()
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
            if cron.next <= current and function_id not in self._dirty:
                tick = cron.next
                # The next tick after now: a scheduler that fell behind does not fire a burst.
                cron.next = _next_tick(cron.expression, max(tick, current))
                await self._fire(function_id, cron.expression, tick)

    async def _reload(self, function_id: str, current: float) -> None:
        function = await self.store.get_function(self.project_id, function_id)
        expression = str(function["schedule"]) if function is not None else ""
        if function is None:
            self._seen.pop(function_id, None)
            self._last_ticks.pop(function_id, None)
        else:
            self._seen[function_id] = str(function["updated_at"])
        known = self._cron.get(function_id)
        if not expression:
            self._cron.pop(function_id, None)
            return
        if known is not None and known.expression == expression:
            return
        try:
            start = max(current, self._last_ticks.get(function_id, 0.0))
            self._cron[function_id] = _Cron(expression, _next_tick(expression, start))
        except (ValueError, KeyError) as exc:
            log.warning("function %s: cannot schedule %r: %s", function_id, expression, exc)
            self._cron.pop(function_id, None)

    async def _fire(self, function_id: str, expression: str, tick: float) -> None:
        target = await self.targets.lookup(function_id)
        if target is None or not target.function["enabled"] or target.production is None:
            return
        if function_id in self._dirty or self._cron.get(function_id) is None:
            return  # changed while looking it up: its schedule is read again first
        path = target.production.env.get(SCHEDULE_PATH_VARIABLE) or DEFAULT_SCHEDULE_PATH
        row, _job = new_execution(
            Call(method="POST", path=path, host=self.host),
            execution_id=new_id(),
            project_id=self.project_id,
            function_id=function_id,
            deployment_id=target.production.deployment_id,
            created_at=iso(max(tick, self.clock())),  # the database's time, like the tick's
            trigger="schedule",
            status="waiting",
            scheduled_at=iso(tick),
            pending=True,
            run_after=tick,
        )
        fired = await self.store.create_cron_execution(
            self.project_id, function_id, expression, tick, row
        )
        self._last_ticks[function_id] = max(tick, self._last_ticks.get(function_id, 0.0))
        if fired:
            self.wake()
