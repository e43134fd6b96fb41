"""Helpers and fixtures for the platform's tests: a real platform process, keys, bundles, the SDK.

Test modules import the fixtures they use from here (``from platform_support import
platform, key``): a ``tests/platform/conftest.py`` would shadow ``tests/conftest.py``, which the
core's tests import from by name.


- ``platform``: one platform process per test module (``python -m wixhttp.platform`` on a
  temp data dir and a free port); tests use unique function ids so they do not interfere.
- ``start_platform``: for tests that need their own process (restarts, other settings).
- ``bundle(site, ...)``: a ``.tar.gz`` of a fixture site under ``tests/platform/sites/``.
- ``functions``: the official SDK's ``Functions`` service with an all-scopes key.
Every wait is bounded.
"""

from __future__ import annotations

import io
import itertools
import os
import signal
import socket
import subprocess
import sys
import tarfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from appwrite.client import Client
from appwrite.services.functions import Functions
from click.testing import CliRunner

from wixhttp.platform.cli import keys_group

SITES = Path(__file__).resolve().parent / "sites"
ALL_SCOPES = "functions.read,functions.write,executions.read,executions.write"
PROJECT = "default"
_ids = itertools.count(1)


def unique_id(prefix: str = "fn") -> str:
    return f"{prefix}-{os.getpid()}-{next(_ids)}-{time.monotonic_ns() % 10**6}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PlatformProcess:
    """``python -m wixhttp.platform`` as a subprocess."""

    def __init__(self, data_dir: Path, *args: str) -> None:
        self.data_dir = data_dir
        self.args = args
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = data_dir.parent / f"{data_dir.name}-platform.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def endpoint(self) -> str:
        return self.url + "/v1"

    def start(self, timeout: float = 20.0) -> PlatformProcess:
        self.port = free_port()
        log = open(self.log_path, "ab")  # noqa: SIM115 - closed by the child's exit
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "wixhttp.platform",
                "--data",
                str(self.data_dir),
                "--port",
                str(self.port),
                *self.args,
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        deadline = time.monotonic() + timeout
        while True:
            assert self.process.poll() is None, f"platform exited: {self.log()}"
            try:
                response = httpx.get(
                    self.endpoint + "/functions/runtimes",
                    headers={"X-Appwrite-Project": PROJECT},
                    timeout=1,
                )
                if response.status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, f"platform did not start: {self.log()}"
            time.sleep(0.05)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15.0) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(sig)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)
            raise AssertionError(f"platform did not stop within {timeout} s") from None

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-5000:]
        except OSError:
            return ""

    def create_key(self, scopes: str = ALL_SCOPES) -> str:
        result = CliRunner().invoke(
            keys_group, ["create", "--data", str(self.data_dir), "--scopes", scopes]
        )
        assert result.exit_code == 0, result.output
        return result.output.strip().splitlines()[-1]

    def functions(self, key: str) -> Functions:
        client = Client().set_endpoint(self.endpoint).set_project(PROJECT).set_key(key)
        return Functions(client)

    def http(self, key: str | None = None, project: str = PROJECT) -> httpx.Client:
        headers = {"X-Appwrite-Project": project}
        if key:
            headers["X-Appwrite-Key"] = key
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)


def make_bundle(site: str | Path, *, extra: dict[str, bytes] | None = None) -> bytes:
    """A ``.tar.gz`` of a fixture site (name under ``sites/``, or a directory)."""
    directory = site if isinstance(site, Path) else SITES / site
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for path in sorted(directory.rglob("*")):
            if "__pycache__" in path.parts or path.is_dir():
                continue
            archive.add(path, arcname=str(path.relative_to(directory)))
        for name, data in (extra or {}).items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def wait_for_build(functions: Functions, function_id: str, deployment_id: str) -> Any:
    """Poll until the deployment is ready, failed or canceled (at most 60 s)."""
    deadline = time.monotonic() + 60
    while True:
        deployment = functions.get_deployment(function_id, deployment_id)
        if deployment.status.value in ("ready", "failed", "canceled"):
            return deployment
        assert time.monotonic() < deadline, f"still {deployment.status.value} after 60 s"
        time.sleep(0.05)


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
