"""A platform process on PostgreSQL keeps to the pool size it is given. (Several nodes sharing one
database: ``test_platform_scaleout.py``.)"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests._postgres import ADMIN_URL, drop_database, new_database
from tests.platform._support import PROJECT, PlatformProcess

pytestmark = pytest.mark.own_database


@pytest.fixture
def database() -> Iterator[str]:
    url = new_database()
    yield url
    drop_database(url)


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
        assert peak == 2, f"{peak} connections: expected the pool's 1 and the bus's listening 1"
    finally:
        node.stop()
