"""Isolation between functions: a function probing, from inside its worker, what it can reach
(the database, another function's code and socket, other processes, the platform) under
``--isolation bwrap`` and under ``--isolation none`` (which shows the probe can fail)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from appwrite.enums.runtime import Runtime
from appwrite.input_file import InputFile

from tests.platform._support import (
    BACKEND,
    PlatformProcess,
    make_bundle,
    unique_id,
    wait_for_build,
)
from wixhttp.platform.sandbox import bwrap_works

BWRAP_PROBLEM = bwrap_works()
needs_bwrap = pytest.mark.skipif(bool(BWRAP_PROBLEM), reason=f"no sandbox: {BWRAP_PROBLEM}")
Start = Callable[..., PlatformProcess]
REACHABLE = (
    "database",
    "other_code",
    "platform_environ",
    "other_processes",
    "other_socket",
    "signal_platform",
    "write_code",
    "write_data",
)


def _deploy(platform: PlatformProcess, key: str, site: str, commands: str = "") -> str:
    functions = platform.functions(key)
    function_id = unique_id("iso")
    functions.create(function_id, function_id, Runtime.PYTHON_3_11, execute=["any"])
    created = functions.create_deployment(
        function_id, InputFile.from_bytes(make_bundle(site), "code.tar.gz"), True, commands=commands
    )
    ready = wait_for_build(functions, function_id, created.id)
    assert ready.status.value == "ready", ready.buildlogs
    return function_id


def _probe(start_platform: Start, isolation: str) -> dict[str, Any]:
    platform = start_platform("--isolation", isolation)
    key = platform.create_key()
    other = _deploy(platform, key, "hello")
    probe = _deploy(platform, key, "probe")
    with httpx.Client(base_url=platform.url, timeout=30) as web:
        assert web.get(f"/functions/{other}/_functions/hello").status_code == 200
        assert platform.process is not None
        pid = platform.process.pid
        response = web.get(f"/functions/{probe}/_functions/probe", params={"pid": pid})
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


@needs_bwrap
def test_a_sandboxed_function_reaches_nothing_of_the_platform_or_other_functions(
    start_platform: Start,
) -> None:
    reached = _probe(start_platform, "bwrap")
    assert {name: reached[name][:7] for name in REACHABLE} == dict.fromkeys(REACHABLE, "refused")
    assert reached["tmp_writable"] == "reached"
    assert reached["uid"] != 0


def test_an_unsandboxed_function_reaches_them(start_platform: Start) -> None:
    reached = _probe(start_platform, "none")
    # On PostgreSQL there is no database file in the data directory to reach.
    expected = [name for name in REACHABLE if BACKEND == "sqlite" or name != "database"]
    assert {name: reached[name] for name in expected} == dict.fromkeys(expected, "reached")
    # Its socket reached, the other worker still answers only the platform (its secret).
    assert reached["other_worker_call"] == "refused: PermissionError"


@needs_bwrap
def test_sandboxed_build_commands_write_their_code_folder_but_not_the_data_directory(
    start_platform: Start,
) -> None:
    platform = start_platform("--isolation", "bwrap")
    key = platform.create_key()
    commands = (
        "echo built > built.txt && ! ls ../../../../platform.db "
        "&& ! touch ../../../../written.txt && ! test -e /proc/1/environ -a -r /proc/1/environ"
    )
    function_id = _deploy(platform, key, "hello", commands=commands)
    assert not (platform.data_dir / "written.txt").exists()
    with httpx.Client(base_url=platform.url, timeout=30) as web:
        assert web.get(f"/functions/{function_id}/_functions/hello").status_code == 200


def test_isolation_bwrap_refuses_to_start_where_bwrap_does_not_work(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    from wixhttp.platform.cli import platform_command

    monkeypatch.setenv("PATH", str(tmp_path))  # no bwrap, prlimit or setpriv to be found
    result = CliRunner().invoke(
        platform_command, ["--data", str(tmp_path / "data"), "--isolation", "bwrap"]
    )
    assert result.exit_code != 0
    assert "--isolation bwrap: bwrap is not installed" in result.output
