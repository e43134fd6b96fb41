"""The `wixhttp` command as users run it: real subprocesses."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import pytest

from tests._servers import run_cli, running, wait_until

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "example_site"

SLOW_SITE = """\
import time
from wixhttp import ok

def get_slow(request):
    print("slow started", flush=True)
    time.sleep(1.0)
    return ok(body={"done": True})

def get_boom(request):
    raise RuntimeError("secret detail")
"""


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.mark.parametrize("command", [[], ["dev"], ["serve"], ["routes"], ["new"]])
def test_every_command_has_help(command: list[str]) -> None:
    result = run_cli(*command, "--help")
    assert result.returncode == 0
    assert "Usage:" in result.stdout


def test_routes_lists_name_method_handler_and_location() -> None:
    result = run_cli("routes", str(EXAMPLE))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["FUNCTION", "METHOD", "HANDLER", "LOCATION"]
    members = [line.split() for line in lines if line.startswith("members ")]
    assert [row[1] for row in members] == ["GET", "POST", "PUT", "DELETE", "OPTIONS"]
    assert members[0][2] == "get_members"
    assert members[0][3].startswith("http_functions.py:")


def test_routes_json_is_machine_readable() -> None:
    result = run_cli("routes", str(EXAMPLE), "--json")
    rows = json.loads(result.stdout)
    echo = next(row for row in rows if row["name"] == "echo")
    assert echo["method"] == "USE" and echo["handler"] == "use_echo" and echo["async"] is True


def test_routes_of_a_missing_site_is_one_clear_line(tmp_path: Path) -> None:
    line = one_line_error(run_cli("routes", str(tmp_path / "missing")))
    assert "does not exist" in line


def test_routes_of_an_empty_folder_says_what_to_create(tmp_path: Path) -> None:
    line = one_line_error(run_cli("routes", str(tmp_path)))
    assert "no http_functions.py" in line and "wixhttp new" in line


def test_routes_of_a_broken_site_names_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "http_functions.py").write_text("from wixhttp import ok\n\nimport not_a_module\n")
    line = one_line_error(run_cli("routes", str(tmp_path)))
    assert "http_functions.py:3" in line and "not_a_module" in line


def test_new_creates_a_site_whose_own_tests_pass(tmp_path: Path) -> None:
    target = tmp_path / "mysite"
    result = run_cli("new", str(target))
    assert result.returncode == 0, result.stderr
    assert (target / "http_functions.py").is_file()
    assert (target / "test_mysite.py").is_file()  # named after the site (see test_newcomer.py)
    assert (target / "pytest.ini").is_file()
    tests = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(target)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=target,
    )
    assert tests.returncode == 0, tests.stdout + tests.stderr
    assert "4 passed" in tests.stdout


def test_new_refuses_a_non_empty_directory(tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("mine")
    line = one_line_error(run_cli("new", str(tmp_path)))
    assert "not empty" in line
    assert (tmp_path / "keep.txt").read_text() == "mine"


def test_serve_answers_requests_and_hides_tracebacks(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "http_functions.py").write_text(SLOW_SITE)
    with running(["serve", str(site)], log_dir=tmp_path) as server, server.client() as client:
        reply = client.get("/_functions/boom")
        assert reply.status_code == 500
        assert "secret detail" not in reply.text
        assert reply.json() == {"error": "internal_error", "message": "Internal Server Error"}
        wait_until(lambda: "RuntimeError: secret detail" in server.log(), timeout=5)


TERMINAL_SITE = """
import sys

import click

from wixhttp import ok


def get_tty(request):
    assert isinstance(sys.stdout.fileno(), int) and sys.stdout.encoding
    click.echo("via click")
    print("via print")
    return ok(body={"encoding": sys.stdout.encoding})
"""


def test_serve_attributes_output_of_code_written_for_a_terminal(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "http_functions.py").write_text(TERMINAL_SITE)
    with running(["serve", str(site)], log_dir=tmp_path) as server, server.client() as client:
        reply = client.get("/_functions/tty")
        assert reply.status_code == 200, reply.text
        wait_until(lambda: "[get_tty] via print" in server.log(), timeout=5)
        assert "[get_tty] via click" in server.log()


def test_serve_finishes_in_flight_requests_on_sigterm(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "http_functions.py").write_text(SLOW_SITE)
    with running(["serve", str(site)], log_dir=tmp_path) as server:
        result: dict[str, httpx.Response] = {}

        def call() -> None:
            result["reply"] = httpx.get(server.base_url + "/_functions/slow", timeout=10)

        caller = threading.Thread(target=call)
        caller.start()
        wait_until(lambda: "[get_slow] slow started" in server.log(), timeout=10)
        server.proc.send_signal(signal.SIGTERM)
        caller.join(timeout=10)
        assert result["reply"].status_code == 200
        assert result["reply"].json() == {"done": True}
        # uvicorn re-raises the signal once shutdown is complete, as a process should.
        assert server.proc.wait(timeout=10) in (0, -signal.SIGTERM)
        assert "Finished server process" in server.log()


def test_serve_refuses_a_broken_site_with_one_line(tmp_path: Path) -> None:
    (tmp_path / "http_functions.py").write_text("def get_x(request:\n")
    line = one_line_error(run_cli("serve", str(tmp_path), "--port", "1"))
    assert "http_functions.py:1" in line and "SyntaxError" in line


def test_serve_refuses_a_bad_setting_from_the_environment(tmp_path: Path) -> None:
    (tmp_path / "http_functions.py").write_text(SLOW_SITE)
    result = subprocess.run(
        [sys.executable, "-m", "wixhttp", "serve", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "WIXHTTP_TIMEOUT": "soon"},
    )
    line = one_line_error(result)
    assert "WIXHTTP_TIMEOUT" in line


def test_serve_on_a_unix_socket(tmp_path: Path) -> None:
    (tmp_path / "http_functions.py").write_text(SLOW_SITE)
    sock = tmp_path / "s.sock"
    proc = subprocess.Popen(
        [sys.executable, "-m", "wixhttp", "serve", str(tmp_path), "--uds", str(sock)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        # Connect only once the socket exists: a failed Unix connect leaks a socket in httpcore.
        wait_until(sock.exists, timeout=20)
        transport = httpx.HTTPTransport(uds=str(sock))
        with httpx.Client(transport=transport, base_url="http://site") as client:
            reply = wait_until(lambda: client.get("/_functions/boom"), timeout=20)
            assert reply.status_code == 500
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=10)


# -- the site's .env -----------------------------------------------------------------------------

ECHO_SITE = """\
from wixhttp import ok

def post_echo(request):
    print("echo called", flush=True)
    return ok(body={"size": len(request.body.buffer())})

def get_boom(request):
    raise RuntimeError("secret detail")
"""


def _site_with_env(tmp_path: Path, env: str) -> Path:
    site = tmp_path / "site"
    site.mkdir()
    (site / "http_functions.py").write_text(ECHO_SITE)
    (site / ".env").write_text(env)
    return site


@pytest.mark.parametrize("command", ["dev", "serve"])
def test_settings_in_the_site_env_file_apply(tmp_path: Path, command: str) -> None:
    site = _site_with_env(tmp_path, "WIXHTTP_MAX_BODY_SIZE=10\n")
    with running([command, str(site)], log_dir=tmp_path) as server, server.client() as client:
        assert client.post("/_functions/echo", content=b"x" * 5).json() == {"size": 5}
        assert client.post("/_functions/echo", content=b"x" * 11).status_code == 413


@pytest.mark.parametrize("command", ["dev", "serve"])
def test_a_bad_setting_in_the_site_env_file_is_one_line_at_start(
    tmp_path: Path, command: str
) -> None:
    site = _site_with_env(tmp_path, "WIXHTTP_TIMEOUT=soon\n")
    line = one_line_error(run_cli(command, str(site), "--port", "1"))
    assert "WIXHTTP_TIMEOUT" in line


def test_the_environment_wins_over_the_site_env_file(tmp_path: Path) -> None:
    site = _site_with_env(tmp_path, "WIXHTTP_MAX_BODY_SIZE=10\n")
    with (
        running(
            ["serve", str(site)], log_dir=tmp_path, env={"WIXHTTP_MAX_BODY_SIZE": "1000"}
        ) as server,
        server.client() as client,
    ):
        assert client.post("/_functions/echo", content=b"x" * 500).json() == {"size": 500}


def test_serve_never_sends_tracebacks_even_with_debug_in_the_env_file(tmp_path: Path) -> None:
    site = _site_with_env(tmp_path, "WIXHTTP_DEBUG=1\n")
    with running(["serve", str(site)], log_dir=tmp_path) as server, server.client() as client:
        reply = client.get("/_functions/boom")
        assert reply.status_code == 500 and "secret detail" not in reply.text


def test_serve_with_workers_logs_requests_and_attributes_prints(tmp_path: Path) -> None:
    site = _site_with_env(tmp_path, "")
    with (
        running(["serve", str(site), "--workers", "2"], log_dir=tmp_path) as server,
        server.client() as client,
    ):
        assert client.post("/_functions/echo", content=b"abc").json() == {"size": 3}
        wait_until(lambda: "[post_echo] echo called" in server.log(), timeout=10)
        wait_until(lambda: "echo POST /_functions/echo 200" in server.log(), timeout=10)


def test_serve_imports_the_site_once(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "http_functions.py").write_text('print("site imported", flush=True)\n' + ECHO_SITE)
    with running(["serve", str(site)], log_dir=tmp_path) as server, server.client() as client:
        assert client.post("/_functions/echo", content=b"a").status_code == 200
        assert server.log().count("site imported") == 1


@pytest.mark.parametrize("command", [["dev"], ["serve"], ["serve", "--workers", "2"]], ids=" ".join)
def test_timeout_and_body_size_options_win_over_the_environment(
    tmp_path: Path, command: list[str]
) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "http_functions.py").write_text(SLOW_SITE + ECHO_SITE)
    args = [*command, str(site), "--timeout", "0.3", "--max-body-size", "10"]
    env = {"WIXHTTP_TIMEOUT": "30", "WIXHTTP_MAX_BODY_SIZE": "1000"}
    with running(args, log_dir=tmp_path, env=env) as server, server.client() as client:
        assert client.post("/_functions/echo", content=b"x" * 10).json() == {"size": 10}
        assert client.post("/_functions/echo", content=b"x" * 11).status_code == 413
        assert client.get("/_functions/slow").status_code == 504


def test_dev_stops_quietly_on_ctrl_c(tmp_path: Path) -> None:
    site = _site_with_env(tmp_path, "")
    with running(["dev", str(site)], log_dir=tmp_path) as server:
        pass
    assert server.proc.returncode == 0
    assert "Aborted" not in server.log() and "Traceback" not in server.log()
