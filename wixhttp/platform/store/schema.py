"""The schema brought to the newest revision (Alembic, ``migrations/``) under a lock, so that
nodes, or a node and a ``keys`` command, starting together on one database take turns.

- PostgreSQL: ``pg_advisory_xact_lock`` in the migration's own transaction (DDL is transactional
  there; the lock goes with the commit or the rollback).
- SQLite: ``BEGIN IMMEDIATE``, SQLite's write lock, taken before anything is read; a second
  process waits for it (``busy_timeout``), then finds the schema at head.

A database from the release before migrations (our tables, no ``alembic_version``) is stamped at
revision 1, which is its schema, and then upgraded like any other.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect, text
from sqlalchemy.ext.asyncio import AsyncEngine

__all__ = ["FIRST_REVISION", "LOCK_KEY", "alembic_config", "head", "upgrade"]

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
FIRST_REVISION = "r0001"
#: The advisory lock key the migrations hold on PostgreSQL (any constant of ours will do).
LOCK_KEY = 0x77697868  # "wixh"


def alembic_config(connection: Connection | None = None) -> Config:
    """Alembic's settings without a file: our scripts, and the connection to run them on."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def head() -> str:
    """The newest revision."""
    revision = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert revision is not None
    return revision


def _upgrade(connection: Connection) -> None:
    current = MigrationContext.configure(connection).get_current_revision()
    config = alembic_config(connection)
    if current is None and inspect(connection).has_table("functions"):
        command.stamp(config, FIRST_REVISION)  # made by the release before migrations
    command.upgrade(config, "head")


async def upgrade(engine: AsyncEngine) -> None:
    """Bring the schema to head, holding the database's migration lock meanwhile."""
    async with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            await connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            await connection.begin()
            await connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})
        await connection.run_sync(_upgrade)
        await connection.commit()
