"""The debug error page a browser gets for a failing handler (TestClient, debug on)."""

from __future__ import annotations

import html
import re

import pytest

from tests._sites import ClientFactory, site
from wixhttp.testing import TestClient

SITE = site("failing_handler")
HTML = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


def line_of(file: str, text: str) -> int:
    for number, line in enumerate((SITE / file).read_text().splitlines(), start=1):
        if text in line:
            return number
    raise AssertionError(f"{text!r} not in {file}")


def section(page: str, name: str) -> str:
    match = re.search(rf'<section id="{name}">(.*?)</section>', page, re.S)
    assert match, f"no {name} section in the page"
    return match.group(1)


def highlighted(page: str) -> str:
    """The highlighted source line of the page's first frame, unescaped."""
    match = re.search(r'<span class="hl"><i>\d+</i>(.*?)</span>', page)
    assert match, "no highlighted source line"
    return html.unescape(match.group(1))


@pytest.fixture
def client(make_client: ClientFactory) -> TestClient:
    return make_client("failing_handler")


def test_the_users_frame_comes_first_even_when_a_library_frame_is_innermost(
    client: TestClient,
) -> None:
    reply = client.get("/_functions/parse", headers=HTML)
    assert reply.status_code == 500
    assert reply.headers["content-type"] == "text/html; charset=utf-8"
    page = reply.text
    line = line_of("http_functions.py", "json.loads(")
    where = section(page, "where")
    assert f"http_functions.py:{line}</code> in <code>get_parse" in where
    assert highlighted(page).strip() == 'return ok(body=json.loads(request.query.get("data", "{")))'
    # the featured frame precedes the traceback, whose innermost frame is json's, collapsed
    assert page.index(f"http_functions.py:{line}") < page.index("json/decoder.py")
    assert re.search(r'<details class="frame lib"><summary><code>[^<]*json/decoder\.py', page)
    assert "JSONDecodeError" in section(page, "text")


def test_the_innermost_user_frame_is_featured_when_it_is_in_a_helper_module(
    client: TestClient,
) -> None:
    page = client.get("/_functions/cart", headers=HTML).text
    line = line_of("pricing.py", "result = result + price")
    assert f"pricing.py:{line}</code> in <code>total" in section(page, "where")
    assert highlighted(page).strip() == "result = result + price"
    # the handler's own frame is listed, open, in the traceback below
    handler = line_of("http_functions.py", "total([3")
    frames = section(page, "frames")
    assert f'<details class="frame mine" open><summary><code>http_functions.py:{handler}' in frames
    assert "<h1>TypeError: unsupported operand" in page


def test_the_page_shows_the_request_with_secrets_redacted(client: TestClient) -> None:
    headers = {
        **HTML,
        "Authorization": "Bearer auth-secret-1",
        "Cookie": "session=cookie-secret-2",
        "X-Appwrite-Key": "key-secret-3",
        "X-Trace": "trace-visible",
    }
    reply = client.post(
        "/_functions/echo?page=2&token=query-secret-4", headers=headers, content=b"hello body"
    )
    request = section(reply.text, "request")
    assert "<code>POST /_functions/echo</code>" in request
    assert "<th>page</th><td>2</td>" in request
    assert "<th>x-trace</th><td>trace-visible</td>" in request
    assert "<th>authorization</th><td>[redacted]</td>" in request
    assert "<th>x-appwrite-key</th><td>[redacted]</td>" in request
    assert "hello body" in request
    for secret in ("auth-secret-1", "cookie-secret-2", "key-secret-3", "query-secret-4"):
        assert secret not in reply.text


def test_the_body_preview_is_bounded(client: TestClient) -> None:
    body = b"a" * 5000 + b"TAIL"
    page = client.post("/_functions/echo", headers=HTML, content=body).text
    request = section(page, "request")
    assert "5004 bytes, the first 2048 shown" in request
    assert "a" * 2048 in request and "TAIL" not in request


def test_hostile_input_is_escaped_everywhere(client: TestClient) -> None:
    hostile = "</textarea><script>alert(1)</script>"
    reply = client.get("/_functions/shout", params={"q": hostile}, headers=HTML)
    assert reply.status_code == 500
    page = reply.text
    assert hostile not in page and "<script>alert(1)" not in page
    escaped = html.escape(hostile)
    assert f"<h1>ValueError: {escaped}</h1>" in page  # the message
    assert f"<td>{escaped}</td>" in section(page, "request")  # the query value
    assert escaped in section(page, "text")  # the plain traceback
    assert page.count("<script>") == 1  # only the page's own


def test_the_plain_traceback_is_there_to_copy(client: TestClient) -> None:
    page = client.get("/_functions/cart", headers=HTML).text
    text = section(page, "text")
    assert '<button id="copy" type="button">Copy</button>' in text
    match = re.search(r'<textarea id="tb" readonly rows="12">(.*)</textarea>', text, re.S)
    assert match
    traceback = html.unescape(match.group(1))
    assert traceback.startswith("Traceback (most recent call last):")
    assert f'pricing.py", line {line_of("pricing.py", "result + price")}, in total' in traceback


def test_without_a_reloader_the_page_does_not_poll(client: TestClient) -> None:
    page = client.get("/_functions/cart", headers=HTML).text
    assert "var state = null;" in page
    assert client.get("/_wixhttp/reload-state").status_code == 404


def test_json_clients_keep_the_json_error_with_the_plain_traceback(client: TestClient) -> None:
    for headers in ({}, {"Accept": "application/json"}):
        reply = client.get("/_functions/cart", headers=headers)
        assert reply.status_code == 500
        assert reply.headers["content-type"] == "application/json"
        body = reply.json()
        assert set(body) == {"error", "message", "details"}
        assert body["error"] == "internal_error"
        assert body["message"].startswith("TypeError: unsupported operand")
        assert body["details"].startswith("Traceback (most recent call last):")
        assert "pricing.py" in body["details"]


def test_without_debug_a_browser_gets_the_terse_page(make_client: ClientFactory) -> None:
    client = make_client("failing_handler", debug=False)
    reply = client.get("/_functions/cart?token=abc", headers=HTML)
    assert reply.status_code == 500
    assert "<h1>500 internal_error</h1>" in reply.text
    for leak in ("pricing.py", "Traceback", "TypeError", "abc", "<script>"):
        assert leak not in reply.text
    assert client.get("/_wixhttp/reload-state").status_code == 404



def test_a_handler_that_returns_nothing_gets_the_page_with_the_hint(
    make_client: ClientFactory,
) -> None:
    client = make_client("failures")
    page = client.get("/_functions/none", headers=HTML).text
    assert "handler get_none returned None; return ok(...)" in section(page, "text")
    assert '<section id="request">' in page
    reply = client.get("/_functions/none")
    assert "returned None" in reply.json()["message"] and "details" not in reply.json()
