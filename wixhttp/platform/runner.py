"""The claim loop: this node's share of the execution queue (the ``executions`` table).

Any node runs any execution. The loop claims at most as many due ``waiting``/``scheduled`` rows
as the node has free runner slots, so a claimed execution is always a started one (the claim
makes it ``processing``), and hands them to the runners through a local queue. It looks for
work when woken (:meth:`ClaimLoop.wake`: an execution was created here, or another node
announced some on the bus), when a slot frees after a claim that filled every slot, and at
least once a second; sooner when the next scheduled row is due sooner (the database says when).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from wixhttp.platform.store import Store, now
from wixhttp.platform.store.executions import Claimed

__all__ = ["POLL_EVERY", "ClaimLoop"]

log = logging.getLogger("wixhttp.platform")

#: The longest the loop sleeps without looking for work (the safety net under the bus).
POLL_EVERY = 1.0
#: The shortest: a due row another node holds locked will be gone by then.
MIN_SLEEP = 0.02
#: Seconds a claim waits while runners are busy, so that those finishing meanwhile share it.
GATHER = 0.002


class ClaimLoop:
    """Claims executions for ``slots`` runners and runs each with ``run`` (one per platform).

    ``release(claimed)`` is called for claimed executions no runner started when the loop
    stops (a runner that is stopped mid-run handles its own in ``run``).
    """

    def __init__(
        self,
        store: Store,
        project_id: str,
        node: str,
        slots: int,
        run: Callable[[Claimed], Awaitable[None]],
        release: Callable[[Claimed], None],
    ) -> None:
        self.store = store
        self.project_id = project_id
        self.node = node
        self.slots = max(1, slots)
        self._run = run
        self._release = release
        self._handoff: asyncio.Queue[Claimed] = asyncio.Queue()
        self._busy = 0  # claimed and not finished
        self._full = False  # the last claim filled every free slot: more may be due
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        self._tasks.append(asyncio.create_task(self._claim(), name="wixhttp-execution-claims"))
        for index in range(self.slots):
            self._tasks.append(
                asyncio.create_task(self._runner(), name=f"wixhttp-execution-runner-{index}")
            )

    async def stop(self) -> None:
        """Stop claiming, stop the runners, give back what was claimed but never started."""
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        while not self._handoff.empty():
            self._release(self._handoff.get_nowait())

    def wake(self) -> None:
        """Look for work now (there is some, or may be)."""
        self._wake.set()

    async def _claim(self) -> None:
        while True:
            if self._busy:  # let the runners that finish meanwhile share this claim
                await asyncio.sleep(GATHER)
            self._wake.clear()  # what woke the loop is looked at now
            delay = POLL_EVERY
            free = self.slots - self._busy
            if free <= 0:
                self._full = True  # look again as soon as a slot frees
            else:
                try:
                    delay = await self._claim_once(free)
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("claiming executions failed; trying again in a second")
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), delay)

    async def _claim_once(self, free: int) -> float:
        """Claim up to ``free`` executions; returns how long to sleep before looking again."""
        claimed, due = await self.store.claim_executions(
            self.project_id, self.node, free, now()
        )
        for execution in claimed:
            self._busy += 1
            self._handoff.put_nowait(execution)
        self._full = len(claimed) == free
        if self._full or due is None:
            return POLL_EVERY  # when full, a slot that frees wakes the loop
        return min(POLL_EVERY, max(MIN_SLEEP, due))

    async def _runner(self) -> None:
        while True:
            execution = await self._handoff.get()
            try:
                await self._run(execution)
            except asyncio.CancelledError:
                raise
            except Exception:  # run() records its own failures; this is a last resort
                log.exception("execution %s: the runner failed", execution.id)
            finally:
                self._busy -= 1
                if self._full:
                    self._wake.set()
