"""The function aggregate: a function's row, its variables and its Wix activation."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import delete, insert, select, update

from wixhttp.platform import queries
from wixhttp.platform.store.base import Row, StoreBase, new_id, now, typed
from wixhttp.platform.store.rows import ActivationRow, FunctionRow, VariableRow
from wixhttp.platform.store.sealing import Sealer
from wixhttp.platform.store.tables import (
    FUNCTION_ATTRIBUTES,
    VARIABLE_ATTRIBUTES,
    activations,
    cron_ticks,
    deployments,
    executions,
    functions,
    variables,
)

__all__ = ["FunctionQueries"]


class FunctionQueries(StoreBase):
    """Reads and writes of ``functions``, ``variables`` and ``activations``. Secret variables'
    values are sealed on write and opened on read when the store has a ``sealer``."""

    sealer: Sealer | None = None

    async def create_function(self, values: Mapping[str, Any]) -> Row:
        return await self._insert(functions, values)

    async def get_function(self, project_id: str, function_id: str) -> FunctionRow | None:
        return await self._one(
            FunctionRow,
            functions, functions.c.project_id == project_id, functions.c.id == function_id
        )

    async def list_functions(
        self, project_id: str, request: queries.ListRequest
    ) -> tuple[list[FunctionRow], int]:
        return await self._list(
            FunctionRow,
            functions,
            [functions.c.project_id == project_id],
            FUNCTION_ATTRIBUTES,
            request,
            [functions.c.id, functions.c.name, functions.c.runtime],
        )

    async def all_functions(self) -> list[FunctionRow]:
        async with self.engine.connect() as conn:
            result = await conn.execute(select(functions).order_by(functions.c.seq))
            return [typed(FunctionRow, r) for r in result.mappings()]

    async def update_function(
        self, project_id: str, function_id: str, values: Mapping[str, Any]
    ) -> FunctionRow | None:
        return await self._update(
            FunctionRow,
            functions,
            {**values, "updated_at": now()},
            functions.c.project_id == project_id,
            functions.c.id == function_id,
        )

    async def delete_function(self, project_id: str, function_id: str) -> list[str]:
        """Delete a function with its variables, deployments and activation; returns the ids of
        the deployments removed (their files are the caller's to delete)."""
        async with self.engine.begin() as conn:
            result = await conn.execute(
                select(deployments.c.id).where(
                    deployments.c.project_id == project_id,
                    deployments.c.function_id == function_id,
                )
            )
            removed = [str(r) for r in result.scalars()]
            for table in (variables, deployments, activations, executions, cron_ticks):
                await conn.execute(
                    delete(table).where(
                        table.c.project_id == project_id, table.c.function_id == function_id
                    )
                )
            await conn.execute(
                delete(functions).where(
                    functions.c.project_id == project_id, functions.c.id == function_id
                )
            )
        return removed

    # -- variables -------------------------------------------------------------------------------

    def _sealed(self, values: Mapping[str, Any]) -> dict[str, Any]:
        if self.sealer is None or not values.get("secret") or "value" not in values:
            return dict(values)
        return {**values, "value": self.sealer.seal(str(values["value"]))}

    def _opened(self, row: VariableRow) -> VariableRow:
        if self.sealer is None or not row["secret"]:
            return row
        return {**row, "value": self.sealer.open(row["value"])}

    async def create_variable(self, values: Mapping[str, Any]) -> Row:
        row = await self._insert(variables, self._sealed(values))
        return {**row, "value": values.get("value", row.get("value"))}

    async def get_variable(
        self, project_id: str, function_id: str, variable_id: str
    ) -> VariableRow | None:
        row = await self._one(
            VariableRow,
            variables,
            variables.c.project_id == project_id,
            variables.c.function_id == function_id,
            variables.c.id == variable_id,
        )
        return None if row is None else self._opened(row)

    async def list_variables(
        self, project_id: str, function_id: str, request: queries.ListRequest
    ) -> tuple[list[VariableRow], int]:
        rows, total = await self._list(
            VariableRow,
            variables,
            [variables.c.project_id == project_id, variables.c.function_id == function_id],
            VARIABLE_ATTRIBUTES,
            request,
            [variables.c.id, variables.c.key],
        )
        return [self._opened(row) for row in rows], total

    async def function_variables(self, project_id: str, function_id: str) -> list[VariableRow]:
        async with self.engine.connect() as conn:
            result = await conn.execute(
                select(variables)
                .where(variables.c.project_id == project_id, variables.c.function_id == function_id)
                .order_by(variables.c.seq)
            )
            return [self._opened(typed(VariableRow, r)) for r in result.mappings()]

    async def update_variable(
        self, project_id: str, function_id: str, variable_id: str, values: Mapping[str, Any]
    ) -> VariableRow | None:
        changes = dict(values)
        if self.sealer is not None and ("value" in values or "secret" in values):
            current = await self.get_variable(project_id, function_id, variable_id)
            if current is None:
                return None
            merged = {**current, **values}
            # The clear value is written again: sealed below if the variable is (or becomes)
            # secret, in clear if it stops being one (never its ciphertext as its value).
            changes["value"] = merged["value"]
            changes = self._sealed({**changes, "secret": merged["secret"]})
        row = await self._update(
            VariableRow,
            variables,
            {**changes, "updated_at": now()},
            variables.c.project_id == project_id,
            variables.c.function_id == function_id,
            variables.c.id == variable_id,
        )
        return None if row is None else self._opened(row)

    async def seal_secret_variables(self) -> int:
        """Seal the secret values stored in plain text (before sealing existed), and check
        the sealed ones open with this key (:class:`~wixhttp.platform.store.sealing.SealError`
        if not); returns how many were sealed now."""
        if self.sealer is None:
            return 0
        sealed = 0
        async with self.engine.begin() as conn:
            rows = (await conn.execute(select(variables).where(variables.c.secret))).mappings()
            for row in list(rows):
                value = self.sealer.open(row["value"])  # raises with the wrong key
                if value == row["value"]:  # plain text
                    await conn.execute(
                        update(variables)
                        .where(variables.c.seq == row["seq"])
                        .values(value=self.sealer.seal(value))
                    )
                    sealed += 1
        return sealed

    async def delete_variable(self, project_id: str, function_id: str, variable_id: str) -> bool:
        async with self.engine.begin() as conn:
            result = await conn.execute(
                delete(variables).where(
                    variables.c.project_id == project_id,
                    variables.c.function_id == function_id,
                    variables.c.id == variable_id,
                )
            )
            return bool(result.rowcount)

    # -- activations -----------------------------------------------------------------------------

    async def get_activation(self, project_id: str, function_id: str) -> ActivationRow | None:
        return await self._one(
            ActivationRow,
            activations,
            activations.c.project_id == project_id,
            activations.c.function_id == function_id,
        )

    async def upsert_activation(
        self, project_id: str, function_id: str, deployment_id: str
    ) -> ActivationRow:
        """Activate: revision + 1 on every call (1 on the first)."""
        stamp = now()
        where = (activations.c.project_id == project_id, activations.c.function_id == function_id)
        async with self.engine.begin() as conn:
            result = await conn.execute(
                update(activations)
                .where(*where)
                .values(
                    revision=activations.c.revision + 1,
                    status="ACTIVE",
                    deployment_id=deployment_id,
                    updated_at=stamp,
                )
            )
            if result.rowcount == 0:
                await conn.execute(
                    insert(activations).values(
                        id=new_id(),
                        project_id=project_id,
                        function_id=function_id,
                        revision=1,
                        status="ACTIVE",
                        deployment_id=deployment_id,
                        created_at=stamp,
                        updated_at=stamp,
                    )
                )
            row = (await conn.execute(select(activations).where(*where))).mappings().one()
        return typed(ActivationRow, row)

    async def deactivate(self, project_id: str, function_id: str) -> ActivationRow | None:
        return await self._update(
            ActivationRow,
            activations,
            {"status": "INACTIVE", "updated_at": now()},
            activations.c.project_id == project_id,
            activations.c.function_id == function_id,
        )
