"""Rate limits are one count for every node sharing the database: the guest execution limit and
the activation limit, asked round-robin of two nodes, let exactly the limit through; counts of
old windows are deleted."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from appwrite.input_file import InputFile
from sqlalchemy import insert, select

from tests._postgres import drop_database, drop_database_async, new_database, new_database_async
from tests.platform._support import (
    PROJECT,
    RUNTIME,
    PlatformProcess,
    make_bundle,
    unique_id,
    wait_for_build,
)
from wixhttp.platform.store import Store
from wixhttp.platform.store.tables import rate_counters

LIMITS = ("--execution-rate-limit", "5", "--activation-limit", "3", "--activation-window", "3600")


@pytest.fixture(scope="module")
def nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[PlatformProcess]]:
    """Two nodes on one PostgreSQL database and one data directory."""
    database = new_database()
    data = tmp_path_factory.mktemp("rates") / "data"
    started: list[PlatformProcess] = []
    try:
        for name in ("node-a", "node-b"):
            node = PlatformProcess(data, *LIMITS, "--node-id", name, database=database)
            started.append(node.start())
        yield started
    finally:
        for node in started:
            node.stop()
        drop_database(database)


def _in_one_window(window: float, needed: float = 10.0) -> None:
    """Start a burst where it fits in one clock-aligned window."""
    left = window - time.time() % window
    if left < needed:
        time.sleep(left + 0.05)


@pytest.mark.own_database
def test_the_guest_limit_counts_the_calls_to_every_node_together(
    nodes: list[PlatformProcess],
) -> None:
    url = f"/v1/functions/{unique_id()}/executions"  # the limit is checked before the function
    _in_one_window(60)
    answers = []
    for n in range(10):
        with nodes[n % 2].http() as guest:
            answers.append(guest.post(url, json={}))
    codes = [response.status_code for response in answers]
    assert codes == [404] * 5 + [429] * 5, [r.text for r in answers]
    refused = answers[5:]
    assert {r.json()["type"] for r in refused} == {"general_rate_limit_exceeded"}
    assert {
        (r.headers["X-RateLimit-Limit"], r.headers["X-RateLimit-Remaining"]) for r in refused
    } == {("5", "0")}
    assert len({r.headers["X-RateLimit-Reset"] for r in refused}) == 1


@pytest.mark.own_database
def test_the_activation_limit_counts_the_activations_through_every_node_together(
    nodes: list[PlatformProcess],
) -> None:
    key = nodes[0].create_key()
    functions = nodes[0].functions(key)
    function_id = unique_id()
    functions.create(function_id, "limited", RUNTIME, execute=["any"])
    unready = unique_id()
    functions.create(unready, "never deployed", RUNTIME, execute=["any"])
    code = InputFile.from_bytes(make_bundle("hello"), "code.tar.gz")
    deployment = functions.create_deployment(function_id, code, False)
    assert wait_for_build(functions, function_id, deployment.id).status.value == "ready"
    _in_one_window(3600)

    def upsert(node: PlatformProcess, target: str) -> httpx.Response:
        with httpx.Client(base_url=node.url, timeout=30) as web:
            return web.post(
                "/functions/v1/activations/upsert",
                json={"functionActivation": {"functionId": target}},
                headers={"Authorization": f"Bearer {key}", "X-Appwrite-Project": PROJECT},
            )

    # Failed activations are not counted.
    assert [upsert(nodes[n % 2], unready).status_code for n in range(4)] == [428] * 4
    answers = [upsert(nodes[n % 2], function_id) for n in range(6)]
    assert [r.status_code for r in answers] == [200] * 3 + [429] * 3, [r.text for r in answers]
    refused = answers[-1]
    assert refused.json()["details"]["applicationError"]["code"] == "ACTIVATION_RATE_EXCEEDED"
    assert 1 <= int(refused.headers["Retry-After"]) <= 3600


@pytest.fixture(params=["sqlite", "postgresql"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    if request.param == "sqlite":
        made = Store.in_directory(tmp_path)
        await made.init()
        yield made
        await made.close()
        return
    url = await new_database_async()
    made = Store(url)
    await made.init()
    yield made
    await made.close()
    await drop_database_async(url)


async def test_counts_are_per_key_and_window_and_old_windows_are_deleted(store: Store) -> None:
    first = await store.count_hit("guest:p:1.2.3.4", 60)
    second = await store.count_hit("guest:p:1.2.3.4", 60)
    other = await store.count_hit("guest:p:5.6.7.8", 60)
    assert (first[0], second[0], other[0]) == (1, 2, 1)
    start, clock = second[1], second[2]
    assert start % 60 == 0 and start <= clock < start + 60
    await store.forget_hit("guest:p:1.2.3.4", start)
    assert (await store.count_hit("guest:p:1.2.3.4", 60))[0] == 2
    async with store.engine.begin() as conn:
        await conn.execute(
            insert(rate_counters).values(key="guest:p:1.2.3.4", window=start - 7200, count=9)
        )
    assert await store.forget_rate_windows(3600) == 1
    async with store.engine.connect() as conn:
        kept = (await conn.execute(select(rate_counters.c.window))).scalars().all()
    assert set(kept) == {start}
