"""``python bench/executions.py --nodes``: the platform on 1 node (SQLite), 1 node (PostgreSQL)
and N nodes (PostgreSQL, default 3), measured in one run.

For each set-up in turn: start the nodes (``python -m wixhttp.platform --data DIR --port P
--node-id nodeK --execution-rate-limit 0``, plus ``--database-url`` on PostgreSQL; the nodes of
one set-up share the database and the data directory), create a key, deploy ``bench/sites/hello``
through the first node, check that every node serves it, then measure sync executions/s and async
completions/s with ``bench/executions.py``'s own phases, the connections spread round-robin over
the nodes. Each PostgreSQL set-up gets a fresh database on the server ``--postgres-url`` names
(an admin connection: a user who may create databases), dropped again afterwards; where no server
answers, the PostgreSQL rows are skipped, saying why. The set-up's processes are stopped before
the next one starts. ``--rounds N`` repeats the three set-ups N times, interleaved, and shows
the medians. The table gives each figure's ratio to the 1-node SQLite row of the same run.

Imported as ``bench.nodes`` (the repository root on ``sys.path``); it uses ``bench.executions``
for the load and ``bench.platform`` for the set-up helpers.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from bench import executions as ex
from bench import platform as bp
from bench.loadgen import run_async
from bench.procs import Process, children, cpu_seconds, free_port

DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
POSTGRES_ENV = "WIXHTTP_BENCH_POSTGRES_URL"


@dataclass
class Setup:
    label: str
    nodes: int
    postgres: bool


@dataclass
class Row:
    setup: Setup
    sync: ex.SyncResult | None = None
    asy: ex.AsyncResult | None = None
    problem: str = ""  # why there are no figures (skipped, or an error)


# --------------------------------------------------------------------------- scratch database


async def _admin(admin_url: str, sql: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(admin_url, timeout=5)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


def postgres_problem(admin_url: str) -> str:
    """Why PostgreSQL cannot be used ("" if it can)."""
    try:
        import asyncpg  # noqa: F401
    except ImportError:
        return "asyncpg is not installed (pip install -e '.[platform]')"
    try:
        asyncio.run(_admin(admin_url, "SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - any failure means: no server to measure on
        return f"no PostgreSQL answers at {masked(admin_url)} ({type(exc).__name__}: {exc})"
    return ""


def backend_cpu(database: str) -> Callable[[], float | None]:
    """A reading of the CPU seconds of the PostgreSQL backends connected to ``database`` (their
    process titles name it; other databases' backends and the server's shared processes, WAL
    writer included, are left out; a backend that exits takes its share with it)."""
    title = f" {database} ".encode()

    def read() -> float | None:
        total, found = 0.0, False
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as f:
                    cmdline = f.read(300)
            except OSError:
                continue
            if cmdline.startswith(b"postgres: ") and title in cmdline:
                seconds = cpu_seconds(int(entry))
                if seconds is not None:
                    total, found = total + seconds, True
        return total if found else None

    return read


def masked(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def create_database(admin_url: str) -> tuple[str, str]:
    """A fresh, empty database: (its name, the URL the nodes get)."""
    name = f"wixhttp_bench_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    asyncio.run(_admin(admin_url, f'CREATE DATABASE "{name}"'))
    return name, urlunsplit(urlsplit(admin_url)._replace(path=f"/{name}"))


def drop_database(admin_url: str, name: str) -> None:
    asyncio.run(_admin(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


# --------------------------------------------------------------------------- nodes


def start_nodes(
    base: str, setup: Setup, database_url: str | None, started: list[Process]
) -> tuple[list[int], str, dict[str, int]]:
    """Start ``setup.nodes`` platforms on one data directory (and database) under ``base``;
    returns their ports, an API key and the pids to meter (platforms and their workers)."""
    data = os.path.join(base, "data")
    os.makedirs(base)
    store = ["--data", data] + (["--database-url", database_url] if database_url else [])
    nodes: list[tuple[Process, int]] = []
    for index in range(1, setup.nodes + 1):
        port = free_port()
        cmd = [sys.executable, "-m", "wixhttp.platform", *store, "--port", str(port)]
        cmd += ["--node-id", f"node{index}", *ex.PLATFORM_FLAGS]
        process = Process(f"node{index}", cmd, os.path.join(base, f"node{index}.log"))
        started.append(process)
        nodes.append((process, port))
    for process, port in nodes:  # started together: migrations take turns under their lock
        bp.wait_ready(process, port, "/v1/functions/runtimes")
    key = bp.run_cli("keys", "create", *store, "--scopes", bp.SCOPES).strip().splitlines()[-1]
    ports = [port for _, port in nodes]
    bp.run_cli(
        "deploy", bp.bench_site(base), "--function", ex.FUNCTION_ID, "--activate",
        "--endpoint", f"http://127.0.0.1:{ports[0]}/v1", "--key", key,
    )  # fmt: skip
    pids: dict[str, int] = {}
    for process, port in nodes:
        bp.check(port, ex.PROXIED_PATH, process.name)  # also starts the node's worker
        pids[f"platform:{process.name}"] = process.pid
        for child in children(process.pid):
            pids[f"worker:{process.name}:{child}"] = child
    return ports, key, pids


def measure(
    args: argparse.Namespace, base: str, setup: Setup, database: tuple[str, str] | None
) -> Row:
    """One round of one set-up; ``database``: (name, URL) of its PostgreSQL database."""
    started: list[Process] = []
    row = Row(setup)
    try:
        ports, key, pids = start_nodes(base, setup, database[1] if database else None, started)
        print(f"  nodes on ports {', '.join(map(str, ports))}; sync load ...", flush=True)
        extra = {"postgres": backend_cpu(database[0])} if database else None
        row.sync = run_async(
            ex.sync_load(ports, key, args.warmup, args.duration, args.connections, pids, extra)
        )
        time.sleep(1.0)  # let the batched writes of the sync phase land
        print(f"  async: {args.async_count} executions ...", flush=True)
        row.asy = run_async(
            ex.async_load(
                ports, key, args.async_count, args.connections, args.poll, args.stall, pids, extra
            )
        )
    except (OSError, ex.HttpError, RuntimeError, ValueError, KeyError) as exc:
        row.problem = f"error: {exc}"
        print(f"  ERROR: {exc}", flush=True)
    finally:
        for process in reversed(started):
            process.stop()
    return row


def run(args: argparse.Namespace, tmp: str, started: list[Process]) -> None:
    """The ``--nodes`` mode (``started`` stays empty: each set-up stops its own processes)."""
    admin_url = args.postgres_url or os.environ.get(POSTGRES_ENV) or DEFAULT_POSTGRES_URL
    print(
        f"python {sys.version.split()[0]}, {os.cpu_count()} cores; client: this process "
        "(asyncio + uvloop, raw HTTP/1.1 keep-alive), sharing the cores with every node, worker "
        "and the PostgreSQL server"
    )
    print(
        f"per set-up: sync {args.connections} connections, {args.warmup:g}s warm-up + "
        f"{args.duration:g}s; async {args.async_count} executions; connections round-robin "
        "over the nodes"
    )
    setups = [
        Setup("1 node, SQLite", 1, False),
        Setup("1 node, PostgreSQL", 1, True),
        Setup(f"{args.node_count} nodes, PostgreSQL", args.node_count, True),
    ]
    problem = postgres_problem(admin_url)
    if problem:
        print(
            f"PostgreSQL rows skipped: {problem}. Give a server with --postgres-url URL or "
            f"{POSTGRES_ENV} (a user who may create databases)."
        )
    rows: dict[str, list[Row]] = {setup.label: [] for setup in setups}
    for round_no in range(1, args.rounds + 1):
        for setup in setups:
            print(f"\n[{setup.label}, round {round_no} of {args.rounds}]", flush=True)
            if setup.postgres and problem:
                rows[setup.label].append(Row(setup, problem="skipped: no PostgreSQL"))
                print("  skipped: no PostgreSQL")
                continue
            slug = setup.label.replace(", ", "-").replace(" ", "-")
            base = os.path.join(tmp, f"{slug}-{round_no}")
            if not setup.postgres:
                rows[setup.label].append(measure(args, base, setup, None))
                continue
            name, url = create_database(admin_url)
            print(f"  scratch database {name} on {masked(admin_url)}", flush=True)
            try:
                rows[setup.label].append(measure(args, base, setup, (name, url)))
            finally:
                drop_database(admin_url, name)
    report(list(rows.values()))


# --------------------------------------------------------------------------- table


def _ratio(value: float, base: float | None) -> str:
    return f"{value / base:.2f}x" if base else "-"


def _cpu(result: ex.SyncResult | ex.AsyncResult, count: int) -> str:
    """CPU us per execution summed by kind: all platforms, all workers, the client."""
    used = result.cpu.used if result.cpu is not None else {}
    if not count or not used:
        return "-"
    kinds: dict[str, float] = {}
    for name, seconds in used.items():
        kind = name.split(":")[0]
        kinds[kind] = kinds.get(kind, 0.0) + seconds
    return ", ".join(f"{k} {s / count * 1e6:,.0f}" for k, s in kinds.items())


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


@dataclass
class Figures:
    """One set-up's figures over its rounds (medians; counts summed)."""

    label: str
    syncs: list[ex.SyncResult]
    asyncs: list[ex.AsyncResult]
    problems: list[str]

    @classmethod
    def of(cls, rows: list[Row]) -> Figures:
        return cls(
            rows[0].setup.label,
            [r.sync for r in rows if r.sync is not None],
            [r.asy for r in rows if r.asy is not None],
            [r.problem for r in rows if r.problem],
        )

    @property
    def sync_rps(self) -> float | None:
        return _median([r.rps for r in self.syncs])

    @property
    def async_rps(self) -> float | None:
        """Median completions/s of the rounds whose batch finished."""
        return _median([a.completions_rate for a in self.asyncs if a.unfinished == 0])


def report(setups: list[list[Row]]) -> None:
    figures = [Figures.of(rows) for rows in setups]
    base_sync, base_async = figures[0].sync_rps, figures[0].async_rps
    rounds = max(len(rows) for rows in setups)
    print()
    if rounds > 1:
        print(f"medians of {rounds} interleaved rounds")
    print(
        f"{'set-up':<22} {'sync exec/s':>11} {'ratio':>6} {'p50/p95 ms':>12}   "
        f"{'async compl/s':>13} {'ratio':>6} {'enqueue/s':>9}  completed/failed/unfinished"
    )
    print("-" * 112)
    for fig in figures:
        line = f"{fig.label:<22} "
        if fig.sync_rps is not None:
            lat = [x for r in fig.syncs for x in r.latencies]
            p50 = statistics.median(lat) * 1000 if lat else 0.0
            line += (
                f"{fig.sync_rps:>11,.1f} {_ratio(fig.sync_rps, base_sync):>6} "
                f"{f'{p50:.1f}/{ex.pct(lat, 95) * 1000:.1f}':>12}   "
            )
        else:
            line += f"{'-':>11} {'-':>6} {'-':>12}   "
        if fig.asyncs:
            rate = fig.async_rps
            enqueue = _median([a.enqueue_rate for a in fig.asyncs]) or 0.0
            done = sum(a.completed for a in fig.asyncs)
            failed = sum(a.failed for a in fig.asyncs)
            left = sum(a.unfinished for a in fig.asyncs)
            line += (
                f"{rate or 0.0:>13,.1f} {_ratio(rate or 0.0, base_async):>6} {enqueue:>9,.1f}  "
                f"{done:,}/{failed:,}/{left:,}"
            )
        else:
            line += f"{'-':>13}"
        if not fig.syncs and not fig.asyncs:
            line = f"{fig.label:<22} {'; '.join(sorted(set(fig.problems)))}"
        print(line)
    print("-" * 112)
    for fig in figures:
        if not fig.syncs and not fig.asyncs:
            continue
        print(f"{fig.label}:")
        for sync in fig.syncs:
            print(
                f"  sync {sync.rps:,.1f}/s: {sync.ok:,} ok in {sync.seconds:g}s, errors: "
                f"{ex.errors_text(sync.errors)}; CPU us/execution: {_cpu(sync, sync.ok)}"
            )
        for a in fig.asyncs:
            print(
                f"  async {a.completions_rate:,.1f}/s: {a.accepted:,} of {a.count:,} accepted in "
                f"{a.enqueue_seconds:.2f}s, enqueue errors: {ex.errors_text(a.errors)}; first "
                f"enqueue -> last $updatedAt {a.span:.2f}s; CPU us/execution: "
                f"{_cpu(a, a.accepted)}"
            )
            if a.note:
                print(f"  NOTE: {a.note.strip()}")
        for problem in fig.problems:
            print(f"  {problem}")
    print(
        "ratios: to the 1-node SQLite row of this run; CPU us/execution: all nodes' platform "
        "processes, their workers, this client and (PostgreSQL rows) the database's backends"
    )
