"""The dev console in a real browser: Debian's headless Chromium, driven by Playwright, against
a real ``wixhttp dev`` on a temp site that is edited, broken and fixed on disk.

Skips when Chromium (``/usr/bin/chromium``, Debian's ``chromium`` package) or the ``playwright``
package is missing; Playwright's own browser downloads are never used. Screenshots are kept
under the test's temp dir.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from tests._servers import running
from tests.test_error_page_browser import CHROMIUM, CHROMIUM_ARGS
from tests.test_reload import write_atomic

pytest.importorskip(
    "playwright.sync_api", reason="playwright is not installed (pip install -e '.[test]')"
)

from playwright.sync_api import expect, sync_playwright  # noqa: E402

SITE = '''\
import logging

from wixhttp import ok

log = logging.getLogger("shop")


def get_items(request):
    """List the items in stock."""
    print("listing for", request.query.get("who"))
    log.warning("stock is low")
    return ok({"body": {"items": ["apple"]}})


def post_items(request):
    return ok({"body": {"added": True}})
'''
EXTRA = '''

def get_prices(request):
    """What things cost."""
    return ok({"body": {"apple": 1}})
'''
BROKEN = SITE + "\n\ndef get_oops(request)\n    return ok()\n"
MANY = "\n".join(
    f"def get_fn{i:03d}(request):\n    '''Function number {i}.'''\n    return ok()\n"
    for i in range(100)
)
WAIT_MS = 15_000


def test_the_console_lists_functions_tries_one_and_follows_saves_live(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    entry = site / "http_functions.py"
    entry.write_text(SITE + "\n" + MANY)
    shots = tmp_path / "screenshots"
    shots.mkdir()
    with (
        running(["dev", str(site)], log_dir=tmp_path) as server,
        sync_playwright() as playwright,
    ):
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            requests_out: list[str] = []
            page.on("request", lambda r: requests_out.append(r.url))
            page.goto(f"{server.base_url}/_wixhttp/")

            # the function list, filtered
            functions = page.locator("#functions li")
            expect(functions).to_have_count(101)
            expect(page.locator("#live")).to_have_text("live")
            items = page.locator('#functions li[data-name="items"]')
            expect(items).to_contain_text("List the items in stock.")
            expect(items).to_contain_text("http_functions.py:8")
            page.fill("#filter", "stock")
            expect(page.locator("#functions li:visible")).to_have_count(1)
            expect(page.locator("#count")).to_have_text("1 of 101 functions")
            page.screenshot(path=shots / "1-list.png", full_page=True)

            # try it: the response and what the handler printed and logged
            items.click()
            page.fill("#query", "who=ada")
            page.click("#send")
            expect(page.locator("#status")).to_have_text("200 OK")
            expect(page.locator("#response-body")).to_contain_text('"apple"')
            expect(page.locator("#output")).to_contain_text("listing for ada")
            expect(page.locator("#output")).to_contain_text("WARNING stock is low")
            expect(page.locator("#feed")).to_contain_text("GET /_functions/items 200")
            page.screenshot(path=shots / "2-try-it.png", full_page=True)

            # a save: a reload in the feed and the new function in the list, no page refresh
            page.evaluate("window.notRefreshed = true")
            page.fill("#filter", "")
            write_atomic(entry, SITE + EXTRA + "\n" + MANY)
            expect(page.locator("#feed .reload.ok")).to_contain_text("+get_prices", timeout=WAIT_MS)
            expect(functions).to_have_count(102)
            page.screenshot(path=shots / "3-reloaded.png", full_page=True)

            # a broken save: the error, then gone after the fix
            write_atomic(entry, BROKEN)
            expect(page.locator("#load-error")).to_be_visible(timeout=WAIT_MS)
            expect(page.locator("#load-error-message")).to_contain_text("SyntaxError")
            frame = page.frame_locator("#load-error-page")
            expect(frame.locator("#where .hl")).to_contain_text("def get_oops(request)")
            expect(page.locator("#feed .reload.bad")).to_contain_text("reload failed")
            page.screenshot(path=shots / "4-load-error.png", full_page=True)
            write_atomic(entry, SITE)
            expect(page.locator("#load-error")).to_be_hidden(timeout=WAIT_MS)
            assert page.evaluate("window.notRefreshed") is True

            # the API docs: Swagger UI from the console extra, rendering openapi.json
            if importlib.util.find_spec("openapi_ui_bundles") is not None:
                page.goto(f"{server.base_url}/_wixhttp/docs/")
                first = page.locator(".opblock-summary").first
                expect(first).to_contain_text("/_functions/items", timeout=WAIT_MS)
                expect(first).to_contain_text("List the items in stock.")
                page.screenshot(path=shots / "5-docs.png", full_page=True)
        finally:
            browser.close()
    # nothing the pages load leaves the machine (the server's own origin only)
    assert all(url.startswith(server.base_url) for url in requests_out), requests_out
    assert {"1-list.png", "2-try-it.png", "3-reloaded.png", "4-load-error.png"} <= {
        p.name for p in shots.iterdir()
    }
