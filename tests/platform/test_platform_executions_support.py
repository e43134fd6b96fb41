"""Helpers shared by the execution tests (no tests here): fast platforms, deploys, waits."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from appwrite.enums.runtime import Runtime
from appwrite.input_file import InputFile
from appwrite.models.execution import Execution
from appwrite.services.functions import Functions
from platform_support import PlatformProcess, make_bundle, unique_id, wait_for_build

#: Settings that keep the tests fast: 2 s synchronous cap, scheduledAt 1 s ahead is enough.
FAST = ("--activation-limit", "1000", "--sync-timeout", "2", "--min-schedule-lead", "1")
RUNTIME = Runtime.PYTHON_3_11
FINISHED = ("completed", "failed")


def module_platform(*args: str) -> Any:
    """A module-scoped fixture: one platform process with ``args`` for the module's tests."""

    @pytest.fixture(scope="module")
    def fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PlatformProcess]:
        process = PlatformProcess(tmp_path_factory.mktemp("platform") / "data", *args).start()
        yield process
        process.stop()

    return fixture


def deploy(functions: Functions, function_id: str, site: str = "executions") -> str:
    created = functions.create_deployment(
        function_id, InputFile.from_bytes(make_bundle(site), "code.tar.gz"), True
    )
    ready = wait_for_build(functions, function_id, created.id)
    assert ready.status.value == "ready", ready.buildlogs
    return str(created.id)


def new_function(functions: Functions, *, deployed: bool = True, **options: Any) -> str:
    """A function (execute any, unless given) running ``sites/executions``."""
    function_id = unique_id("ex")
    options.setdefault("execute", ["any"])
    functions.create(function_id, function_id, RUNTIME, **options)
    if deployed:
        deploy(functions, function_id)
    return function_id


def wait_until(predicate: Callable[[], Any], timeout: float = 20.0, what: str = "") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out after {timeout} s waiting for {what}"
        time.sleep(0.05)


def wait_execution(
    functions: Functions,
    function_id: str,
    execution_id: str,
    statuses: tuple[str, ...] = FINISHED,
    timeout: float = 20.0,
) -> Execution:
    def check() -> Execution | None:
        execution = functions.get_execution(function_id, execution_id)
        return execution if execution.status.value in statuses else None

    result: Execution = wait_until(check, timeout, f"{execution_id} to be one of {statuses}")
    return result


def at(seconds_from_now: float) -> str:
    """An ISO 8601 time ``seconds_from_now`` ahead (UTC, milliseconds)."""
    moment = datetime.fromtimestamp(time.time() + seconds_from_now, timezone.utc)
    return moment.isoformat(timespec="milliseconds")


def epoch(stamp: str) -> float:
    return datetime.fromisoformat(stamp).timestamp()


def marks(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []
