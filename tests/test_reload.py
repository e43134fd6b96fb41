"""`wixhttp dev` as users run it: a real process on a temp site, edited on disk."""

from __future__ import annotations

import os
import re
import threading
import time
from pathlib import Path
from textwrap import dedent

import httpx
import pytest

from tests._servers import run_cli, running, wait_until

SITE = """\
import asyncio
import os
from helper import GREETING
from wixhttp import ok

VERSION = "{version}"

def get_version(request):
    return ok(body={{"version": VERSION, "greeting": GREETING}})

async def get_slow(request):
    print("slow started", flush=True)
    await asyncio.sleep(0.8)
    return ok(body={{"version": VERSION}})

def get_env(request):
    return ok(body={{"token": os.environ.get("SITE_TOKEN", "")}})
"""


def write_site(directory: Path, version: str, greeting: str = "hi") -> None:
    (directory / "helper.py").write_text(f'GREETING = "{greeting}"\n')
    write_atomic(directory / "http_functions.py", SITE.format(version=version))


def write_atomic(path: Path, text: str) -> None:
    """Replace a file in one rename, as most editors save."""
    tmp = path.with_name(f".{path.name}.swp")
    tmp.write_text(text)
    os.replace(tmp, path)


def line_of(code: str, start: str) -> int:
    return next(n for n, line in enumerate(code.splitlines(), 1) if line.startswith(start))


@pytest.fixture
def site(tmp_path: Path) -> Path:
    directory = tmp_path / "site"
    directory.mkdir()
    write_site(directory, "1")
    return directory


def wait_for_version(client: httpx.Client, version: str) -> dict[str, str]:
    def check() -> dict[str, str] | None:
        reply = client.get("/_functions/version")
        body = reply.json()
        return body if reply.status_code == 200 and body.get("version") == version else None

    return wait_until(check, timeout=10)


def server_error(client: httpx.Client) -> httpx.Response | None:
    """The version endpoint's reply if it is a 500 (the site is broken), else None."""
    reply = client.get("/_functions/version")
    return reply if reply.status_code == 500 else None


def test_a_save_is_served_by_the_next_request_without_a_restart(site: Path, tmp_path: Path) -> None:
    with running(["dev", str(site)], log_dir=tmp_path) as server, server.client() as client:
        pid = server.proc.pid
        assert client.get("/_functions/version").json()["version"] == "1"
        write_site(site, "2")
        assert wait_for_version(client, "2")["version"] == "2"
        assert server.proc.pid == pid and server.proc.poll() is None
        wait_until(lambda: "reloaded in" in server.log(), timeout=5)
        assert "http_functions.py" in server.log()


def test_an_edit_to_a_helper_module_is_picked_up(site: Path, tmp_path: Path) -> None:
    with running(["dev", str(site)], log_dir=tmp_path) as server, server.client() as client:
        write_atomic(site / "helper.py", 'GREETING = "hello again"\n')
        wait_until(
            lambda: client.get("/_functions/version").json()["greeting"] == "hello again",
            timeout=10,
        )


def test_a_request_in_flight_finishes_on_the_code_it_started_with(
    site: Path, tmp_path: Path
) -> None:
    with running(["dev", str(site)], log_dir=tmp_path) as server, server.client() as client:
        results: dict[str, object] = {}

        def slow_call() -> None:
            with server.client() as other:
                results["slow"] = other.get("/_functions/slow").json()

        caller = threading.Thread(target=slow_call)
        caller.start()
        wait_until(lambda: "[get_slow] slow started" in server.log(), timeout=10)
        write_site(site, "2")
        wait_for_version(client, "2")
        caller.join(timeout=10)
        assert results["slow"] == {"version": "1"}


def test_a_broken_save_shows_the_error_with_file_and_line_then_recovers(
    site: Path, tmp_path: Path
) -> None:
    with running(["dev", str(site)], log_dir=tmp_path) as server, server.client() as client:
        broken = SITE.format(version="2") + "\ndef get_oops(request:\n"
        where = f"http_functions.py:{line_of(broken, 'def get_oops')}"
        write_atomic(site / "http_functions.py", broken)
        reply = wait_until(lambda: server_error(client), timeout=10)
        body = reply.json()
        assert body["error"] == "site_load_error"
        assert where in body["message"]
        assert "SyntaxError" in body["message"]

        page = client.get("/_functions/version", headers={"Accept": "text/html"})
        assert page.status_code == 500
        assert page.headers["content-type"].startswith("text/html")
        assert where in page.text

        assert server.proc.poll() is None
        assert where in server.log()

        write_site(site, "3")
        assert wait_for_version(client, "3")["version"] == "3"


def test_an_exception_at_import_names_the_line_that_raised(site: Path, tmp_path: Path) -> None:
    with running(["dev", str(site)], log_dir=tmp_path) as server, server.client() as client:
        code = SITE.format(version="2") + "\nraise RuntimeError('config missing')\n"
        where = f"http_functions.py:{line_of(code, 'raise RuntimeError')}"
        write_atomic(site / "http_functions.py", code)
        reply = wait_until(lambda: server_error(client), timeout=10)
        assert where in reply.json()["message"]
        assert "RuntimeError" in reply.json()["message"]


def test_keep_last_good_serves_the_old_code_through_a_broken_save(
    site: Path, tmp_path: Path
) -> None:
    args = ["dev", str(site), "--keep-last-good"]
    with running(args, log_dir=tmp_path) as server, server.client() as client:
        write_atomic(site / "http_functions.py", "def get_version(request:\n")
        wait_until(lambda: "reload failed" in server.log(), timeout=10)
        assert "last good" in server.log()
        reply = client.get("/_functions/version")
        assert reply.status_code == 200 and reply.json()["version"] == "1"
        write_site(site, "2")
        wait_for_version(client, "2")


def test_a_site_broken_at_start_is_served_as_an_error_until_fixed(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "http_functions.py").write_text("x = 1\n")  # no handlers
    with running(["dev", str(site)], log_dir=tmp_path) as server, server.client() as client:
        reply = client.get("/_functions/version")
        assert reply.status_code == 500
        assert "no HTTP functions found" in reply.json()["message"]
        write_site(site, "1")
        wait_for_version(client, "1")


def test_removed_and_added_handlers_are_reported_and_routed(site: Path, tmp_path: Path) -> None:
    with running(["dev", str(site)], log_dir=tmp_path) as server, server.client() as client:
        code = SITE.format(version="2").replace("def get_slow", "def get_fast")
        write_atomic(site / "http_functions.py", code)
        wait_until(lambda: client.get("/_functions/fast").status_code == 200, timeout=10)
        assert client.get("/_functions/slow").status_code == 404
        wait_until(lambda: "+get_fast" in server.log() and "-get_slow" in server.log(), timeout=5)


def test_env_file_changes_apply_without_a_restart(site: Path, tmp_path: Path) -> None:
    (site / ".env").write_text("SITE_TOKEN=one\n")
    with running(["dev", str(site)], log_dir=tmp_path) as server, server.client() as client:
        pid = server.proc.pid
        assert client.get("/_functions/env").json() == {"token": "one"}
        write_atomic(site / ".env", "SITE_TOKEN=two\n")
        wait_until(lambda: client.get("/_functions/env").json() == {"token": "two"}, timeout=10)
        (site / ".env").unlink()
        wait_until(lambda: client.get("/_functions/env").json() == {"token": ""}, timeout=10)
        assert server.proc.pid == pid


def test_the_dev_server_answers_every_request_during_many_reloads(
    site: Path, tmp_path: Path
) -> None:
    """A background client keeps calling while the site is rewritten; nothing fails."""
    with running(["dev", str(site)], log_dir=tmp_path) as server, server.client() as client:
        stop = threading.Event()
        failures: list[str] = []
        count = 0

        def hammer() -> None:
            nonlocal count
            with server.client() as other:
                while not stop.is_set():
                    try:
                        reply = other.get("/_functions/env")
                        if reply.status_code != 200:
                            failures.append(f"{reply.status_code} {reply.text}")
                    except httpx.HTTPError as exc:
                        failures.append(repr(exc))
                    count += 1

        worker = threading.Thread(target=hammer)
        worker.start()
        try:
            for version in range(2, 8):
                write_site(site, str(version))
                wait_for_version(client, str(version))
        finally:
            stop.set()
            worker.join(timeout=10)
        assert failures == []
        assert count > 0


def test_dev_refuses_a_missing_site_with_one_line(tmp_path: Path) -> None:
    result = run_cli("dev", str(tmp_path / "nowhere"))
    assert result.returncode != 0
    assert "does not exist" in result.stderr
    assert "Traceback" not in result.stderr
    assert dedent(result.stderr).strip().count("\n") == 0


def test_a_save_written_in_two_parts_is_never_served_half_written(
    site: Path, tmp_path: Path
) -> None:
    """Some editors and `git checkout` write a file in pieces; the half-written file is broken."""
    with running(["dev", str(site)], log_dir=tmp_path) as server, server.client() as client:
        statuses: list[int] = []
        stop = threading.Event()

        def watch_status() -> None:
            with server.client() as other:
                while not stop.is_set():
                    statuses.append(other.get("/_functions/version").status_code)

        watcher = threading.Thread(target=watch_status)
        watcher.start()
        try:
            for version in range(2, 5):
                code = SITE.format(version=version)
                half = len(code) // 2
                with (site / "http_functions.py").open("w") as file:
                    file.write(code[:half])
                    file.flush()
                    time.sleep(0.015)
                    file.write(code[half:])
                wait_for_version(client, str(version))
        finally:
            stop.set()
            watcher.join(timeout=10)
        assert statuses and set(statuses) == {200}


# -- the error page in a browser's eyes: load errors, and the state it polls to reload itself ----

HTML = {"Accept": "text/html"}


def page_section(page: str, name: str) -> str:
    match = re.search(rf'<section id="{name}">(.*?)</section>', page, re.S)
    assert match, f"no {name} section in the page"
    return match.group(1)


def generation(client: httpx.Client) -> int:
    reply = client.get("/_wixhttp/reload-state")
    assert reply.status_code == 200
    assert reply.headers["cache-control"] == "no-store"
    value = reply.json()["generation"]
    assert isinstance(value, int)
    return value


def test_a_syntax_error_page_shows_the_source_around_the_offending_line(
    site: Path, tmp_path: Path
) -> None:
    with running(["dev", str(site)], log_dir=tmp_path) as server, server.client() as client:
        broken = SITE.format(version="2") + "\ndef get_oops(request:\n    return 1\n"
        line = line_of(broken, "def get_oops")
        write_atomic(site / "http_functions.py", broken)
        wait_until(lambda: server_error(client), timeout=10)
        page = client.get("/_functions/version", headers=HTML).text
        where = page_section(page, "where")
        assert f"<code>http_functions.py:{line}</code>" in where
        assert f'<span class="hl"><i>{line}</i>def get_oops(request:</span>' in where
        assert "SyntaxError" in page_section(page, "text")
        assert "save a fix and this page reloads" in page
        assert "<h1>" in page and "http_functions.py:" in page


def test_an_import_error_page_features_the_users_frame(site: Path, tmp_path: Path) -> None:
    with running(["dev", str(site)], log_dir=tmp_path) as server, server.client() as client:
        (site / "helper.py").write_text('import os\nGREETING = os.environ["NOT_SET_ANYWHERE"]\n')
        wait_until(lambda: server_error(client), timeout=10)
        page = client.get("/_functions/version", headers=HTML).text
        where = page_section(page, "where")
        assert "<code>helper.py:2</code>" in where
        assert "GREETING = os.environ[&quot;NOT_SET_ANYWHERE&quot;]" in where
        frames = page_section(page, "frames")
        importer = line_of(SITE, "from helper import")
        assert f"http_functions.py:{importer}</code>" in frames  # the import that led there
        assert "KeyError" in page_section(page, "text")
        assert client.get("/_functions/version").json()["error"] == "site_load_error"


def test_the_reload_state_changes_on_every_swap_and_the_page_carries_it(
    site: Path, tmp_path: Path
) -> None:
    with running(["dev", str(site)], log_dir=tmp_path) as server, server.client() as client:
        first = generation(client)
        write_atomic(site / "http_functions.py", "def get_version(request:\n")
        wait_until(lambda: server_error(client), timeout=10)
        broken = generation(client)
        assert broken > first
        page = client.get("/_functions/version", headers=HTML).text
        assert f'"generation": {broken}' in page
        assert '"url": "/_wixhttp/reload-state"' in page and '"reload": true' in page
        posted = client.post("/_functions/version", headers=HTML).text
        assert '"reload": false' in posted  # reloading would send the POST again: a banner says so
        write_site(site, "2")
        wait_for_version(client, "2")
        assert generation(client) > broken
        assert "/_wixhttp/reload-state" not in server.log()  # polling is not access-logged


def test_serve_has_no_reload_state_endpoint(site: Path, tmp_path: Path) -> None:
    with running(["serve", str(site)], log_dir=tmp_path) as server, server.client() as client:
        assert client.get("/_wixhttp/reload-state").status_code == 404
