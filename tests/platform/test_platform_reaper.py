"""Nodes on one PostgreSQL database and one data directory watch each other: a node killed with
its work in progress is taken for dead by a survivor, which fails its running executions and
builds its builds again, without any restart; a peer's restart leaves a live node's work alone;
a build canceled through any node stops where it runs."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from appwrite.input_file import InputFile
from appwrite.models.deployment import Deployment
from appwrite.services.functions import Functions
from sqlalchemy import select

from tests._postgres import drop_database, drop_database_async, new_database, new_database_async
from tests._servers import wait_until
from tests.platform._support import (
    FAST,
    RUNTIME,
    PlatformProcess,
    make_bundle,
    new_function,
    unique_id,
    wait_execution,
)
from wixhttp.platform.recovery import INTERRUPTED
from wixhttp.platform.store import Store
from wixhttp.platform.store.tables import platform_nodes

pytestmark = pytest.mark.own_database

#: Heartbeats every 0.3 s; silent for 2 s is dead.
TIMEOUT = 2.0
FAST_NODES = (*FAST, "--heartbeat-interval", "0.3", "--node-timeout", str(TIMEOUT))

Start = Callable[..., PlatformProcess]


@pytest.fixture
def database() -> Iterator[str]:
    url = new_database()
    yield url
    drop_database(url)


@pytest.fixture
def start_node(tmp_path: Path, database: str) -> Iterator[Start]:
    """Start a node named ``name`` on the shared database and data directory."""
    started: list[PlatformProcess] = []

    def start(name: str, *args: str) -> PlatformProcess:
        node = PlatformProcess(
            tmp_path / "data", *FAST_NODES, "--node-id", name, *args, database=database
        )
        started.append(node.start())
        return node

    yield start
    for node in started:
        node.stop()


def _node_rows(database: str) -> dict[str, float]:
    """Each registered node's last heartbeat."""

    async def read() -> dict[str, float]:
        store = Store(database)
        try:
            async with store.engine.connect() as conn:
                rows = await conn.execute(
                    select(platform_nodes.c.id, platform_nodes.c.heartbeat_at)
                )
                return {row.id: row.heartbeat_at for row in rows}
        finally:
            await store.close()

    return asyncio.run(read())


def _claimed_by(node: str, process: PlatformProcess, execution_id: str) -> None:
    """What claiming an execution from the table writes (a node runs the ones it received
    from memory until then)."""
    process.run_sql(
        "UPDATE executions SET claimed_by = :node WHERE id = :id", node=node, id=execution_id
    )


def _upload(functions: Functions, function_id: str, commands: str) -> str:
    created = functions.create_deployment(
        function_id,
        InputFile.from_bytes(make_bundle("hello"), "code.tar.gz"),
        True,
        commands=commands,
    )
    return created.id


def _building(functions: Functions, function_id: str, deployment_id: str) -> Deployment:
    def check() -> Deployment | None:
        deployment = functions.get_deployment(function_id, deployment_id)
        return deployment if deployment.status.value == "building" else None

    return wait_until(check, 20, what="the build to start")


def _finished(
    functions: Functions, function_id: str, deployment_id: str, timeout: float
) -> Deployment:
    def check() -> Deployment | None:
        deployment = functions.get_deployment(function_id, deployment_id)
        return deployment if deployment.status.value in ("ready", "failed", "canceled") else None

    return wait_until(check, timeout, what="the build to end")


def test_a_killed_nodes_running_execution_is_failed_by_a_survivor_without_a_restart(
    start_node: Start, database: str
) -> None:
    first = start_node("node-a")
    key = first.create_key()
    function_id = new_function(first.functions(key), timeout=30)
    running = first.functions(key).create_execution(
        function_id, xasync=True, path="/_functions/sleep?s=20"
    )
    wait_execution(first.functions(key), function_id, running.id, ("processing",), timeout=10)
    _claimed_by("node-a", first, running.id)
    survivor = start_node("node-b")  # after the claim: node-a runs it
    assert set(_node_rows(database)) == {"node-a", "node-b"}

    first.stop(signal.SIGKILL)
    killed = time.monotonic()
    functions = survivor.functions(key)
    failed = wait_execution(functions, function_id, running.id, timeout=TIMEOUT + 5)
    assert time.monotonic() - killed >= TIMEOUT - 0.5  # not before node-a was silent that long
    assert failed.status.value == "failed"
    assert failed.responsestatuscode == 500
    assert INTERRUPTED in failed.errors
    assert set(_node_rows(database)) == {"node-b"}


def test_a_build_claimed_by_a_killed_node_is_built_by_a_survivor(
    start_node: Start, tmp_path: Path
) -> None:
    runs = tmp_path / "runs"
    first = start_node("node-a")
    key = first.create_key()
    function_id = unique_id()
    first.functions(key).create(function_id, "rebuilt", RUNTIME, execute=["any"])
    # The first run hangs; the second (on the survivor) goes through.
    commands = f"echo run >> {runs}; [ $(wc -l < {runs}) -ge 2 ] || sleep 15"
    deployment_id = _upload(first.functions(key), function_id, commands)
    assert "on node node-a" in _building(first.functions(key), function_id, deployment_id).buildlogs
    wait_until(runs.exists, 10, what="the commands to start")
    survivor = start_node("node-b")

    first.stop(signal.SIGKILL)
    ready = _finished(survivor.functions(key), function_id, deployment_id, TIMEOUT + 20)
    assert ready.status.value == "ready", ready.buildlogs
    assert "The node building it stopped answering; building again" in ready.buildlogs
    assert "on node node-b" in ready.buildlogs
    assert runs.read_text().splitlines() == ["run", "run"]
    assert survivor.functions(key).get(function_id).deploymentid == deployment_id


def test_a_peers_restart_leaves_a_live_nodes_running_execution_and_build_alone(
    start_node: Start, tmp_path: Path
) -> None:
    runs = tmp_path / "runs"
    busy = start_node("node-a")
    key = busy.create_key()
    functions = busy.functions(key)
    function_id = new_function(functions, timeout=30)
    running = functions.create_execution(function_id, xasync=True, path="/_functions/sleep?s=4")
    # Claimed by no node (as before claims existed): left alone while another node lives.
    unclaimed = functions.create_execution(function_id, xasync=True, path="/_functions/sleep?s=4")
    wait_execution(functions, function_id, running.id, ("processing",), timeout=10)
    wait_execution(functions, function_id, unclaimed.id, ("processing",), timeout=10)
    _claimed_by("node-a", busy, running.id)
    deployment_id = _upload(functions, function_id, f"echo run >> {runs}; sleep 4")
    assert "on node node-a" in _building(functions, function_id, deployment_id).buildlogs
    peer = start_node("node-b")
    peer.stop()
    peer.start()

    for execution_id in (running.id, unclaimed.id):
        done = wait_execution(peer.functions(key), function_id, execution_id, timeout=15)
        assert done.status.value == "completed", done.errors
    ready = _finished(peer.functions(key), function_id, deployment_id, 20)
    assert ready.status.value == "ready", ready.buildlogs
    assert "building again" not in ready.buildlogs
    assert runs.read_text().splitlines() == ["run"]


def test_a_build_canceled_through_another_node_stops_where_it_runs(
    start_node: Start, tmp_path: Path
) -> None:
    shell, done = tmp_path / "shell", tmp_path / "done"
    builder = start_node("node-a")
    key = builder.create_key()
    function_id = unique_id()
    builder.functions(key).create(function_id, "canceled", RUNTIME, execute=["any"])
    commands = f"echo $$ > {shell}; sleep 30; touch {done}"
    deployment_id = _upload(builder.functions(key), function_id, commands)
    assert (
        "on node node-a" in _building(builder.functions(key), function_id, deployment_id).buildlogs
    )
    wait_until(lambda: shell.exists() and shell.read_text().strip(), 10, what="the commands")
    other = start_node("node-b")

    canceled = other.functions(key).update_deployment_status(function_id, deployment_id)
    assert canceled.status.value == "canceled"

    def stopped() -> Deployment | None:
        row = other.functions(key).get_deployment(function_id, deployment_id)
        return row if "Build canceled" in row.buildlogs and not _alive(shell) else None

    final = wait_until(stopped, 3, what="node-a to stop the build and its commands")
    assert final.status.value == "canceled"
    assert not done.exists()


def _alive(pid_file: Path) -> bool:
    try:
        os.kill(int(pid_file.read_text()), 0)
    except ProcessLookupError:
        return False
    return True


def test_a_node_taken_for_dead_registers_again(start_node: Start, database: str) -> None:
    node = start_node("node-a")
    node.run_sql("DELETE FROM platform_nodes WHERE id = 'node-a'")
    wait_until(lambda: "node-a" in _node_rows(database), 5, what="node-a to register again")
    assert "taken for dead by another node" in node.log()


def test_a_clean_stop_deletes_the_nodes_row_and_hands_its_build_to_another_node(
    start_node: Start, database: str, tmp_path: Path
) -> None:
    runs = tmp_path / "runs"
    leaving = start_node("node-a")
    key = leaving.create_key()
    function_id = unique_id()
    leaving.functions(key).create(function_id, "handed", RUNTIME, execute=["any"])
    commands = f"echo run >> {runs}; [ $(wc -l < {runs}) -ge 2 ] || sleep 15"
    deployment_id = _upload(leaving.functions(key), function_id, commands)
    _building(leaving.functions(key), function_id, deployment_id)
    staying = start_node("node-b")

    leaving.stop()
    assert set(_node_rows(database)) == {"node-b"}
    ready = _finished(staying.functions(key), function_id, deployment_id, 20)
    assert ready.status.value == "ready", ready.buildlogs
    assert "The node building it stopped; building again" in ready.buildlogs
    assert "on node node-b" in ready.buildlogs


async def test_nodes_claiming_builds_at_once_never_claim_the_same_one() -> None:
    url = await new_database_async()
    store = Store(url)
    try:
        await store.init()
        for n in range(30):
            await store.create_deployment(
                {
                    "id": f"d{n:02d}",
                    "project_id": "p",
                    "function_id": "f",
                    "created_at": "",
                    "updated_at": "",
                    "type": "manual",
                    "entrypoint": "main.py",
                    "status": "waiting",
                    "chunks_uploaded": 1,
                }
            )
        claims = await asyncio.gather(
            *(store.claim_builds("p", f"node-{n % 3}", 4) for n in range(12))
        )
        claimed = [row["id"] for rows in claims for row in rows]
        assert sorted(claimed) == [f"d{n:02d}" for n in range(30)]
        assert all(len(rows) <= 4 for rows in claims)
        assert await store.claim_builds("p", "node-0", 4) == []
    finally:
        await store.close()
        await drop_database_async(url)
