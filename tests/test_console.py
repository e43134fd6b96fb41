"""The console under ``/_wixhttp/``: where it is on and off, its data (functions, OpenAPI
document, load error), the try-it trace of one request, and the live feed (requests and reloads,
a slow subscriber that drops events rather than slowing requests).

Most run a real ``wixhttp dev`` (or ``serve``) on a temp site; the feed's back-pressure is
driven through the ASGI app directly, with a subscriber that never reads.
"""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests._asgi import http_scope
from tests._servers import Server, run_cli, running, wait_until
from tests._sites import site as fixture_site
from tests.test_reload import line_of, write_atomic
from wixhttp import create_app
from wixhttp.console import TRACE_HEADER
from wixhttp.console.feed import QUEUE_SIZE

SITE = '''\
import logging
import threading

from wixhttp import ok

log = logging.getLogger("shop")
other_ran = threading.Event()


def get_items(request):
    """List the items.

    In stock only."""
    print("items: before")
    other_ran.wait(10)  # the other request prints while this one is running
    log.warning("items: after")
    return ok({"body": {"items": []}})


async def get_other(request):
    print("other: hello")
    log.info("other: logged")
    other_ran.set()
    return ok({"body": "other"})
'''
ADDED = SITE + '''

def post_orders(request):
    """Place an order."""
    return ok()
'''


@pytest.fixture
def site_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "site"
    directory.mkdir()
    (directory / "http_functions.py").write_text(SITE)
    return directory


@pytest.fixture
def dev(site_dir: Path, tmp_path: Path) -> Iterator[Server]:
    with running(["dev", str(site_dir)], log_dir=tmp_path) as server:
        yield server


# -- on and off -----------------------------------------------------------------------------------


def test_serve_has_no_console_unless_asked(site_dir: Path, tmp_path: Path) -> None:
    with running(["serve", str(site_dir)], log_dir=tmp_path) as server, server.client() as client:
        for path in ("/_wixhttp/", "/_wixhttp/functions.json", "/_wixhttp/openapi.json"):
            assert client.get(path).status_code == 404
        assert client.get("/_functions/other").status_code == 200


def test_serve_with_console_flag_serves_it(site_dir: Path, tmp_path: Path) -> None:
    args = ["serve", str(site_dir), "--console"]
    with running(args, log_dir=tmp_path) as server, server.client() as client:
        page = client.get("/_wixhttp/")
        assert page.status_code == 200
        assert "wixhttp console" in page.text
        names = [f["name"] for f in client.get("/_wixhttp/functions.json").json()["functions"]]
        assert names == ["items", "other"]


def test_serve_refuses_a_console_over_several_workers(site_dir: Path) -> None:
    result = run_cli("serve", str(site_dir), "--console", "--workers", "2")
    assert result.returncode != 0
    assert "--console needs one worker" in result.stderr


async def test_create_app_has_no_console_by_default() -> None:
    app = create_app(fixture_site("routing"))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app)) as client:
        assert (await client.get("http://t/_wixhttp/")).status_code == 404
        assert (await client.get("http://t/_wixhttp/events")).status_code == 404
    assert app.console is None


async def test_the_console_is_never_under_functions() -> None:
    app = create_app(fixture_site("routing"), console=True)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app)) as client:
        assert (await client.get("http://t/_wixhttp/")).status_code == 200
        for path in ("/_functions/_wixhttp/", "/_functions/_wixhttp/functions.json"):
            assert (await client.get("http://t" + path)).json()["error"] == "function_not_found"
        assert (await client.post("http://t/_wixhttp/")).status_code == 404  # GET/HEAD only


async def test_cors_never_opens_the_console_to_other_origins() -> None:
    app = create_app(fixture_site("routing"), console=True, cors="*")
    origin = {"origin": "https://elsewhere.example"}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app)) as client:
        console = await client.get("http://t/_wixhttp/functions.json", headers=origin)
        function = await client.get("http://t/_functions/nope", headers=origin)
    assert console.status_code == 200
    assert "access-control-allow-origin" not in console.headers
    assert function.headers["access-control-allow-origin"] == "*"  # the site's own CORS


# -- what the page shows --------------------------------------------------------------------------


def test_dev_lists_functions_with_methods_docstrings_and_locations(dev: Server) -> None:
    with dev.client() as client:
        data = client.get("/_wixhttp/functions.json").json()
        assert data["load_error"] is None
        items = data["functions"][0]
        assert items["name"] == "items" and items["methods"] == ["GET"]
        (handler,) = items["handlers"]
        assert handler["handler"] == "get_items"
        assert handler["location"] == f"http_functions.py:{line_of(SITE, 'def get_items')}"
        assert handler["summary"] == "List the items."
        assert handler["doc"] == "List the items.\n\nIn stock only."
        for asset in ("/_wixhttp/console.js", "/_wixhttp/console.css"):
            assert client.get(asset).status_code == 200


def test_openapi_document_follows_a_save_that_adds_a_handler(dev: Server, site_dir: Path) -> None:
    with dev.client() as client:
        document = client.get("/_wixhttp/openapi.json").json()
        assert set(document["paths"]) == {
            "/_functions/items", "/_functions/items/{path}",
            "/_functions/other", "/_functions/other/{path}",
        }
        write_atomic(site_dir / "http_functions.py", ADDED)

        def orders() -> Any:
            paths = client.get("/_wixhttp/openapi.json").json()["paths"]
            return paths.get("/_functions/orders")

        operation = wait_until(orders, timeout=10, what="the new handler in openapi.json")
        assert operation["post"]["summary"] == "Place an order."


def test_a_broken_save_shows_the_load_error_as_the_error_page_does(
    dev: Server, site_dir: Path
) -> None:
    with dev.client() as client:
        assert client.get("/_wixhttp/load-error").status_code == 404  # none yet
        write_atomic(site_dir / "http_functions.py", SITE + "\ndef get_x(request)\n")
        error = wait_until(
            lambda: client.get("/_wixhttp/functions.json").json()["load_error"], timeout=10
        )
        assert "SyntaxError" in error["message"] and error["line"] == SITE.count("\n") + 2
        page = client.get("/_wixhttp/load-error")
        assert page.status_code == 500
        assert page.headers["content-type"].startswith("text/html")
        assert "def get_x(request)" in page.text and 'id="where"' in page.text
        assert 'id="request"' not in page.text  # no request caused it


def test_the_docs_renderer_ships_with_the_console_extra(dev: Server) -> None:
    pytest.importorskip("openapi_ui_bundles", reason="pip install -e '.[console]'")
    with dev.client() as client:
        docs = client.get("/_wixhttp/docs/")
        assert docs.status_code == 200 and "../openapi.json" in docs.text
        bundle = client.get("/_wixhttp/docs/swagger-ui-bundle.js")
        assert bundle.status_code == 200 and bundle.headers["content-type"].startswith(
            "text/javascript"
        )
        assert client.get("/_wixhttp/docs/index.html").status_code == 404  # only what we use


# -- try-it traces --------------------------------------------------------------------------------


def test_a_trace_holds_its_own_requests_output_and_not_a_concurrent_ones(dev: Server) -> None:
    assert FeedReader(dev).opened.wait(10)  # a console page is open
    with dev.client() as client:
        answers: dict[str, httpx.Response] = {}

        def items() -> None:
            answers["items"] = client.get("/_functions/items", headers={TRACE_HEADER: "t-items"})

        first = threading.Thread(target=items)
        first.start()
        wait_until(lambda: "items: before" in dev.log(), timeout=10)
        answers["other"] = client.get("/_functions/other", headers={TRACE_HEADER: "t-other"})
        first.join(timeout=15)
        assert answers["items"].status_code == answers["other"].status_code == 200

        def messages(trace_id: str) -> list[tuple[str, str]]:
            lines = client.get(f"/_wixhttp/traces/{trace_id}").json()["lines"]
            return [(line["level"], line["message"]) for line in lines]

        assert messages("t-items") == [("INFO", "items: before"), ("WARNING", "items: after")]
        assert messages("t-other") == [("INFO", "other: hello"), ("INFO", "other: logged")]
        assert client.get("/_wixhttp/traces/nope").status_code == 404


def test_no_trace_is_kept_while_no_console_page_is_open(dev: Server) -> None:
    with dev.client() as client:
        client.get("/_functions/other", headers={TRACE_HEADER: "t-unwatched"})
        assert client.get("/_wixhttp/traces/t-unwatched").status_code == 404


# -- the live feed --------------------------------------------------------------------------------


class FeedReader:
    """Reads ``/_wixhttp/events`` in a thread; ``events`` holds ``(kind, data)`` as they come."""

    def __init__(self, server: Server) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []
        self.opened = threading.Event()
        self._client = httpx.Client(base_url=server.base_url, timeout=httpx.Timeout(5, read=None))
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        kind = ""
        with self._client, self._client.stream("GET", "/_wixhttp/events") as response:
            assert response.headers["content-type"].startswith("text/event-stream")
            try:
                for line in response.iter_lines():
                    self.opened.set()
                    if line.startswith("event: "):
                        kind = line[len("event: ") :]
                    elif line.startswith("data: "):
                        self.events.append((kind, json.loads(line[len("data: ") :])))
            except httpx.RemoteProtocolError:  # the server was killed: the test says why
                pass

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [data for k, data in self.events if k == kind]


def test_the_feed_delivers_requests_and_reloads(dev: Server, site_dir: Path) -> None:
    feed = FeedReader(dev)
    assert feed.opened.wait(10)
    with dev.client() as client:
        client.post("/_functions/other")
        (request,) = wait_until(lambda: feed.of("request"), timeout=10)
        assert request["method"] == "POST" and request["path"] == "/_functions/other"
        assert request["status"] == 405 and request["function"] == "other"
        write_atomic(site_dir / "http_functions.py", ADDED)
        (reload,) = wait_until(lambda: feed.of("reload"), timeout=10)
        assert reload["ok"] is True and "+post_orders" in reload["message"]
        write_atomic(site_dir / "http_functions.py", "def get_x(request)\n")
        failed = wait_until(lambda: feed.of("reload")[1:], timeout=10)
        assert failed[0]["ok"] is False and "SyntaxError" in failed[0]["message"]


@pytest.mark.parametrize("command", [["dev"], ["serve", "--console"]])
def test_an_open_feed_does_not_hold_up_stopping_the_server(
    command: list[str], site_dir: Path, tmp_path: Path
) -> None:
    with running([*command, str(site_dir)], log_dir=tmp_path) as server:
        feed = FeedReader(server)
        assert feed.opened.wait(10)
        server.proc.send_signal(signal.SIGINT)
        try:  # serve's graceful timeout is 30 s: this is well under it
            server.proc.wait(timeout=8)
        except subprocess.TimeoutExpired:
            pytest.fail(f"{command} still running 8 s after Ctrl+C with a console feed open")


async def test_a_subscriber_that_does_not_read_drops_events_and_never_slows_requests() -> None:
    app = create_app(fixture_site("routing"), console=True)
    assert app.console is not None
    stalled = asyncio.Event()  # a browser that stopped reading: its writes never complete

    async def send(message: Any) -> None:
        if message["type"] == "http.response.body" and message.get("more_body"):
            if message["body"].startswith(b"event:"):
                await stalled.wait()

    async def receive() -> Any:
        await asyncio.Event().wait()  # never disconnects

    stream = asyncio.ensure_future(app(http_scope("GET", "/_wixhttp/events"), receive, send))
    await wait_for(lambda: app.console is not None and len(app.console.feed.subscribers) == 1)
    count = 3 * QUEUE_SIZE
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app)) as client:
        for _ in range(count):
            assert (await client.get("http://t/_functions/items")).status_code == 200
    # the stalled write took one event and what was queued then (at most QUEUE_SIZE + 1), at
    # most QUEUE_SIZE wait in the queue, and the rest were dropped rather than waited for
    (queue,) = app.console.feed.subscribers
    assert app.console.feed.dropped + queue.qsize() >= count - QUEUE_SIZE - 1
    assert app.console.feed.dropped >= count - 2 * QUEUE_SIZE - 1
    stream.cancel()
    app.close()


async def wait_for(check: Any, timeout: float = 5.0) -> None:
    async def poll() -> None:
        while not check():
            await asyncio.sleep(0.01)

    await asyncio.wait_for(poll(), timeout)
