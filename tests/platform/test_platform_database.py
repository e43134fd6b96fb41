"""Where the platform keeps its state: ``--database-url`` / ``WIXHTTP_DATABASE_URL`` through the
real CLI, the migrations against the tables they must agree with (SQLite and PostgreSQL), and a
data directory of the release before migrations upgraded in place, its rows read back via the API.
"""

from __future__ import annotations

import asyncio
import os
import re
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection

from tests._postgres import drop_database, new_database
from tests.platform._support import PlatformProcess
from wixhttp.platform.store import Store, metadata, sqlite_url
from wixhttp.platform.store.schema import FIRST_REVISION, alembic_config, head

DATA = Path(__file__).resolve().parent / "data"
SECRET = "sekret-pw-4711"


def wixhttp(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``wixhttp ARGS`` as a user runs it (its environment without ``WIXHTTP_*``, plus ``env``),
    in an empty folder: a command without ``--data`` makes its default data directory there
    (with the key file that seals secret variables), never in the checkout."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("WIXHTTP_")}
    with tempfile.TemporaryDirectory(prefix="wixhttp-cli-") as cwd:
        return subprocess.run(
            [sys.executable, "-c", "from wixhttp.cli import main; main()", *args],
            capture_output=True,
            text=True,
            timeout=60,
            env={**clean, **(env or {})},
            cwd=cwd,
        )


def assert_one_clear_line(result: subprocess.CompletedProcess[str], *expected: str) -> None:
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: ") and "Traceback" not in result.stderr
    assert all(text in lines[0] for text in expected), lines[0]
    assert SECRET not in result.stderr + result.stdout


BAD_URLS = [
    ("not a url at all " + SECRET, "malformed database URL"),
    (f"mysql+pymysql://me:{SECRET}@127.0.0.1/db", "unsupported database driver 'mysql+pymysql'"),
    (f"postgresql+asyncpg://me:{SECRET}@127.0.0.1:1/db", "cannot open the database"),
    ("sqlite+aiosqlite:////no/such/directory/platform.db", "/no/such/directory does not exist"),
]


@pytest.mark.parametrize(("url", "expected"), BAD_URLS, ids=["malformed", "driver", "down", "path"])
def test_platform_with_an_unusable_database_url_exits_with_one_line(
    tmp_path: Path, url: str, expected: str
) -> None:
    result = wixhttp("platform", "--data", str(tmp_path), "--port", "1", "--database-url", url)
    assert_one_clear_line(result, expected)


@pytest.mark.parametrize(("url", "expected"), BAD_URLS, ids=["malformed", "driver", "down", "path"])
def test_keys_commands_with_an_unusable_database_url_exit_with_one_line(
    tmp_path: Path, url: str, expected: str
) -> None:
    env = {"WIXHTTP_DATABASE_URL": url}
    assert_one_clear_line(wixhttp("keys", "list", "--data", str(tmp_path), env=env), expected)
    scopes = ("--scopes", "functions.read")
    created = wixhttp("keys", "create", "--data", str(tmp_path), *scopes, env=env)
    assert_one_clear_line(created, expected)


def test_an_unreachable_database_names_it_with_the_password_masked(tmp_path: Path) -> None:
    url = f"postgresql://me:{SECRET}@127.0.0.1:1/db"
    result = wixhttp("keys", "list", "--database-url", url)
    assert_one_clear_line(result, "postgresql+asyncpg://me:***@127.0.0.1:1/db")


def test_the_option_wins_over_the_environment_variable(tmp_path: Path) -> None:
    chosen = tmp_path / "chosen.db"
    env = {"WIXHTTP_DATABASE_URL": "mysql://nobody@127.0.0.1/none"}
    created = wixhttp(
        "keys", "create", "--database-url", f"sqlite:///{chosen}", "--scopes", "functions.read",
        env=env,
    )
    assert created.returncode == 0, created.stderr
    listed = wixhttp("keys", "list", env={"WIXHTTP_DATABASE_URL": f"sqlite:///{chosen}"})
    assert listed.returncode == 0 and "functions.read" in listed.stdout, listed.stderr
    assert not (tmp_path / "platform.db").exists()


def test_a_url_with_a_password_is_shown_masked_by_the_running_platform(tmp_path: Path) -> None:
    url = new_database()
    try:
        # Trust authentication here, so the password is accepted and ignored.
        with_password = url.replace("postgres@", f"postgres:{SECRET}@", 1)
        process = PlatformProcess(tmp_path / "data", database=with_password).start()
        process.create_key()
        process.stop()
        assert with_password.replace(SECRET, "***") in process.log()
        assert SECRET not in process.log()
    finally:
        drop_database(url)


# -- migrations ----------------------------------------------------------------------------------


def _differences(connection: Connection) -> list[Any]:
    return list(compare_metadata(MigrationContext.configure(connection), metadata))


async def _migrated_differences(url: str) -> tuple[list[Any], str | None]:
    store = Store(url)
    try:
        await store.init()
        async with store.engine.connect() as connection:
            differences = await connection.run_sync(_differences)
            version = await connection.exec_driver_sql("SELECT version_num FROM alembic_version")
            return differences, version.scalar_one_or_none()
    finally:
        await store.close()


def test_the_migrations_create_exactly_the_tables_on_sqlite(tmp_path: Path) -> None:
    differences, version = asyncio.run(_migrated_differences(sqlite_url(tmp_path)))
    assert differences == [] and version == head()


def test_the_migrations_create_exactly_the_tables_on_postgresql() -> None:
    url = new_database()
    try:
        differences, version = asyncio.run(_migrated_differences(url))
        assert differences == [] and version == head()
    finally:
        drop_database(url)


def test_seq_is_64_bit_on_postgresql() -> None:
    url = new_database()

    async def seq_types() -> set[str]:
        store = Store(url)
        try:
            await store.init()
            async with store.engine.connect() as connection:
                rows = await connection.exec_driver_sql(
                    "SELECT DISTINCT data_type FROM information_schema.columns "
                    "WHERE column_name = 'seq' AND table_schema = 'public'"
                )
                return {row[0] for row in rows}
        finally:
            await store.close()

    try:
        assert asyncio.run(seq_types()) == {"bigint"}
    finally:
        drop_database(url)


def _old_data_directory(data_dir: Path) -> str:
    """A data directory as the release before migrations left it; returns its key."""
    data_dir.mkdir(parents=True)
    rows = (DATA / "rows-r1.sql").read_text()
    with sqlite3.connect(data_dir / "platform.db") as db:
        db.executescript((DATA / "schema-r1.sql").read_text())
        db.executescript(rows)
    db.close()
    found = re.search(r"^-- key: (\S+)$", rows, re.MULTILINE)
    assert found is not None
    return found.group(1)


def test_an_old_sqlite_data_directory_is_upgraded_in_place_losing_nothing(
    tmp_path: Path,
) -> None:
    data_dir = tmp_path / "data"
    key = _old_data_directory(data_dir)
    process = PlatformProcess(data_dir, database=sqlite_url(data_dir)).start()
    try:
        with process.http(key) as api:
            [function] = api.get("/v1/functions").json()["functions"]
            assert function["$id"] == "ex-26068-1-942062" and function["runtime"] == "python-3.11"
            assert function["deploymentId"] == "6b117cff33f57111f024"
            deployment = api.get(f"/v1/functions/{function['$id']}/deployments").json()
            assert [d["status"] for d in deployment["deployments"]] == ["ready"]
            executions = api.get(f"/v1/functions/{function['$id']}/executions").json()
            [execution] = executions["executions"]
            assert execution["$id"] == "6b117d0147003645a1ae"
            assert execution["status"] == "completed" and execution["responseStatusCode"] == 404
    finally:
        process.stop()
    with sqlite3.connect(data_dir / "platform.db") as db:
        assert db.execute("SELECT version_num FROM alembic_version").fetchall() == [(head(),)]
    db.close()


def test_keys_commands_and_a_platform_starting_together_on_an_empty_sqlite_directory(
    tmp_path: Path,
) -> None:
    data_dir = tmp_path / "data"
    command = [sys.executable, "-c", "from wixhttp.cli import main; main()"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("WIXHTTP_")}
    creates = [
        subprocess.Popen(
            [*command, "keys", "create", "--data", str(data_dir), "--scopes", "functions.read"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for _ in range(3)
    ]
    process = PlatformProcess(data_dir, database=sqlite_url(data_dir)).start()
    try:
        outcomes = [(p.wait(60), p.stderr.read() if p.stderr else "") for p in creates]
        assert all(code == 0 for code, _ in outcomes), outcomes
        listed = wixhttp("keys", "list", "--data", str(data_dir))
        assert listed.stdout.count("functions.read") == 3, listed
    finally:
        process.stop()
        for created in creates:
            for stream in (created.stdout, created.stderr):
                if stream:
                    stream.close()


async def _queue_times_after_upgrade(url: str) -> dict[str, float | None]:
    """Executions written at revision 1 (waiting, scheduled, completed), then the upgrade to
    head: the ``run_after`` each gets."""
    store = Store(url)
    try:
        async with store.engine.begin() as connection:

            def to_revision_1(sync: Connection) -> None:
                command.upgrade(alembic_config(sync), FIRST_REVISION)

            await connection.run_sync(to_revision_1)
            for id_, status, due in [
                ("w", "waiting", None),
                ("s", "scheduled", "2030-01-01T00:00:01.500+00:00"),
                ("c", "completed", None),
            ]:
                await connection.exec_driver_sql(
                    "INSERT INTO executions (id, project_id, function_id, deployment_id, "
                    "created_at, updated_at, \"trigger\", status, request_method, request_path, "
                    "request_headers, response_status_code, response_headers, logs, errors, "
                    "duration, scheduled_at) VALUES ("
                    f"'{id_}', 'p', 'f', '', '', '', 'http', '{status}', 'POST', '/', '[]', 0, "
                    f"'[]', '', '', 0, {repr(due) if due else 'NULL'})"
                )
        await store.init()
        async with store.engine.connect() as connection:
            rows = await connection.exec_driver_sql("SELECT id, run_after FROM executions")
            return {str(row.id): row.run_after for row in rows}
    finally:
        await store.close()


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
def test_executions_waiting_or_scheduled_before_the_queue_are_claimable_after_the_upgrade(
    tmp_path: Path, engine: str
) -> None:
    url = sqlite_url(tmp_path) if engine == "sqlite" else new_database()
    try:
        times = asyncio.run(_queue_times_after_upgrade(url))
    finally:
        if engine == "postgresql":
            drop_database(url)
    assert times == {"w": 0.0, "s": pytest.approx(1893456001.5), "c": None}
