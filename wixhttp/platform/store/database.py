"""Which database the store opens: the URL's checks (a bad one is a :class:`DatabaseUnusable`
with one clear sentence), its printable form (the password masked) and the engine.

Two backends: SQLite through aiosqlite (the embedded default, one node) and PostgreSQL through
asyncpg (shared by several nodes). ``postgresql://`` means asyncpg and ``sqlite://`` aiosqlite.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import URL, event, make_url
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry

from wixhttp.platform.config import DatabaseConfig

__all__ = [
    "DatabaseUnusable",
    "check_directory",
    "checked_url",
    "create_engine",
    "masked",
    "sqlite_url",
    "unusable",
]

#: The drivers the store speaks, by the name a URL may give instead.
DRIVERS = {
    "postgresql": "postgresql+asyncpg",
    "postgresql+asyncpg": "postgresql+asyncpg",
    "sqlite": "sqlite+aiosqlite",
    "sqlite+aiosqlite": "sqlite+aiosqlite",
}
EXAMPLES = "postgresql+asyncpg://USER:PASSWORD@HOST:5432/DATABASE or sqlite+aiosqlite:///PATH"
#: Seconds to wait for a PostgreSQL server to accept a connection.
CONNECT_TIMEOUT = 10


class DatabaseUnusable(Exception):
    """The database URL is malformed, names another driver, or the database cannot be opened.
    The message is one sentence that never contains the URL's password."""


def sqlite_url(data_dir: Path) -> str:
    return f"sqlite+aiosqlite:///{data_dir / 'platform.db'}"


def _parse(url: str) -> URL:
    try:
        return make_url(url)
    except (ArgumentError, ValueError):
        # The message would quote the URL, password and all.
        raise DatabaseUnusable(f"malformed database URL (expected {EXAMPLES})") from None


def checked_url(url: str) -> str:
    """``url`` with its driver made explicit, or :class:`DatabaseUnusable` saying what is wrong."""
    parsed = _parse(url.strip())
    driver = DRIVERS.get(parsed.drivername)
    if driver is None:
        raise DatabaseUnusable(
            f"unsupported database driver {parsed.drivername!r} (expected {EXAMPLES})"
        )
    if driver.startswith("postgresql") and not (parsed.host and parsed.database):
        raise DatabaseUnusable(f"a PostgreSQL URL needs a host and a database ({EXAMPLES})")
    if driver.startswith("sqlite") and not parsed.database:
        raise DatabaseUnusable(f"an SQLite URL needs a file path ({EXAMPLES})")
    return parsed.set(drivername=driver).render_as_string(hide_password=False)


def masked(url: str) -> str:
    """``url`` fit to print: its password replaced by ``***``."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return "(malformed URL)"


def check_directory(url: str) -> None:
    """An SQLite file's directory must exist: :class:`DatabaseUnusable` if not (aiosqlite would
    fail there leaving a thread that prints a traceback at exit)."""
    parsed = make_url(url)
    path = parsed.database or ""
    if parsed.get_backend_name() == "sqlite" and path and path != ":memory:":
        if not Path(path).parent.is_dir():
            raise DatabaseUnusable(
                f"cannot open the database {masked(url)}: {Path(path).parent} does not exist"
            )


def unusable(url: str, exc: BaseException) -> DatabaseUnusable:
    """The failure to open the database at ``url`` as one line, its password masked."""
    reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    line = reason[0] if reason else type(exc).__name__
    secret = make_url(url).password
    if secret:
        line = line.replace(str(secret), "***")
    return DatabaseUnusable(f"cannot open the database {masked(url)}: {line}")


def _sqlite_pragmas(dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA busy_timeout=10000")  # first: WAL below may wait for a starting peer
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def create_engine(url: str, database: DatabaseConfig | None = None) -> AsyncEngine:
    """The engine for a :func:`checked_url`: SQLite in WAL mode, or PostgreSQL with the pool
    ``database`` sizes and a bounded connect time."""
    database = database or DatabaseConfig()
    if make_url(url).get_backend_name() == "postgresql":
        return create_async_engine(
            url,
            pool_size=database.pool_size,
            max_overflow=database.max_overflow,
            connect_args={"timeout": CONNECT_TIMEOUT},
        )
    engine = create_async_engine(url)
    event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    return engine
