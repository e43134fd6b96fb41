"""Start the real ``wixhttp`` command as a subprocess and wait for it, with bounded waits."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, TypeVar

import httpx

T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wixhttp_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "wixhttp", *args]


def run_cli(
    *args: str, cwd: Path | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        wixhttp_cmd(*args), capture_output=True, text=True, timeout=timeout, cwd=cwd
    )


def wait_until(check: Callable[[], T | None], timeout: float = 10.0, interval: float = 0.01) -> T:
    """Call ``check`` until it returns something other than None/False; fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            result = check()
        except (httpx.HTTPError, OSError) as exc:
            last_error = exc
        else:
            if result is not None and result is not False:
                return result
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s (last error: {last_error!r})")


class Server:
    def __init__(self, proc: subprocess.Popen[str], base_url: str, log_path: Path) -> None:
        self.proc = proc
        self.base_url = base_url
        self.log_path = log_path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def client(self, **kwargs: object) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, timeout=10, **kwargs)  # type: ignore[arg-type]


@contextmanager
def running(
    args: Sequence[str],
    *,
    log_dir: Path,
    ready_path: str = "/_functions/",
    env: dict[str, str] | None = None,
) -> Iterator[Server]:
    """Run ``wixhttp <args> --port <free>`` until the block ends; output goes to a log file."""
    port = free_port()
    log_path = log_dir / f"server-{port}.log"
    log_file: IO[str] = log_path.open("w")
    proc = subprocess.Popen(
        wixhttp_cmd(*args, "--port", str(port)),
        stdout=log_file,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, **(env or {}), "PYTHONUNBUFFERED": "1"},
    )
    server = Server(proc, f"http://127.0.0.1:{port}", log_path)
    try:

        def ready() -> bool:
            if proc.poll() is not None:
                raise AssertionError(f"server exited with {proc.returncode}:\n{server.log()}")
            httpx.get(server.base_url + ready_path, timeout=1)
            return True

        wait_until(ready, timeout=20)
        yield server
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
        log_file.close()
