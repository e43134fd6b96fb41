"""One log format for `wixhttp dev` and `serve`: access lines, uvicorn's lines and what handlers
print or log, as text or as JSON lines (real servers, their real output)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests._servers import Server, running, wait_until

SITE = """\
import logging

from wixhttp import ok

def post_echo(request):
    print("echo called", flush=True)
    logging.getLogger("shop").warning("stock low")
    return ok(body={"size": len(request.body.buffer())})

def get_boom(request):
    raise RuntimeError("secret detail")
"""

TEXT_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} (DEBUG|INFO|WARNING|ERROR)\s+\S")
ACCESS_TEXT = re.compile(
    r" INFO +127\.0\.0\.1:\d+ echo POST /_functions/echo 200 \d+\.\dms$", re.MULTILINE
)
COMMANDS = [["dev"], ["serve"], ["serve", "--workers", "2"]]


def make_site(tmp_path: Path) -> Path:
    site = tmp_path / "site"
    site.mkdir()
    (site / "http_functions.py").write_text(SITE)
    return site


def exercise(server: Server) -> None:
    with server.client() as client:
        assert client.post("/_functions/echo", content=b"abc").json() == {"size": 3}
        assert client.get("/_functions/boom").status_code == 500


def records(server: Server) -> list[dict[str, Any]]:
    return [json.loads(line) for line in server.log().splitlines() if line.strip()]


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_line_has_the_time_and_level_format(tmp_path: Path, command: list[str]) -> None:
    with running([*command, str(make_site(tmp_path))], log_dir=tmp_path) as server:
        exercise(server)
        wait_until(lambda: ACCESS_TEXT.search(server.log()), timeout=10, what="the access line")
        wait_until(lambda: "RuntimeError: secret detail" in server.log(), timeout=10)
    log = server.log()
    assert re.search(r" INFO +Started server process \[\d+\]$", log, re.MULTILINE), log
    assert re.search(r" INFO +\[post_echo\] echo called$", log, re.MULTILINE), log
    assert re.search(r" WARNING +\[post_echo\] stock low$", log, re.MULTILINE), log
    # A traceback continues its record; every other line starts with the time and level.
    lines = log.split("Traceback (most recent call last):")[0].splitlines()
    for line in [*lines, *log.split("RuntimeError: secret detail", 1)[1].splitlines()]:
        assert not line.strip() or TEXT_LINE.match(line), line


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_json_log_format_writes_one_object_a_line(tmp_path: Path, command: list[str]) -> None:
    args = [*command, str(make_site(tmp_path)), "--log-format", "json"]
    with running(args, log_dir=tmp_path) as server:
        exercise(server)
        wait_until(lambda: "secret detail" in server.log(), timeout=10)
        wait_until(lambda: '"status": 500' in server.log(), timeout=10)
    found = records(server)  # every line is a JSON object
    assert all({"time", "level", "logger", "function", "message"} <= set(r) for r in found)
    [access] = [r for r in found if r.get("path") == "/_functions/echo"]
    assert access["client"].startswith("127.0.0.1:")
    assert (access["function"], access["method"], access["status"]) == ("echo", "POST", 200)
    assert access["level"] == "INFO" and isinstance(access["duration_ms"], float)
    printed = next(r for r in found if r["message"] == "echo called")
    assert printed["function"] == "post_echo" and printed["level"] == "INFO"
    logged = next(r for r in found if r["message"] == "stock low")
    assert logged["function"] == "post_echo" and logged["logger"] == "shop"
    failed = next(r for r in found if "exception" in r)
    assert failed["level"] == "ERROR" and "RuntimeError: secret detail" in failed["exception"]
    assert any(r["message"].startswith("Started server process") for r in found)


def test_the_log_format_can_come_from_the_environment(tmp_path: Path) -> None:
    site = make_site(tmp_path)
    with running(["serve", str(site)], log_dir=tmp_path, env={"WIXHTTP_LOG_FORMAT": "json"}) as s:
        exercise(s)
        wait_until(lambda: '"path": "/_functions/echo"' in s.log(), timeout=10)
    assert records(s)
