"""Batched execution writes: one transaction per batch, writes coalesced per execution.

Writes that must be durable before the platform answers (a new ``waiting``/``scheduled``
execution, a synchronous execution's record) are awaited and flushed at once, so concurrent ones
share a commit; the others (finished executions, records of direct HTTP calls) are flushed after
at most ``delay`` seconds, off the request path. Reads wait for this node's pending writes of
what they read, so a client always sees its own execution; a batch that inserts runnable
executions announces them to every node (see :meth:`Store.write_executions`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from typing import Any

from wixhttp.platform.store import ExecutionOp, Store

__all__ = ["BatchWriter"]

log = logging.getLogger("wixhttp.platform")


class BatchWriter:
    """Coalesces execution writes and applies them in batches, one transaction each.

    Every write returns a generation number; ``await flush(generation)`` returns once that
    write is committed (and asks for an immediate batch). Writes nobody waits for are
    batched for up to ``delay`` seconds.
    """

    def __init__(
        self,
        store: Store,
        *,
        delay: float = 0.02,
        max_pending: int = 100_000,
        retry_delay: float = 0.1,
    ) -> None:
        self._store = store
        self._delay = delay
        self._retry_delay = retry_delay  # doubled after each failure in a row, up to 5 s
        self._max_pending = max_pending
        self._pending: dict[str, ExecutionOp] = {}
        self._inflight: dict[str, ExecutionOp] = {}
        self._generation = 0
        self._committed = 0
        self._waiters: list[tuple[int, asyncio.Future[None]]] = []
        self._wake = asyncio.Event()
        self._urgent = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.dropped = 0

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="wixhttp-execution-writer")

    async def stop(self) -> None:
        if self._task is None:
            return
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.flush(), 30)
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None

    def insert(self, row: Mapping[str, Any]) -> int:
        return self._put(str(row["id"]), "insert", row)

    def record(self, row: Mapping[str, Any]) -> bool:
        """Insert a record nobody waits for, unless the backlog is too long (then drop it)."""
        if len(self._pending) >= self._max_pending:
            self.dropped += 1
            if self.dropped == 1 or self.dropped % 1000 == 0:
                log.warning("execution records dropped (database behind): %d", self.dropped)
            return False
        self.insert(row)
        return True

    def update(self, execution_id: str, values: Mapping[str, Any]) -> int:
        return self._put(execution_id, "update", values)

    def delete(self, execution_id: str) -> int:
        return self._put(execution_id, "delete", {})

    def has(self, execution_id: str) -> bool:
        """Whether a write of this execution is not committed yet."""
        return execution_id in self._pending or execution_id in self._inflight

    @property
    def busy(self) -> bool:
        return self._committed < self._generation

    async def flush(self, generation: int | None = None) -> None:
        """Wait until the write numbered ``generation`` (default: every write so far) is
        committed; raises what the database raised if its batch failed."""
        target = self._generation if generation is None else generation
        if target <= self._committed:
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append((target, future))
        self._urgent.set()
        self._wake.set()
        await future

    def _put(self, execution_id: str, kind: Any, values: Mapping[str, Any]) -> int:
        current = self._pending.get(execution_id)
        if kind == "update" and current is not None:
            if current.kind != "delete":
                current.values.update(values)
        else:
            self._pending[execution_id] = ExecutionOp(kind, dict(values))
        self._generation += 1
        self._wake.set()
        return self._generation

    def forget(self, execution_id: str) -> None:
        """Drop a write not sent yet (its caller was told it failed and gave up on it)."""
        self._pending.pop(execution_id, None)

    def _requeue(self, batch: dict[str, ExecutionOp]) -> None:
        """Put a failed batch back in front of the writes that came meanwhile (newer wins)."""
        for execution_id, op in batch.items():
            newer = self._pending.get(execution_id)
            if newer is None:
                self._pending[execution_id] = op
            elif newer.kind == "update":
                if op.kind == "delete":
                    self._pending[execution_id] = op
                else:
                    merged = {**op.values, **newer.values}
                    self._pending[execution_id] = ExecutionOp(op.kind, merged)

    async def _run(self) -> None:
        failures = 0
        while True:
            await self._wake.wait()
            if not self._urgent.is_set() and self._delay > 0:
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self._urgent.wait(), self._delay)
            self._wake.clear()
            self._urgent.clear()
            batch, self._pending = self._pending, {}
            generation = self._generation
            error: BaseException | None = None
            if batch:
                self._inflight = batch
                try:
                    await self._store.write_executions(batch)
                    failures = 0
                except asyncio.CancelledError:
                    self._requeue(batch)
                    raise
                except Exception as exc:  # the database failed: retry, and tell who waits
                    failures += 1
                    error = exc
                    if failures < _GIVE_UP_AFTER:
                        log.exception(
                            "writing %d execution(s) failed (attempt %d); retrying",
                            len(batch),
                            failures,
                        )
                        self._requeue(batch)
                    else:
                        log.exception(
                            "writing %d execution(s) failed %d times; dropping them",
                            len(batch),
                            failures,
                        )
                        failures = 0
                finally:
                    self._inflight = {}
            if error is None or failures == 0:
                self._committed = generation  # written, or given up on
            waiting, self._waiters = self._waiters, []
            for target, future in waiting:
                if future.done():
                    continue
                if target > self._committed and (error is None or failures < _FAIL_WAITERS_AFTER):
                    self._waiters.append((target, future))
                elif error is not None:
                    future.set_exception(error)
                else:
                    future.set_result(None)
            if error is not None and failures:
                await asyncio.sleep(min(5.0, self._retry_delay * 2**failures))
                self._wake.set()


#: A failed batch is retried; those awaiting it are told after this many failures in a row (their
#: writes stay queued), and after ``_GIVE_UP_AFTER`` the batch is dropped, so one bad write
#: cannot stop every later one.
_FAIL_WAITERS_AFTER = 3
_GIVE_UP_AFTER = 10
