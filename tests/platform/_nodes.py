"""Several ``wixhttp platform`` nodes for the scale-out tests: N real processes on free ports,
with distinct ``--node-id`` s, sharing one fresh PostgreSQL database and one ``--data`` directory
(skipped, with :func:`~tests._postgres.require_postgres`'s message, where PostgreSQL is absent).

A node can be killed (``kill -9``) and restarted under its name. The fixture function runs
``sites/scaleout``: each run appends ``kind execution-id pid parent-pid time`` to the file in its
``MARKS`` variable, and :meth:`Cluster.marks` reads those lines back, so the tests count runs
from side effects and not from the API.
"""

from __future__ import annotations

import functools
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from appwrite.models.execution import Execution
from appwrite.query import Query
from appwrite.services.functions import Functions

from tests._postgres import drop_database, new_database
from tests.platform._support import (
    FAST,
    RUNTIME,
    PlatformProcess,
    deploy,
    unique_id,
)

__all__ = [
    "DEAD_NODE_ARGS",
    "NODE_TIMEOUT",
    "Cluster",
    "Mark",
    "cluster_of",
    "in_parallel",
    "wait_for",
    "workers_serving",
]

#: Seconds of silence after which a node counts as dead, in the tests that kill one (with a
#: heartbeat every ``HEARTBEAT`` s): ``--node-timeout`` and ``--heartbeat-interval``.
NODE_TIMEOUT = 3.0
HEARTBEAT = 0.5
DEAD_NODE_ARGS = (
    "--node-timeout",
    f"{NODE_TIMEOUT:g}",
    "--heartbeat-interval",
    f"{HEARTBEAT:g}",
)


@dataclass(frozen=True)
class Mark:
    """One line the fixture function wrote."""

    kind: str  # run, start, end or tick
    execution_id: str
    pid: int  # the worker's
    node_pid: int  # the platform process that started the worker
    at: float  # epoch seconds

    @classmethod
    def parse(cls, line: str) -> Mark:
        kind, execution_id, pid, node_pid, at = line.split()
        return cls(kind, execution_id, int(pid), int(node_pid), float(at))


def in_parallel(calls: Sequence[Callable[[], Any]], timeout: float = 90.0) -> list[Any]:
    """Run ``calls`` in threads at the same moment; their results, or the first error raised."""
    results: list[Any] = [None] * len(calls)
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            results[index] = calls[index]()
        except BaseException as exc:  # noqa: BLE001 - re-raised below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    if errors:
        raise errors[0]
    return results


class Cluster:
    """N nodes on one database and one data directory, and a key valid on all of them."""

    def __init__(self, root: Path, database: str, count: int, args: Sequence[str]) -> None:
        self.root = root
        self.data_dir = root / "data"
        self.database = database
        self.nodes = [
            PlatformProcess(
                self.data_dir,
                *FAST,
                *args,
                "--node-id",
                f"node{n}",
                database=database,
                name=f"node{n}",
            )
            for n in range(count)
        ]
        self.marks_path = root / "marks"
        self._key = ""

    def start(self) -> Cluster:
        """Start every node at the same moment."""
        in_parallel([functools.partial(node.start, timeout=60) for node in self.nodes])
        return self

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()

    @property
    def key(self) -> str:
        if not self._key:
            self._key = self.nodes[0].create_key()
        return self._key

    def functions(self, n: int) -> Functions:
        """The SDK's Functions service through node ``n`` (modulo the number of nodes)."""
        return self.node(n).functions(self.key)

    def node(self, n: int) -> PlatformProcess:
        return self.nodes[n % len(self.nodes)]

    def http(self, n: int, *, key: bool = True) -> httpx.Client:
        return self.node(n).http(self.key if key else None)

    def kill(self, n: int) -> int:
        """``kill -9`` node ``n``; returns its pid (its workers write it as their parent's)."""
        node = self.node(n)
        assert node.process is not None
        pid = node.process.pid
        node.stop(signal.SIGKILL)
        return pid

    def restart(self, n: int) -> PlatformProcess:
        """Stop node ``n`` (SIGTERM) and start it again, under its name, on its port."""
        node = self.node(n)
        node.stop()
        return node.start(timeout=60, port=node.port)

    def pid(self, n: int) -> int:
        process = self.node(n).process
        assert process is not None
        return process.pid

    def new_function(self, n: int = 0, **options: Any) -> str:
        """A function running ``sites/scaleout`` (deployed and active) created through node
        ``n``, with ``MARKS`` pointing at :attr:`marks_path` and ``variables`` added."""
        functions = self.functions(n)
        function_id = unique_id("so")
        variables: dict[str, str] = {"MARKS": str(self.marks_path), **options.pop("variables", {})}
        options.setdefault("execute", ["any"])
        functions.create(function_id, function_id, RUNTIME, **options)
        for name, value in variables.items():
            functions.create_variable(function_id, name.lower(), name, value)
        deploy(functions, function_id, "scaleout")
        return function_id

    def marks(self, kind: str | None = None) -> list[Mark]:
        """The lines the function wrote so far (of one ``kind``, if given)."""
        if not self.marks_path.exists():
            return []
        found = [Mark.parse(line) for line in self.marks_path.read_text().splitlines() if line]
        return [m for m in found if kind is None or m.kind == kind]

    def runs(self, kind: str) -> Counter[str]:
        """How many ``kind`` lines each execution id has."""
        return Counter(m.execution_id for m in self.marks(kind))

    def executions(self, n: int, function_id: str, *queries: str) -> list[Execution]:
        """The function's executions (up to 5000), read through node ``n``."""
        listed = self.functions(n).list_executions(function_id, [*queries, Query.limit(5000)])
        return list(listed.executions)

    def logs(self) -> str:
        """The end of every node's log, for failure messages."""
        return "\n".join(f"--- node{n}:\n{node.log()[-1500:]}" for n, node in enumerate(self.nodes))


def cluster_of(tmp_path: Path, count: int = 3, args: Sequence[str] = ()) -> Iterator[Cluster]:
    """The body of a fixture (``yield from``): ``count`` nodes started together on a fresh
    database with ``args``, all stopped and the database dropped afterwards."""
    database = new_database()  # skips the test where no PostgreSQL answers
    cluster = Cluster(tmp_path, database, count, args)
    try:
        yield cluster.start()
    finally:
        cluster.stop()
        drop_database(database)


def wait_for(check: Callable[[], Any], timeout: float, what: str, every: float = 0.05) -> Any:
    """Poll ``check`` until it returns something truthy; fail naming ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(every)


def workers_serving(text: str) -> list[int]:
    """Worker processes (of any node) whose command line contains ``text`` (a deployment's or a
    function's id: it is in the ``--site`` path)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            args = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"wixhttp.platform.worker" in args and any(text.encode() in arg for arg in args):
            found.append(int(entry.name))
    return found
