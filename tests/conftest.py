"""Shared fixtures for the core's tests (the helpers they use live in ``tests/_sites.py``,
``tests/_servers.py`` and ``tests/_asgi.py``).

- ``make_client``: a :class:`wixhttp.testing.TestClient` factory that closes what it made.
- ``live_server``: a real uvicorn server in a thread, for socket-level behaviour (httpx's habit).
- ``asgi_call``: one raw ASGI request, for what an HTTP client cannot observe (a HEAD body).
- Every test starts with no ``WIXHTTP_*`` variables set and ends with the user modules and
  ``sys.path`` entries it caused to be imported forgotten (Flask's habit).
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest

from tests._asgi import AsgiCall, call_asgi
from tests._servers import LiveServer, ServerFactory
from tests._sites import SITES, ClientFactory, site
from wixhttp.testing import TestClient

_USER_CODE_ROOTS = (str(SITES), os.path.realpath(tempfile.gettempdir()), tempfile.gettempdir())


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


@pytest.fixture
def asgi_call() -> AsgiCall:
    """``await asgi_call(app, scope, body_chunks)``: run one request through the ASGI app and
    collect what it sends. Bounded by a 5 s timeout."""
    return call_asgi
