"""Fixtures for the platform's tests (see platform_support.py for the helpers)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from appwrite.services.functions import Functions
from platform_support import PlatformProcess, make_bundle


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
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PlatformProcess]:
    process = PlatformProcess(
        tmp_path_factory.mktemp("platform") / "data", "--activation-limit", "1000"
    ).start()
    yield process
    process.stop()


@pytest.fixture(scope="module")
def key(platform: PlatformProcess) -> str:
    return platform.create_key()


@pytest.fixture
def functions(platform: PlatformProcess, key: str) -> Functions:
    return platform.functions(key)


@pytest.fixture
def api(platform: PlatformProcess, key: str) -> Iterator[httpx.Client]:
    with platform.http(key) as client:
        yield client


@pytest.fixture
def bundle() -> Callable[..., bytes]:
    return make_bundle
