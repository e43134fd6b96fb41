"""node-appwrite 27, 20 and 17 (servers 1.9, 1.8 and 1.7) drive a real platform through one flow:
create a function, deploy a ``.tar.gz``, build, activate, executions sync and async, variables,
download, delete (``node/sdk_flow.js``). Skips where node or npm is missing."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.platform._npm import require
from tests.platform._support import PROJECT, RUNTIME, PlatformProcess, make_bundle, unique_id

FLOW = Path(__file__).resolve().parent / "node" / "sdk_flow.js"


def run_flow(
    platform: PlatformProcess, key: str, version: str, tmp_path: Path
) -> list[dict[str, str]]:
    """Every step the script ran, in order: ``{"step", "ok", "error"}``."""
    modules = require("node-appwrite", version)
    code = tmp_path / "code.tar.gz"
    code.write_bytes(make_bundle("executions"))
    env = {
        **os.environ,
        "NODE_PATH": str(modules),
        "ENDPOINT": platform.endpoint,
        "PROJECT": PROJECT,
        "KEY": key,
        "RUNTIME": RUNTIME.value,
        "CODE": str(code),
        "FUNCTION_ID": unique_id(f"node{version}"),
        "SDK_MAJOR": version,
    }
    node = shutil.which("node")
    assert node is not None
    result = subprocess.run(
        [node, str(FLOW)], env=env, capture_output=True, text=True, timeout=240, check=False
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]


@pytest.mark.parametrize("version", ["27", "20", "17"])
def test_node_appwrite_runs_the_whole_flow(
    platform: PlatformProcess, key: str, version: str, tmp_path: Path
) -> None:
    steps = run_flow(platform, key, version, tmp_path)
    failed = [f"{s['step']}: {s.get('error', '')}" for s in steps if not s["ok"]]
    assert len(steps) == 18
    assert failed == [], "\n".join(failed)
