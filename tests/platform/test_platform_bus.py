"""The bus between nodes: what PostgreSQL announces (triggers in the changing transaction), how a
listener gets it, and that a lost listening connection comes back and says so."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from tests._postgres import drop_database_async, new_database_async
from wixhttp.platform.bus import CHANGES, WORK, Bus
from wixhttp.platform.store import Store

pytestmark = pytest.mark.own_database

STAMP = "2026-01-01T00:00:00.000+00:00"


def function_row(function_id: str) -> dict[str, Any]:
    return {
        "project_id": "p1",
        "id": function_id,
        "created_at": STAMP,
        "updated_at": STAMP,
        "name": function_id,
        "runtime": "python-3.11",
        "execute": [],
        "events": [],
        "timeout": 15,
        "enabled": True,
        "logging": True,
        "scopes": [],
        "extra": {},
    }


@pytest_asyncio.fixture
async def store() -> AsyncIterator[Store]:
    url = await new_database_async()
    store = Store(url)
    await store.init()
    try:
        yield store
    finally:
        await store.close()
        await drop_database_async(url)


async def heard(received: list[str], count: int) -> list[str]:
    for _ in range(200):
        if len(received) >= count:
            break
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.05)  # nothing more should come
    return received


async def test_changes_to_a_function_are_announced_once_committed(store: Store) -> None:
    bus = Bus(store.url, shared=store.shared)
    received: list[str] = []
    bus.subscribe(CHANGES, received.append)
    await bus.start()
    try:
        await store.create_function(function_row("f1"))
        assert await heard(received, 1) == ["p1/f1"]
        await store.update_function("p1", "f1", {"name": "renamed"})
        assert await heard(received, 2) == ["p1/f1", "p1/f1"]
    finally:
        await bus.stop()


async def test_a_rolled_back_change_is_not_announced(store: Store) -> None:
    bus = Bus(store.url, shared=store.shared)
    received: list[str] = []
    bus.subscribe(CHANGES, received.append)
    await bus.start()
    try:
        async with store.engine.connect() as connection:
            await connection.exec_driver_sql(
                "UPDATE functions SET name = 'x' WHERE id = 'nothing-matches'"
            )
            await connection.rollback()
        await store.create_function(function_row("f2"))
        assert await heard(received, 1) == ["p1/f2"]
    finally:
        await bus.stop()


async def test_a_waiting_build_wakes_the_builders(store: Store) -> None:
    bus = Bus(store.url, shared=store.shared)
    received: list[str] = []
    bus.subscribe(WORK, received.append)
    await bus.start()
    try:
        async with store.engine.begin() as connection:
            await connection.exec_driver_sql(
                "INSERT INTO deployments (id, project_id, function_id, created_at, updated_at, "
                "type, entrypoint, commands, source_size, build_size, total_size, activate, "
                "status, build_logs, build_duration, chunks_total, chunks_uploaded, routes) "
                "VALUES ('d1', 'p1', 'f1', '', '', 'manual', 'main.py', '', 0, 0, 0, false, "
                "'waiting', '', 0, 1, 1, '[]')"
            )
        assert await heard(received, 1) == ["builds"]
    finally:
        await bus.stop()


async def test_a_lost_listening_connection_reconnects_and_says_so(store: Store) -> None:
    bus = Bus(store.url, shared=store.shared)
    received: list[str] = []
    reconnects: list[bool] = []
    bus.subscribe(CHANGES, received.append)
    bus.on_reconnect(lambda: reconnects.append(True))
    await bus.start()
    try:
        async with store.engine.connect() as connection:
            await connection.exec_driver_sql(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE query LIKE 'LISTEN%' AND pid <> pg_backend_pid()"
            )
        for _ in range(300):
            if reconnects:
                break
            await asyncio.sleep(0.02)
        assert reconnects == [True]
        await store.create_function(function_row("f3"))
        assert await heard(received, 1) == ["p1/f3"]
    finally:
        await bus.stop()


async def test_on_sqlite_the_bus_is_silent(tmp_path: Any) -> None:
    store = Store.in_directory(tmp_path)
    bus = Bus(store.url, shared=store.shared)
    await bus.start()
    await bus.stop()
    await store.close()
    assert not bus.active
