"""Throwaway PostgreSQL databases for the tests, on the server ``TEST_POSTGRES_URL`` names.

The default is this project's machines' server (``postgresql://postgres@127.0.0.1:5432/test``,
trust auth). Each :func:`new_database` is a fresh, uniquely named database, dropped again by
:func:`drop_database`. Where no server answers, :func:`require_postgres` skips the test with a
message saying how to run it. The variable is not a ``WIXHTTP_*`` one, which the tests clear.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import itertools
import os
import time
from urllib.parse import urlsplit, urlunsplit

import pytest

__all__ = [
    "ADMIN_URL",
    "drop_database",
    "drop_database_async",
    "new_database",
    "new_database_async",
    "require_postgres",
]

#: A libpq-style URL of a database the tests may connect to as a user who may create databases.
ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
_names = itertools.count(1)


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


async def _execute(sql: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(ADMIN_URL, timeout=5)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


def _admin(sql: str) -> None:
    """Run ``sql`` on the admin database from synchronous code. Async code (a test or fixture
    on a running loop) uses the ``*_async`` functions instead: asyncpg on a second loop in
    another thread of the same process crashed the interpreter (a segfault in asyncpg's
    protocol, seen when objects of the first loop were collected in the second)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        asyncio.run(_execute(sql))
        return
    raise RuntimeError("on a running event loop: await new_database_async/drop_database_async")


@functools.cache
def _unavailable() -> str:
    """Why PostgreSQL cannot be used here ("" if it can)."""
    try:
        import asyncpg  # noqa: F401
    except ImportError:
        return "asyncpg is not installed: pip install -e '.[platform,test]'"
    try:
        # In a thread of its own: the first caller may be on a running loop. Nothing else of
        # asyncpg runs in this process yet, so no other loop's objects are around.
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            pool.submit(asyncio.run, _execute("SELECT 1")).result()
    except Exception as exc:  # noqa: BLE001 - any failure means: no server to test against
        return (
            f"no PostgreSQL at {ADMIN_URL} ({type(exc).__name__}: {exc}); start one (trust auth, "
            "a user who may create databases) or set TEST_POSTGRES_URL to run these tests"
        )
    return ""


def require_postgres() -> None:
    """Skip the calling test when no PostgreSQL server answers."""
    reason = _unavailable()
    if reason:
        pytest.skip(reason)


def _new_name() -> tuple[str, str]:
    """A fresh database name, and its SQLAlchemy URL (``postgresql+asyncpg://...``)."""
    name = f"wixhttp_test_{os.getpid()}_{next(_names)}_{time.monotonic_ns() % 10**9}"
    url = _with_database(ADMIN_URL, name)
    return name, url.replace("postgresql://", "postgresql+asyncpg://", 1)


def _drop_sql(url: str) -> str:
    name = urlsplit(url).path.lstrip("/")
    return f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'


def new_database() -> str:
    """Create an empty database (from synchronous code); returns its SQLAlchemy URL."""
    require_postgres()
    name, url = _new_name()
    _admin(f'CREATE DATABASE "{name}"')
    return url


def drop_database(url: str) -> None:
    """Drop a database made here (from synchronous code), closing what is still connected."""
    _admin(_drop_sql(url))


async def new_database_async() -> str:
    """:func:`new_database` for async tests and fixtures (on their own loop)."""
    require_postgres()
    name, url = _new_name()
    await _execute(f'CREATE DATABASE "{name}"')
    return url


async def drop_database_async(url: str) -> None:
    """:func:`drop_database` for async tests and fixtures."""
    await _execute(_drop_sql(url))
