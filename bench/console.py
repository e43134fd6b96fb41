"""What the dev console costs a request: in-process CPU time per request through the ASGI app,
console off, on with no page open (idle), and on with a page open (a live-feed subscriber).

Run from the repository root::

    python bench/console.py              # 25 interleaved rounds of 10,000 requests
    python bench/console.py --quick      # 5 rounds of 2,000

No server and no socket: the app is called directly with a fixed scope, so what is measured is
the app's own work (``time.process_time``, less disturbed by other load than wall time). Prints
the median per request and the ratio to "off"; always exits 0: a benchmark, not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import statistics
import sys
import time
from typing import Any

# Run as ``python bench/console.py``, Python puts ``bench/`` first on sys.path, where
# bench/platform.py would shadow the standard library's ``platform``: the root goes there instead.
_HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(_HERE)
sys.path[:] = [ROOT, *(p for p in sys.path if os.path.abspath(p or os.curdir) != _HERE)]

from wixhttp import create_app  # noqa: E402
from wixhttp.app import WixHttpApp  # noqa: E402

SITE = os.path.join(ROOT, "bench", "sites", "hello")
SCOPE = {
    "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
    "scheme": "http", "path": "/_functions/hello", "raw_path": b"/_functions/hello",
    "root_path": "", "query_string": b"", "headers": [(b"host", b"bench")],
    "client": ("127.0.0.1", 50000), "server": ("bench", 80),
}  # fmt: skip


async def _receive() -> dict[str, Any]:
    return {"type": "http.request", "body": b"", "more_body": False}


async def _send(message: Any) -> None:
    pass


async def _requests(app: WixHttpApp, count: int) -> float:
    """CPU seconds per request for ``count`` requests (a page open: a subscriber reads)."""
    reader = None
    if app.console is not None and app.console.feed.subscribers:
        (queue,) = app.console.feed.subscribers

        async def drain() -> None:
            while True:
                await queue.get()

        reader = asyncio.ensure_future(drain())
    started = time.process_time()
    for _ in range(count):
        await app(SCOPE, _receive, _send)
    elapsed = time.process_time() - started
    if reader is not None:
        reader.cancel()
    return elapsed / count


def _round(app: WixHttpApp, count: int, page_open: bool) -> float:
    async def run() -> float:
        if page_open:
            assert app.console is not None
            app.console.feed.subscribers.add(asyncio.Queue(1024))
        try:
            return await _requests(app, count)
        finally:
            if app.console is not None:
                app.console.feed.subscribers.clear()

    return asyncio.run(run())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="5 rounds of 2,000 requests")
    args = parser.parse_args()
    rounds, count = (5, 2_000) if args.quick else (25, 10_000)
    logging.getLogger("wixhttp.access").setLevel(logging.WARNING)
    targets = {
        "console off": (create_app(SITE), False),
        "console on, idle": (create_app(SITE, console=True), False),
        "console on, page open": (create_app(SITE, console=True), True),
    }
    times: dict[str, list[float]] = {name: [] for name in targets}
    for app, page_open in targets.values():
        _round(app, count // 5, page_open)  # warm-up
    for _ in range(rounds):
        for name, (app, page_open) in targets.items():
            times[name].append(_round(app, count, page_open))
    base = statistics.median(times["console off"])
    print(f"{rounds} rounds x {count} requests, GET /_functions/hello, CPU time per request")
    for name, values in times.items():
        median = statistics.median(values)
        print(f"{name:24s} {median * 1e6:7.2f} us   x{median / base:.3f} of off")
    for app, _ in targets.values():
        app.close()


if __name__ == "__main__":
    main()
