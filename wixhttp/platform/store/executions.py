"""The execution aggregate: executions (mostly written in batches by the executions'
``BatchWriter`` through :meth:`ExecutionQueries.write_executions`) and the cron ticks that
create scheduled ones."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import bindparam, delete, insert, select, update

from wixhttp.platform import queries
from wixhttp.platform.store.base import Row, StoreBase, typed
from wixhttp.platform.store.rows import ExecutionRow, PendingExecutionRow
from wixhttp.platform.store.tables import (
    EXECUTION_ATTRIBUTES,
    EXECUTION_DEFAULTS,
    EXECUTION_PUBLIC,
    cron_ticks,
    executions,
)

__all__ = ["ExecutionOp", "ExecutionQueries"]


@dataclass
class ExecutionOp:
    """A batched write of one execution: ``insert`` (a full row), ``update`` (some columns) or
    ``delete``. Writes to one id coalesce: an update folds into a pending insert, a delete
    replaces whatever was pending."""

    kind: Literal["insert", "update", "delete"]
    values: dict[str, Any]


class ExecutionQueries(StoreBase):
    """Reads and writes of ``executions`` and ``cron_ticks``."""

    async def write_executions(self, ops: Mapping[str, ExecutionOp]) -> None:
        """Apply a batch of writes in one transaction: inserts, then updates, then deletes."""
        inserts: list[Row] = []
        updates: dict[tuple[str, ...], list[Row]] = {}
        deletes: list[str] = []
        for execution_id, op in ops.items():
            if op.kind == "insert":
                inserts.append({**EXECUTION_DEFAULTS, **op.values, "id": execution_id})
            elif op.kind == "update":
                if op.values:
                    keys = tuple(sorted(op.values))
                    updates.setdefault(keys, []).append({**op.values, "b_id": execution_id})
            else:
                deletes.append(execution_id)
        async with self.engine.begin() as conn:
            if inserts:
                await conn.execute(insert(executions), inserts)
            for rows in updates.values():
                await conn.execute(
                    update(executions).where(executions.c.id == bindparam("b_id")), rows
                )
            for start in range(0, len(deletes), 500):
                chunk = deletes[start : start + 500]
                await conn.execute(delete(executions).where(executions.c.id.in_(chunk)))

    async def delete_executions_before(self, project_id: str, stamp: str, chunk: int = 1000) -> int:
        """Delete the project's finished (completed or failed) executions last updated before
        ``stamp``, ``chunk`` rows per transaction (so the batched writes of running executions
        are never held up for long); returns how many."""
        removed = 0
        while True:
            async with self.engine.begin() as conn:
                doomed = (
                    select(executions.c.seq)
                    .where(
                        executions.c.project_id == project_id,
                        executions.c.status.in_(("completed", "failed")),
                        executions.c.updated_at < stamp,
                    )
                    .limit(chunk)
                )
                result = await conn.execute(
                    delete(executions).where(executions.c.seq.in_(doomed.scalar_subquery()))
                )
            count = int(result.rowcount or 0)
            removed += count
            if count < chunk:
                return removed

    async def get_execution(
        self, project_id: str, function_id: str, execution_id: str
    ) -> ExecutionRow | None:
        async with self.engine.connect() as conn:
            row = (
                (
                    await conn.execute(
                        select(*EXECUTION_PUBLIC).where(
                            executions.c.project_id == project_id,
                            executions.c.function_id == function_id,
                            executions.c.id == execution_id,
                        )
                    )
                )
                .mappings()
                .first()
            )
        return typed(ExecutionRow, row) if row is not None else None

    async def list_executions(
        self,
        project_id: str,
        function_id: str,
        request: queries.ListRequest,
    ) -> tuple[list[ExecutionRow], int]:
        """A function's executions."""
        return await self._list(
            ExecutionRow,
            executions,
            [executions.c.project_id == project_id, executions.c.function_id == function_id],
            EXECUTION_ATTRIBUTES,
            request,
            columns=EXECUTION_PUBLIC,
        )

    async def pending_request(
        self, project_id: str, execution_id: str
    ) -> tuple[list[list[str]], str] | None:
        """The headers and body still to be sent for an execution, or None if it has none
        (it was deleted, or has already started)."""
        async with self.engine.connect() as conn:
            row = (
                await conn.execute(
                    select(executions.c.pending_headers, executions.c.pending_body).where(
                        executions.c.project_id == project_id, executions.c.id == execution_id
                    )
                )
            ).first()
        if row is None or row.pending_headers is None:
            return None
        return list(row.pending_headers), row.pending_body or ""

    async def unfinished_executions(self, project_id: str) -> list[PendingExecutionRow]:
        """The project's ``waiting``, ``processing`` and ``scheduled`` executions (pending
        request included), oldest first: what a starting platform must resume or fail."""
        async with self.engine.connect() as conn:
            result = await conn.execute(
                select(executions)
                .where(
                    executions.c.project_id == project_id,
                    executions.c.status.in_(("waiting", "processing", "scheduled")),
                )
                .order_by(executions.c.seq)
            )
            return [typed(PendingExecutionRow, r) for r in result.mappings()]

    async def last_cron_ticks(self, project_id: str) -> dict[str, float]:
        async with self.engine.connect() as conn:
            result = await conn.execute(
                select(cron_ticks.c.function_id, cron_ticks.c.last_tick).where(
                    cron_ticks.c.project_id == project_id
                )
            )
            return {str(r[0]): float(r[1]) for r in result}

    async def create_cron_execution(
        self, project_id: str, function_id: str, tick: float, row: Mapping[str, Any] | None
    ) -> bool:
        """Record that ``tick`` fired, and insert its execution ``row`` (if any), in one
        transaction; False (and nothing written) if this tick or a later one already fired."""
        where = (cron_ticks.c.project_id == project_id, cron_ticks.c.function_id == function_id)
        async with self.engine.begin() as conn:
            result = await conn.execute(
                update(cron_ticks)
                .where(*where, cron_ticks.c.last_tick < tick)
                .values(last_tick=tick)
            )
            if result.rowcount == 0:
                existing = (
                    await conn.execute(select(cron_ticks.c.last_tick).where(*where))
                ).first()
                if existing is not None:
                    return False
                await conn.execute(
                    insert(cron_ticks).values(
                        project_id=project_id, function_id=function_id, last_tick=tick
                    )
                )
            if row is not None:
                await conn.execute(insert(executions).values({**EXECUTION_DEFAULTS, **row}))
        return True
