"""Deadlines for many concurrent awaits of one duration, with one shared timer.

Used on the request path: by the app for handler timeouts and by the platform's proxy for
workers that do not answer.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Awaitable, Callable
from typing import Any

__all__ = ["STUCK_GRACE", "DeadlineExceeded", "Watchdog"]

#: Seconds a cancelled await gets to end before its ``stuck`` callback is called.
STUCK_GRACE = 0.5


class DeadlineExceeded(Exception):
    """An await watched by a :class:`Watchdog` ran past its deadline (and was cancelled)."""


class Watchdog:
    """Deadlines of ``seconds`` with one shared timer instead of an ``asyncio.timeout`` each.

    ``asyncio.timeout`` costs ~4-5 us per call under uvloop (a TimerHandle scheduled and
    cancelled, plus the context manager); this costs ~0.4 us. Every call shares the one
    timeout, so insertion order is deadline order: a sweep every ``tick`` seconds, scheduled
    only while handlers are in flight, cancels the overdue ones from the front. A deadline is
    met within ``tick`` (timeout/8, at most 0.25 s) of the exact time.

    Code that catches the cancellation and carries on cannot be stopped: its ``stuck``
    callback is called once, :data:`STUCK_GRACE` seconds past the deadline, to answer for it.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.tick = min(0.25, max(seconds / 8, 0.001))
        self.inflight: dict[int, tuple[asyncio.Task[Any], float, Callable[[], None] | None]] = {}
        self.expired: set[int] = set()
        self.stuck: set[int] = set()
        self.timer: asyncio.TimerHandle | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self._ids = itertools.count()

    async def run(
        self, awaitable: Awaitable[Any], stuck: Callable[[], None] | None = None
    ) -> Any:
        """What ``awaitable`` gives, or :class:`DeadlineExceeded` past the deadline."""
        task = asyncio.current_task()
        if task is None:  # pragma: no cover - always inside a task under an ASGI server
            return await awaitable
        loop = asyncio.get_running_loop()
        if loop is not self.loop:  # a new event loop (tests): forget the old loop's entries
            self.loop, self.inflight, self.expired, self.timer = loop, {}, set(), None
            self.stuck = set()
        key = next(self._ids)
        self.inflight[key] = (task, time.monotonic() + self.seconds, stuck)
        if self.timer is None:
            self.timer = loop.call_later(self.tick, self._sweep, loop)
        try:
            result = await awaitable
        except asyncio.CancelledError:
            if key in self.expired:
                self.expired.discard(key)
                # Ours, unless someone else cancelled the task too (e.g. a shutdown in the same
                # loop pass): then the cancellation is theirs to see (asyncio.timeout does so).
                if _uncancel(task) == 0:
                    raise DeadlineExceeded from None
            raise
        finally:
            del self.inflight[key]
            self.stuck.discard(key)
        if key in self.expired:
            # It finished past its deadline anyway (it caught the cancellation, or finished as
            # it came): the deadline still decides.
            self.expired.discard(key)
            _uncancel(task)
            raise DeadlineExceeded
        return result

    def _sweep(self, loop: asyncio.AbstractEventLoop) -> None:
        if loop is not self.loop:
            return
        now = time.monotonic()
        overdue = []
        for key, (task, deadline, stuck) in self.inflight.items():
            if deadline > now:
                break
            overdue.append((key, task, deadline, stuck))
        for key, task, deadline, stuck in overdue:
            if key not in self.expired:
                self.expired.add(key)
                task.cancel()
            elif stuck is not None and deadline + STUCK_GRACE <= now and key not in self.stuck:
                self.stuck.add(key)  # it caught the cancellation and carries on
                stuck()
        self.timer = loop.call_later(self.tick, self._sweep, loop) if self.inflight else None


def _uncancel(task: asyncio.Task[Any]) -> int:
    """Withdraw one cancellation request; how many remain (0 before Python 3.11, which does not
    count them)."""
    uncancel = getattr(task, "uncancel", None)
    return uncancel() if uncancel is not None else 0
