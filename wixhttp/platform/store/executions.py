"""The execution aggregate: executions (mostly written in batches by the executions'
``BatchWriter`` through :meth:`ExecutionQueries.write_executions`), the queue they form (a
``waiting`` or ``scheduled`` row is claimable once the database's clock reaches its
``run_after``) and the cron ticks that create executions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import bindparam, delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from wixhttp.platform import queries
from wixhttp.platform.bus import WORK
from wixhttp.platform.store.base import Row, StoreBase, typed
from wixhttp.platform.store.clock import db_epoch
from wixhttp.platform.store.rows import ExecutionRow
from wixhttp.platform.store.tables import (
    EXECUTION_ATTRIBUTES,
    EXECUTION_DEFAULTS,
    EXECUTION_PUBLIC,
    cron_ticks,
    executions,
    functions,
)

__all__ = ["RUNNABLE", "Claimed", "ExecutionOp", "ExecutionQueries"]

#: The statuses of executions not started yet: claimable once ``run_after`` has come.
RUNNABLE = ("waiting", "scheduled")


@dataclass
class ExecutionOp:
    """A batched write of one execution: ``insert`` (a full row), ``update`` (some columns) or
    ``delete``. Writes to one id coalesce: an update folds into a pending insert, a delete
    replaces whatever was pending."""

    kind: Literal["insert", "update", "delete"]
    values: dict[str, Any]


@dataclass
class Claimed:
    """An execution this node claimed (now ``processing``), with the request to send and the
    status it had (to give back if it never reaches the handler)."""

    id: str
    function_id: str
    request_method: str
    request_path: str
    pending_headers: list[list[str]]
    pending_body: str
    status: str


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
                if any(row["status"] in RUNNABLE for row in inserts):
                    await self._announce(conn, WORK, "executions")
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

    async def claim_executions(
        self, project_id: str, node: str, limit: int, stamp: str
    ) -> tuple[list[Claimed], float | None]:
        """Claim up to ``limit`` runnable executions that are due (soonest ``run_after`` first)
        for ``node``: they become ``processing`` in the same transaction. Rows another node is
        claiming are skipped (``FOR UPDATE SKIP LOCKED``; SQLite's one writer serializes
        instead). Also returns, if fewer than ``limit`` were due, :meth:`next_due`."""
        async with self.engine.begin() as conn:
            before = await self._due(conn, project_id, limit)
            order = {seq: index for index, seq in enumerate(before)}
            rows: Sequence[Any] = []
            # The status is checked again: on SQLite a delete may have come in between.
            claim = (
                update(executions)
                .where(executions.c.seq.in_(before), executions.c.status.in_(RUNNABLE))
                .values(status="processing", claimed_by=node, updated_at=stamp)
                .returning(
                    executions.c.seq,
                    executions.c.id,
                    executions.c.function_id,
                    executions.c.request_method,
                    executions.c.request_path,
                    executions.c.pending_headers,
                    executions.c.pending_body,
                )
            )
            if before:
                rows = (await conn.execute(claim)).all()
            soonest = None
            if len(before) < limit:
                soonest = await self._next_due(conn, project_id)
        claimed = [
            Claimed(
                id=r.id,
                function_id=r.function_id,
                request_method=r.request_method,
                request_path=r.request_path,
                pending_headers=list(r.pending_headers or []),
                pending_body=r.pending_body or "",
                status=before[r.seq],
            )
            for r in sorted(rows, key=lambda r: order[r.seq])
        ]
        return claimed, soonest

    @staticmethod
    async def _due(conn: AsyncConnection, project_id: str, limit: int) -> dict[int, str]:
        """The ``limit`` soonest due runnable rows, locked (seq -> status). One index range
        scan per status (project, status, run_after), read in order and stopped at ``limit``:
        never a sort of the whole backlog."""
        found: list[Any] = []
        for status in RUNNABLE:
            due = (
                select(executions.c.run_after, executions.c.seq, executions.c.status)
                .where(
                    executions.c.project_id == project_id,
                    executions.c.status == status,
                    executions.c.run_after <= db_epoch(),
                )
                .order_by(executions.c.run_after)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
            found += (await conn.execute(due)).all()
        found.sort(key=lambda r: (r.run_after, r.seq))
        return {int(r.seq): str(r.status) for r in found[:limit]}

    async def next_due(self, project_id: str) -> float | None:
        """Seconds until the project's next runnable execution is due by the database's
        clock (0 or less: due now), or None if there is none."""
        async with self.engine.connect() as conn:
            return await self._next_due(conn, project_id)

    @staticmethod
    async def _next_due(conn: AsyncConnection, project_id: str) -> float | None:
        soonest = select(func.min(executions.c.run_after) - db_epoch()).where(
            executions.c.project_id == project_id, executions.c.status.in_(RUNNABLE)
        )
        value = (await conn.execute(soonest)).scalar_one_or_none()
        return None if value is None else float(value)

    async def delete_scheduled_execution(self, project_id: str, execution_id: str) -> bool:
        """Delete a ``scheduled`` execution no node has claimed; False if it is not (any
        more) scheduled. Races safely with a claim: one of the two wins."""
        async with self.engine.begin() as conn:
            result = await conn.execute(
                delete(executions).where(
                    executions.c.project_id == project_id,
                    executions.c.id == execution_id,
                    executions.c.status == "scheduled",
                )
            )
        return bool(result.rowcount)

    async def last_cron_ticks(self, project_id: str) -> dict[str, float]:
        async with self.engine.connect() as conn:
            result = await conn.execute(
                select(cron_ticks.c.function_id, cron_ticks.c.last_tick).where(
                    cron_ticks.c.project_id == project_id
                )
            )
            return {str(r[0]): float(r[1]) for r in result}

    async def function_schedules(self, project_id: str) -> dict[str, tuple[str, str]]:
        """Each of the project's functions: its cron schedule and when it last changed."""
        async with self.engine.connect() as conn:
            result = await conn.execute(
                select(functions.c.id, functions.c.schedule, functions.c.updated_at).where(
                    functions.c.project_id == project_id
                )
            )
            return {str(r[0]): (str(r[1] or ""), str(r[2])) for r in result}

    async def create_cron_execution(
        self,
        project_id: str,
        function_id: str,
        expression: str,
        tick: float,
        row: Mapping[str, Any] | None,
    ) -> bool:
        """Record that ``tick`` fired, and insert its execution ``row`` (if any), in one
        transaction; False (and nothing written) if this tick or a later one already fired
        (on any node), or the function's schedule is no longer ``expression``."""
        where = (cron_ticks.c.project_id == project_id, cron_ticks.c.function_id == function_id)
        async with self.engine.begin() as conn:
            current = await conn.execute(
                select(functions.c.schedule).where(
                    functions.c.project_id == project_id, functions.c.id == function_id
                )
            )
            if current.scalar_one_or_none() != expression:
                return False
            claimed = await self._claim_tick(conn, where, tick)
            if not claimed:
                await conn.execute(
                    _insert_ignoring(conn.dialect.name).values(
                        project_id=project_id, function_id=function_id, last_tick=0.0
                    )
                )
                if not await self._claim_tick(conn, where, tick):
                    return False
            if row is not None:
                await conn.execute(insert(executions).values({**EXECUTION_DEFAULTS, **row}))
                await self._announce(conn, WORK, "executions")
        return True

    @staticmethod
    async def _claim_tick(conn: Any, where: tuple[Any, ...], tick: float) -> bool:
        """Move the function's last tick to ``tick`` if it is earlier (exactly once across
        nodes: the row lock serializes them, the condition is checked again after it)."""
        result = await conn.execute(
            update(cron_ticks).where(*where, cron_ticks.c.last_tick < tick).values(last_tick=tick)
        )
        return bool(result.rowcount)


def _insert_ignoring(dialect: str) -> Any:
    """``INSERT ... ON CONFLICT DO NOTHING`` into ``cron_ticks`` for ``dialect``."""
    module = postgresql if dialect == "postgresql" else sqlite
    return module.insert(cron_ticks).on_conflict_do_nothing()
