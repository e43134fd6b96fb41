"""The deployment aggregate: uploads, chunk counts and the end of a build."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import ColumnElement, delete, select, update

from wixhttp.platform import queries
from wixhttp.platform.store.base import Row, StoreBase, now, typed
from wixhttp.platform.store.rows import DeploymentRow
from wixhttp.platform.store.tables import DEPLOYMENT_ATTRIBUTES, deployments, functions

__all__ = ["DeploymentQueries"]


class DeploymentQueries(StoreBase):
    """Reads and writes of ``deployments`` (and the function's deployment columns a build
    finishing updates)."""

    async def create_deployment(self, values: Mapping[str, Any]) -> Row:
        return await self._insert(deployments, {"routes": [], **values})

    async def get_deployment(self, deployment_id: str) -> DeploymentRow | None:
        return await self._one(DeploymentRow, deployments, deployments.c.id == deployment_id)

    async def list_deployments(
        self, project_id: str, function_id: str, request: queries.ListRequest
    ) -> tuple[list[DeploymentRow], int]:
        return await self._list(
            DeploymentRow,
            deployments,
            [deployments.c.project_id == project_id, deployments.c.function_id == function_id],
            DEPLOYMENT_ATTRIBUTES,
            request,
            [deployments.c.id, deployments.c.status, deployments.c.type],
        )

    async def update_deployment(
        self,
        deployment_id: str,
        values: Mapping[str, Any],
        *,
        only_if_status: Sequence[str] = (),
        claimed_by: str | None = None,
    ) -> DeploymentRow | None:
        """Update a deployment (only while its status is one of ``only_if_status``, if given,
        and while ``claimed_by`` builds it, if given)."""
        condition = _conditions(only_if_status, claimed_by)
        return await self._update(
            DeploymentRow,
            deployments,
            {**values, "updated_at": now()},
            deployments.c.id == deployment_id,
            condition=condition,
        )

    async def finish_deployment(
        self,
        deployment_id: str,
        values: Mapping[str, Any],
        *,
        only_if_status: Sequence[str],
        claimed_by: str | None = None,
    ) -> DeploymentRow | None:
        """End a build, in one transaction: update the deployment (if its status is still one
        of ``only_if_status`` and ``claimed_by``, if given, still builds it); if it is now
        ready and meant to be activated, make it the function's active deployment; keep
        ``latestDeploymentStatus`` in step."""
        stamp = now()
        async with self.engine.begin() as conn:
            result = await conn.execute(
                update(deployments)
                .where(deployments.c.id == deployment_id, *_conditions(only_if_status, claimed_by))
                .values(**values, updated_at=stamp)
            )
            if result.rowcount == 0:
                return None
            selected = select(deployments).where(deployments.c.id == deployment_id)
            row = typed(DeploymentRow, (await conn.execute(selected)).mappings().one())
            function = (functions.c.project_id == row["project_id"]) & (
                functions.c.id == row["function_id"]
            )
            await conn.execute(
                update(functions)
                .where(function, functions.c.latest_deployment_id == deployment_id)
                .values(latest_deployment_status=row["status"], updated_at=stamp)
            )
            if row["status"] == "ready" and row["activate"]:
                await conn.execute(
                    update(functions)
                    .where(function)
                    .values(
                        deployment_id=deployment_id,
                        deployment_created_at=row["created_at"],
                        live=True,
                        updated_at=stamp,
                    )
                )
        return row

    async def record_chunk(self, deployment_id: str) -> DeploymentRow | None:
        """Count one more uploaded chunk, atomically; returns the deployment after it."""
        return await self._update(
            DeploymentRow,
            deployments,
            {"chunks_uploaded": deployments.c.chunks_uploaded + 1, "updated_at": now()},
            deployments.c.id == deployment_id,
        )

    async def delete_deployment(self, deployment_id: str) -> bool:
        async with self.engine.begin() as conn:
            result = await conn.execute(
                delete(deployments).where(deployments.c.id == deployment_id)
            )
            return bool(result.rowcount)

    async def latest_deployment(self, project_id: str, function_id: str) -> DeploymentRow | None:
        """The newest upload that has fully arrived."""
        uploaded = deployments.c.chunks_uploaded >= deployments.c.chunks_total
        return await self._latest(project_id, function_id, uploaded)

    async def latest_ready_deployment(
        self, project_id: str, function_id: str
    ) -> DeploymentRow | None:
        """The newest deployment whose build is ready."""
        return await self._latest(project_id, function_id, deployments.c.status == "ready")

    async def _latest(
        self, project_id: str, function_id: str, condition: ColumnElement[bool]
    ) -> DeploymentRow | None:
        query = (
            select(deployments)
            .where(
                deployments.c.project_id == project_id,
                deployments.c.function_id == function_id,
                condition,
            )
            .order_by(deployments.c.seq.desc())
            .limit(1)
        )
        async with self.engine.connect() as conn:
            row = (await conn.execute(query)).mappings().first()
        return typed(DeploymentRow, row) if row is not None else None

    async def claim_builds(self, project_id: str, node: str, limit: int) -> list[DeploymentRow]:
        """Claim up to ``limit`` of the project's waiting builds (fully uploaded), oldest
        first, for ``node``: they become ``processing``. Nodes claiming at once skip each
        other's rows (``FOR UPDATE SKIP LOCKED``; SQLite has one writer and ignores it)."""
        waiting = (
            select(deployments.c.seq)
            .where(
                deployments.c.project_id == project_id,
                deployments.c.status == "waiting",
                deployments.c.chunks_uploaded >= deployments.c.chunks_total,
            )
            .order_by(deployments.c.seq)
            .limit(limit)
        )
        # Picked once, in a materialized CTE: as a plain IN (subquery), PostgreSQL may run the
        # subquery again for rows other claimers changed meanwhile, and claim more than limit.
        picked = waiting.with_for_update(skip_locked=True).cte("picked").prefix_with("MATERIALIZED")
        stmt = (
            update(deployments)
            .where(
                deployments.c.seq.in_(select(picked.c.seq)),
                deployments.c.status == "waiting",
            )
            .values(status="processing", claimed_by=node, updated_at=now())
            .returning(*deployments.columns)
        )
        async with self.engine.connect() as conn:  # a read first: polling takes no write lock
            if (await conn.execute(waiting)).first() is None:
                return []
        async with self.engine.begin() as conn:
            rows = [typed(DeploymentRow, r) for r in (await conn.execute(stmt)).mappings()]
        return sorted(rows, key=lambda row: row["seq"])

    async def build_claims(self, deployment_ids: Sequence[str]) -> dict[str, tuple[str, str]]:
        """The status and claiming node of each of these deployments that still exists."""
        async with self.engine.connect() as conn:
            result = await conn.execute(
                select(deployments.c.id, deployments.c.status, deployments.c.claimed_by).where(
                    deployments.c.id.in_(deployment_ids)
                )
            )
            return {row.id: (row.status, row.claimed_by or "") for row in result}

    async def clear_activate_flags(self, project_id: str, function_id: str, except_id: str) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(
                update(deployments)
                .where(
                    deployments.c.project_id == project_id,
                    deployments.c.function_id == function_id,
                    deployments.c.id != except_id,
                )
                .values(activate=False)
            )


def _conditions(only_if_status: Sequence[str], claimed_by: str | None) -> list[ColumnElement[bool]]:
    condition: list[ColumnElement[bool]] = []
    if only_if_status:
        condition.append(deployments.c.status.in_(only_if_status))
    if claimed_by is not None:
        condition.append(deployments.c.claimed_by == claimed_by)
    return condition
