"""What the platform's tests share besides fixtures (those are in ``conftest.py``): a real platform
process, keys, bundles of the fixture sites under ``sites/``, deploys and bounded waits.

Fast settings and the execution helpers (``FAST``, ``new_function``, ``wait_execution``...) serve
the execution, cron and recovery tests. Every wait is bounded.

``TEST_PLATFORM_DATABASE=postgresql`` runs every platform process on a fresh PostgreSQL database
of its own (one per data directory, so a restart finds its state; see ``tests/_postgres.py``, and
``drop_databases`` at the end); unset or ``sqlite``, the platform's default, SQLite in ``--data``.
"""

from __future__ import annotations

import asyncio
import io
import itertools
import os
import signal
import subprocess
import sys
import tarfile
import time
import zlib
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest
from appwrite.client import Client
from appwrite.enums.runtime import Runtime
from appwrite.input_file import InputFile
from appwrite.models.deployment import Deployment
from appwrite.models.execution import Execution
from appwrite.services.functions import Functions
from click.testing import CliRunner
from sqlalchemy import text

from tests._postgres import drop_database, new_database
from tests._servers import free_port, wait_until
from wixhttp.platform.cli import keys_group
from wixhttp.platform.store import Store, sqlite_url

SITES = Path(__file__).resolve().parent / "sites"
ALL_SCOPES = "functions.read,functions.write,executions.read,executions.write"
PROJECT = "default"
#: Settings that keep the tests fast: 2 s synchronous cap, scheduledAt 1 s ahead is enough.
FAST = ("--activation-limit", "1000", "--sync-timeout", "2", "--min-schedule-lead", "1")
RUNTIME = Runtime.PYTHON_3_11
FINISHED = ("completed", "failed")
_ids = itertools.count(1)
#: The platform tests' database: "sqlite" (the default) or "postgresql".
BACKEND = os.environ.get("TEST_PLATFORM_DATABASE", "") or "sqlite"
#: How the platform processes sandbox functions, read once at import: tests start with no
#: WIXHTTP_* variables (tests/conftest.py), and the suite has not yet been run under the sandbox
#: (every worker is pid 2 in its own PID namespace there, which some tests compare). A test that
#: wants the sandbox passes --isolation itself (the option wins over the variable).
ISOLATION = os.environ.get("WIXHTTP_ISOLATION", "") or "none"
if BACKEND not in ("sqlite", "postgresql"):
    raise pytest.UsageError(f"TEST_PLATFORM_DATABASE={BACKEND!r}: use sqlite or postgresql")
_databases: dict[Path, str] = {}  # data directory -> its PostgreSQL database


def database_url(data_dir: Path) -> str:
    """The database of the platform on ``data_dir``: SQLite in it, or with
    ``TEST_PLATFORM_DATABASE=postgresql`` a PostgreSQL database made for it on first use."""
    if BACKEND == "sqlite":
        return sqlite_url(data_dir)
    if data_dir not in _databases:
        _databases[data_dir] = new_database()
    return _databases[data_dir]


def drop_databases() -> None:
    """Drop the PostgreSQL databases :func:`database_url` made."""
    while _databases:
        drop_database(_databases.popitem()[1])


def unique_id(prefix: str = "fn") -> str:
    return f"{prefix}-{os.getpid()}-{next(_ids)}-{time.monotonic_ns() % 10**6}"


class PlatformProcess:
    """``python -m wixhttp.platform`` as a subprocess."""

    def __init__(
        self, data_dir: Path, *args: str, database: str | None = None, name: str = ""
    ) -> None:
        """``database``: the URL to give ``--database-url`` (default: see :func:`database_url`);
        ``name``: of its log file (default: the data directory's), for processes sharing one."""
        self.data_dir = data_dir
        self.args = args
        self.database_url = database or database_url(data_dir)
        #: ``--data`` and, unless it is the default SQLite, ``--database-url``: for the CLI.
        self.store_args = ["--data", str(data_dir)]
        if self.database_url != sqlite_url(data_dir):
            self.store_args += ["--database-url", self.database_url]
        self.port = 0
        #: Stable across restarts on the same data directory (the port is not), so a restart
        #: takes up the node's own unfinished work at once; ``*args`` may override it.
        self.node_id = f"test-{data_dir.name}-{zlib.crc32(str(data_dir).encode()):08x}"
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = data_dir.parent / f"{name or data_dir.name}-platform.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def endpoint(self) -> str:
        return self.url + "/v1"

    def start(self, timeout: float = 20.0, port: int = 0) -> PlatformProcess:
        """Start on ``port`` (default: a free one)."""
        self.port = port or free_port()
        log = open(self.log_path, "ab")  # noqa: SIM115 - closed by the child's exit
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "wixhttp.platform",
                *self.store_args,
                "--port",
                str(self.port),
                "--node-id",
                self.node_id,
                *self.args,
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={"WIXHTTP_ISOLATION": ISOLATION, **os.environ},
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
        result = CliRunner().invoke(keys_group, ["create", *self.store_args, "--scopes", scopes])
        assert result.exit_code == 0, result.output
        return result.output.strip().splitlines()[-1]

    def run_sql(self, sql: str, **params: Any) -> None:
        """Run one statement on the process's database (to fake what the API cannot do)."""

        async def run() -> None:
            store = Store(self.database_url)
            try:
                async with store.engine.begin() as connection:
                    await connection.execute(text(sql), params)
            finally:
                await store.close()

        asyncio.run(run())

    def functions(self, key: str) -> Functions:
        client = Client().set_endpoint(self.endpoint).set_project(PROJECT).set_key(key)
        return Functions(client)

    def http(self, key: str | None = None, project: str = PROJECT) -> httpx.Client:
        headers = {"X-Appwrite-Project": project}
        if key:
            headers["X-Appwrite-Key"] = key
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)


def module_process(
    tmp_path_factory: pytest.TempPathFactory, *args: str
) -> Iterator[PlatformProcess]:
    """The body of a module-scoped fixture (``yield from``): one process with ``args``."""
    process = PlatformProcess(tmp_path_factory.mktemp("platform") / "data", *args).start()
    yield process
    process.stop()


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


def wait_for_build(functions: Functions, function_id: str, deployment_id: str) -> Deployment:
    """Poll until the deployment is ready, failed or canceled (at most 60 s)."""
    deadline = time.monotonic() + 60
    while True:
        deployment = functions.get_deployment(function_id, deployment_id)
        if deployment.status.value in ("ready", "failed", "canceled"):
            return deployment
        assert time.monotonic() < deadline, f"still {deployment.status.value} after 60 s"
        time.sleep(0.05)


# -- executions ----------------------------------------------------------------------------------


def deploy(functions: Functions, function_id: str, site: str = "executions") -> str:
    created = functions.create_deployment(
        function_id, InputFile.from_bytes(make_bundle(site), "code.tar.gz"), True
    )
    ready = wait_for_build(functions, function_id, created.id)
    assert ready.status.value == "ready", ready.buildlogs
    return str(created.id)


def new_function(functions: Functions, *, deployed: bool = True, **options: Any) -> str:
    """A function (execute any, unless given) running ``sites/executions``."""
    function_id = unique_id("ex")
    options.setdefault("execute", ["any"])
    functions.create(function_id, function_id, RUNTIME, **options)
    if deployed:
        deploy(functions, function_id)
    return function_id


def wait_execution(
    functions: Functions,
    function_id: str,
    execution_id: str,
    statuses: tuple[str, ...] = FINISHED,
    timeout: float = 20.0,
) -> Execution:
    def check() -> Execution | None:
        execution = functions.get_execution(function_id, execution_id)
        return execution if execution.status.value in statuses else None

    return wait_until(check, timeout, what=f"{execution_id} to be one of {statuses}")


def at(seconds_from_now: float) -> str:
    """An ISO 8601 time ``seconds_from_now`` ahead (UTC, milliseconds)."""
    moment = datetime.fromtimestamp(time.time() + seconds_from_now, timezone.utc)
    return moment.isoformat(timespec="milliseconds")


def epoch(stamp: str) -> float:
    return datetime.fromisoformat(stamp).timestamp()


def marks(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []
