"""Persistence: SQLAlchemy 2 Core tables and the queries the API needs, async.

The embedded backend is SQLite through aiosqlite (WAL, so the ``keys`` CLI can write while the
server runs). Nothing here is SQLite-specific except :func:`_sqlite_pragmas`; a PostgreSQL
backend needs only another URL (``postgresql+asyncpg://...``) and that driver. The API layer
talks to :class:`Store` in plain dicts keyed by column name and never builds SQL itself.

Tables: ``api_keys``, ``functions``, ``variables``, ``deployments``, ``activations``,
``executions`` and ``cron_ticks``. Every row has a ``seq`` (Appwrite's ``$sequence``: insertion
order, the default sort and tie-break). Executions are mostly written in batches by
:class:`wixhttp.platform.executions.BatchWriter` through :meth:`Store.write_executions`.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    ColumnElement,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    bindparam,
    delete,
    event,
    insert,
    select,
    update,
)
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.sql.elements import KeyedColumnElement

from wixhttp.platform import queries
from wixhttp.platform.errors import AppwriteError

__all__ = ["Duplicate", "ExecutionOp", "Store", "metadata", "new_id", "now"]

Row = dict[str, Any]
metadata = MetaData()


_second: list[Any] = [-1, ""]  # the last whole second formatted by now(), and its text


def now() -> str:
    """The current time the way Appwrite writes it: ``2025-01-01T00:00:00.000+00:00``
    (UTC; the date and time of day are formatted once a second: this runs per request)."""
    stamp = time.time()
    second = int(stamp)
    if second != _second[0]:
        _second[:] = [second, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))]
    return f"{_second[1]}.{int((stamp - second) * 1000):03d}+00:00"


def new_id() -> str:
    """An id like the SDK's ``ID.unique()``: 13 hex digits of time plus 7 random ones."""
    micros = time.time_ns() // 1000
    return f"{micros // 1_000_000:08x}{micros % 1_000_000:05x}{secrets.token_hex(4)[:7]}"


class Duplicate(Exception):
    """A unique constraint said no (e.g. the function id is taken)."""


api_keys = Table(
    "api_keys",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("id", String(36), nullable=False, unique=True),
    Column("project_id", String(36), nullable=False),
    Column("name", String(128), nullable=False, default=""),
    Column("secret_hash", String(64), nullable=False, unique=True),
    Column("hint", String(16), nullable=False),
    Column("scopes", JSON, nullable=False),
    Column("created_at", String(32), nullable=False),
    Column("revoked_at", String(32), nullable=False, default=""),
)

functions = Table(
    "functions",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("project_id", String(36), nullable=False),
    Column("id", String(36), nullable=False),
    Column("created_at", String(32), nullable=False),
    Column("updated_at", String(32), nullable=False),
    Column("name", String(128), nullable=False),
    Column("runtime", String(64), nullable=False),
    Column("execute", JSON, nullable=False),
    Column("events", JSON, nullable=False),
    Column("schedule", String(256), nullable=False, default=""),
    Column("timeout", Integer, nullable=False),
    Column("enabled", Boolean, nullable=False),
    Column("logging", Boolean, nullable=False),
    Column("entrypoint", Text, nullable=False, default=""),
    Column("commands", Text, nullable=False, default=""),
    Column("scopes", JSON, nullable=False),
    Column("live", Boolean, nullable=False, default=True),
    Column("deployment_id", String(36), nullable=False, default=""),
    Column("deployment_created_at", String(32), nullable=False, default=""),
    Column("latest_deployment_id", String(36), nullable=False, default=""),
    Column("latest_deployment_created_at", String(32), nullable=False, default=""),
    Column("latest_deployment_status", String(16), nullable=False, default=""),
    Column("extra", JSON, nullable=False),  # provider*, specifications, retention, description
    UniqueConstraint("project_id", "id", name="uq_functions_project_id"),
)

variables = Table(
    "variables",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("project_id", String(36), nullable=False),
    Column("function_id", String(36), nullable=False),
    Column("id", String(36), nullable=False),
    Column("created_at", String(32), nullable=False),
    Column("updated_at", String(32), nullable=False),
    Column("key", String(255), nullable=False),
    Column("value", Text, nullable=False),
    Column("secret", Boolean, nullable=False),
    Column("description", Text, nullable=False, default=""),
    UniqueConstraint("project_id", "function_id", "id", name="uq_variables_id"),
    UniqueConstraint("project_id", "function_id", "key", name="uq_variables_key"),
)

deployments = Table(
    "deployments",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("id", String(36), nullable=False, unique=True),
    Column("project_id", String(36), nullable=False),
    Column("function_id", String(36), nullable=False),
    Column("created_at", String(32), nullable=False),
    Column("updated_at", String(32), nullable=False),
    Column("type", String(16), nullable=False),
    Column("entrypoint", Text, nullable=False),
    Column("commands", Text, nullable=False, default=""),
    Column("source_size", Integer, nullable=False, default=0),
    Column("build_size", Integer, nullable=False, default=0),
    Column("total_size", Integer, nullable=False, default=0),
    Column("activate", Boolean, nullable=False, default=False),
    Column("status", String(16), nullable=False),
    Column("build_logs", Text, nullable=False, default=""),
    Column("build_duration", Integer, nullable=False, default=0),
    Column("chunks_total", Integer, nullable=False, default=1),
    Column("chunks_uploaded", Integer, nullable=False, default=0),
    Column("routes", JSON, nullable=False),  # [{"name":..., "methods": [...]}] once built
    Index("ix_deployments_function", "project_id", "function_id", "seq"),
)

activations = Table(
    "activations",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("id", String(36), nullable=False, unique=True),
    Column("project_id", String(36), nullable=False),
    Column("function_id", String(36), nullable=False),
    Column("revision", Integer, nullable=False),
    Column("status", String(16), nullable=False),  # ACTIVE | INACTIVE
    Column("deployment_id", String(36), nullable=False, default=""),
    Column("created_at", String(32), nullable=False),
    Column("updated_at", String(32), nullable=False),
    UniqueConstraint("project_id", "function_id", name="uq_activations_function"),
)

executions = Table(
    "executions",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("id", String(36), nullable=False, unique=True),
    Column("project_id", String(36), nullable=False),
    Column("function_id", String(36), nullable=False),
    Column("deployment_id", String(36), nullable=False, default=""),
    Column("created_at", String(32), nullable=False),
    Column("updated_at", String(32), nullable=False),  # also: when the status last changed
    Column("trigger", String(16), nullable=False),  # http | schedule | event
    Column("status", String(16), nullable=False),  # waiting|processing|completed|failed|scheduled
    Column("request_method", String(16), nullable=False),
    Column("request_path", Text, nullable=False),
    Column("request_headers", JSON, nullable=False),  # [{"name", "value"}], filtered
    Column("response_status_code", Integer, nullable=False, default=0),
    Column("response_headers", JSON, nullable=False),  # [{"name", "value"}], filtered
    Column("logs", Text, nullable=False, default=""),
    Column("errors", Text, nullable=False, default=""),
    Column("duration", Float, nullable=False, default=0.0),
    Column("scheduled_at", String(32), nullable=True),
    # The request still to be sent (waiting and scheduled executions); cleared once it runs.
    Column("pending_headers", JSON, nullable=True),  # [[name, value], ...] as the worker gets them
    Column("pending_body", Text, nullable=True),
    Index("ix_executions_function", "project_id", "function_id", "seq"),
    Index("ix_executions_status", "status"),
)

cron_ticks = Table(
    "cron_ticks",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("project_id", String(36), nullable=False),
    Column("function_id", String(36), nullable=False),
    Column("last_tick", Float, nullable=False),  # epoch seconds of the last tick fired
    UniqueConstraint("project_id", "function_id", name="uq_cron_ticks_function"),
)

FUNCTION_ATTRIBUTES: dict[str, KeyedColumnElement[Any]] = {
    "$id": functions.c.id,
    "$createdAt": functions.c.created_at,
    "$updatedAt": functions.c.updated_at,
    "$sequence": functions.c.seq,
    "name": functions.c.name,
    "enabled": functions.c.enabled,
    "runtime": functions.c.runtime,
    "deploymentId": functions.c.deployment_id,
    "schedule": functions.c.schedule,
    "timeout": functions.c.timeout,
    "entrypoint": functions.c.entrypoint,
    "commands": functions.c.commands,
}
DEPLOYMENT_ATTRIBUTES: dict[str, KeyedColumnElement[Any]] = {
    "$id": deployments.c.id,
    "$createdAt": deployments.c.created_at,
    "$updatedAt": deployments.c.updated_at,
    "$sequence": deployments.c.seq,
    "buildSize": deployments.c.build_size,
    "sourceSize": deployments.c.source_size,
    "totalSize": deployments.c.total_size,
    "buildDuration": deployments.c.build_duration,
    "status": deployments.c.status,
    "activate": deployments.c.activate,
    "type": deployments.c.type,
}
VARIABLE_ATTRIBUTES: dict[str, KeyedColumnElement[Any]] = {
    "$id": variables.c.id,
    "$createdAt": variables.c.created_at,
    "$updatedAt": variables.c.updated_at,
    "$sequence": variables.c.seq,
    "key": variables.c.key,
    "secret": variables.c.secret,
}
EXECUTION_ATTRIBUTES: dict[str, KeyedColumnElement[Any]] = {
    "$id": executions.c.id,
    "$createdAt": executions.c.created_at,
    "$updatedAt": executions.c.updated_at,
    "$sequence": executions.c.seq,
    "trigger": executions.c.trigger,
    "status": executions.c.status,
    "responseStatusCode": executions.c.response_status_code,
    "duration": executions.c.duration,
    "requestMethod": executions.c.request_method,
    "requestPath": executions.c.request_path,
    "deploymentId": executions.c.deployment_id,
}
#: Every column of an execution row but ``seq``, with the value a new row gets if not given.
EXECUTION_DEFAULTS: dict[str, Any] = {
    "deployment_id": "",
    "request_method": "POST",
    "request_path": "/",
    "request_headers": [],
    "response_status_code": 0,
    "response_headers": [],
    "logs": "",
    "errors": "",
    "duration": 0.0,
    "scheduled_at": None,
    "pending_headers": None,
    "pending_body": None,
}


@dataclass
class ExecutionOp:
    """A batched write of one execution: ``insert`` (a full row), ``update`` (some columns) or
    ``delete``. Writes to one id coalesce: an update folds into a pending insert, a delete
    replaces whatever was pending."""

    kind: Literal["insert", "update", "delete"]
    values: dict[str, Any]


def _sqlite_pragmas(dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def sqlite_url(data_dir: Path) -> str:
    return f"sqlite+aiosqlite:///{data_dir / 'platform.db'}"


class Store:
    """All reads and writes of the platform's state."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine: AsyncEngine = create_async_engine(url)
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)

    @classmethod
    def in_directory(cls, data_dir: Path) -> Store:
        data_dir.mkdir(parents=True, exist_ok=True)
        return cls(sqlite_url(data_dir))

    async def init(self) -> None:
        async with self.engine.begin() as conn:
            await conn.run_sync(metadata.create_all)

    async def close(self) -> None:
        await self.engine.dispose()

    # -- helpers ---------------------------------------------------------------------------------

    async def _one(self, table: Table, *where: ColumnElement[bool]) -> Row | None:
        async with self.engine.connect() as conn:
            row = (await conn.execute(select(table).where(*where))).mappings().first()
        return dict(row) if row is not None else None

    async def _insert(self, table: Table, values: Mapping[str, Any]) -> Row:
        try:
            async with self.engine.begin() as conn:
                await conn.execute(insert(table).values(**values))
        except IntegrityError as exc:
            raise Duplicate(str(exc.orig)) from None
        return dict(values)

    async def _update(
        self,
        table: Table,
        values: Mapping[str, Any],
        *key: ColumnElement[bool],
        condition: Sequence[ColumnElement[bool]] = (),
    ) -> Row | None:
        """Update the row identified by ``key`` (if ``condition`` holds); returns it after."""
        try:
            async with self.engine.begin() as conn:
                result = await conn.execute(update(table).where(*key, *condition).values(**values))
                if result.rowcount == 0:
                    return None
                row = (await conn.execute(select(table).where(*key))).mappings().first()
        except IntegrityError as exc:
            raise Duplicate(str(exc.orig)) from None
        return dict(row) if row is not None else None

    async def _list(
        self,
        table: Table,
        scope: Sequence[ColumnElement[bool]],
        attributes: Mapping[str, KeyedColumnElement[Any]],
        request: queries.ListRequest,
        search_targets: Sequence[ColumnElement[Any]] = (),
        columns: Sequence[ColumnElement[Any]] = (),
    ) -> tuple[list[Row], int]:
        base = (select(*columns) if columns else select(table)).where(*scope)
        async with self.engine.connect() as conn:
            cursor_row: Row | None = None
            if request.cursor is not None:
                found = (
                    (await conn.execute(base.where(table.c.id == request.cursor)))
                    .mappings()
                    .first()
                )
                if found is None:
                    raise AppwriteError(
                        400,
                        "general_cursor_not_found",
                        f'Document with ID "{request.cursor}" could not be found.',
                    )
                cursor_row = {name: found[column.key] for name, column in attributes.items()}
            stmt, reverse = queries.select_page(
                base,
                request,
                attributes,
                sequence=table.c.seq,
                search_targets=search_targets,
                cursor_row=cursor_row,
            )
            rows = [dict(r) for r in (await conn.execute(stmt)).mappings()]
            total = 0
            if request.total:
                counted = queries.count(base, request, attributes, search_targets=search_targets)
                total = int((await conn.execute(counted)).scalar_one())
        if reverse:
            rows.reverse()
        return rows, total

    # -- API keys --------------------------------------------------------------------------------

    async def create_key(self, values: Mapping[str, Any]) -> Row:
        return await self._insert(api_keys, values)

    async def key_by_hash(self, secret_hash: str) -> Row | None:
        return await self._one(api_keys, api_keys.c.secret_hash == secret_hash)

    async def list_keys(self) -> list[Row]:
        async with self.engine.connect() as conn:
            result = await conn.execute(select(api_keys).order_by(api_keys.c.seq))
            return [dict(r) for r in result.mappings()]

    async def revoke_key(self, key_id: str) -> bool:
        row = await self._update(
            api_keys,
            {"revoked_at": now()},
            api_keys.c.id == key_id,
            condition=[api_keys.c.revoked_at == ""],
        )
        return row is not None

    # -- functions -------------------------------------------------------------------------------

    async def create_function(self, values: Mapping[str, Any]) -> Row:
        return await self._insert(functions, values)

    async def get_function(self, project_id: str, function_id: str) -> Row | None:
        return await self._one(
            functions, functions.c.project_id == project_id, functions.c.id == function_id
        )

    async def list_functions(
        self, project_id: str, request: queries.ListRequest
    ) -> tuple[list[Row], int]:
        return await self._list(
            functions,
            [functions.c.project_id == project_id],
            FUNCTION_ATTRIBUTES,
            request,
            [functions.c.id, functions.c.name, functions.c.runtime],
        )

    async def all_functions(self) -> list[Row]:
        async with self.engine.connect() as conn:
            result = await conn.execute(select(functions).order_by(functions.c.seq))
            return [dict(r) for r in result.mappings()]

    async def update_function(
        self, project_id: str, function_id: str, values: Mapping[str, Any]
    ) -> Row | None:
        return await self._update(
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

    async def create_variable(self, values: Mapping[str, Any]) -> Row:
        return await self._insert(variables, values)

    async def get_variable(self, project_id: str, function_id: str, variable_id: str) -> Row | None:
        return await self._one(
            variables,
            variables.c.project_id == project_id,
            variables.c.function_id == function_id,
            variables.c.id == variable_id,
        )

    async def list_variables(
        self, project_id: str, function_id: str, request: queries.ListRequest
    ) -> tuple[list[Row], int]:
        return await self._list(
            variables,
            [variables.c.project_id == project_id, variables.c.function_id == function_id],
            VARIABLE_ATTRIBUTES,
            request,
            [variables.c.id, variables.c.key],
        )

    async def function_variables(self, project_id: str, function_id: str) -> list[Row]:
        async with self.engine.connect() as conn:
            result = await conn.execute(
                select(variables)
                .where(variables.c.project_id == project_id, variables.c.function_id == function_id)
                .order_by(variables.c.seq)
            )
            return [dict(r) for r in result.mappings()]

    async def update_variable(
        self, project_id: str, function_id: str, variable_id: str, values: Mapping[str, Any]
    ) -> Row | None:
        return await self._update(
            variables,
            {**values, "updated_at": now()},
            variables.c.project_id == project_id,
            variables.c.function_id == function_id,
            variables.c.id == variable_id,
        )

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

    # -- deployments -----------------------------------------------------------------------------

    async def create_deployment(self, values: Mapping[str, Any]) -> Row:
        return await self._insert(deployments, {"routes": [], **values})

    async def get_deployment(self, deployment_id: str) -> Row | None:
        return await self._one(deployments, deployments.c.id == deployment_id)

    async def list_deployments(
        self, project_id: str, function_id: str, request: queries.ListRequest
    ) -> tuple[list[Row], int]:
        return await self._list(
            deployments,
            [deployments.c.project_id == project_id, deployments.c.function_id == function_id],
            DEPLOYMENT_ATTRIBUTES,
            request,
            [deployments.c.id, deployments.c.status, deployments.c.type],
        )

    async def update_deployment(
        self, deployment_id: str, values: Mapping[str, Any], *, only_if_status: Sequence[str] = ()
    ) -> Row | None:
        """Update a deployment (only while its status is one of ``only_if_status``, if given)."""
        condition = [deployments.c.status.in_(only_if_status)] if only_if_status else []
        return await self._update(
            deployments,
            {**values, "updated_at": now()},
            deployments.c.id == deployment_id,
            condition=condition,
        )

    async def finish_deployment(
        self, deployment_id: str, values: Mapping[str, Any], *, only_if_status: Sequence[str]
    ) -> Row | None:
        """End a build, in one transaction: update the deployment (if its status is still one
        of ``only_if_status``); if it is now ready and meant to be activated, make it the
        function's active deployment; keep ``latestDeploymentStatus`` in step."""
        stamp = now()
        async with self.engine.begin() as conn:
            result = await conn.execute(
                update(deployments)
                .where(deployments.c.id == deployment_id, deployments.c.status.in_(only_if_status))
                .values(**values, updated_at=stamp)
            )
            if result.rowcount == 0:
                return None
            row = (
                (await conn.execute(select(deployments).where(deployments.c.id == deployment_id)))
                .mappings()
                .one()
            )
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
        return dict(row)

    async def record_chunk(self, deployment_id: str) -> Row | None:
        """Count one more uploaded chunk, atomically; returns the deployment after it."""
        return await self._update(
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

    async def latest_deployment(self, project_id: str, function_id: str) -> Row | None:
        """The newest upload that has fully arrived."""
        async with self.engine.connect() as conn:
            row = (
                (
                    await conn.execute(
                        select(deployments)
                        .where(
                            deployments.c.project_id == project_id,
                            deployments.c.function_id == function_id,
                            deployments.c.chunks_uploaded >= deployments.c.chunks_total,
                        )
                        .order_by(deployments.c.seq.desc())
                        .limit(1)
                    )
                )
                .mappings()
                .first()
            )
        return dict(row) if row is not None else None

    async def latest_ready_deployment(self, project_id: str, function_id: str) -> Row | None:
        async with self.engine.connect() as conn:
            row = (
                (
                    await conn.execute(
                        select(deployments)
                        .where(
                            deployments.c.project_id == project_id,
                            deployments.c.function_id == function_id,
                            deployments.c.status == "ready",
                        )
                        .order_by(deployments.c.seq.desc())
                        .limit(1)
                    )
                )
                .mappings()
                .first()
            )
        return dict(row) if row is not None else None

    async def deployments_with_status(self, statuses: Sequence[str]) -> list[Row]:
        async with self.engine.connect() as conn:
            result = await conn.execute(
                select(deployments)
                .where(
                    deployments.c.status.in_(statuses),
                    deployments.c.chunks_uploaded >= deployments.c.chunks_total,
                )
                .order_by(deployments.c.seq)
            )
            return [dict(r) for r in result.mappings()]

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

    # -- activations -----------------------------------------------------------------------------

    async def get_activation(self, project_id: str, function_id: str) -> Row | None:
        return await self._one(
            activations,
            activations.c.project_id == project_id,
            activations.c.function_id == function_id,
        )

    async def upsert_activation(self, project_id: str, function_id: str, deployment_id: str) -> Row:
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
        return dict(row)

    async def deactivate(self, project_id: str, function_id: str) -> Row | None:
        return await self._update(
            activations,
            {"status": "INACTIVE", "updated_at": now()},
            activations.c.project_id == project_id,
            activations.c.function_id == function_id,
        )

    # -- executions ------------------------------------------------------------------------------

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

    async def delete_executions_before(
        self, project_id: str, stamp: str, chunk: int = 1000
    ) -> int:
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
    ) -> Row | None:
        async with self.engine.connect() as conn:
            row = (
                (
                    await conn.execute(
                        select(*_EXECUTION_PUBLIC).where(
                            executions.c.project_id == project_id,
                            executions.c.function_id == function_id,
                            executions.c.id == execution_id,
                        )
                    )
                )
                .mappings()
                .first()
            )
        return dict(row) if row is not None else None

    async def list_executions(
        self,
        project_id: str,
        function_id: str,
        request: queries.ListRequest,
    ) -> tuple[list[Row], int]:
        """A function's executions."""
        return await self._list(
            executions,
            [executions.c.project_id == project_id, executions.c.function_id == function_id],
            EXECUTION_ATTRIBUTES,
            request,
            columns=_EXECUTION_PUBLIC,
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

    async def unfinished_executions(self, project_id: str) -> list[Row]:
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
            return [dict(r) for r in result.mappings()]

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


_EXECUTION_PUBLIC = [
    c for c in executions.columns if c.key not in ("pending_headers", "pending_body")
]
