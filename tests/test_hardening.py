"""Hostile requests and misbehaving handlers get a deliberate answer, never a 500 of ours or a
hang (issue 15): oversized numbers, deep nesting, lone surrogates, framing headers, huge request
headers, handlers that ignore their deadline or block the thread pool, a worker that exits."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests._servers import ServerFactory, running, wait_until
from tests._sites import ClientFactory, site
from wixhttp import create_app
from wixhttp.invoke import THREAD_SHARE
from wixhttp.request import MAX_JSON_DEPTH
from wixhttp.settings import Settings, SettingsError


def test_an_integer_too_long_for_python_is_a_400_invalid_json(
    make_client: ClientFactory,
) -> None:
    client = make_client("hardening", debug=False)
    reply = client.post("/_functions/echo", content=b'{"n": ' + b"7" * 5000 + b"}")
    assert reply.status_code == 400
    assert reply.json()["error"] == "invalid_json"
    assert "digits" in reply.json()["message"]


@pytest.mark.parametrize("function", ["echo", "echo_async"])
def test_json_nested_up_to_the_limit_is_echoed_and_deeper_is_a_400(
    make_client: ClientFactory, function: str
) -> None:
    client = make_client("hardening", debug=False)
    at_limit = "[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH
    assert client.post(f"/_functions/{function}", content=at_limit).text == at_limit
    for depth in (MAX_JSON_DEPTH + 1, 980, 100_000):
        reply = client.post(f"/_functions/{function}", content="[" * depth + "]" * depth)
        assert reply.status_code == 400, depth
        assert reply.json()["error"] == "invalid_json"
        assert f"more than {MAX_JSON_DEPTH} levels" in reply.json()["message"]


def test_brackets_inside_strings_do_not_count_as_nesting(make_client: ClientFactory) -> None:
    client = make_client("hardening", debug=False)
    body = json.dumps({"text": "[{" * 2000})
    assert client.post("/_functions/echo", content=body).json() == {"text": "[{" * 2000}


@pytest.mark.parametrize("function", ["echo", "echo_async"])
def test_a_lone_surrogate_is_echoed_escaped_as_json_stringify_writes_it(
    make_client: ClientFactory, function: str
) -> None:
    client = make_client("hardening", debug=False)
    reply = client.post(f"/_functions/{function}", content=b'{"name": "a\\ud800b"}')
    assert reply.status_code == 200
    assert reply.content == b'{"name":"a\\ud800b"}'  # valid JSON, the same string back
    assert reply.json() == {"name": "a\ud800b"}


def test_a_lone_surrogate_in_a_text_body_is_sent_as_the_replacement_character(
    make_client: ClientFactory,
) -> None:
    client = make_client("hardening", debug=False)
    reply = client.post("/_functions/echo_text", content=b'{"name": "a\\udc00b"}')
    assert reply.status_code == 200
    assert reply.text == "a\ufffdb"


def test_a_body_the_handler_nests_too_deeply_is_a_500_naming_the_handler(
    make_client: ClientFactory, caplog: pytest.LogCaptureFixture
) -> None:
    client = make_client("hardening")
    reply = client.get("/_functions/deep", params={"depth": "20000"})
    assert reply.status_code == 500
    assert "handler get_deep returned a body that is not JSON" in reply.json()["message"]
    assert "nested too deeply" in reply.json()["message"]
    assert "get_deep" in caplog.text


def test_a_handler_cannot_send_framing_or_connection_headers(make_client: ClientFactory) -> None:
    client = make_client("hardening", debug=False)
    reply = client.get("/_functions/framing")
    assert reply.text == "framed"
    assert reply.headers["content-length"] == "6"
    for name in ("transfer-encoding", "connection", "upgrade"):
        assert name not in reply.headers
    assert reply.headers["x-kept"] == "yes"


def test_request_headers_over_64_kib_are_a_431_before_the_handler_runs(
    make_client: ClientFactory,
) -> None:
    client = make_client("hardening", debug=False)
    fits = client.get("/_functions/headers", headers={"x-big": "a" * 60_000})
    assert fits.status_code == 200
    reply = client.get("/_functions/headers", headers={"x-big": "a" * 66_000})
    assert reply.status_code == 431
    assert reply.json()["error"] == "request_header_fields_too_large"
    spread = {f"x-h{i}": "a" * 1000 for i in range(70)}  # the total counts, not one header
    assert client.get("/_functions/headers", headers=spread).status_code == 431


def test_the_header_limit_comes_from_wixhttp_max_header_size(
    make_client: ClientFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WIXHTTP_MAX_HEADER_SIZE", "2000")
    client = make_client("hardening", debug=False)
    assert client.get("/_functions/headers", headers={"x-big": "a" * 1000}).status_code == 200
    assert client.get("/_functions/headers", headers={"x-big": "a" * 2000}).status_code == 431


def test_a_header_limit_that_is_not_a_positive_size_is_refused() -> None:
    with pytest.raises(SettingsError, match="WIXHTTP_MAX_HEADER_SIZE"):
        Settings.resolve(environ={"WIXHTTP_MAX_HEADER_SIZE": "lots"})
    with pytest.raises(SettingsError, match="max_header_size must be greater than zero"):
        Settings.resolve(max_header_size=0, environ={})


def test_an_async_handler_that_swallows_its_cancellation_still_gets_its_caller_a_504(
    live_server: ServerFactory, caplog: pytest.LogCaptureFixture
) -> None:
    server = live_server(create_app(site("hardening"), timeout=0.5))
    client = httpx.Client(base_url=server.url, timeout=30)
    try:
        reply = client.get("/_functions/stubborn")  # without the fix: no answer, ever
        assert reply.status_code == 504
        assert reply.json()["error"] == "timeout"
        assert "handler get_stubborn ignored its cancellation" in caplog.text
        # The connection serves on, and the handler ends once let go.
        assert client.get("/_functions/quick_async").text == "quick"
    finally:
        client.post("/_functions/release")
        client.close()


def test_a_function_blocking_its_threads_gets_503_alone_and_recovers(
    live_server: ServerFactory,
) -> None:
    server = live_server(create_app(site("hardening"), timeout=0.5))
    client = httpx.Client(base_url=server.url, timeout=30)
    try:
        # More calls than its share, all hanging: the share times out, the rest is refused.
        with ThreadPoolExecutor(THREAD_SHARE + 4) as pool:
            replies = list(
                pool.map(lambda _: client.get("/_functions/blocked"), range(THREAD_SHARE + 4))
            )
        statuses = sorted(reply.status_code for reply in replies)
        assert statuses == [503] * 4 + [504] * THREAD_SHARE
        refused = next(reply for reply in replies if reply.status_code == 503)
        assert refused.json()["error"] == "overloaded"
        assert refused.headers["retry-after"] == "1"
        # Other plain handlers still get threads; the blocked function is refused at once.
        assert client.get("/_functions/quick").text == "quick"
        assert client.get("/_functions/blocked").status_code == 503
        client.post("/_functions/release")
        wait_until(
            lambda: client.get("/_functions/blocked").status_code == 200,
            what="the function to get threads again",
        )
    finally:
        client.post("/_functions/release")
        client.close()


@pytest.mark.parametrize("code", ["3", "1"])
def test_serve_with_workers_survives_a_handler_ending_its_process(
    tmp_path: Path, code: str
) -> None:
    args = ["serve", str(site("hardening")), "--workers", "2"]
    with running(args, log_dir=tmp_path) as server, server.client() as client:
        with pytest.raises(httpx.TransportError):  # the worker died mid-request
            client.get("/_functions/exit", params={"code": code})
        wait_until(
            lambda: "while serving; starting a new one" in server.log(),
            what="the dead worker to be replaced",
        )
        for _ in range(10):  # both workers answer again
            assert client.get("/_functions/quick").text == "quick"
        assert server.proc.poll() is None, server.log()
        assert f"exited (code {code})" in server.log()


def test_dev_says_which_async_handler_blocks_the_event_loop(
    make_client: ClientFactory, caplog: pytest.LogCaptureFixture
) -> None:
    client = make_client("hardening", debug=True)  # what wixhttp dev runs
    assert client.get("/_functions/sleepy", params={"seconds": "1"}).text == "slept"
    assert "async handler get_sleepy is blocking the event loop" in caplog.text
    assert "http_functions.py:" in caplog.text


def test_served_without_debug_nothing_watches_the_event_loop(
    make_client: ClientFactory, caplog: pytest.LogCaptureFixture
) -> None:
    client = make_client("hardening", debug=False)
    assert client.get("/_functions/sleepy", params={"seconds": "1"}).text == "slept"
    assert "blocking the event loop" not in caplog.text
