"""Shared fixtures for the core's tests.

- ``site(name)``: the path of a fixture site under ``tests/sites/`` (real files, broken ones too).
- ``make_client``: a :class:`wixhttp.testing.TestClient` factory that closes what it made.
- ``live_server``: a real uvicorn server in a thread, for socket-level behaviour (httpx's habit).
- ``asgi_call``: one raw ASGI request, for what an HTTP client cannot observe (a HEAD body).
- Every test starts with no ``WIXHTTP_*`` variables set and ends with the user modules and
  ``sys.path`` entries it caused to be imported forgotten (Flask's habit).
"""

from __future__ import annotations

import asyncio
import os
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import uvicorn

from wixhttp.testing import TestClient

SITES = Path(__file__).resolve().parent / "sites"
_USER_CODE_ROOTS = (str(SITES), os.path.realpath(tempfile.gettempdir()), tempfile.gettempdir())


def site(name: str) -> Path:
    """The directory of the fixture site ``tests/sites/<name>``."""
    path = SITES / name
    assert path.is_dir(), f"no fixture site {name!r}"
    return path


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("WIXHTTP_"):
            monkeypatch.delenv(name)


@pytest.fixture(autouse=True)
def _forget_user_modules() -> Iterator[None]:
    path_before = list(sys.path)
    modules_before = set(sys.modules)
    yield
    sys.path[:] = path_before
    for name in set(sys.modules) - modules_before:
        module = sys.modules.get(name)
        file = getattr(module, "__file__", None)
        if isinstance(file, str) and file.startswith(_USER_CODE_ROOTS):
            del sys.modules[name]


ClientFactory = Callable[..., TestClient]


@pytest.fixture
def make_client() -> Iterator[ClientFactory]:
    """``make_client("routing", debug=False)``: a TestClient on a fixture site (a name), or on a
    path or module given as is; closed at the end of the test."""
    clients: list[TestClient] = []

    def make(target: str | os.PathLike[str] | ModuleType, **kwargs: Any) -> TestClient:
        if isinstance(target, str) and "/" not in target:
            target = site(target)
        client = TestClient(target, **kwargs)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


# -- a real server ------------------------------------------------------------------------------


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


ServerFactory = Callable[..., LiveServer]


@pytest.fixture
def live_server() -> Iterator[ServerFactory]:
    """``live_server(app, **uvicorn_config)`` starts a server; all are stopped after the test."""
    servers: list[LiveServer] = []

    def start(app: Any, **config: Any) -> LiveServer:
        server = LiveServer(app, **config)
        server.start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


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


# -- one raw ASGI call --------------------------------------------------------------------------


@dataclass
class AsgiResult:
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    messages: list[dict[str, Any]] = field(default_factory=list)


AsgiCall = Callable[..., Awaitable[AsgiResult]]


def http_scope(
    method: str = "GET",
    path: str = "/",
    *,
    headers: Iterable[tuple[str, str]] = (),
    query: bytes = b"",
    client: tuple[str, int] = ("127.0.0.1", 50000),
    root_path: str = "",
) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": root_path,
        "query_string": query,
        "headers": [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers],
        "client": client,
        "server": ("testserver", 80),
    }


@pytest.fixture
def asgi_call() -> AsgiCall:
    """``await asgi_call(app, scope, body_chunks)``: run one request through the ASGI app and
    collect what it sends. Bounded by a 5 s timeout."""

    async def call(app: Any, scope: dict[str, Any], chunks: Iterable[bytes] = ()) -> AsgiResult:
        pending = list(chunks)
        result = AsgiResult()

        async def receive() -> dict[str, Any]:
            if pending:
                chunk = pending.pop(0)
                return {"type": "http.request", "body": chunk, "more_body": bool(pending)}
            if scope["type"] == "http":
                return {"type": "http.request", "body": b"", "more_body": False}
            await asyncio.sleep(3600)  # pragma: no cover - never reached
            return {}

        async def send(message: dict[str, Any]) -> None:
            result.messages.append(message)
            if message["type"] == "http.response.start":
                result.status = message["status"]
                result.headers = {
                    k.decode("latin-1"): v.decode("latin-1") for k, v in message["headers"]
                }
            elif message["type"] == "http.response.body":
                result.body += message.get("body", b"")

        await asyncio.wait_for(app(scope, receive, send), 5)
        return result

    return call
