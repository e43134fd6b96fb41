"""One function deployment, served by the core app over a Unix socket.

``python -m wixhttp.platform.worker --site CODE/http_functions.py --uds SOCK [--timeout S]
[--parent-pid PID]``

Started by :mod:`wixhttp.platform.workers`, one process per (function, deployment): an Appwrite
``main(context)`` is served by :mod:`wixhttp.platform.runtime`, Wix HTTP functions by the core
app (:mod:`wixhttp.platform.entry` tells which). It exits
when its parent (the platform) goes away, so a killed platform leaves no workers behind.
"""

from __future__ import annotations

import argparse
import hmac
import os
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Receive, Scope, Send

from wixhttp.platform.spawn import SECRET_ENV, SECRET_HEADER

__all__ = ["ENTRYPOINT_ENV", "main"]

#: The environment variable naming the entrypoint relative to the code folder (the runtime's).
ENTRYPOINT_ENV = "OPEN_RUNTIMES_ENTRYPOINT"


class _PlatformOnly:
    """Answers 403 to a request without the worker's secret, and strips it before the app:
    code that found this socket (another function's) cannot call it."""

    def __init__(self, app: ASGIApp, secret: bytes) -> None:
        self.app = app
        self.secret = secret

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = scope["headers"]
            given = [v for k, v in headers if k == SECRET_HEADER]
            if len(given) != 1 or not hmac.compare_digest(given[0], self.secret):
                await send({"type": "http.response.start", "status": 403, "headers": []})
                await send({"type": "http.response.body", "body": b""})
                return
            scope = {**scope, "headers": [(k, v) for k, v in headers if k != SECRET_HEADER]}
        await self.app(scope, receive, send)


def _exit_with_parent(parent: int) -> None:
    # The parent is named on the command line: by the time this runs (after the interpreter
    # has started), a platform killed meanwhile has already handed us to init.
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(0)


def _load(args: argparse.Namespace) -> ASGIApp:
    """The deployment's app: an Appwrite ``main(context)`` behind the runtime adapter, or the
    core app serving Wix HTTP functions (see :mod:`wixhttp.platform.entry`)."""
    from wixhttp.platform.entry import APPWRITE, detect_style

    site = Path(os.path.abspath(args.site))
    if detect_style(site) == APPWRITE:
        from wixhttp.platform.runtime import RuntimeApp, load_main

        # The entrypoint relative to the code folder, as the platform sets it for the runtime.
        parts = Path(os.environ.get(ENTRYPOINT_ENV, "")).parts
        if not parts or site.parts[-len(parts) :] != parts:
            parts = (site.name,)
        code = site.parents[len(parts) - 1]
        entrypoint = "/".join(parts)
        main = load_main(code, entrypoint)
        return RuntimeApp(
            main, timeout=args.timeout, max_body_size=args.max_body_size, code=code
        )

    from wixhttp.app import create_app

    # Only the platform can reach this private socket, so the X-Forwarded-For it sets (the
    # real caller's address) is believed.
    return create_app(
        args.site, timeout=args.timeout, max_body_size=args.max_body_size, trusted_proxies="*"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m wixhttp.platform.worker")
    parser.add_argument("--site", required=True)
    parser.add_argument("--uds", required=True)
    parser.add_argument("--timeout", type=float, default=None)
    parser.add_argument("--max-body-size", type=int, default=None)
    parser.add_argument("--parent-pid", type=int, default=None, help="exit when it is gone")
    args = parser.parse_args(argv)

    secret = os.environ.pop(SECRET_ENV, "").encode()
    parent = args.parent_pid or os.getppid()
    threading.Thread(target=_exit_with_parent, args=(parent,), daemon=True).start()

    import uvicorn

    from wixhttp.platform.capture import CaptureMiddleware
    from wixhttp.platform.capture import install as install_capture

    site_dir = os.path.dirname(os.path.abspath(args.site))
    os.chdir(site_dir)
    install_capture()
    try:
        app = _load(args)
    except Exception as exc:  # noqa: BLE001 - a load error ends the worker, said in its log
        print(f"wixhttp worker: {exc}", file=sys.stderr, flush=True)
        return 3
    config = uvicorn.Config(
        _PlatformOnly(CaptureMiddleware(app), secret) if secret else CaptureMiddleware(app),
        proxy_headers=False,
        uds=args.uds,
        log_config=None,
        access_log=False,
        lifespan="off",
        timeout_keep_alive=300,
        server_header=False,
        date_header=False,
    )
    uvicorn.Server(config).run()
    return 0


if __name__ == "__main__":  # pragma: no cover - a subprocess
    sys.exit(main())
