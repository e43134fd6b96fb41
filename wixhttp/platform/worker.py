"""One function deployment, served by the core app over a Unix socket.

``python -m wixhttp.platform.worker --site CODE/http_functions.py --uds SOCK [--timeout S]
[--parent-pid PID]``

Started by :mod:`wixhttp.platform.workers`, one process per (function, deployment). It exits
when its parent (the platform) goes away, so a killed platform leaves no workers behind.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time

__all__ = ["main"]


def _exit_with_parent(parent: int) -> None:
    # The parent is named on the command line: by the time this runs (after the interpreter
    # has started), a platform killed meanwhile has already handed us to init.
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m wixhttp.platform.worker")
    parser.add_argument("--site", required=True)
    parser.add_argument("--uds", required=True)
    parser.add_argument("--timeout", type=float, default=None)
    parser.add_argument("--max-body-size", type=int, default=None)
    parser.add_argument("--parent-pid", type=int, default=None, help="exit when it is gone")
    args = parser.parse_args(argv)

    parent = args.parent_pid or os.getppid()
    threading.Thread(target=_exit_with_parent, args=(parent,), daemon=True).start()

    import uvicorn

    from wixhttp.app import create_app
    from wixhttp.loading import SiteLoadError
    from wixhttp.platform.capture import CaptureMiddleware
    from wixhttp.platform.capture import install as install_capture

    site_dir = os.path.dirname(os.path.abspath(args.site))
    os.chdir(site_dir)
    install_capture()
    try:
        # Only the platform can reach this private socket, so the X-Forwarded-For it sets
        # (the real caller's address) is believed.
        core = create_app(
            args.site,
            timeout=args.timeout,
            max_body_size=args.max_body_size,
            trusted_proxies="*",
        )
    except SiteLoadError as exc:
        print(f"wixhttp worker: {exc}", file=sys.stderr, flush=True)
        return 3
    config = uvicorn.Config(
        CaptureMiddleware(core),
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
