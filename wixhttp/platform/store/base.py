"""The store's engine and the helpers every aggregate's queries share; ``now()`` and ``new_id()``
(the platform's clock and ids); the store's own errors, which say what went wrong with the data
and leave its HTTP answer to the API.

The embedded backend is SQLite through aiosqlite (WAL, so the ``keys`` CLI can write while the
server runs); PostgreSQL through asyncpg is the shared one (``database.py`` opens either). The
schema is Alembic's (``schema.py``), brought to head by :meth:`StoreBase.init`.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar, cast

from sqlalchemy import ColumnElement, Table, func, insert, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.sql.elements import KeyedColumnElement

from wixhttp.platform import queries
from wixhttp.platform.config import DatabaseConfig
from wixhttp.platform.store import schema
from wixhttp.platform.store.clock import db_epoch
from wixhttp.platform.store.database import (
    DatabaseUnusable,
    check_directory,
    checked_url,
    create_engine,
    masked,
    sqlite_url,
    unusable,
)
from wixhttp.platform.store.listing import count, select_page
from wixhttp.platform.store.watch import FileWatch

__all__ = [
    "CursorNotFound",
    "DatabaseUnusable",
    "Duplicate",
    "Row",
    "StoreBase",
    "StoreError",
    "new_id",
    "now",
    "sqlite_url",
    "typed",
]

Row = dict[str, Any]
R = TypeVar("R")  # a row type of rows.py


class StoreError(Exception):
    """The data refused an operation."""


class Duplicate(StoreError):
    """A unique constraint said no (e.g. the function id is taken)."""


class CursorNotFound(StoreError):
    """A list query's cursor names no row in the list's scope."""

    def __init__(self, cursor: str) -> None:
        super().__init__(cursor)
        self.cursor = cursor


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


def typed(kind: type[R], row: Mapping[Any, Any]) -> R:
    """A copy of a database row, as the ``kind`` of row (see rows.py) its query selected."""
    return cast(R, dict(row))


class StoreBase:
    """The engine, the schema's creation, and the single-table queries the aggregates share."""

    def __init__(self, url: str, database: DatabaseConfig | None = None) -> None:
        """``url``: an SQLAlchemy async URL (:class:`DatabaseUnusable` if it is not one we
        speak); ``database``'s pool sizes apply to PostgreSQL."""
        self.url = checked_url(url)
        self.engine: AsyncEngine = create_engine(self.url, database)
        self.watch = FileWatch.for_url(self.url)

    @property
    def printable_url(self) -> str:
        """The URL with its password masked."""
        return masked(self.url)

    async def init(self) -> None:
        """Connect and bring the schema to the newest revision (under the migration lock);
        :class:`DatabaseUnusable` if the database cannot be reached or opened."""
        check_directory(self.url)
        try:
            await schema.upgrade(self.engine)
        except (OSError, SQLAlchemyError, asyncio.TimeoutError) as exc:
            raise unusable(self.url, exc) from None
        self.watch.arm()

    def lost(self) -> str | None:
        """Why the database is gone from under the platform (an SQLite file deleted or replaced
        while it runs), or None; checked at most every half second (see :mod:`.watch`)."""
        return self.watch.lost()

    async def close(self) -> None:
        await self.engine.dispose()

    @property
    def shared(self) -> bool:
        """Whether several nodes may share this database (PostgreSQL; SQLite is one node's)."""
        return self.engine.dialect.name == "postgresql"

    async def clock(self) -> float:
        """The database's current time, epoch seconds (see :mod:`.clock`)."""
        async with self.engine.connect() as conn:
            return float((await conn.execute(select(db_epoch()))).scalar_one())

    async def _announce(self, conn: AsyncConnection, channel: str, payload: str) -> None:
        """``NOTIFY channel, payload`` in ``conn``'s transaction (delivered to every node's
        :class:`~wixhttp.platform.bus.Bus` on commit); nothing on SQLite, where the one node
        tells itself directly."""
        if self.shared:
            await conn.execute(select(func.pg_notify(channel, payload)))

    async def _one(self, kind: type[R], table: Table, *where: ColumnElement[bool]) -> R | None:
        async with self.engine.connect() as conn:
            row = (await conn.execute(select(table).where(*where))).mappings().first()
        return typed(kind, row) if row is not None else None

    async def _insert(self, table: Table, values: Mapping[str, Any]) -> Row:
        try:
            async with self.engine.begin() as conn:
                await conn.execute(insert(table).values(**values))
        except IntegrityError as exc:
            raise Duplicate(str(exc.orig)) from None
        return dict(values)

    async def _update(
        self,
        kind: type[R],
        table: Table,
        values: Mapping[str, Any],
        *key: ColumnElement[bool],
        condition: Sequence[ColumnElement[bool]] = (),
    ) -> R | None:
        """Update the row identified by ``key`` (if ``condition`` holds); returns it after."""
        try:
            async with self.engine.begin() as conn:
                result = await conn.execute(update(table).where(*key, *condition).values(**values))
                if result.rowcount == 0:
                    return None
                row = (await conn.execute(select(table).where(*key))).mappings().first()
        except IntegrityError as exc:
            raise Duplicate(str(exc.orig)) from None
        return typed(kind, row) if row is not None else None

    async def _list(
        self,
        kind: type[R],
        table: Table,
        scope: Sequence[ColumnElement[bool]],
        attributes: Mapping[str, KeyedColumnElement[Any]],
        request: queries.ListRequest,
        search_targets: Sequence[ColumnElement[Any]] = (),
        columns: Sequence[ColumnElement[Any]] = (),
    ) -> tuple[list[R], int]:
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
                    raise CursorNotFound(request.cursor)
                cursor_row = {name: found[column.key] for name, column in attributes.items()}
            stmt, reverse = select_page(
                base,
                request,
                attributes,
                sequence=table.c.seq,
                search_targets=search_targets,
                cursor_row=cursor_row,
            )
            rows = [typed(kind, r) for r in (await conn.execute(stmt)).mappings()]
            total = 0
            if request.total:
                counted = count(base, request, attributes, search_targets=search_targets)
                total = int((await conn.execute(counted)).scalar_one())
        if reverse:
            rows.reverse()
        return rows, total
