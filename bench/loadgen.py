"""HTTP load for the benchmark scripts: ``wrk`` when on PATH, else an asyncio keep-alive generator.

The Python generator runs in its own process, started by :func:`run_python` as::

    python -m bench.loadgen PORT PATH DURATION CONNECTIONS [GRACE]

from the repository root; it prints one JSON :class:`Result`. Each connection keeps one GET in
flight and sends the next as soon as a response is complete (uvloop when installed).

Imported as ``bench.loadgen`` with the repository root on ``sys.path`` (never put ``bench/``
itself there: ``bench/http.py`` and ``bench/platform.py`` would shadow the standard library).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any, TypeVar

from bench.procs import ROOT, cpu_seconds, pinned

T = TypeVar("T")


@dataclass
class Result:
    rps: float
    requests: int
    errors: int
    latency: str = ""  # average latency, e.g. "1.23ms" (as wrk prints it)
    cpu_us: dict[str, float] = field(default_factory=dict)  # process -> CPU us per request


@dataclass
class Samples:
    runs: list[Result] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(r.rps for r in self.runs) if self.runs else 0.0

    def cpu_us(self, name: str) -> float:
        values = [r.cpu_us[name] for r in self.runs if r.cpu_us.get(name)]
        return statistics.median(values) if values else 0.0


# --------------------------------------------------------------------------- driver side


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The load flags every throughput script takes (``finish_args`` completes them)."""
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per measurement")
    parser.add_argument("--connections", type=int, default=50, help="concurrent connections")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (median)")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of warm-up load")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads")
    parser.add_argument(
        "--loadgen",
        choices=["auto", "wrk", "python"],
        default="auto",
        help="load generator (auto: wrk if on PATH, else Python)",
    )


def finish_args(args: argparse.Namespace) -> argparse.Namespace:
    """Apply ``--quick`` (3 s, 1 round, 1 s warm-up) and resolve ``--loadgen auto``."""
    if args.quick:
        args.duration, args.rounds, args.warmup = 3.0, 1, 1.0
    if args.loadgen == "auto":
        args.loadgen = "wrk" if shutil.which("wrk") else "python"
    return args


def describe(args: argparse.Namespace) -> str:
    if args.loadgen == "wrk":
        return f"wrk -t{args.threads} -c{args.connections}"
    return f"python asyncio keep-alive generator, {args.connections} connections"


def measure(
    port: int,
    path: str,
    pids: dict[str, int],
    args: argparse.Namespace,
    *,
    cpu: int | None = None,
    grace: float = 10.0,
) -> Result:
    """A warm-up, then the measured load, with each of ``pids``' CPU time per request.

    ``cpu`` pins the load generator to that CPU; ``grace`` is how long the Python generator
    waits past ``--duration`` for its connections to finish before it closes them.
    """

    def load(seconds: float) -> Result:
        if args.loadgen == "wrk":
            return run_wrk(port, path, seconds, args.connections, args.threads, cpu)
        return run_python(port, path, seconds, args.connections, cpu, grace)

    if args.warmup > 0:
        load(args.warmup)
    before = {name: cpu_seconds(pid) for name, pid in pids.items()}
    result = load(args.duration)
    after = {name: cpu_seconds(pid) for name, pid in pids.items()}
    if result.requests == 0:
        raise RuntimeError("no request completed")
    for name, start in before.items():
        end = after[name]
        if start is not None and end is not None:
            result.cpu_us[name] = (end - start) / result.requests * 1e6
    return result


# --------------------------------------------------------------------------- wrk

_WRK_RPS = re.compile(r"Requests/sec:\s+([\d.]+)")
_WRK_TOTAL = re.compile(r"(\d+) requests in")
_WRK_NON2XX = re.compile(r"Non-2xx or 3xx responses:\s+(\d+)")
_WRK_SOCKET = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")
_WRK_LATENCY = re.compile(r"Latency\s+(\S+)\s+(\S+)\s+(\S+)")


def run_wrk(
    port: int, path: str, duration: float, connections: int, threads: int, cpu: int | None = None
) -> Result:
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{max(1, round(duration))}s"]
    cmd.append(f"http://127.0.0.1:{port}{path}")
    out = subprocess.run(
        cmd, capture_output=True, text=True, check=False, preexec_fn=pinned(cpu)
    ).stdout
    return parse_wrk(out)


def parse_wrk(out: str) -> Result:
    rps = _WRK_RPS.search(out)
    if rps is None:
        raise RuntimeError(f"could not parse wrk output:\n{out}")
    total = _WRK_TOTAL.search(out)
    socket_errors = _WRK_SOCKET.search(out)
    errors = sum(int(x) for x in socket_errors.groups()) if socket_errors else 0
    non2xx = _WRK_NON2XX.search(out)
    errors += int(non2xx.group(1)) if non2xx else 0
    latency = _WRK_LATENCY.search(out)
    return Result(
        float(rps.group(1)),
        int(total.group(1)) if total else 0,
        errors,
        latency.group(1) if latency else "",
    )


# --------------------------------------------------------------------------- Python generator


def run_python(
    port: int,
    path: str,
    duration: float,
    connections: int,
    cpu: int | None = None,
    grace: float = 10.0,
) -> Result:
    """Run the generator below in its own process (pinned to ``cpu`` if given)."""
    cmd = [sys.executable, "-m", "bench.loadgen"]
    cmd += [str(port), path, str(duration), str(connections), str(grace)]
    out = subprocess.run(
        cmd,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=duration + 60,
        preexec_fn=pinned(cpu),
    )
    if out.returncode != 0 or not out.stdout.strip():
        raise RuntimeError(f"load generator failed ({out.returncode}):\n{out.stderr[-2000:]}")
    return Result(**json.loads(out.stdout.strip().splitlines()[-1]))


class _Client(asyncio.Protocol):
    """One keep-alive connection sending the next GET as soon as a response is complete."""

    def __init__(self, request: bytes, stats: list[float], stop_at: float) -> None:
        self.request = request
        self.stats = stats  # [ok, errors, total latency]
        self.stop_at = stop_at
        self.buffer = bytearray()
        self.sent = 0.0
        self.done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's is no subclass
        self.sent = time.monotonic()
        transport.write(self.request)  # type: ignore[attr-defined]

    def data_received(self, data: bytes) -> None:
        buf = self.buffer
        buf += data
        while True:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(buf[:end]).lower()
            start = head.find(b"content-length:")
            if start < 0:
                self._fail()
                return
            stop = head.find(b"\r\n", start)
            length = int(head[start + 15 : stop if stop >= 0 else None])
            total = end + 4 + length
            if len(buf) < total:
                return
            del buf[:total]
            now = time.monotonic()
            self.stats[0 if head[9:12] == b"200" else 1] += 1
            self.stats[2] += now - self.sent
            assert self.transport is not None
            if now >= self.stop_at:
                self.transport.close()
                return
            self.sent = now
            self.transport.write(self.request)

    def _fail(self) -> None:
        self.stats[1] += 1
        if self.transport is not None:
            self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.done.done():
            self.done.set_result(None)


async def python_load(
    port: int, path: str, duration: float, connections: int, grace: float = 10.0
) -> Result:
    request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode()
    loop = asyncio.get_running_loop()
    stats = [0.0, 0.0, 0.0]
    started = time.monotonic()
    stop_at = started + duration
    clients = []
    for _ in range(connections):
        _, client = await loop.create_connection(
            lambda: _Client(request, stats, stop_at), "127.0.0.1", port
        )
        clients.append(client)
    try:
        await asyncio.wait_for(asyncio.gather(*(c.done for c in clients)), timeout=duration + grace)
    except asyncio.TimeoutError:
        for c in clients:
            if c.transport is not None:
                c.transport.close()
    elapsed = time.monotonic() - started
    done = int(stats[0] + stats[1])
    latency = f"{stats[2] / done * 1000:.2f}ms" if done else ""
    return Result(stats[0] / elapsed, int(stats[0]), int(stats[1]), latency)


def run_async(coro: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run`` on uvloop when it is installed."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop comes with uvicorn[standard]
        return asyncio.run(coro)
    return uvloop.run(coro)


def main(argv: list[str]) -> int:
    """``PORT PATH DURATION CONNECTIONS [GRACE]``: print one JSON result (without CPU)."""
    port, path, duration, connections = int(argv[0]), argv[1], float(argv[2]), int(argv[3])
    grace = float(argv[4]) if len(argv) > 4 else 10.0
    result = run_async(python_load(port, path, duration, connections, grace))
    print(json.dumps({k: v for k, v in result.__dict__.items() if k != "cpu_us"}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
