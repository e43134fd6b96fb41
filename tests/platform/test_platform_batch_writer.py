"""The execution writer's behaviour when the database fails: batches are retried, newer writes
win, callers that wait are told, and nothing waits forever. A fake store stands in for the
database (the writer's seam), as transports do in httpx's tests."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from typing import Any

import pytest

from wixhttp.platform.store import ExecutionOp
from wixhttp.platform.writer import BatchWriter


class FlakyStore:
    """Fails the first ``failures`` batches, then keeps what it is given."""

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.rows: dict[str, dict[str, Any]] = {}
        self.attempts = 0
        self.gate = asyncio.Event()  # a failing attempt waits for it, when it is not set
        self.gate.set()

    async def write_executions(self, ops: Mapping[str, ExecutionOp]) -> None:
        self.attempts += 1
        if self.attempts <= self.failures:
            await self.gate.wait()
            raise OSError("disk I/O error")
        for execution_id, op in ops.items():
            if op.kind == "insert":
                self.rows[execution_id] = dict(op.values)
            elif op.kind == "update":
                self.rows[execution_id].update(op.values)
            else:
                self.rows.pop(execution_id, None)


async def settle(writer: BatchWriter) -> int:
    """Flush until a flush succeeds; returns how many times the waiter was told of a failure."""
    told = 0
    while True:
        try:
            await asyncio.wait_for(writer.flush(), 30)
            return told
        except OSError:
            told += 1
            assert told < 20


@pytest.fixture
async def writer_for() -> AsyncIterator[Any]:
    writers: list[BatchWriter] = []

    def make(store: FlakyStore) -> BatchWriter:
        writer = BatchWriter(store, delay=0, retry_delay=0.001)  # type: ignore[arg-type]
        writer.start()
        writers.append(writer)
        return writer

    yield make
    for writer in writers:
        await writer.stop()


async def test_a_failed_batch_is_retried_until_it_lands(writer_for: Any) -> None:
    store = FlakyStore(failures=2)
    writer = writer_for(store)
    await asyncio.wait_for(writer.flush(writer.insert({"id": "a", "status": "waiting"})), 10)
    assert store.rows == {"a": {"id": "a", "status": "waiting"}}
    assert store.attempts == 3


async def test_writes_made_during_a_failure_win_over_the_retried_batch(writer_for: Any) -> None:
    store = FlakyStore(failures=1)
    store.gate.clear()
    writer = writer_for(store)
    writer.insert({"id": "a", "status": "waiting", "logs": ""})
    await asyncio.sleep(0.05)
    assert store.attempts == 1  # the batch is in flight, about to fail
    writer.update("a", {"status": "completed"})
    writer.insert({"id": "b", "status": "waiting"})
    writer.delete("b")
    store.gate.set()
    await asyncio.wait_for(writer.flush(), 10)
    assert store.rows == {"a": {"id": "a", "status": "completed", "logs": ""}}


async def test_waiters_are_told_after_three_failures_and_the_write_still_lands(
    writer_for: Any,
) -> None:
    store = FlakyStore(failures=4)
    writer = writer_for(store)
    with pytest.raises(OSError, match="disk I/O error"):
        await asyncio.wait_for(writer.flush(writer.insert({"id": "a"})), 10)
    assert store.attempts == 3
    await settle(writer)  # the fifth attempt succeeds
    assert store.rows == {"a": {"id": "a"}} and store.attempts == 5


async def test_a_batch_that_keeps_failing_is_dropped_so_later_writes_go_through(
    writer_for: Any,
) -> None:
    store = FlakyStore(failures=10)
    writer = writer_for(store)
    writer.insert({"id": "doomed"})
    assert await settle(writer) >= 1  # the tenth failure drops it: the flush then succeeds
    assert store.attempts == 10 and store.rows == {}
    await asyncio.wait_for(writer.flush(writer.insert({"id": "later"})), 10)
    assert store.rows == {"later": {"id": "later"}}


async def test_a_forgotten_write_is_never_sent(writer_for: Any) -> None:
    store = FlakyStore(failures=3)
    writer = writer_for(store)
    with pytest.raises(OSError):
        await asyncio.wait_for(writer.flush(writer.insert({"id": "refused"})), 10)
    writer.forget("refused")
    writer.insert({"id": "next"})
    await settle(writer)
    assert store.rows == {"next": {"id": "next"}}
