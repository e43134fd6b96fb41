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
the next one starts. The table gives each figure's ratio to the 1-node SQLite row of the same run.

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


def postgres_cpu() -> float | None:
    """CPU seconds of every process named ``postgres`` on this machine (the server and its
    backends; a backend that exits between two readings takes its share with it)."""
    total, found = 0.0, False
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/comm") as f:
                if f.read().strip() != "postgres":
                    continue
        except OSError:
            continue
        seconds = cpu_seconds(int(entry))
        if seconds is not None:
            total, found = total + seconds, True
    return total if found else None


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
    tmp: str, setup: Setup, database_url: str | None, started: list[Process]
) -> tuple[list[int], str, dict[str, int]]:
    """Start ``setup.nodes`` platforms on one data directory (and database); returns their
    ports, an API key and the pids to meter (platforms and their workers)."""
    base = os.path.join(tmp, setup.label.replace(" ", "-").replace(",", ""))
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
        "deploy", bp.bench_site(tmp), "--function", ex.FUNCTION_ID, "--activate",
        "--endpoint", f"http://127.0.0.1:{ports[0]}/v1", "--key", key,
    )  # fmt: skip
    pids: dict[str, int] = {}
    for process, port in nodes:
        bp.check(port, ex.PROXIED_PATH, process.name)  # also starts the node's worker
        pids[f"platform:{process.name}"] = process.pid
        for child in children(process.pid):
            pids[f"worker:{process.name}:{child}"] = child
    return ports, key, pids


def measure(args: argparse.Namespace, tmp: str, setup: Setup, database_url: str | None) -> Row:
    started: list[Process] = []
    row = Row(setup)
    try:
        ports, key, pids = start_nodes(tmp, setup, database_url, started)
        print(f"  nodes on ports {', '.join(map(str, ports))}; sync load ...", flush=True)
        extra = {"postgres": postgres_cpu} if database_url else None
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
    rows: list[Row] = []
    for setup in setups:
        print(f"\n[{setup.label}]", flush=True)
        if setup.postgres and problem:
            rows.append(Row(setup, problem="skipped: no PostgreSQL"))
            print("  skipped: no PostgreSQL")
            continue
        if not setup.postgres:
            rows.append(measure(args, tmp, setup, None))
            continue
        name, url = create_database(admin_url)
        print(f"  scratch database {name} on {masked(admin_url)}", flush=True)
        try:
            rows.append(measure(args, tmp, setup, url))
        finally:
            drop_database(admin_url, name)
    report(rows)


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


def report(rows: list[Row]) -> None:
    base = rows[0]
    base_sync = base.sync.rps if base.sync else None
    base_async = base.asy.completions_rate if base.asy and base.asy.unfinished == 0 else None
    print()
    print(
        f"{'set-up':<22} {'sync exec/s':>11} {'ratio':>6} {'p50/p95 ms':>12}   "
        f"{'async compl/s':>13} {'ratio':>6} {'enqueue/s':>9}  completed/failed/unfinished"
    )
    print("-" * 112)
    for row in rows:
        if row.sync is None and row.asy is None:
            print(f"{row.setup.label:<22} {row.problem}")
            continue
        line = f"{row.setup.label:<22} "
        if row.sync is not None:
            lat = row.sync.latencies
            p50 = statistics.median(lat) * 1000 if lat else 0.0
            line += (
                f"{row.sync.rps:>11,.1f} {_ratio(row.sync.rps, base_sync):>6} "
                f"{f'{p50:.1f}/{ex.pct(lat, 95) * 1000:.1f}':>12}   "
            )
        else:
            line += f"{'-':>11} {'-':>6} {'-':>12}   "
        if row.asy is not None:
            a = row.asy
            rate = a.completions_rate if a.unfinished == 0 else 0.0
            line += (
                f"{rate:>13,.1f} {_ratio(rate, base_async):>6} {a.enqueue_rate:>9,.1f}  "
                f"{a.completed:,}/{a.failed:,}/{a.unfinished:,}"
            )
        else:
            line += f"{'-':>13}"
        print(line)
    print("-" * 112)
    for row in rows:
        if row.sync is None and row.asy is None:
            continue
        print(f"{row.setup.label}:")
        if row.sync is not None:
            print(
                f"  sync: {row.sync.ok:,} ok in {row.sync.seconds:g}s, errors: "
                f"{ex.errors_text(row.sync.errors)}; CPU us/execution: "
                f"{_cpu(row.sync, row.sync.ok)}"
            )
        if row.asy is not None:
            a = row.asy
            print(
                f"  async: {a.accepted:,} of {a.count:,} accepted in {a.enqueue_seconds:.2f}s, "
                f"enqueue errors: {ex.errors_text(a.errors)}; first enqueue -> last $updatedAt "
                f"{a.span:.2f}s; CPU us/execution: {_cpu(a, a.accepted)}"
            )
            if a.note:
                print(f"  NOTE: {a.note.strip()}")
        if row.problem:
            print(f"  {row.problem}")
    print(
        "ratios: to the 1-node SQLite row of this run; CPU us/execution: all nodes' platform "
        "processes, their workers, this client and (PostgreSQL rows) the server's processes"
    )
