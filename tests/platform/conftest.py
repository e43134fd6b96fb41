"""Fixtures for the platform's tests (helpers are in ``tests/platform/_support.py``).

- ``platform``: one platform process per test module (``python -m wixhttp.platform`` on a temp
  data dir and a free port), started with the module's ``PLATFORM_ARGS`` if it sets them; tests
  use unique function ids so they do not interfere.
- ``start_platform``: for tests that need their own process (restarts, other settings).
- ``key``, ``functions``, ``api``: an all-scopes key, the official SDK's ``Functions`` service
  and an ``httpx`` client with that key, on the module's ``platform``.
- ``bundle(site, ...)``: a ``.tar.gz`` of a fixture site under ``tests/platform/sites/``.
- With ``TEST_PLATFORM_DATABASE=postgresql`` each process gets a fresh PostgreSQL database (see
  ``_support.py``), dropped at the end of the session.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from appwrite.services.functions import Functions

from tests.platform._support import PlatformProcess, drop_databases, make_bundle, module_process

DEFAULT_ARGS = ("--activation-limit", "1000")


@pytest.fixture(scope="session", autouse=True)
def _platform_databases() -> Iterator[None]:
    """With ``TEST_PLATFORM_DATABASE=postgresql``: drop the processes' databases at the end."""
    yield
    drop_databases()


@pytest.fixture
def start_platform(tmp_path: Path) -> Iterator[Callable[..., PlatformProcess]]:
    started: list[PlatformProcess] = []

    def start(*args: str, data_dir: Path | None = None) -> PlatformProcess:
        process = PlatformProcess(data_dir or tmp_path / "data", *args).start()
        started.append(process)
        return process

    yield start
    for process in started:
        process.stop()


@pytest.fixture(scope="module")
def platform(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[PlatformProcess]:
    args: tuple[str, ...] = getattr(request.module, "PLATFORM_ARGS", DEFAULT_ARGS)
    yield from module_process(tmp_path_factory, *args)


@pytest.fixture(scope="module")
def key(platform: PlatformProcess) -> str:
    return platform.create_key()


@pytest.fixture(scope="module")
def functions(platform: PlatformProcess, key: str) -> Functions:
    return platform.functions(key)


@pytest.fixture
def api(platform: PlatformProcess, key: str) -> Iterator[httpx.Client]:
    with platform.http(key) as client:
        yield client


@pytest.fixture
def bundle() -> Callable[..., bytes]:
    return make_bundle
