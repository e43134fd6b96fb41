"""The database's clock, the one every node agrees on: queue claims, heartbeats, cron ticks and
rate windows are compared with it, never with a node's own ``time.time()``.

``db_epoch()`` is an SQL expression (epoch seconds as a float) for both engines; SQLite's is the
machine's clock (one node), PostgreSQL's the server's ``clock_timestamp()``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Float
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

__all__ = ["db_epoch"]


class db_epoch(FunctionElement[float]):  # noqa: N801 - an SQL function, named like one
    """The database's current time in epoch seconds."""

    type = Float()
    inherit_cache = True
    name = "db_epoch"


@compiles(db_epoch, "postgresql")
def _postgresql(_element: db_epoch, _compiler: SQLCompiler, **_kw: Any) -> str:
    return "CAST(EXTRACT(EPOCH FROM clock_timestamp()) AS DOUBLE PRECISION)"


@compiles(db_epoch, "sqlite")
def _sqlite(_element: db_epoch, _compiler: SQLCompiler, **_kw: Any) -> str:
    return "((julianday('now') - 2440587.5) * 86400.0)"
