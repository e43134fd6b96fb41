"""The app around the handlers: failures, timeouts, the DELETE rule, body limits and logs."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import re
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.types import Message

from tests._asgi import AsgiCall, http_scope
from tests._servers import ServerFactory, raw_request
from tests._sites import ClientFactory, site
from wixhttp import create_app
from wixhttp.logs import FunctionFilter, FunctionStream, install
from wixhttp.testing import TestClient

ENTRY = str(site("failures") / "http_functions.py")
GENERIC_500 = {"error": "internal_error", "message": "Internal Server Error"}


def line_of(text: str) -> int:
    """The line number of ``text`` in the failures site."""
    for number, line in enumerate(Path(ENTRY).read_text().splitlines(), start=1):
        if text in line:
            return number
    raise AssertionError(f"{text!r} not in {ENTRY}")


@pytest.fixture
def client(make_client: ClientFactory) -> TestClient:
    return make_client("failures", debug=False, timeout=0.2)


@pytest.fixture
def debug_client(make_client: ClientFactory) -> TestClient:
    return make_client("failures", debug=True, timeout=0.2)


@pytest.fixture
def marker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A file the tracked handlers write: it exists only if user code ran."""
    path = tmp_path / "handler-ran"
    monkeypatch.setenv("WIXHTTP_TEST_MARKER", str(path))
    return path


def errors(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "wixhttp.error"]


def access(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "wixhttp.access"]


# -- a handler that raises ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "secret"), [("boom", "secret detail 42"), ("aboom", "async secret detail 43")]
)
def test_a_raising_handler_is_a_500_with_the_traceback_logged_not_sent(
    client: TestClient, caplog: pytest.LogCaptureFixture, name: str, secret: str
) -> None:
    with caplog.at_level(logging.INFO):
        reply = client.get(f"/_functions/{name}")
    assert reply.status_code == 500
    assert reply.json() == GENERIC_500
    assert secret not in reply.text and "Traceback" not in reply.text
    [record] = errors(caplog)
    assert record.getMessage() == (
        f"{ENTRY}:{line_of(f'def get_{name}(')}: handler get_{name} raised RuntimeError"
    )
    assert record.exc_info is not None
    assert secret in caplog.text and "Traceback" in caplog.text


@pytest.mark.parametrize(
    ("name", "secret"), [("boom", "secret detail 42"), ("aboom", "async secret detail 43")]
)
def test_with_debug_on_the_traceback_is_in_the_500(
    debug_client: TestClient, name: str, secret: str
) -> None:
    reply = debug_client.get(f"/_functions/{name}")
    assert reply.status_code == 500
    body = reply.json()
    assert body["error"] == "internal_error"
    assert body["message"] == f"RuntimeError: {secret}"
    assert "Traceback" in body["details"] and f"get_{name}" in body["details"]


def test_a_browser_gets_an_html_error_page(client: TestClient, debug_client: TestClient) -> None:
    headers = {"Accept": "text/html,application/xhtml+xml"}
    plain = client.get("/_functions/boom", headers=headers)
    assert plain.status_code == 500
    assert plain.headers["content-type"] == "text/html; charset=utf-8"
    assert "<h1>500 internal_error</h1>" in plain.text
    assert "secret detail" not in plain.text
    debug = debug_client.get("/_functions/boom", headers=headers)
    assert "Traceback (most recent call last)" in debug.text and "secret detail 42" in debug.text
    missing = client.get("/_functions/nope", headers=headers)
    assert missing.status_code == 404 and "<h1>404 function_not_found</h1>" in missing.text
    assert "no HTTP function named &#x27;nope&#x27;" in missing.text


# -- what a handler returns --------------------------------------------------------------------


@pytest.mark.parametrize("name", ["none", "anone"])
def test_returning_none_is_a_500_whose_log_says_where_and_what_to_return(
    client: TestClient, caplog: pytest.LogCaptureFixture, name: str
) -> None:
    with caplog.at_level(logging.INFO):
        reply = client.get(f"/_functions/{name}")
    assert reply.status_code == 500
    assert reply.json() == GENERIC_500
    [record] = errors(caplog)
    line = line_of(f"def get_{name}(")
    assert record.getMessage() == (
        f"{ENTRY}:{line}: handler get_{name} returned None; "
        "return ok(...), not_found(...) or another response helper"
    )


@pytest.mark.parametrize(
    ("name", "defined_at"),
    [("none_callable", "def __call__(self, request):"), ("none_partial", "def _forgetful(")],
)
def test_returning_none_from_a_callable_object_or_partial_names_its_code(
    client: TestClient, caplog: pytest.LogCaptureFixture, name: str, defined_at: str
) -> None:
    with caplog.at_level(logging.INFO):
        assert client.get(f"/_functions/{name}").status_code == 500
    [record] = errors(caplog)
    assert record.getMessage().startswith(
        f"{ENTRY}:{line_of(defined_at)}: handler get_{name} returned None; return ok(...)"
    )


def test_with_debug_on_the_none_hint_is_in_the_500(debug_client: TestClient) -> None:
    reply = debug_client.get("/_functions/none")
    assert reply.status_code == 500
    assert "returned None; return ok(...)" in reply.json()["message"]


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("plain_dict", "returned dict {'hello': 'world'}"),
        ("plain_str", "returned str 'hello'"),
        ("plain_list", "returned list [1, 2]"),
        ("duck_bad_status/text", "returned dict"),
        ("duck_bad_status/low", "returned dict"),
        ("duck_bad_status/high", "returned dict"),
        ("duck_bad_status/bool", "returned dict"),
    ],
)
def test_other_return_values_are_a_500_saying_what_to_return(
    client: TestClient, caplog: pytest.LogCaptureFixture, name: str, shown: str
) -> None:
    with caplog.at_level(logging.INFO):
        reply = client.get(f"/_functions/{name}")
    assert reply.status_code == 500
    [record] = errors(caplog)
    assert shown in record.getMessage()
    assert record.getMessage().endswith("return ok(...), not_found(...) or another response helper")


def test_a_duck_typed_dict_with_a_status_is_a_response(client: TestClient) -> None:
    reply = client.get("/_functions/duck_dict")
    assert reply.status_code == 202
    assert reply.json() == {"duck": "dict"}
    assert reply.headers["x-duck"] == "dict"


def test_a_duck_typed_object_with_a_status_is_a_response(client: TestClient) -> None:
    reply = client.get("/_functions/duck_object")
    assert (reply.status_code, reply.text, reply.headers["x-duck"]) == (
        203,
        "duck object",
        "object",
    )


def test_a_duck_typed_status_alone_is_enough(client: TestClient) -> None:
    reply = client.get("/_functions/duck_status_only")
    assert (reply.status_code, reply.content) == (204, b"")


@pytest.mark.parametrize("name", ["promise", "apromise"])
def test_an_awaitable_returned_by_a_handler_is_awaited_like_a_promise(
    client: TestClient, name: str
) -> None:
    reply = client.get(f"/_functions/{name}")
    assert (reply.status_code, reply.text) == (200, "resolved")


@pytest.mark.parametrize("name", ["exit", "aexit"])
async def test_a_handler_calling_sys_exit_is_an_ordinary_500(name: str) -> None:
    app = create_app(site("failures"), debug=False)
    sent: list[Message] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    try:
        # Awaited directly (not in a task of its own), so a SystemExit cannot reach the loop.
        await app(http_scope("GET", f"/_functions/{name}"), receive, send)
    except SystemExit:
        pytest.fail("SystemExit escaped the app")
    finally:
        app.close()
    assert sent[0]["status"] == 500


# -- timeouts ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["sleepy", "asleepy"])
def test_a_handler_past_the_timeout_is_a_504_without_waiting_for_it(
    client: TestClient, caplog: pytest.LogCaptureFixture, name: str
) -> None:
    started = time.monotonic()
    with caplog.at_level(logging.INFO):
        reply = client.get(f"/_functions/{name}")  # sleeps 1 s (sync) or 5 s (async)
    elapsed = time.monotonic() - started
    assert reply.status_code == 504
    assert 0.2 <= elapsed < 0.9
    assert reply.json() == {
        "error": "timeout",
        "message": f"function '{name}' did not answer within 0.2 seconds",
    }
    [record] = errors(caplog)
    assert record.getMessage() == (
        f"{ENTRY}:{line_of(f'def get_{name}(')}: handler get_{name} ran past the 0.2s timeout"
    )


def test_a_handler_that_swallows_its_timeout_still_gets_a_504(client: TestClient) -> None:
    reply = client.get("/_functions/stubborn")
    assert reply.status_code == 504
    assert reply.json()["error"] == "timeout"


@pytest.mark.parametrize("name", ["own_timeout", "aown_timeout"])
def test_a_timeout_error_raised_by_the_handler_itself_is_a_500_not_a_504(
    client: TestClient, caplog: pytest.LogCaptureFixture, name: str
) -> None:
    with caplog.at_level(logging.INFO):
        reply = client.get(f"/_functions/{name}")
    assert reply.status_code == 500
    [record] = errors(caplog)
    assert record.getMessage().endswith(f"handler get_{name} raised TimeoutError")


@pytest.mark.parametrize("name", ["sleepy", "asleepy"])
def test_a_handler_within_the_timeout_answers(client: TestClient, name: str) -> None:
    assert client.get(f"/_functions/{name}?s=0.01").text == "woke up"


def test_requests_after_a_sync_timeout_are_served(client: TestClient) -> None:
    assert client.get("/_functions/sleepy?s=0.3").status_code == 504
    assert client.get("/_functions/sleepy?s=0").status_code == 200
    assert client.get("/_functions/duck_dict").status_code == 202


async def test_sync_handlers_run_concurrently(
    make_client: ClientFactory, live_server: ServerFactory
) -> None:
    server = live_server(make_client("failures").app)
    async with httpx.AsyncClient(base_url=server.url, timeout=5) as http:
        started = time.monotonic()
        replies = await asyncio.gather(*(http.get("/_functions/sleepy?s=0.3") for _ in range(4)))
        elapsed = time.monotonic() - started
    assert [r.status_code for r in replies] == [200] * 4
    assert elapsed < 0.9  # one after another would take 1.2 s


# -- the DELETE rule ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["tracked", "tracked_any"])
@pytest.mark.parametrize(
    ("headers", "content"),
    [
        ({}, b"x"),
        ({"Content-Type": "text/plain"}, b"some text"),
        ({"Content-Type": "application/json"}, b""),
        ({"Content-Type": "application/json"}, b'{"id": 1}'),
        ({"Content-Type": "application/json; charset=utf-8"}, b""),
        ({"Content-Type": "Application/JSON"}, b""),
    ],
)
def test_delete_with_a_body_or_json_content_type_is_a_400_before_user_code(
    client: TestClient,
    marker: Path,
    name: str,
    headers: dict[str, str],
    content: bytes,
) -> None:
    reply = client.request("DELETE", f"/_functions/{name}", headers=headers, content=content)
    assert reply.status_code == 400
    assert reply.json()["error"] == "bad_request"
    assert "DELETE" in reply.json()["message"]
    assert not marker.exists()


@pytest.mark.parametrize("name", ["tracked", "tracked_any"])
@pytest.mark.parametrize(
    "headers",
    [{}, {"Content-Length": "0"}, {"Content-Type": "text/plain"}, {"Accept": "application/json"}],
)
def test_delete_without_a_body_or_json_content_type_reaches_the_handler(
    client: TestClient, marker: Path, name: str, headers: dict[str, str]
) -> None:
    reply = client.request("DELETE", f"/_functions/{name}", headers=headers)
    assert reply.status_code == 200
    assert marker.read_text() == f"DELETE {name}"


def test_a_chunked_delete_body_is_refused_before_user_code(
    make_client: ClientFactory, live_server: ServerFactory, marker: Path
) -> None:
    server = live_server(make_client("failures").app)
    head = (
        b"DELETE /_functions/tracked HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n"
    )
    reply = raw_request(server.port, head, [b"3\r\nabc\r\n", b"0\r\n\r\n"])
    assert reply.status == 400
    assert not marker.exists()


def test_other_methods_may_carry_json(client: TestClient, marker: Path) -> None:
    reply = client.post("/_functions/tracked", json={"a": 1})
    assert reply.status_code == 200 and marker.read_text() == "POST tracked"


# -- the body size limit -----------------------------------------------------------------------


def test_a_body_at_the_limit_is_accepted_one_byte_more_is_413(
    make_client: ClientFactory, marker: Path
) -> None:
    client = make_client("failures", max_body_size=1024)
    assert client.post("/_functions/tracked", content=b"x" * 1024).json() == {"size": 1024}
    marker.unlink()
    reply = client.post("/_functions/tracked", content=b"x" * 1025)
    assert reply.status_code == 413
    assert reply.json() == {
        "error": "payload_too_large",
        "message": "request body is larger than the 1024 byte limit",
    }
    assert not marker.exists()


def test_the_default_limit_is_512_kib(make_client: ClientFactory, marker: Path) -> None:
    client = make_client("failures")
    limit = 512 * 1024
    assert client.post("/_functions/tracked", content=b"x" * limit).json() == {"size": limit}
    assert client.post("/_functions/tracked", content=b"x" * (limit + 1)).status_code == 413


def test_an_oversized_content_length_is_refused_before_the_body_is_sent(
    make_client: ClientFactory, live_server: ServerFactory, marker: Path
) -> None:
    server = live_server(make_client("failures", max_body_size=1024).app)
    # Claim 100 MB and send nothing: the answer must come without waiting for the body.
    head = b"POST /_functions/tracked HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\n\r\n"
    reply = raw_request(server.port, head, timeout=3)
    assert reply.status == 413
    assert b"1024 byte limit" in reply.body
    assert not marker.exists()


def test_a_chunked_body_over_the_limit_is_refused_without_reading_it_all(
    make_client: ClientFactory, live_server: ServerFactory, marker: Path
) -> None:
    server = live_server(make_client("failures", max_body_size=1024).app)
    head = b"POST /_functions/tracked HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
    # 2 KiB in 512-byte chunks, and the body is never finished (no final 0-size chunk): a
    # server that read everything before deciding would never answer.
    chunks = [b"200\r\n" + b"x" * 512 + b"\r\n"] * 4
    reply = raw_request(server.port, head, chunks, timeout=3)
    assert reply.status == 413
    assert b"1024 byte limit" in reply.body
    assert not marker.exists()


def test_a_chunked_body_within_the_limit_is_accepted(
    make_client: ClientFactory, live_server: ServerFactory, marker: Path
) -> None:
    server = live_server(make_client("failures", max_body_size=1024).app)

    def chunks() -> Any:
        yield from [b"x" * 500, b"y" * 500, b"z" * 24]

    with httpx.Client(base_url=server.url, timeout=5) as http:
        reply = http.post("/_functions/tracked", content=chunks())
    assert reply.json() == {"size": 1024}


# -- the access log ----------------------------------------------------------------------------


ACCESS = re.compile(r"^(?P<name>\S+) (?P<method>[A-Z]+) (?P<path>\S+) (?P<status>\d{3}) \d+\.\dms$")


@pytest.mark.parametrize(
    ("method", "url", "kwargs", "name", "status"),
    [
        ("GET", "/_functions/duck_dict", {}, "duck_dict", 202),
        ("GET", "/_functions-dev/duck_dict/a", {}, "duck_dict", 202),
        ("GET", "/_functions/missing", {}, "missing", 404),
        ("POST", "/_functions/duck_dict", {}, "duck_dict", 405),
        ("GET", "/_functions/boom", {}, "boom", 500),
        ("GET", "/_functions/none", {}, "none", 500),
        ("GET", "/_functions/sleepy", {}, "sleepy", 504),
        ("DELETE", "/_functions/tracked", {"content": b"x"}, "tracked", 400),
        ("POST", "/_functions/tracked", {"content": b"x" * 2048}, "tracked", 413),
    ],
)
def test_each_request_logs_one_access_line_with_name_method_status_and_duration(
    make_client: ClientFactory,
    caplog: pytest.LogCaptureFixture,
    marker: Path,
    method: str,
    url: str,
    kwargs: dict[str, Any],
    name: str,
    status: int,
) -> None:
    client = make_client("failures", debug=False, timeout=0.2, max_body_size=1024)
    with caplog.at_level(logging.INFO, logger="wixhttp.access"):
        assert client.request(method, url, **kwargs).status_code == status
    [line] = access(caplog)
    match = ACCESS.match(line)
    assert match is not None, line
    assert (match["name"], match["method"], int(match["status"])) == (name, method, status)


def test_the_access_line_duration_covers_the_handler(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="wixhttp.access"):
        client.get("/_functions/sleepy?s=0.05")
    [line] = access(caplog)
    milliseconds = float(line.rsplit(" ", 1)[1].removesuffix("ms"))
    assert milliseconds >= 50


def test_a_request_outside_the_function_prefixes_logs_an_access_line_too(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="wixhttp.access"):
        assert client.get("/_function/duck_dict").status_code == 404
    [line] = access(caplog)
    assert " GET " in line and " 404 " in line


def test_a_client_that_hangs_up_mid_body_is_logged_as_499(
    make_client: ClientFactory,
    live_server: ServerFactory,
    caplog: pytest.LogCaptureFixture,
    marker: Path,
) -> None:
    import socket

    server = live_server(make_client("failures").app)
    caplog.set_level(logging.INFO, logger="wixhttp.access")
    with socket.create_connection(("127.0.0.1", server.port), timeout=3) as sock:
        sock.sendall(
            b"POST /_functions/tracked HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc"
        )
        time.sleep(0.05)
    deadline = time.monotonic() + 3
    while not access(caplog) and time.monotonic() < deadline:
        time.sleep(0.01)
    [line] = access(caplog)
    assert line.startswith("tracked POST ") and " 499 " in line
    assert not marker.exists()


# -- output of handlers ------------------------------------------------------------------------


def test_print_inside_a_handler_is_prefixed_with_its_function(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = io.StringIO()
    monkeypatch.setattr(sys, "stdout", FunctionStream(out))
    print("before")
    assert client.get("/_functions/talk").status_code == 200
    assert client.get("/_functions/atalk?n=7").status_code == 200
    print("after")
    assert out.getvalue() == (
        "before\n[get_talk] printed by talk\n[get_atalk] printed by atalk 7\nafter\n"
    )


def test_log_records_inside_a_handler_carry_its_function(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.handler.addFilter(FunctionFilter())
    with caplog.at_level(logging.INFO):
        logging.getLogger("site.failures").warning("outside")
        client.get("/_functions/talk")
        client.get("/_functions/atalk")
    records = [r for r in caplog.records if r.name == "site.failures"]
    assert [(r.getMessage(), r.function, r.where) for r in records] == [  # type: ignore[attr-defined]
        ("outside", "-", ""),
        ("logged by talk", "get_talk", "[get_talk] "),
        ("logged by atalk", "get_atalk", "[get_atalk] "),
    ]


async def test_concurrent_handlers_output_is_attributed_to_each(
    make_client: ClientFactory, live_server: ServerFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = io.StringIO()
    monkeypatch.setattr(sys, "stdout", FunctionStream(out))
    server = live_server(make_client("failures").app)
    async with httpx.AsyncClient(base_url=server.url, timeout=5) as http:
        await asyncio.gather(
            http.get("/_functions/atalk?s=0.1&n=slow"),
            http.get("/_functions/talk"),
        )
    assert sorted(out.getvalue().splitlines()) == [
        "[get_atalk] printed by atalk slow",
        "[get_talk] printed by talk",
    ]


def test_install_routes_print_and_logging_through_the_function_prefix(
    client: TestClient, capsys: pytest.CaptureFixture[str]
) -> None:
    root = logging.getLogger()
    saved = (sys.stdout, sys.stderr, root.handlers[:], root.level)
    try:
        install()
        install()  # idempotent: streams are not wrapped twice
        client.get("/_functions/talk")
        print("outside")
    finally:
        sys.stdout, sys.stderr = saved[0], saved[1]
        root.handlers[:] = saved[2]
        root.setLevel(saved[3])
    captured = capsys.readouterr()
    # A handler's print is a log record (on stderr, in the log format); other prints pass.
    assert captured.out == "outside\n"
    assert " INFO     [get_talk] printed by talk\n" in captured.err
    assert "WARNING  [get_talk] logged by talk" in captured.err
    assert "[get_talk] [get_talk]" not in captured.err


# -- ASGI ----------------------------------------------------------------------------------


async def test_lifespan_startup_and_shutdown_complete() -> None:
    app = create_app(site("failures"))
    incoming = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    sent: list[Message] = []

    async def receive() -> dict[str, Any]:
        return incoming.pop(0)

    async def send(message: Message) -> None:
        sent.append(message)

    await asyncio.wait_for(app({"type": "lifespan"}, receive, send), 5)
    assert sent == [{"type": "lifespan.startup.complete"}, {"type": "lifespan.shutdown.complete"}]


async def test_a_websocket_is_closed(asgi_call: AsgiCall) -> None:
    app = create_app(site("failures"))
    result = await asgi_call(app, {"type": "websocket", "path": "/_functions/talk"})
    assert result.messages == [{"type": "websocket.close", "code": 1003}]


@pytest.mark.parametrize("value", ["abc", "1.5", "", "-1"])
async def test_an_invalid_content_length_is_a_400(asgi_call: AsgiCall, value: str) -> None:
    app = create_app(site("failures"))
    scope = http_scope("POST", "/_functions/tracked", headers=[("content-length", value)])
    result = await asgi_call(app, scope)
    app.close()
    assert result.status == 400
    assert b"invalid Content-Length header" in result.body


async def test_error_responses_to_head_have_no_body(asgi_call: AsgiCall) -> None:
    app = create_app(site("failures"))
    for path, status in [("/_functions/missing", 404), ("/_functions/tracked", 405), ("/x", 404)]:
        result = await asgi_call(app, http_scope("HEAD", path))
        assert (result.status, result.body) == (status, b"")
        assert int(result.headers["content-length"]) > 0
    app.close()


def test_the_app_serves_a_real_server_end_to_end(
    make_client: ClientFactory, live_server: ServerFactory
) -> None:
    server = live_server(make_client("failures", debug=False).app)
    with httpx.Client(base_url=server.url, timeout=5) as http:
        assert http.get("/_functions/duck_dict").status_code == 202
        assert http.get("/_functions/boom").json() == GENERIC_500
        assert http.get("/nowhere").status_code == 404


async def test_an_http2_body_without_content_length_reaches_the_handler(
    asgi_call: AsgiCall,
) -> None:
    app = create_app(site("request_echo"))
    scope = {**http_scope("POST", "/_functions/body"), "http_version": "2"}
    result = await asgi_call(app, scope, [b"hello ", b"h2"])
    app.close()
    assert result.status == 200
    assert json.loads(result.body)["text"] == "hello h2"


async def test_a_chunked_body_is_read_whatever_the_header_order(asgi_call: AsgiCall) -> None:
    app = create_app(site("request_echo"))
    scope = http_scope(
        "POST",
        "/_functions/body",
        headers=[("transfer-encoding", "chunked"), ("content-length", "0")],
    )
    result = await asgi_call(app, scope, [b"abc"])
    app.close()
    assert json.loads(result.body)["text"] == "abc"


async def test_an_http2_delete_with_a_body_is_refused(asgi_call: AsgiCall) -> None:
    app = create_app(site("wix_examples/delete_simple"))
    scope = {**http_scope("DELETE", "/_functions/myFunction"), "http_version": "2"}
    result = await asgi_call(app, scope, [b"body"])
    app.close()
    assert result.status == 400


async def test_an_ipv4_peer_seen_over_ipv6_is_matched_against_trusted_proxies(
    asgi_call: AsgiCall,
) -> None:
    app = create_app(site("request_echo"), trusted_proxies=["10.0.0.0/8"])
    scope = http_scope(
        "GET",
        "/_functions/echo",
        headers=[("x-forwarded-for", "198.51.100.7")],
        client=("::ffff:10.1.2.3", 50000),
    )
    result = await asgi_call(app, scope)
    app.close()
    assert json.loads(result.body)["ip"] == "198.51.100.7"


DECORATED_SITE = """
import functools

from wixhttp import ok


def audited(handler):
    @functools.wraps(handler)
    def wrapper(request):
        return handler(request)

    return wrapper


@audited
async def post_items(request):
    return ok(body={"got": await request.body.json()})
"""


def test_an_async_handler_under_a_plain_decorator_is_still_async(
    tmp_path: Path, make_client: ClientFactory
) -> None:
    (tmp_path / "http_functions.py").write_text(DECORATED_SITE)
    client = make_client(tmp_path)
    reply = client.post("/_functions/items", json={"a": 1})
    assert (reply.status_code, reply.json()) == (200, {"got": {"a": 1}})
