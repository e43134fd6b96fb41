"""Rate limits every node counts together: one row per key and fixed window in ``rate_counters``,
counted with one upsert (one round trip) on the database's clock."""

from __future__ import annotations

import functools
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, Table, bindparam, cast, delete, func
from sqlalchemy.dialects import postgresql, sqlite

from wixhttp.platform.store.base import StoreBase
from wixhttp.platform.store.clock import db_epoch
from wixhttp.platform.store.tables import rate_counters

__all__ = ["RateQueries", "upsert_into"]


def upsert_into(dialect: str, table: Table) -> Any:
    """An ``INSERT`` that can take ``on_conflict_do_update`` (PostgreSQL's or SQLite's)."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(table)


def window_start(dialect: str, seconds: ColumnElement[int]) -> ColumnElement[int]:
    """The start (whole epoch seconds, on the database's clock) of the current window of
    ``seconds`` seconds."""
    per = db_epoch() / seconds
    # PostgreSQL's CAST rounds to the nearest integer, SQLite's truncates (epochs are positive).
    whole = cast(func.floor(per) if dialect == "postgresql" else per, BigInteger)
    return whole * seconds


@functools.cache
def _hit(dialect: str) -> Any:
    """The counting upsert, built once per dialect (building it per call cost more than the
    round trip): parameters ``key`` and ``seconds``."""
    seconds = bindparam("seconds", type_=BigInteger)
    stmt = upsert_into(dialect, rate_counters).values(
        key=bindparam("key"), window=window_start(dialect, seconds), count=1
    )
    return stmt.on_conflict_do_update(
        index_elements=[rate_counters.c.key, rate_counters.c.window],
        set_={"count": rate_counters.c.count + 1},
    ).returning(rate_counters.c.count, rate_counters.c.window, db_epoch())


class RateQueries(StoreBase):
    """Counts of what callers did per fixed window (guest executions, activations)."""

    async def count_hit(self, key: str, window: int) -> tuple[int, int, float]:
        """Count one more hit on ``key`` in the current window of ``window`` seconds: the
        count so far (this one included), the window's start and the database's clock."""
        stmt = _hit(self.engine.dialect.name)
        # One statement is atomic on its own: no BEGIN/COMMIT round trips around it.
        async with self.engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            row = await conn.execute(stmt, {"key": key, "seconds": window})
            count, start, clock = row.one()
        return int(count), int(start), float(clock)

    async def forget_hit(self, key: str, start: int) -> None:
        """Take back one hit counted in the window starting at ``start`` (what it allowed did
        not happen)."""
        condition = (rate_counters.c.key == key) & (rate_counters.c.window == start)
        async with self.engine.begin() as conn:
            await conn.execute(
                rate_counters.update()
                .where(condition, rate_counters.c.count > 0)
                .values(count=rate_counters.c.count - 1)
            )

    async def forget_rate_windows(self, older_than: float) -> int:
        """Delete the counts of windows that started more than ``older_than`` seconds ago."""
        async with self.engine.begin() as conn:
            result = await conn.execute(
                delete(rate_counters).where(rate_counters.c.window < db_epoch() - older_than)
            )
        return int(result.rowcount or 0)
