"""Several platform processes on one PostgreSQL database (each with its own data directory): they
start together on an empty database, share state, and keep to the pool size they are given."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests._postgres import ADMIN_URL, drop_database, new_database
from tests.platform._support import PROJECT, RUNTIME, PlatformProcess, unique_id


@pytest.fixture
def database() -> Iterator[str]:
    url = new_database()
    yield url
    drop_database(url)


@pytest.fixture
def nodes(tmp_path: Path, database: str) -> Iterator[list[PlatformProcess]]:
    """Three nodes started at the same moment on the one empty database."""
    started = [PlatformProcess(tmp_path / f"node{n}", database=database) for n in range(3)]
    errors: list[BaseException] = []

    def start(node: PlatformProcess) -> None:
        try:
            node.start(timeout=60)
        except BaseException as exc:  # noqa: BLE001 - reported below, with the node's log
            errors.append(exc)

    threads = [threading.Thread(target=start, args=(node,)) for node in started]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(90)
    try:
        assert not errors, errors
        yield started
    finally:
        for node in started:
            node.stop()


def test_three_nodes_started_together_on_an_empty_database_all_come_up(
    nodes: list[PlatformProcess],
) -> None:
    for node in nodes:
        assert node.process is not None and node.process.poll() is None
        with node.http() as client:
            assert client.get("/v1/functions/runtimes").status_code == 200


def test_a_function_created_through_one_node_is_read_through_another(
    nodes: list[PlatformProcess],
) -> None:
    key = nodes[0].create_key()
    function_id = unique_id()
    nodes[0].functions(key).create(function_id, "shared", RUNTIME, execute=["any"])
    for node in nodes[1:]:
        assert node.functions(key).get(function_id).name == "shared"
        with node.http(key) as api:
            listed = api.get("/v1/functions").json()
            assert [f["$id"] for f in listed["functions"]] == [function_id]


def _connections(database: str) -> int:
    """Connections open to ``database`` (by its name) other than this query's own."""
    import asyncpg

    name = database.rsplit("/", 1)[-1]

    async def count() -> int:
        connection = await asyncpg.connect(ADMIN_URL, timeout=5)
        try:
            found = await connection.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = $1", name
            )
            return int(found)
        finally:
            await connection.close()

    return asyncio.run(count())


def test_a_node_opens_no_more_connections_than_its_pool_allows(
    tmp_path: Path, database: str
) -> None:
    node = PlatformProcess(
        tmp_path / "data",
        "--database-pool-size",
        "1",
        "--database-max-overflow",
        "0",
        database=database,
    ).start()
    try:
        key = node.create_key()
        script = (
            "import concurrent.futures, httpx, sys\n"
            "def get(_):\n"
            "    return httpx.get(sys.argv[1] + '/v1/functions', timeout=30, headers="
            f"{{'X-Appwrite-Project': {PROJECT!r}, 'X-Appwrite-Key': sys.argv[2]}}).status_code\n"
            "with concurrent.futures.ThreadPoolExecutor(20) as pool:\n"
            "    assert set(pool.map(get, range(200))) == {200}\n"
        )
        load = subprocess.Popen([sys.executable, "-c", script, node.url, key])
        peak = 0
        while load.poll() is None:
            peak = max(peak, _connections(database))
        assert load.wait() == 0
        assert peak == 1, peak
    finally:
        node.stop()
