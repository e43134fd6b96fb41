"""The nodes sharing the database: their heartbeats in ``platform_nodes``, and the reaping of a
node that stopped (its running executions failed, its builds queued again, its row deleted, in
one transaction)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Delete, delete, select, true, update
from sqlalchemy.ext.asyncio import AsyncConnection

from wixhttp.platform.store.base import StoreBase, now, typed
from wixhttp.platform.store.clock import db_epoch
from wixhttp.platform.store.rates import upsert_into
from wixhttp.platform.store.rows import PendingExecutionRow
from wixhttp.platform.store.tables import deployments, executions, functions, platform_nodes

__all__ = ["NodeQueries", "Reaped"]

#: What an interrupted execution becomes, given its row (see ``recovery.interrupted_values``).
Failure = Callable[[PendingExecutionRow], Mapping[str, Any]]


@dataclass
class Reaped:
    """What a reaping took up."""

    nodes: list[str] = field(default_factory=list)  # the node rows deleted
    executions: int = 0  # processing executions failed
    builds: int = 0  # builds queued again


class NodeQueries(StoreBase):
    """Heartbeats and the reaping of stopped nodes."""

    async def register_node(self, node: str, project_id: str) -> None:
        """This node is alive from now (its row is made, or made new)."""
        stamp = db_epoch()
        stmt = upsert_into(self.engine.dialect.name, platform_nodes).values(
            id=node, project_id=project_id, started_at=stamp, heartbeat_at=stamp
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=[platform_nodes.c.id],
            set_={"project_id": project_id, "started_at": stamp, "heartbeat_at": stamp},
        )
        async with self.engine.begin() as conn:
            await conn.execute(stmt)

    async def beat(self, node: str) -> bool:
        """Stamp the node's heartbeat; False if its row is gone (it was reaped)."""
        async with self.engine.begin() as conn:
            result = await conn.execute(
                update(platform_nodes)
                .where(platform_nodes.c.id == node)
                .values(heartbeat_at=db_epoch())
            )
        return bool(result.rowcount)

    async def reap_silent_nodes(
        self, project_id: str, timeout: float, keep: str, fail: Failure, note: str
    ) -> Reaped:
        """Reap the project's nodes (but ``keep``) silent for ``timeout`` seconds; with them,
        if ``keep`` is the only node left alive, the work claimed by no node."""
        stmt = delete(platform_nodes).where(
            platform_nodes.c.project_id == project_id,
            platform_nodes.c.id != keep,
            platform_nodes.c.heartbeat_at < db_epoch() - timeout,
        )
        async with self.engine.begin() as conn:
            dead = await _delete_nodes(conn, stmt)
            if not dead:
                return Reaped()
            alone = await _alone(conn, project_id, keep, timeout)
            return await _take_up(conn, project_id, dead, alone, fail, note)

    async def reap_node(
        self,
        project_id: str,
        node: str,
        *,
        unclaimed_within: float | None,
        fail: Failure,
        note: str,
    ) -> Reaped:
        """Reap ``node`` whether silent or not (its own start-up or clean stop); with
        ``unclaimed_within`` (a node timeout), also the work claimed by no node if no other
        node heartbeat within it."""
        stmt = delete(platform_nodes).where(platform_nodes.c.id == node)
        async with self.engine.begin() as conn:
            await _delete_nodes(conn, stmt)
            alone = unclaimed_within is not None and await _alone(
                conn, project_id, node, unclaimed_within
            )
            return await _take_up(conn, project_id, [node], alone, fail, note)

    async def reap_all_nodes(self, project_id: str, fail: Failure, note: str) -> Reaped:
        """Reap every node of the project and all their unfinished work (the start of the
        one node of an SQLite database)."""
        stmt = delete(platform_nodes).where(platform_nodes.c.project_id == project_id)
        async with self.engine.begin() as conn:
            dead = await _delete_nodes(conn, stmt)
            reaped = await _take_up(conn, project_id, None, True, fail, note)
        reaped.nodes = dead
        return reaped


async def _alone(conn: AsyncConnection, project_id: str, node: str, timeout: float) -> bool:
    """Whether no node but ``node`` heartbeat within ``timeout`` s. Only then is work claimed
    by no node (rows from before claims existed) taken for abandoned: with other nodes alive,
    it may be theirs."""
    others = await conn.execute(
        select(platform_nodes.c.id)
        .where(
            platform_nodes.c.project_id == project_id,
            platform_nodes.c.id != node,
            platform_nodes.c.heartbeat_at >= db_epoch() - timeout,
        )
        .limit(1)
    )
    return others.first() is None


async def _delete_nodes(conn: AsyncConnection, stmt: Delete) -> list[str]:
    result = await conn.execute(stmt.returning(platform_nodes.c.id))
    return [str(name) for name in result.scalars()]


async def _take_up(
    conn: AsyncConnection,
    project_id: str,
    nodes: Sequence[str] | None,
    unclaimed: bool,
    fail: Failure,
    note: str,
) -> Reaped:
    """Fail the processing executions and re-queue the builds claimed by ``nodes`` (None: by
    any node), in ``conn``'s transaction."""
    reaped = Reaped(nodes=list(nodes or ()))
    stamp = now()
    claimed: ColumnElement[bool] = true()
    if nodes is not None:
        claimed = executions.c.claimed_by.in_(nodes)
        if unclaimed:
            claimed = claimed | executions.c.claimed_by.is_(None)
    running = await conn.execute(
        select(executions)
        .where(executions.c.project_id == project_id, executions.c.status == "processing", claimed)
        .with_for_update()
    )
    for row in [typed(PendingExecutionRow, r) for r in running.mappings()]:
        result = await conn.execute(
            update(executions)
            .where(executions.c.id == row["id"], executions.c.status == "processing")
            .values(**fail(row))
        )
        reaped.executions += result.rowcount or 0
    building: ColumnElement[bool] = true()
    if nodes is not None:
        building = deployments.c.claimed_by.in_(nodes)
    if unclaimed and nodes is not None:
        building = building | deployments.c.claimed_by.is_(None)
    requeued = await conn.execute(
        update(deployments)
        .where(
            deployments.c.project_id == project_id,
            deployments.c.status.in_(("processing", "building")),
            building,
        )
        .values(
            status="waiting",
            claimed_by=None,
            build_logs=deployments.c.build_logs + f"[{stamp}] {note}\n",
            updated_at=stamp,
        )
        .returning(deployments.c.id)
    )
    ids = list(requeued.scalars())
    reaped.builds = len(ids)
    if ids:
        await conn.execute(
            update(functions)
            .where(functions.c.project_id == project_id, functions.c.latest_deployment_id.in_(ids))
            .values(latest_deployment_status="waiting", updated_at=stamp)
        )
    return reaped
