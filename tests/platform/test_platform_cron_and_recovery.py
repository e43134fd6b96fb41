"""Cron schedules, executions surviving a crash and a restart, and the ``executions`` and
``logs`` commands.

Cron policy (``wixhttp/platform/scheduler.py``, ``Scheduler._reload``/``_tick``/``_fire``):
one execution per tick, and the last tick fired is stored with its execution, so a tick
never fires twice. Ticks are never replayed: not those missed while the platform was down
(on start-up the next tick is the first one after the current time and after the last one
fired), not those that passed while the function had no deployment (they are skipped, not
recorded), and not those a late scheduler missed (it skips to the next tick in the future).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from appwrite.models.execution import Execution
from appwrite.query import Query
from appwrite.services.functions import Functions

from tests._servers import free_port, wait_until
from tests.platform._support import (
    FAST,
    RUNTIME,
    SITES,
    PlatformProcess,
    at,
    deploy,
    epoch,
    marks,
    new_function,
    wait_execution,
)
from wixhttp.platform.recovery import INTERRUPTED
from wixhttp.platform.scheduler import DEFAULT_SCHEDULE_PATH

PLATFORM_ARGS = FAST

EVERY_2S = "* * * * * */2"  # croniter's sixth field is seconds
EVERY_1S = "* * * * * *"


def _workers_of(platform_pid: int) -> list[int]:
    """Worker processes started by the platform with this pid (found by their command line)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            args = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"wixhttp.platform.worker" in args and str(platform_pid).encode() in args:
            found.append(int(entry.name))
    return found


def _ticks(functions: Functions, function_id: str) -> list[Execution]:
    """The function's cron executions, by tick."""
    listed = functions.list_executions(
        function_id, [Query.equal("trigger", ["schedule"]), Query.limit(500)]
    )
    return sorted(listed.executions, key=lambda e: epoch(e.scheduledat or ""))


def _finished_ticks(functions: Functions, function_id: str, after: float = 0.0) -> list[Execution]:
    return [
        e
        for e in _ticks(functions, function_id)
        if e.status.value in ("completed", "failed") and epoch(e.scheduledat or "") > after
    ]


def _assert_on_grid(ticks: list[Execution], step: int) -> list[float]:
    """Every tick is a distinct whole second on the ``step``-second grid; returns them."""
    times = [epoch(e.scheduledat or "") for e in ticks]
    assert len(set(times)) == len(times), f"a tick fired twice: {times}"
    for moment in times:
        assert moment == round(moment) and round(moment) % step == 0, times
    return times


def _gaps(times: list[float]) -> list[float]:
    return [later - earlier for earlier, later in zip(times[:-1], times[1:], strict=True)]


# -- cron ----------------------------------------------------------------------------------------


def test_a_cron_schedule_posts_to_the_schedule_handler_once_per_tick_until_cleared(
    functions: Functions,
) -> None:
    function_id = new_function(functions, schedule=EVERY_2S)

    def three_ticks() -> list[Execution] | None:
        found = _finished_ticks(functions, function_id)
        return found if len(found) >= 3 else None

    ticks = wait_until(three_ticks, timeout=12, what="three cron ticks")
    for execution in ticks:
        assert execution.trigger.value == "schedule"
        assert execution.status.value == "completed", execution.errors
        assert execution.requestmethod == "POST"
        assert execution.requestpath == DEFAULT_SCHEDULE_PATH == "/_functions/schedule"
        assert execution.responsestatuscode == 200
        assert execution.logs == f"tick schedule {execution.id}\n"
        assert epoch(execution.createdat) >= epoch(execution.scheduledat or "")  # not early
    times = _assert_on_grid(_ticks(functions, function_id), 2)
    assert set(_gaps(times)) == {2}, times

    # A new schedule applies at once (update is a full replace: name, runtime, execute again).
    functions.update(function_id, function_id, RUNTIME, execute=["any"], schedule=EVERY_1S)
    changed = time.time()
    wait_until(
        lambda: len(_finished_ticks(functions, function_id, changed)) >= 3,
        timeout=8,
        what="three ticks of the new schedule",
    )
    new_times = _assert_on_grid(
        [e for e in _ticks(functions, function_id) if epoch(e.scheduledat or "") > changed], 1
    )
    assert new_times[0] <= changed + 1.2, (changed, new_times)
    assert set(_gaps(new_times)) == {1}

    # Cleared: no tick after the update returned.
    functions.update(function_id, function_id, RUNTIME, execute=["any"], schedule="")
    cleared = time.time()
    assert functions.get(function_id).schedule == ""
    time.sleep(2.2)  # longer than either interval
    late = [
        e.scheduledat
        for e in _ticks(functions, function_id)
        if epoch(e.scheduledat or "") > cleared
    ]
    assert late == []


def test_a_scheduled_function_without_a_deployment_gets_no_executions_until_deployed(
    functions: Functions,
) -> None:
    function_id = new_function(functions, deployed=False, schedule=EVERY_2S)
    time.sleep(2.2)  # at least one tick
    assert functions.list_executions(function_id).total == 0
    deploying = time.time()
    deploy(functions, function_id)
    [first, *_] = wait_until(
        lambda: _finished_ticks(functions, function_id), timeout=8, what="a tick once deployed"
    )
    assert first.status.value == "completed" and first.logs == f"tick schedule {first.id}\n"
    # The ticks that passed without a deployment were skipped, not kept for later.
    assert all(epoch(e.scheduledat or "") > deploying for e in _ticks(functions, function_id))
    functions.delete(function_id)


def test_the_schedule_path_variable_chooses_the_handler_a_tick_calls(
    functions: Functions, tmp_path: Path
) -> None:
    marker = tmp_path / "marks"
    path = f"/_functions/mark?file={marker}"
    function_id = new_function(functions, deployed=False, schedule=EVERY_2S)
    functions.create_variable(function_id, "schedule-path", "WIXHTTP_SCHEDULE_PATH", path)
    deploy(functions, function_id)
    [tick, *_] = wait_until(
        lambda: _finished_ticks(functions, function_id), timeout=8, what="a tick"
    )
    assert tick.status.value == "completed", tick.errors
    assert tick.requestmethod == "POST" and tick.requestpath == path
    assert tick.trigger.value == "schedule" and tick.logs == ""
    trigger, ran_at = marks(marker)[0].split()
    assert trigger == "schedule" and float(ran_at) >= epoch(tick.scheduledat or "")
    functions.delete(function_id)


# -- restarts ------------------------------------------------------------------------------------


def test_ticks_missed_while_the_platform_was_down_are_not_replayed(
    start_platform: Callable[..., PlatformProcess],
) -> None:
    first = start_platform(*FAST)
    key = first.create_key()
    functions = first.functions(key)
    function_id = new_function(functions, schedule=EVERY_2S)
    wait_until(lambda: _finished_ticks(functions, function_id), timeout=8, what="a first tick")
    first.stop()
    stopped = time.time()
    time.sleep(5)  # two or three ticks pass while it is down
    restarting = time.time()
    second = start_platform(*FAST, data_dir=first.data_dir)
    ready = time.time()
    functions = second.functions(key)
    [resumed, *_] = wait_until(
        lambda: _finished_ticks(functions, function_id, restarting),
        timeout=8,
        what="a tick after the restart",
    )
    assert resumed.status.value == "completed"
    ticks = _ticks(functions, function_id)
    times = _assert_on_grid(ticks, 2)
    missed = [t for t in times if stopped < t < restarting]
    assert missed == [], "ticks missed while down were replayed"
    # The schedule resumes on its grid: the first tick after the restart is the next one.
    assert epoch(resumed.scheduledat or "") <= ready + 2.1
    # Ticks of the first run all finished (one running at SIGTERM is failed, not left behind).
    before = [e for e in ticks if epoch(e.scheduledat or "") < stopped]
    assert before and all(e.status.value in ("completed", "failed") for e in before)


def test_a_kill_9_fails_the_running_execution_and_resumes_the_waiting_and_scheduled_ones(
    start_platform: Callable[..., PlatformProcess], tmp_path: Path
) -> None:
    first = start_platform(*FAST, "--execution-workers", "1", "--node-id", "restarted")
    key = first.create_key()
    functions = first.functions(key)
    function_id = new_function(functions, timeout=30)
    running = functions.create_execution(function_id, xasync=True, path="/_functions/sleep?s=5")
    wait_execution(functions, function_id, running.id, ("processing",), timeout=10)
    queued_marks = tmp_path / "queued"
    queued = [
        functions.create_execution(
            function_id, xasync=True, path=f"/_functions/mark?file={queued_marks}&n={n}"
        ).id
        for n in range(3)
    ]
    scheduled_marks = tmp_path / "scheduled"
    due = at(3.0)
    scheduled = functions.create_execution(
        function_id,
        xasync=True,
        path=f"/_functions/mark?file={scheduled_marks}",
        scheduled_at=due,
    )
    statuses = {e.id: e.status.value for e in functions.list_executions(function_id).executions}
    assert statuses == {
        running.id: "processing",
        **dict.fromkeys(queued, "waiting"),
        scheduled.id: "scheduled",
    }
    assert first.process is not None
    killed = first.process.pid
    assert _workers_of(killed), "the running execution's worker should be up"
    first.stop(signal.SIGKILL)
    # Its workers notice and exit: a killed platform leaves no processes behind.
    wait_until(lambda: not _workers_of(killed), timeout=5, what="the orphaned workers to exit")

    second = start_platform(
        *FAST, "--execution-workers", "1", "--node-id", "restarted", data_dir=first.data_dir
    )
    functions = second.functions(key)
    interrupted = wait_execution(functions, function_id, running.id, timeout=5)
    assert interrupted.status.value == "failed"
    assert interrupted.responsestatuscode == 500
    assert INTERRUPTED in interrupted.errors
    assert "platform stopped while this execution was running" in interrupted.errors
    for execution_id in queued:
        done = wait_execution(functions, function_id, execution_id, timeout=10)
        assert done.status.value == "completed", done.errors
    lines = marks(queued_marks)
    assert len(lines) == 3 and all(line.startswith("http ") for line in lines)  # each ran once
    done = wait_execution(functions, function_id, scheduled.id, timeout=10)
    assert done.status.value == "completed" and done.trigger.value == "schedule"
    [line] = marks(scheduled_marks)
    trigger, ran_at = line.split()
    assert trigger == "schedule" and float(ran_at) >= epoch(due)  # at its time, not before
    after = functions.list_executions(function_id, [Query.limit(100)])
    assert after.total == 5
    assert {e.id for e in after.executions} == set(statuses)
    unfinished = functions.list_executions(
        function_id, [Query.equal("status", ["waiting", "processing", "scheduled"])]
    )
    assert unfinished.total == 0


# -- the executions and logs commands ------------------------------------------------------------


def _env(key: str | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WIXHTTP_")}
    env["PYTHONUNBUFFERED"] = "1"
    if key is not None:
        env["WIXHTTP_KEY"] = key
    return env


def _wixhttp(*args: str, key: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "wixhttp", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=_env(key),
    )


@pytest.fixture(scope="module")
def history(functions: Functions) -> tuple[str, list[Execution]]:
    """A function with three finished executions, oldest first: completed, failed, completed."""
    function_id = new_function(functions)
    executions = [
        functions.create_execution(function_id, path="/_functions/echo"),
        functions.create_execution(function_id, path="/_functions/fail"),
        functions.create_execution(function_id, path="/_functions/talk?tag=cli&lines=2"),
    ]
    assert [e.status.value for e in executions] == ["completed", "failed", "completed"]
    return function_id, executions


def test_executions_command_lists_newest_first_with_status_and_path(
    platform: PlatformProcess, key: str, history: tuple[str, list[Execution]]
) -> None:
    function_id, executions = history
    common = ["--function", function_id, "--endpoint", platform.endpoint, "--key", key]
    result = _wixhttp("executions", *common)
    assert result.returncode == 0, result.stderr
    rows = [line.split() for line in result.stdout.splitlines()]
    assert [row[0] for row in rows] == [e.id for e in reversed(executions)]
    assert [(row[2], row[3], row[4], row[6], row[7]) for row in rows] == [
        ("http", "completed", "200", "POST", "/_functions/talk?tag=cli&lines=2"),
        ("http", "failed", "500", "POST", "/_functions/fail"),
        ("http", "completed", "200", "POST", "/_functions/echo"),
    ]

    failed = _wixhttp("executions", *common, "--status", "failed")
    assert failed.returncode == 0, failed.stderr
    [line] = failed.stdout.splitlines()
    assert line.split()[0] == executions[1].id and " failed " in line


def test_executions_command_with_a_bad_key_prints_one_error_line(
    platform: PlatformProcess, history: tuple[str, list[Execution]]
) -> None:
    function_id, _ = history
    bad = "standard_" + "0" * 64
    result = _wixhttp(
        "executions", "--function", function_id, "--endpoint", platform.endpoint, key=bad
    )
    assert result.returncode != 0
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("Error: 401"), line
    assert "check the key and its scopes" in line


@pytest.mark.parametrize(
    "command",
    [
        ["executions", "--function", "f"],
        ["logs", "--function", "f"],
        ["publish", "--function", "f"],
        ["deploy", str(SITES / "executions"), "--function", "f"],
    ],
)
def test_client_commands_name_an_unreachable_platform_in_one_line(command: list[str]) -> None:
    endpoint = f"http://127.0.0.1:{free_port()}/v1"  # nothing listens there
    result = _wixhttp(*command, "--endpoint", endpoint, key="k")
    assert result.returncode == 1 and result.stdout == ""
    assert "Traceback" not in result.stderr
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(f"Error: cannot reach the platform at {endpoint}"), line


def test_logs_command_prints_the_logs_of_finished_executions(
    platform: PlatformProcess, key: str, history: tuple[str, list[Execution]]
) -> None:
    function_id, executions = history
    result = _wixhttp("logs", "--function", function_id, "--endpoint", platform.endpoint, key=key)
    assert result.returncode == 0, result.stderr
    headers = [line for line in result.stdout.splitlines() if line.startswith("--- ")]
    assert [h.split()[1] for h in headers] == [e.id for e in executions]  # oldest first
    assert "-> failed 500" in headers[1] and "POST /_functions/fail" in headers[1]
    assert "about to fail" in result.stdout
    assert "cli out 0\n" in result.stdout and "cli out 1\n" in result.stdout
    assert "cli err 0" in result.stderr and "ValueError: boom from the handler" in result.stderr


def test_logs_follow_prints_an_execution_created_after_it_started(
    platform: PlatformProcess,
    key: str,
    functions: Functions,
    history: tuple[str, list[Execution]],
    tmp_path: Path,
) -> None:
    function_id, executions = history
    out, err = tmp_path / "out", tmp_path / "err"
    with out.open("w") as stdout, err.open("w") as stderr:
        follower = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "wixhttp",
                "logs",
                "--function",
                function_id,
                "-f",
                "--for",
                "4",
                "--interval",
                "0.2",
                "--endpoint",
                platform.endpoint,
            ],
            stdout=stdout,
            stderr=stderr,
            env=_env(key),
        )
    try:
        wait_until(
            lambda: f"--- {executions[-1].id}" in out.read_text(), timeout=15, what="the listing"
        )
        late = functions.create_execution(function_id, path="/_functions/talk?tag=late&lines=1")
        assert follower.wait(timeout=15) == 0, err.read_text()
    finally:
        if follower.poll() is None:
            follower.kill()
            follower.wait(5)
    text = out.read_text()
    assert text.count(f"--- {late.id} ") == 1
    assert "late out 0\n" in text and "late err 0" in err.read_text()
    for execution in executions:
        assert text.count(f"--- {execution.id} ") == 1  # printed once, not again when following


# -- retention -----------------------------------------------------------------------------------


def test_finished_executions_older_than_the_retention_are_deleted(
    start_platform: Callable[..., PlatformProcess],
) -> None:
    platform = start_platform(*FAST, "--execution-retention", "2")
    functions = platform.functions(platform.create_key())
    function_id = new_function(functions)
    finished = functions.create_execution(function_id, path="/_functions/echo")
    later = functions.create_execution(
        function_id, xasync=True, path="/_functions/echo", scheduled_at=at(4.5)
    )
    assert later.status.value == "scheduled"
    # Checked every 0.2 s (a tenth of the retention): gone about 2 s after it finished.
    wait_until(
        lambda: [e.id for e in functions.list_executions(function_id).executions] == [later.id],
        timeout=6,
        what="the finished execution to expire",
    )
    # Unfinished executions are never expired, however old: the scheduled one still runs.
    assert wait_execution(functions, function_id, later.id, timeout=8).status.value == ("completed")
    assert finished.id not in [e.id for e in functions.list_executions(function_id).executions]
