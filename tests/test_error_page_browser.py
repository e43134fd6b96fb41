"""The debug error page in a real browser: Debian's headless Chromium, driven by Playwright,
against a real ``wixhttp dev`` on a temp site that is broken and fixed on disk.

Skips when Chromium (``/usr/bin/chromium``, Debian's ``chromium`` package) or the ``playwright``
package is missing; Playwright's own browser downloads are never used.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests._servers import running
from tests.test_reload import line_of, write_atomic

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
if not os.access(CHROMIUM, os.X_OK):
    pytest.skip(
        "no Chromium at /usr/bin/chromium (Debian: apt-get install chromium)",
        allow_module_level=True,
    )
pytest.importorskip(
    "playwright.sync_api", reason="playwright is not installed (pip install -e '.[test]')"
)

from playwright.sync_api import Page, expect, sync_playwright  # noqa: E402

FAILING = """\
from wixhttp import ok


def get_greet(request):
    greeting = {"en": "hello"}[request.query.get("lang", "fr")]
    return ok(body=f"{greeting} world")
"""
BROKEN = FAILING.replace("def get_greet(request):", "def get_greet(request)")
FIXED = FAILING.replace('{"en": "hello"}', '{"en": "hello", "fr": "bonjour"}')
WAIT_MS = 15_000


def main_frame_loads(page: Page) -> list[str]:
    """The URLs the page's main frame navigates to from now on (a reload counts)."""
    loads: list[str] = []
    page.on("load", lambda loaded: loads.append(loaded.url))
    return loads


def test_the_page_shows_the_users_frame_then_reloads_itself_through_a_break_and_a_fix(
    tmp_path: Path,
) -> None:
    site = tmp_path / "site"
    site.mkdir()
    entry = site / "http_functions.py"
    entry.write_text(FAILING)
    shots = tmp_path / "screenshots"
    shots.mkdir()
    with (
        running(["dev", str(site)], log_dir=tmp_path) as server,
        sync_playwright() as playwright,
    ):
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(permissions=["clipboard-read", "clipboard-write"])
            page = context.new_page()
            url = f"{server.base_url}/_functions/greet"
            page.goto(url)

            # a failing function: the user's frame, its failing line highlighted
            where = page.locator("#where")
            failing = line_of(FAILING, "    greeting =")
            expect(page.locator("header h1")).to_have_text("KeyError: 'fr'")
            expect(where.locator("summary")).to_contain_text(f"http_functions.py:{failing}")
            expect(where.locator(".hl")).to_contain_text('greeting = {"en": "hello"}')
            expect(page.locator("#request")).to_contain_text("GET /_functions/greet")
            page.click("#copy")
            expect(page.locator("#copy")).to_have_text("Copied")
            copied = page.evaluate("navigator.clipboard.readText()")
            assert copied.startswith("Traceback (most recent call last):")
            assert copied == page.locator("#tb").input_value()
            page.screenshot(path=shots / "1-handler-error.png", full_page=True)

            # a save with a syntax error: the open page turns into the load-error page by itself
            loads = main_frame_loads(page)
            write_atomic(entry, BROKEN)
            expect(page.locator("header h1")).to_contain_text("SyntaxError", timeout=WAIT_MS)
            broken = line_of(BROKEN, "def get_greet")
            expect(where.locator("summary")).to_contain_text(f"http_functions.py:{broken}")
            expect(where.locator(".hl")).to_contain_text("def get_greet(request)")
            page.screenshot(path=shots / "2-load-error.png", full_page=True)

            # the fix: the page reloads into the function's answer, no manual refresh
            write_atomic(entry, FIXED)
            expect(page.locator("body")).to_have_text("bonjour world", timeout=WAIT_MS)
            page.screenshot(path=shots / "3-fixed.png", full_page=True)
            assert page.url == url
            assert len(loads) >= 2 and set(loads) == {url}  # reloaded twice, by itself
        finally:
            browser.close()
    assert sorted(p.name for p in shots.iterdir()) == [
        "1-handler-error.png",
        "2-load-error.png",
        "3-fixed.png",
    ]
