"""Executions of the functions platform: sync throughput, async completions, added latency.

Run from the repository root::

    python bench/executions.py            # full run, about 1 minute
    python bench/executions.py --quick    # a smoke run of a few seconds

It starts one real platform (``python -m wixhttp.platform --data TMP --port P
--execution-rate-limit 0``, every other setting at its default), creates an API key with
``python -m wixhttp keys create``, deploys ``bench/sites/hello`` as function ``hello`` with
``python -m wixhttp deploy ... --activate`` (function logging stays on, its default), and starts
``python -m wixhttp serve bench/sites/hello`` beside it. Then, against that one platform process:

1. **sync executions/s**: ``--connections`` keep-alive connections (raw HTTP/1.1 over asyncio +
   uvloop, one request in flight each) post ``{"path": "/_functions/hello", "method": "GET",
   "async": false}`` to ``POST /v1/functions/hello/executions`` for ``--warmup`` + ``--duration``
   seconds; responses completed inside the measured window count: 201 with status
   ``completed`` and the handler's 200 are successes, anything else is an error (shown).
2. **async completions/s**: ``--async-count`` async executions (path tagged with a per-run query
   string so they can be told apart) are enqueued as fast as ``--connections`` connections
   allow; once all are accepted, the unfinished ones are counted every ``--poll`` seconds
   (``queries[]``: equal(status, [waiting, processing]) + the tag + limit(1), reading ``total``)
   until none is left. Throughput = completed / (last ``$updatedAt`` of the batch - wall time
   of the first enqueue); the enqueue rate alone is shown too.
3. **added latency**: sequential requests, one keep-alive connection per target, interleaved
   (the order rotates each round): ``GET /_functions/hello`` on ``wixhttp serve`` (direct to
   the app), ``GET /functions/hello/_functions/hello`` on the platform (its proxy to the same
   worker) and a sync execution of the same path. Overhead = execution median - proxied median.

It prints a table with PASS/FAIL against issue 5's targets (>= 300 sync executions/s, >= 500
async completions/s, median overhead <= 5 ms on 2 cores). It always exits 0 unless
interrupted (130), stops by itself, and removes its processes and temp directory on exit,
Ctrl+C or SIGTERM.
"""

from __future__ import annotations

import os
import sys

# Run as ``python bench/executions.py``, Python puts ``bench/`` first on sys.path, where
# ``http.py`` and ``platform.py`` would shadow the standard library's ``http`` and ``platform``.
_HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(_HERE)
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _HERE]
if ROOT not in (os.path.abspath(p or os.curdir) for p in sys.path):
    sys.path.insert(0, ROOT)

import argparse  # noqa: E402
import asyncio  # noqa: E402
import contextlib  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from collections import Counter  # noqa: E402
from collections.abc import Callable  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from datetime import datetime  # noqa: E402
from typing import Any  # noqa: E402
from urllib.parse import quote  # noqa: E402

from bench import platform as bp  # noqa: E402  (bench/platform.py: set-up, CLI, checks)
from bench.loadgen import run_async  # noqa: E402
from bench.procs import (  # noqa: E402
    Process,
    children,
    cpu_seconds,
    exit_with,
    free_port,
    run_in_tempdir,
)

FUNCTION_ID = bp.FUNCTION_ID
EXEC_PATH = f"/v1/functions/{FUNCTION_ID}/executions"
HANDLER_PATH = "/_functions/hello"
PROXIED_PATH = bp.PROXIED_PATH
EXPECTED_BODY = bp.EXPECTED_BODY.decode()
PROJECT = "default"
TARGET_SYNC_RPS = 300.0
TARGET_ASYNC_RPS = 500.0
TARGET_OVERHEAD_MS = 5.0
PLATFORM_FLAGS = ["--execution-rate-limit", "0"]


# --------------------------------------------------------------------------- HTTP client


class HttpError(Exception):
    """The connection failed or the response could not be parsed."""


class Connection(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection, one request in flight (Content-Length or chunked)."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.waiter: asyncio.Future[tuple[int, bytes]] | None = None
        self.closed = False

    @classmethod
    async def open(cls, port: int) -> Connection:
        loop = asyncio.get_running_loop()
        _, conn = await loop.create_connection(cls, "127.0.0.1", port)
        return conn

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's is no subclass

    def request(self, data: bytes) -> asyncio.Future[tuple[int, bytes]]:
        """Send ``data`` (a whole request); the future gives (status, body)."""
        fut: asyncio.Future[tuple[int, bytes]] = asyncio.get_running_loop().create_future()
        if self.closed or self.transport is None:
            fut.set_exception(HttpError("connection closed"))
            return fut
        self.waiter = fut
        self.transport.write(data)
        return fut

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        try:
            parsed = self._parse()
        except (ValueError, IndexError) as exc:
            self._fail(HttpError(f"bad response: {exc}"))
            return
        if parsed is not None and self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(parsed)

    def _parse(self) -> tuple[int, bytes] | None:
        buf = self.buffer
        end = buf.find(b"\r\n\r\n")
        if end < 0:
            return None
        head = bytes(buf[:end]).lower()
        status = int(head[9:12])
        start = head.find(b"\r\ncontent-length:")
        if start >= 0:
            stop = head.find(b"\r\n", start + 2)
            length = int(head[start + 17 : stop if stop >= 0 else None])
            total = end + 4 + length
            if len(buf) < total:
                return None
            body = bytes(buf[end + 4 : total])
            del buf[:total]
            return status, body
        if b"\r\ntransfer-encoding: chunked" not in head:
            raise ValueError("neither content-length nor chunked")
        pos, chunks = end + 4, []
        while True:
            line_end = buf.find(b"\r\n", pos)
            if line_end < 0:
                return None
            size = int(bytes(buf[pos:line_end]).split(b";")[0], 16)
            if size == 0:
                trailer_end = buf.find(b"\r\n\r\n", line_end)  # no trailers: at line_end
                if trailer_end < 0:
                    return None
                del buf[: trailer_end + 4]
                return status, b"".join(chunks)
            if len(buf) < line_end + 2 + size + 2:
                return None
            chunks.append(bytes(buf[line_end + 2 : line_end + 2 + size]))
            pos = line_end + 2 + size + 2

    def _fail(self, exc: Exception) -> None:
        self.closed = True
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(exc)
        if self.transport is not None:
            self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self._fail(HttpError(f"connection lost: {exc or 'closed by the server'}"))

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()


def get_request(port: int, path: str, headers: dict[str, str] | None = None) -> bytes:
    lines = [f"GET {path} HTTP/1.1", f"Host: 127.0.0.1:{port}"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def post_execution(port: int, key: str, path: str, is_async: bool) -> bytes:
    body = json.dumps({"path": path, "method": "GET", "async": is_async}).encode()
    head = (
        f"POST {EXEC_PATH} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"X-Appwrite-Project: {PROJECT}\r\nX-Appwrite-Key: {key}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


def list_request(port: int, key: str, queries: list[dict[str, Any]]) -> bytes:
    query = "&".join(
        "queries%5B%5D=" + quote(json.dumps(q, separators=(",", ":")), safe="") for q in queries
    )
    return get_request(
        port, f"{EXEC_PATH}?{query}", {"X-Appwrite-Project": PROJECT, "X-Appwrite-Key": key}
    )


def classify_sync(status: int, body: bytes) -> str:
    """'ok' for a 201 completed execution whose handler answered 200 with the expected body,
    else a short label for the error table."""
    if status != 201:
        return f"HTTP {status}"
    try:
        data = json.loads(body)
    except ValueError:
        return "201 with a non-JSON body"
    if data.get("status") != "completed":
        return f"execution {data.get('status')}"
    if data.get("responseStatusCode") != 200 or data.get("responseBody") != EXPECTED_BODY:
        return f"completed, handler answered {data.get('responseStatusCode')}"
    return "ok"


def pct(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100); 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


class CpuMeter:
    """CPU seconds of the platform, its worker(s) and this client between start and stop."""

    def __init__(
        self, pids: dict[str, int], extra: dict[str, Callable[[], float | None]] | None = None
    ) -> None:
        """``extra``: more named CPU-seconds readings (e.g. a database server's processes)."""
        self.pids = pids
        self.extra = extra or {}
        self.start_values: dict[str, float | None] = {}
        self.used: dict[str, float] = {}

    def _sample(self) -> dict[str, float | None]:
        values: dict[str, float | None] = {n: cpu_seconds(p) for n, p in self.pids.items()}
        values["client"] = time.process_time()
        values.update((name, read()) for name, read in self.extra.items())
        return values

    def start(self) -> None:
        self.start_values = self._sample()

    def stop(self) -> None:
        end = self._sample()
        self.used = {
            name: end[name] - begin  # type: ignore[operator]
            for name, begin in self.start_values.items()
            if begin is not None and end.get(name) is not None
        }

    def per_op(self, count: int) -> str:
        if not count or not self.used:
            return "-"
        return ", ".join(f"{n} {s / count * 1e6:,.0f}" for n, s in self.used.items())

    def cores(self, seconds: float) -> str:
        if not seconds or not self.used:
            return "-"
        return ", ".join(f"{n} {s / seconds:.2f}" for n, s in self.used.items())


# --------------------------------------------------------------------------- 1. sync load


@dataclass
class SyncResult:
    ok: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)  # seconds, successes only
    errors: Counter[str] = field(default_factory=Counter)
    cpu: CpuMeter | None = None

    @property
    def rps(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0


async def sync_load(
    ports: list[int],
    key: str,
    warmup: float,
    duration: float,
    connections: int,
    pids: dict[str, int],
    extra_cpu: dict[str, Callable[[], float | None]] | None = None,
) -> SyncResult:
    """Connection ``i`` posts to ``ports[i % len(ports)]`` (round-robin over the nodes)."""
    result = SyncResult(cpu=CpuMeter(pids, extra_cpu))
    loop_start = time.perf_counter()
    t_start = loop_start + warmup
    t_end = t_start + duration

    async def client(port: int) -> None:
        request = post_execution(port, key, HANDLER_PATH, False)
        conn: Connection | None = None
        while time.perf_counter() < t_end:
            try:
                if conn is None or conn.closed:
                    conn = await Connection.open(port)
                sent = time.perf_counter()
                status, body = await asyncio.wait_for(conn.request(request), 60)
                label = classify_sync(status, body)
            except (OSError, HttpError, asyncio.TimeoutError) as exc:
                if conn is not None:
                    conn.close()
                conn = None
                label, status = f"client: {type(exc).__name__}", 0
                sent = time.perf_counter()
                await asyncio.sleep(0.01)
            done = time.perf_counter()
            if t_start <= done <= t_end:
                if label == "ok":
                    result.ok += 1
                    result.latencies.append(done - sent)
                else:
                    result.errors[label] += 1
        if conn is not None:
            conn.close()

    async def meter() -> None:
        await asyncio.sleep(max(0.0, t_start - time.perf_counter()))
        assert result.cpu is not None
        result.cpu.start()
        await asyncio.sleep(max(0.0, t_end - time.perf_counter()))
        result.cpu.stop()

    await asyncio.gather(meter(), *(client(ports[i % len(ports)]) for i in range(connections)))
    result.seconds = duration
    return result


# --------------------------------------------------------------------------- 2. async completions


@dataclass
class AsyncResult:
    count: int = 0
    accepted: int = 0
    enqueue_seconds: float = 0.0
    enqueue_latencies: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    completed: int = 0
    failed: int = 0
    unfinished: int = 0
    first_enqueue: float = 0.0  # wall clock
    last_finished: float = 0.0  # wall clock, the batch's last $updatedAt
    seen_done_after: float = 0.0  # seconds from the first enqueue until a poll saw 0 unfinished
    polls: int = 0
    cpu: CpuMeter | None = None
    note: str = ""

    @property
    def enqueue_rate(self) -> float:
        return self.accepted / self.enqueue_seconds if self.enqueue_seconds else 0.0

    @property
    def span(self) -> float:
        return self.last_finished - self.first_enqueue if self.last_finished else 0.0

    @property
    def completions_rate(self) -> float:
        return self.completed / self.span if self.span > 0 else 0.0


async def _list(conn: Connection, port: int, key: str, queries: list[dict[str, Any]]) -> Any:
    status, body = await asyncio.wait_for(conn.request(list_request(port, key, queries)), 60)
    if status != 200:
        raise HttpError(f"list executions gave {status}: {body[:300]!r}")
    return json.loads(body)


async def async_load(
    ports: list[int],
    key: str,
    count: int,
    connections: int,
    poll: float,
    stall: float,
    pids: dict[str, int],
    extra_cpu: dict[str, Callable[[], float | None]] | None = None,
) -> AsyncResult:
    """Enqueue connection ``i`` posts to ``ports[i % len(ports)]``; polls go to ``ports[0]``."""
    tag = f"{HANDLER_PATH}?bench={uuid.uuid4().hex[:12]}"
    port = ports[0]
    result = AsyncResult(count=count, cpu=CpuMeter(pids, extra_cpu))
    next_index = 0

    async def client(port: int) -> None:
        nonlocal next_index
        request = post_execution(port, key, tag, True)
        conn = await Connection.open(port)
        try:
            while next_index < count:
                next_index += 1
                sent = time.perf_counter()
                try:
                    status, body = await asyncio.wait_for(conn.request(request), 60)
                except (OSError, HttpError, asyncio.TimeoutError) as exc:
                    result.errors[f"client: {type(exc).__name__}"] += 1
                    conn.close()
                    conn = await Connection.open(port)
                    continue
                state = ""
                if status == 202:
                    with contextlib.suppress(ValueError):
                        state = json.loads(body).get("status", "")
                if status == 202 and state == "waiting":
                    result.accepted += 1
                    result.enqueue_latencies.append(time.perf_counter() - sent)
                else:
                    result.errors[f"HTTP {status} {state}".strip()] += 1
        finally:
            conn.close()

    conns = min(connections, count)
    result.cpu.start()  # type: ignore[union-attr]
    started = time.perf_counter()
    result.first_enqueue = time.time()
    await asyncio.gather(*(client(ports[i % len(ports)]) for i in range(conns)))
    result.enqueue_seconds = time.perf_counter() - started

    tagged = {"method": "equal", "attribute": "requestPath", "values": [tag]}
    one = {"method": "limit", "values": [1]}
    unfinished_q = [
        {"method": "equal", "attribute": "status", "values": ["waiting", "processing"]},
        tagged,
        one,
    ]
    conn = await Connection.open(port)
    try:
        last_change, last_seen = time.perf_counter(), -1
        while True:
            remaining = int((await _list(conn, port, key, unfinished_q))["total"])
            result.polls += 1
            now = time.perf_counter()
            if remaining == 0:
                result.seen_done_after = now - started
                break
            if remaining != last_seen:
                last_change, last_seen = now, remaining
            elif now - last_change > stall:
                result.note = (
                    f"stopped waiting: {remaining} unfinished, no progress for {stall:g} s"
                )
                break
            await asyncio.sleep(poll)
        result.cpu.stop()  # type: ignore[union-attr]
        result.unfinished = max(0, remaining)

        def status_q(status: str) -> list[dict[str, Any]]:
            return [{"method": "equal", "attribute": "status", "values": [status]}, tagged, one]

        result.completed = int((await _list(conn, port, key, status_q("completed")))["total"])
        result.failed = int((await _list(conn, port, key, status_q("failed")))["total"])
        last = await _list(
            conn,
            port,
            key,
            [tagged, {"method": "orderDesc", "attribute": "$updatedAt"}, one],
        )
        if last["executions"] and result.unfinished == 0:
            stamp = datetime.fromisoformat(last["executions"][0]["$updatedAt"])
            result.last_finished = stamp.timestamp()
    finally:
        conn.close()
    if count > 5000:
        result.note += " (list totals are capped at 5000: completed/failed counts are too)"
    return result


# --------------------------------------------------------------------------- 3. added latency


@dataclass
class LatencyResult:
    samples: dict[str, list[float]] = field(default_factory=dict)  # seconds
    errors: Counter[str] = field(default_factory=Counter)


async def latency_run(port: int, direct_port: int, key: str, count: int) -> LatencyResult:
    targets: list[tuple[str, int, bytes, Callable[[int, bytes], str]]] = [
        ("direct to app (serve)", direct_port, get_request(direct_port, HANDLER_PATH), _check_get),
        ("proxied (platform)", port, get_request(port, PROXIED_PATH), _check_get),
        ("sync execution", port, post_execution(port, key, HANDLER_PATH, False), classify_sync),
    ]
    result = LatencyResult(samples={name: [] for name, *_ in targets})
    conns = {name: await Connection.open(p) for name, p, *_ in targets}
    warm = min(20, max(2, count // 10))
    try:
        for i in range(warm + count):
            shift = i % len(targets)
            for name, target_port, request, check in targets[shift:] + targets[:shift]:
                conn = conns[name]
                sent = time.perf_counter()
                try:
                    status, body = await asyncio.wait_for(conn.request(request), 60)
                    label = check(status, body)
                except (OSError, HttpError, asyncio.TimeoutError) as exc:
                    label = f"client: {type(exc).__name__}"
                    conn.close()
                    conns[name] = await Connection.open(target_port)
                elapsed = time.perf_counter() - sent
                if i < warm:
                    continue
                if label == "ok":
                    result.samples[name].append(elapsed)
                else:
                    result.errors[f"{name}: {label}"] += 1
    finally:
        for conn in conns.values():
            conn.close()
    return result


def _check_get(status: int, body: bytes) -> str:
    return "ok" if status == 200 and body == bp.EXPECTED_BODY else f"HTTP {status}"


# --------------------------------------------------------------------------- driver


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python bench/executions.py",
        description="Sync executions/s, async completions/s and the added latency of a sync "
        "execution over a direct call, against one platform process.",
    )
    parser.add_argument("--duration", type=float, default=10.0, help="seconds of sync load")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of unmeasured load")
    parser.add_argument("--connections", type=int, default=16, help="concurrent connections")
    parser.add_argument("--async-count", type=int, default=3000, help="async executions")
    parser.add_argument("--latency-count", type=int, default=500, help="sequential requests each")
    parser.add_argument("--poll", type=float, default=0.1, help="seconds between async polls")
    parser.add_argument(
        "--stall", type=float, default=60.0, help="give up on async after this long w/o progress"
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the temp directory (data dir and server logs)"
    )
    parser.add_argument(
        "--quick", action="store_true", help="smoke run: 3 s sync, 300 async, 50 latency"
    )
    parser.add_argument(
        "--nodes",
        action="store_true",
        help="instead: sync and async figures for 1 node on SQLite, 1 node on PostgreSQL and "
        "--node-count nodes on PostgreSQL, with ratios to the first (bench/nodes.py)",
    )
    parser.add_argument(
        "--node-count", type=int, default=3, help="nodes of the last --nodes set-up (3)"
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="--nodes: interleaved rounds of the three set-ups; medians are shown (1)",
    )
    parser.add_argument(
        "--postgres-url",
        default="",
        help="--nodes: admin connection to a PostgreSQL server, where a scratch database is "
        "made and dropped (default: $WIXHTTP_BENCH_POSTGRES_URL, else "
        "postgresql://postgres@127.0.0.1:5432/test)",
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.duration, args.warmup = 3.0, 1.0
        args.async_count, args.latency_count = 300, 50
    return args


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def errors_text(errors: Counter[str]) -> str:
    return ", ".join(f"{n} x {label}" for label, n in errors.most_common()) or "none"


def start_servers(tmp: str, started: list[Process]) -> tuple[int, int, str, dict[str, int]]:
    data = os.path.join(tmp, "data")
    site = bp.bench_site(tmp)
    port, direct_port = free_port(), free_port()
    cmd = [sys.executable, "-m", "wixhttp.platform", "--data", data, "--port", str(port)]
    platform = Process("platform", cmd + PLATFORM_FLAGS, os.path.join(tmp, "platform.log"))
    started.append(platform)
    bp.wait_ready(platform, port, "/v1/functions/runtimes")
    key = bp.run_cli("keys", "create", "--data", data, "--scopes", bp.SCOPES).strip()
    key = key.splitlines()[-1]
    endpoint = f"http://127.0.0.1:{port}/v1"
    bp.run_cli(
        "deploy", site, "--function", FUNCTION_ID, "--activate",
        "--endpoint", endpoint, "--key", key,
    )  # fmt: skip
    bp.check(port, PROXIED_PATH, "platform")
    direct = Process(
        "wixhttp serve",
        [sys.executable, "-m", "wixhttp", "serve", site, "--port", str(direct_port)],
        os.path.join(tmp, "serve.log"),
    )
    started.append(direct)
    bp.wait_ready(direct, direct_port, HANDLER_PATH)
    bp.check(direct_port, HANDLER_PATH, "wixhttp serve")
    status, body = bp.get(
        port, f"/v1/functions/{FUNCTION_ID}", {"X-Appwrite-Project": PROJECT, "X-Appwrite-Key": key}
    )
    function = json.loads(body) if status == 200 else {}
    if not function.get("logging"):
        raise RuntimeError(f"function logging is not on (GET function: {status} {body[:300]!r})")
    pids = {"platform": platform.pid}
    workers = children(platform.pid)
    for index, pid in enumerate(workers):
        pids["worker" if len(workers) == 1 else f"worker{index}"] = pid
    print(f"site: {os.path.relpath(site, ROOT) if site == bp.SITE else site}")
    print(
        f"platform: python -m wixhttp.platform --port {port} {' '.join(PLATFORM_FLAGS)}  "
        f"(pid {platform.pid}; worker pid {','.join(map(str, workers)) or '?'})"
    )
    print(
        "  settings: defaults otherwise (--execution-workers 8, --sync-timeout 30, batched "
        f"execution writes); function logging: {function.get('logging')}, "
        f"timeout {function.get('timeout')} s"
    )
    print(f"direct: python -m wixhttp serve {site} --port {direct_port}  (pid {direct.pid})")
    return port, direct_port, key, pids


def run(args: argparse.Namespace, tmp: str, started: list[Process]) -> None:
    print(
        f"python {sys.version.split()[0]}, {os.cpu_count()} cores; client: this process "
        f"(asyncio + uvloop, raw HTTP/1.1 keep-alive), sharing the cores with the servers"
    )
    port, direct_port, key, pids = start_servers(tmp, started)
    print()

    sync: SyncResult | None = None
    print(
        f"[1/3] sync executions: {args.connections} connections, {args.warmup:g}s warm-up + "
        f"{args.duration:g}s ...",
        flush=True,
    )
    try:
        sync = run_async(sync_load([port], key, args.warmup, args.duration, args.connections, pids))
    except (OSError, HttpError, RuntimeError) as exc:
        print(f"  ERROR: {exc}")
    time.sleep(1.0)  # let the batched writes of phase 1 land

    asy: AsyncResult | None = None
    print(
        f"[2/3] async executions: {args.async_count} enqueued over {args.connections} "
        "connections, then polled until finished ...",
        flush=True,
    )
    try:
        asy = run_async(
            async_load([port], key, args.async_count, args.connections, args.poll, args.stall, pids)
        )
    except (OSError, HttpError, RuntimeError, ValueError, KeyError) as exc:
        print(f"  ERROR: {exc}")
    time.sleep(1.0)

    lat: LatencyResult | None = None
    print(
        f"[3/3] added latency: {args.latency_count} sequential requests per target, "
        "interleaved ...",
        flush=True,
    )
    try:
        lat = run_async(latency_run(port, direct_port, key, args.latency_count))
    except (OSError, HttpError, RuntimeError) as exc:
        print(f"  ERROR: {exc}")

    report(args, sync, asy, lat)


def report(
    args: argparse.Namespace,
    sync: SyncResult | None,
    asy: AsyncResult | None,
    lat: LatencyResult | None,
) -> None:
    ms = 1000.0
    print()
    print(f"{'measure':<44} {'value':>14}  {'target':>9}  result")
    print("-" * 78)
    if sync is not None:
        print(
            f"{'sync executions/s (' + str(args.connections) + ' connections)':<44} "
            f"{sync.rps:>14,.1f}  {'>= ' + f'{TARGET_SYNC_RPS:g}':>9}  "
            f"{verdict(sync.rps >= TARGET_SYNC_RPS)}"
        )
        median = statistics.median(sync.latencies) * ms if sync.latencies else 0.0
        shown = f"{median:.1f} / {pct(sync.latencies, 95) * ms:.1f}"
        print(f"{'  latency median / p95 (ms)':<44} {shown:>14}")
        print(f"  completed in {sync.seconds:g}s: {sync.ok:,}; errors: {errors_text(sync.errors)}")
        if sync.cpu is not None:
            print(f"  CPU us/execution: {sync.cpu.per_op(sync.ok)}")
            print(f"  CPU cores busy:   {sync.cpu.cores(sync.seconds)}")
    else:
        print(f"{'sync executions/s':<44} {'-':>14}  {'>= 300':>9}  FAIL (no result)")
    print("-" * 78)
    if asy is not None:
        rate_ok = asy.completions_rate >= TARGET_ASYNC_RPS and asy.unfinished == 0
        print(
            f"{'async completions/s (enqueue -> completed)':<44} "
            f"{asy.completions_rate:>14,.1f}  {'>= ' + f'{TARGET_ASYNC_RPS:g}':>9}  "
            f"{verdict(rate_ok)}"
        )
        print(
            f"{'  enqueue rate alone (202/s)':<44} {asy.enqueue_rate:>14,.1f}"
            f"   (202 median {statistics.median(asy.enqueue_latencies) * ms if asy.enqueue_latencies else 0:.1f} ms, "  # noqa: E501
            f"p95 {pct(asy.enqueue_latencies, 95) * ms:.1f} ms)"
        )
        print(
            f"  {asy.count:,} sent, {asy.accepted:,} accepted in {asy.enqueue_seconds:.2f}s; "
            f"completed {asy.completed:,}, failed {asy.failed:,}, unfinished {asy.unfinished:,}; "
            f"enqueue errors: {errors_text(asy.errors)}"
        )
        print(
            f"  first enqueue -> last $updatedAt: {asy.span:.2f}s; a poll saw none left after "
            f"{asy.seen_done_after:.2f}s ({asy.polls} polls)"
        )
        if asy.cpu is not None:
            print(f"  CPU us/execution: {asy.cpu.per_op(asy.accepted)}")
            print(f"  CPU cores busy:   {asy.cpu.cores(asy.seen_done_after or asy.span)}")
        if asy.note:
            print(f"  NOTE: {asy.note.strip()}")
    else:
        print(f"{'async completions/s':<44} {'-':>14}  {'>= 500':>9}  FAIL (no result)")
    print("-" * 78)
    if lat is not None:
        n = min((len(v) for v in lat.samples.values()), default=0)
        print(f"added latency, sequential, {n} ok each     median ms   p95 ms")
        medians = {}
        for name, values in lat.samples.items():
            medians[name] = statistics.median(values) * ms if values else float("nan")
            print(f"  {name:<42} {medians[name]:>7.2f}  {pct(values, 95) * ms:>7.2f}")
        over = medians["sync execution"] - medians["proxied (platform)"]
        print(
            f"{'  overhead: execution - proxied (median)':<44} {over:>11.2f} ms  "
            f"{'<= ' + f'{TARGET_OVERHEAD_MS:g} ms':>9}  {verdict(over <= TARGET_OVERHEAD_MS)}"
        )
        print(
            f"  (info) execution - direct to app: "
            f"{medians['sync execution'] - medians['direct to app (serve)']:.2f} ms; "
            f"proxied - direct to app: "
            f"{medians['proxied (platform)'] - medians['direct to app (serve)']:.2f} ms"
        )
        print(f"  errors: {errors_text(lat.errors)}")
    else:
        print("added latency: no result  FAIL")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.nodes:
        from bench import nodes

        return run_in_tempdir(nodes.run, args, "wixhttp-bench-nodes-", "RESULT: no figures")
    return run_in_tempdir(run, args, "wixhttp-bench-executions-", "RESULT: no figures")


if __name__ == "__main__":
    exit_with(main, "servers stopped, temp directory removed")
