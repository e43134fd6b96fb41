"""The executions table is the queue: any node claims and runs any execution, once.

Two platform processes share one PostgreSQL database and data directory (``--node-id a`` and
``b``); a handler
appends ``<execution id> <platform pid> <time>`` to a file, so runs are counted from their side
effects, not from the API. The single-node tests run on the tests' backend (SQLite unless
``TEST_PLATFORM_DATABASE=postgresql``).
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from appwrite.input_file import InputFile
from appwrite.models.execution_list import ExecutionList
from appwrite.query import Query
from appwrite.services.functions import Functions

from tests._postgres import drop_database, drop_database_async, new_database, new_database_async
from tests._servers import wait_until
from tests.platform._support import (
    BACKEND,
    FAST,
    FINISHED,
    RUNTIME,
    PlatformProcess,
    at,
    epoch,
    make_bundle,
    marks,
    unique_id,
    wait_execution,
    wait_for_build,
)
from wixhttp.platform.bus import WORK
from wixhttp.platform.store import Store, new_id, now, sqlite_url
from wixhttp.platform.store.executions import ExecutionOp

#: A handler that records each run (execution id, the pid of the platform that ran it, time)
#: and then sleeps ``?s=`` seconds.
SITE = '''
import asyncio, os, time
from wixhttp import ok


async def use_work(request):
    with open(request.query["file"], "a") as runs:
        execution = request.headers.get("x-appwrite-execution-id")
        runs.write(f"{execution} {os.getppid()} {time.time()}\\n")
    await asyncio.sleep(float(request.query.get("s", 0)))
    return ok(body={"ran": True})
'''


def _function(functions: Functions, tmp_path: Path, **options: Any) -> str:
    """A function (execute any) running :data:`SITE`."""
    site = tmp_path / f"site-{unique_id('s')}"
    site.mkdir()
    (site / "http_functions.py").write_text(SITE)
    function_id = unique_id("q")
    functions.create(function_id, function_id, RUNTIME, execute=["any"], **options)
    bundle = InputFile.from_bytes(make_bundle(site), "code.tar.gz")
    created = functions.create_deployment(function_id, bundle, True)
    ready = wait_for_build(functions, function_id, created.id)
    assert ready.status.value == "ready", ready.buildlogs
    return function_id


def _runs(path: Path) -> list[tuple[str, int, float]]:
    """The runs recorded in ``path``: (execution id, platform pid, time)."""
    return [(i, int(pid), float(t)) for i, pid, t in (line.split() for line in marks(path))]


@pytest.fixture
def nodes(tmp_path: Path) -> Iterator[tuple[PlatformProcess, PlatformProcess]]:
    """Nodes ``a`` and ``b`` on one PostgreSQL database, two runner slots each, sharing one data
    directory (built code lives on disk: ``b`` is a link to ``a``)."""
    database = new_database()
    (tmp_path / "a").mkdir()
    (tmp_path / "b").symlink_to(tmp_path / "a")
    started: list[PlatformProcess] = []
    try:
        for name in ("a", "b"):
            node = PlatformProcess(
                tmp_path / name,
                *FAST,
                "--execution-workers",
                "2",
                "--node-id",
                name,
                database=database,
            )
            started.append(node.start(timeout=60))
        yield started[0], started[1]
    finally:
        for node in started:
            node.stop()
        drop_database(database)


# -- two nodes -----------------------------------------------------------------------------------


@pytest.mark.own_database
def test_async_executions_created_on_one_node_run_on_both_each_exactly_once(
    nodes: tuple[PlatformProcess, PlatformProcess], tmp_path: Path
) -> None:
    a, b = nodes
    key = a.create_key()
    functions = a.functions(key)
    function_id = _function(functions, tmp_path, timeout=30)
    runs = tmp_path / "runs"
    created = [
        functions.create_execution(
            function_id, xasync=True, path=f"/_functions/work?file={runs}&s=0.3"
        ).id
        for _ in range(24)
    ]
    through_b = b.functions(key)
    for execution_id in created:
        done = wait_execution(through_b, function_id, execution_id, timeout=25)
        assert done.status.value == "completed", done.errors
    recorded = _runs(runs)
    assert Counter(i for i, _, _ in recorded) == Counter(created)  # each once, no other
    assert a.process is not None and b.process is not None
    assert {pid for _, pid, _ in recorded} == {a.process.pid, b.process.pid}


@pytest.mark.own_database
def test_a_scheduled_execution_created_on_one_node_is_deleted_through_the_other(
    nodes: tuple[PlatformProcess, PlatformProcess], tmp_path: Path
) -> None:
    a, b = nodes
    key = a.create_key()
    function_id = _function(a.functions(key), tmp_path)
    runs = tmp_path / "runs"
    due = at(2.0)
    scheduled = a.functions(key).create_execution(
        function_id, xasync=True, path=f"/_functions/work?file={runs}", scheduled_at=due
    )
    assert scheduled.status.value == "scheduled"
    with b.http(key) as api:
        path = f"/v1/functions/{function_id}/executions/{scheduled.id}"
        assert api.delete(path).status_code == 204
        time.sleep(max(0.0, epoch(due) - time.time()) + 1.5)
        assert api.get(path).status_code == 404
    with a.http(key) as api:
        assert api.get(f"/v1/functions/{function_id}/executions/{scheduled.id}").status_code == 404
    assert _runs(runs) == []


@pytest.mark.own_database
def test_a_scheduled_execution_runs_once_within_two_seconds_of_its_time_on_two_nodes(
    nodes: tuple[PlatformProcess, PlatformProcess], tmp_path: Path
) -> None:
    a, b = nodes
    key = a.create_key()
    function_id = _function(a.functions(key), tmp_path)
    runs = tmp_path / "runs"
    due = at(2.0)
    scheduled = a.functions(key).create_execution(
        function_id, xasync=True, path=f"/_functions/work?file={runs}", scheduled_at=due
    )
    done = wait_execution(b.functions(key), function_id, scheduled.id, timeout=10)
    assert done.status.value == "completed" and done.trigger.value == "schedule"
    [(execution_id, _pid, ran_at)] = _runs(runs)
    assert execution_id == scheduled.id
    assert epoch(due) <= ran_at < epoch(due) + 2.0


@pytest.mark.own_database
def test_a_cron_schedule_ticks_once_per_tick_across_two_nodes_and_not_after_it_is_cleared(
    nodes: tuple[PlatformProcess, PlatformProcess], tmp_path: Path
) -> None:
    a, b = nodes
    key = a.create_key()
    functions = a.functions(key)
    runs = tmp_path / "runs"
    function_id = _function(functions, tmp_path)
    functions.create_variable(
        function_id, "path", "WIXHTTP_SCHEDULE_PATH", f"/_functions/work?file={runs}"
    )
    functions.update(function_id, function_id, RUNTIME, execute=["any"], schedule="* * * * * *")
    # Node b learns of the schedule by its sweep (within 10 s): then both fire every tick.
    wait_until(lambda: len(_runs(runs)) >= 13, timeout=20, what="thirteen cron ticks")
    functions.update(function_id, function_id, RUNTIME, execute=["any"], schedule="")
    cleared = time.time()
    time.sleep(2.5)
    ticks = b.functions(key).list_executions(
        function_id, [Query.equal("trigger", ["schedule"]), Query.limit(100)]
    )
    times = [epoch(e.scheduledat or "") for e in ticks.executions]
    assert len(times) == len(set(times)) >= 13, times  # no tick fired twice
    assert max(times) <= cleared + 0.05, (cleared, sorted(times))  # none after the clear
    ran = Counter(i for i, _, _ in _runs(runs))
    assert set(ran.values()) == {1}  # each tick's execution ran once
    finished = {e.id for e in ticks.executions if e.status.value in FINISHED}
    assert finished <= set(ran) <= {e.id for e in ticks.executions}


@pytest.mark.own_database
def test_a_sync_execution_on_one_node_is_read_through_the_other_at_once(
    nodes: tuple[PlatformProcess, PlatformProcess], tmp_path: Path
) -> None:
    a, b = nodes
    key = a.create_key()
    function_id = _function(a.functions(key), tmp_path)
    runs = tmp_path / "runs"
    body = {"path": f"/_functions/work?file={runs}", "method": "GET"}
    with a.http(key) as on_a, b.http(key) as on_b:
        statuses = []
        for _ in range(20):
            created = on_a.post(f"/v1/functions/{function_id}/executions", json=body)
            assert created.status_code == 201, created.text
            execution_id = created.json()["$id"]
            read = on_b.get(f"/v1/functions/{function_id}/executions/{execution_id}")
            statuses.append(read.status_code)
            if read.status_code == 200:
                assert read.json()["status"] == "completed"
    assert statuses == [200] * 20


# -- one node ------------------------------------------------------------------------------------


def test_a_scheduled_execution_deleted_before_its_time_never_runs(
    start_platform: Callable[..., PlatformProcess], tmp_path: Path
) -> None:
    platform = start_platform(*FAST)
    functions = platform.functions(platform.create_key())
    function_id = _function(functions, tmp_path)
    runs = tmp_path / "runs"
    due = at(1.5)
    scheduled = functions.create_execution(
        function_id, xasync=True, path=f"/_functions/work?file={runs}", scheduled_at=due
    )
    functions.delete_execution(function_id, scheduled.id)
    time.sleep(max(0.0, epoch(due) - time.time()) + 1.5)
    assert functions.list_executions(function_id).total == 0
    assert _runs(runs) == []


def test_a_scheduled_execution_runs_once_within_two_seconds_of_its_time(
    start_platform: Callable[..., PlatformProcess], tmp_path: Path
) -> None:
    platform = start_platform(*FAST)
    functions = platform.functions(platform.create_key())
    function_id = _function(functions, tmp_path)
    runs = tmp_path / "runs"
    due = at(1.5)
    scheduled = functions.create_execution(
        function_id, xasync=True, path=f"/_functions/work?file={runs}", scheduled_at=due
    )
    assert wait_execution(functions, function_id, scheduled.id).status.value == "completed"
    [(execution_id, _pid, ran_at)] = _runs(runs)
    assert execution_id == scheduled.id and epoch(due) <= ran_at < epoch(due) + 2.0


def test_a_schedule_set_behind_the_platforms_back_ticks_within_the_sweep(
    start_platform: Callable[..., PlatformProcess], tmp_path: Path
) -> None:
    """A schedule written by another node (here: straight into the database, so nothing
    announces it) is read by the 10 s sweep of changed functions."""
    platform = start_platform(*FAST)
    functions = platform.functions(platform.create_key())
    function_id = _function(functions, tmp_path)
    time.sleep(0.5)  # the function's updated_at below differs from the one the node read
    written = time.time()
    platform.run_sql(
        "UPDATE functions SET schedule = :s, updated_at = :u WHERE id = :id",
        s="* * * * * *",
        u=now(),
        id=function_id,
    )
    def ticked() -> ExecutionList | None:
        found = functions.list_executions(function_id, [Query.equal("trigger", ["schedule"])])
        return found if found.total else None

    listed = wait_until(
        ticked,
        timeout=14,
        interval=0.2,
        what="a tick of the schedule",
    )
    assert all(epoch(e.scheduledat or "") <= written + 11.5 for e in listed.executions)


# -- wake-ups ------------------------------------------------------------------------------------


def _row(status: str) -> dict[str, object]:
    stamp = now()
    return {
        "project_id": "p",
        "function_id": "f",
        "created_at": stamp,
        "updated_at": stamp,
        "trigger": "http",
        "status": status,
        "run_after": 0.0,
    }


async def test_a_batch_that_inserts_runnable_executions_announces_work_once() -> None:
    import asyncpg

    from wixhttp.platform.bus import asyncpg_dsn

    url = await new_database_async()
    store = Store(url)
    heard: list[str] = []
    listener = None
    try:
        await store.init()
        listener = await asyncpg.connect(asyncpg_dsn(url))
        await listener.add_listener(WORK, lambda *args: heard.append(str(args[-1])))
        await store.write_executions(
            {new_id(): ExecutionOp("insert", _row("waiting")) for _ in range(5)}
            | {new_id(): ExecutionOp("insert", _row("scheduled"))}
        )
        await store.write_executions({new_id(): ExecutionOp("insert", _row("completed"))})
        await listener.execute("SELECT 1")  # notifications sent before this have arrived
        await asyncio.sleep(0.2)
        assert heard == ["executions"]
    finally:
        if listener is not None:
            await listener.close()
        await store.close()
        await drop_database_async(url)


# -- claims --------------------------------------------------------------------------------------


def _queued(status: str, run_after: float) -> dict[str, object]:
    return {**_row(status), "run_after": run_after, "pending_headers": [["x-n", "1"]]}


async def test_a_claim_takes_due_rows_up_to_its_limit_soonest_due_first_once(
    tmp_path: Path,
) -> None:
    url = sqlite_url(tmp_path) if BACKEND == "sqlite" else await new_database_async()
    store = Store(url)
    try:
        await store.init()
        clock = await store.clock()
        ids = [new_id() for _ in range(5)]
        rows = [
            _queued("waiting", clock - 5),
            _queued("scheduled", clock - 7),
            _queued("scheduled", clock + 60),  # not due
            _queued("completed", 0.0),
            _queued("waiting", clock - 10),
        ]
        for execution_id, values in zip(ids, rows, strict=True):  # one batch each: seq order
            await store.write_executions({execution_id: ExecutionOp("insert", values)})
        first, due = await store.claim_executions("p", "n1", 2, now())
        assert due is None  # as many were due as asked for
        assert [(c.id, c.status, c.pending_headers) for c in first] == [
            (ids[4], "waiting", [["x-n", "1"]]),
            (ids[1], "scheduled", [["x-n", "1"]]),
        ]
        second, due = await store.claim_executions("p", "n2", 5, now())
        assert [c.id for c in second] == [ids[0]]
        assert due is not None and 55 < due <= 60  # the one not due yet
        assert (await store.claim_executions("p", "n2", 5, now()))[0] == []
        due = await store.next_due("p")
        assert due is not None and 55 < due <= 60
        row = await store.get_execution("p", "f", ids[0])
        assert row is not None and row["status"] == "processing"
        # A claimed scheduled execution can no longer be deleted as a scheduled one.
        assert not await store.delete_scheduled_execution("p", ids[1])
        assert await store.delete_scheduled_execution("p", ids[2])
        assert await store.next_due("p") is None
    finally:
        await store.close()
        if BACKEND != "sqlite":
            await drop_database_async(url)


@pytest.mark.skipif(BACKEND != "postgresql", reason="SKIP LOCKED: PostgreSQL's")
async def test_concurrent_claims_on_postgresql_take_disjoint_rows() -> None:
    url = await new_database_async()
    stores = [Store(url) for _ in range(4)]
    try:
        await stores[0].init()
        ids = [new_id() for _ in range(60)]
        await stores[0].write_executions(
            {execution_id: ExecutionOp("insert", _queued("waiting", 0.0)) for execution_id in ids}
        )

        async def drain(store: Store, node: str) -> list[str]:
            taken: list[str] = []
            while claimed := (await store.claim_executions("p", node, 3, now()))[0]:
                taken += [c.id for c in claimed]
            return taken

        taken = await asyncio.gather(*(drain(s, f"n{i}") for i, s in enumerate(stores)))
        everything = [execution_id for part in taken for execution_id in part]
        assert sorted(everything) == sorted(ids)  # each claimed once, none left
    finally:
        for store in stores:
            await store.close()
        await drop_database_async(url)
