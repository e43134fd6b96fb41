"""Servers for the tests, with bounded waits: the real ``wixhttp`` command as a subprocess
(``running``, ``run_cli``), uvicorn in a thread (``LiveServer``), a raw socket request
(``raw_request``), and the suite's one ``free_port`` and one ``wait_until``."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, TypeVar

import httpx
import uvicorn

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


def wait_until(
    check: Callable[[], T | None],
    timeout: float = 10.0,
    *,
    interval: float = 0.05,
    what: str = "the condition",
) -> T:
    """Call ``check`` every ``interval`` s until it returns something truthy, and return that;
    fail after ``timeout`` s. An HTTP or OS error counts as not yet (a server still starting)."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while True:
        try:
            result = check()
        except (httpx.HTTPError, OSError) as exc:
            last_error = exc
        else:
            if result:
                return result
        if time.monotonic() >= deadline:
            raise AssertionError(
                f"timed out after {timeout} s waiting for {what} (last error: {last_error!r})"
            )
        time.sleep(interval)


class Server:
    def __init__(self, proc: subprocess.Popen[str], base_url: str, log_path: Path) -> None:
        self.proc = proc
        self.base_url = base_url
        self.log_path = log_path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def client(self, **kwargs: Any) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, timeout=10, **kwargs)


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


# -- uvicorn in a thread, and one raw request to it -----------------------------------------------


class LiveServer:
    """uvicorn serving ``app`` on 127.0.0.1 in a background thread."""

    def __init__(self, app: Any, **config: Any) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.port: int = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        # proxy_headers off: uvicorn would otherwise rewrite the client and scheme from
        # X-Forwarded-* itself for peers it trusts (127.0.0.1 by default), hiding what the
        # app's own trusted_proxies setting decides.
        options: dict[str, Any] = {
            "log_config": None,
            "access_log": False,
            "lifespan": "on",
            "proxy_headers": False,
        }
        options.update(config)
        self.server = uvicorn.Server(uvicorn.Config(app, **options))
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True
        )

    def start(self) -> None:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            assert self.thread.is_alive(), "uvicorn exited during startup"
            assert time.monotonic() < deadline, "uvicorn did not start within 10 s"
            time.sleep(0.005)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        assert not self.thread.is_alive(), "uvicorn did not stop within 10 s"
        self.sock.close()


#: ``live_server(app, **uvicorn_config)`` (see ``tests/conftest.py``).
ServerFactory = Callable[..., LiveServer]


@dataclass
class RawResponse:
    status: int
    headers: dict[str, str]
    body: bytes
    elapsed: float = 0.0


def raw_request(
    port: int,
    head: bytes,
    chunks: Iterable[bytes] = (),
    *,
    timeout: float = 5.0,
) -> RawResponse:
    """Send ``head`` then ``chunks`` over a plain socket and read one response, without ever
    finishing a body the head promised. Fails (socket timeout) if no answer within ``timeout``."""
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(head)
        for chunk in chunks:
            try:
                sock.sendall(chunk)
            except (BrokenPipeError, ConnectionResetError):
                break  # the server already answered and hung up
        data = b""
        while b"\r\n\r\n" not in data:
            received = sock.recv(65536)
            assert received, f"connection closed before a response head: {data!r}"
            data += received
        head_bytes, _, body = data.partition(b"\r\n\r\n")
        lines = head_bytes.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0"))
        while len(body) < length:
            received = sock.recv(65536)
            if not received:
                break
            body += received
    return RawResponse(status, headers, body, time.monotonic() - started)
