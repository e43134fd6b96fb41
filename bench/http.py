"""Throughput of wixhttp against bare Starlette and a raw ASGI ceiling, under identical uvicorn.

Run from the repository root::

    python bench/http.py                 # 10 s x 3 interleaved rounds, 50 connections
    python bench/http.py --quick         # a 3 s smoke run, 1 round

Each target runs in its own ``uvicorn`` process (``--http httptools --loop uvloop
--no-access-log --log-level warning``, one worker, 127.0.0.1, a free port), one at a time;
each gets a warm-up and then the same load from ``wrk`` (if on PATH) or from this script's own
asyncio load generator in a separate process. Each measurement is repeated ``--rounds`` times,
interleaved, and the median is reported with the ratios and PASS/FAIL against the targets of
issue 2. It always exits 0 unless it cannot run at all: it is a benchmark, not a test.
"""

from __future__ import annotations

import os
import sys

# Run as ``python bench/http.py``, Python puts ``bench/`` first on sys.path and this file would
# shadow the standard library's ``http`` package (http.client, used below and by uvicorn/httpx).
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _HERE]

import argparse  # noqa: E402
import asyncio  # noqa: E402
import http.client  # noqa: E402
import json  # noqa: E402
import re  # noqa: E402
import shutil  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402

ROOT = os.path.dirname(_HERE)
UVICORN_SETTINGS = [
    "--http", "httptools",
    "--loop", "uvloop",
    "--no-access-log",
    "--log-level", "warning",
    "--workers", "1",
]  # fmt: skip
EXPECTED_BODY = b'{"message":"hello"}'
EXPECTED_TYPE = "application/json; charset=utf-8"


@dataclass(frozen=True)
class Target:
    key: str
    label: str
    app: str  # uvicorn import string
    path: str
    factory: bool = False


TARGETS = [
    Target("raw", "raw ASGI ceiling", "bench.baseline_apps:raw_app", "/_functions/hello"),
    Target(
        "starlette", "starlette async", "bench.baseline_apps:starlette_app", "/_functions/hello"
    ),
    Target(
        "wixhttp", "wixhttp async", "bench.baseline_apps:wixhttp_app", "/_functions/hello", True
    ),
    Target(
        "starlette_sync",
        "starlette sync",
        "bench.baseline_apps:starlette_app",
        "/_functions/hello_sync",
    ),
    Target(
        "wixhttp_sync",
        "wixhttp sync",
        "bench.baseline_apps:wixhttp_app",
        "/_functions/hello_sync",
        True,
    ),
]

# (label, numerator, denominator, minimum)
RATIOS = [
    ("wixhttp async / starlette async", "wixhttp", "starlette", 1.0),
    ("wixhttp async / raw ASGI", "wixhttp", "raw", 0.7),
    ("wixhttp sync / starlette sync", "wixhttp_sync", "starlette_sync", 0.8),
    ("starlette async / raw ASGI", "starlette", "raw", None),
]


@dataclass
class Result:
    rps: float
    requests: int
    errors: int
    detail: str = ""
    cpu_us: float = 0.0  # server CPU time (user + system, all threads) per request, microseconds


@dataclass
class Samples:
    runs: list[Result] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(r.rps for r in self.runs) if self.runs else 0.0

    @property
    def cpu_us(self) -> float:
        values = [r.cpu_us for r in self.runs if r.cpu_us > 0]
        return statistics.median(values) if values else 0.0


# --------------------------------------------------------------------------- servers


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _pinned(cpu: int | None) -> Callable[[], None] | None:
    """A ``preexec_fn`` pinning the child to one CPU (``--pin``), else None."""
    if cpu is None or not hasattr(os, "sched_setaffinity"):
        return None
    return lambda: os.sched_setaffinity(0, {cpu})


class Server:
    """One uvicorn process serving one app; a context manager that always stops it."""

    def __init__(self, target: Target, cpu: int | None = None) -> None:
        self.target = target
        self.cpu = cpu
        self.port = _free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Server:
        cmd = [sys.executable, "-m", "uvicorn", *UVICORN_SETTINGS]
        cmd += ["--host", "127.0.0.1", "--port", str(self.port)]
        if self.target.factory:
            cmd.append("--factory")
        cmd.append(self.target.app)
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [ROOT, _pythonpath()])))
        self.proc = subprocess.Popen(
            cmd,
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=_pinned(self.cpu),
        )
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _wait_ready(self, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.target.label}: uvicorn exited ({self.proc.returncode})")
            try:
                status, ctype, body = get(self.port, self.target.path)
            except OSError:
                time.sleep(0.05)
                continue
            if status != 200 or body != EXPECTED_BODY or ctype != EXPECTED_TYPE:
                raise RuntimeError(
                    f"{self.target.label}: GET {self.target.path} gave {status} {ctype!r} "
                    f"{body[:200]!r}, expected 200 {EXPECTED_TYPE!r} {EXPECTED_BODY!r}"
                )
            return
        raise RuntimeError(f"{self.target.label}: not ready after {timeout:g}s")

    def cpu_seconds(self) -> float | None:
        """User + system CPU the server process has used so far (Linux /proc), else None."""
        if self.proc is None:
            return None
        try:
            with open(f"/proc/{self.proc.pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            return None
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _pythonpath() -> str:
    return os.environ.get("PYTHONPATH", "")


def get(port: int, path: str) -> tuple[int, str, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        return resp.status, resp.getheader("content-type", ""), resp.read()
    finally:
        conn.close()


# --------------------------------------------------------------------------- load: wrk


_WRK_RPS = re.compile(r"Requests/sec:\s+([\d.]+)")
_WRK_TOTAL = re.compile(r"(\d+) requests in")
_WRK_NON2XX = re.compile(r"Non-2xx or 3xx responses:\s+(\d+)")
_WRK_SOCKET = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")
_WRK_LATENCY = re.compile(r"Latency\s+(\S+)\s+(\S+)\s+(\S+)")


def run_wrk(
    port: int, path: str, duration: float, connections: int, threads: int, cpu: int | None
) -> Result:
    cmd = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(1, round(duration))}s",
        f"http://127.0.0.1:{port}{path}",
    ]
    out = subprocess.run(
        cmd, capture_output=True, text=True, check=False, preexec_fn=_pinned(cpu)
    ).stdout
    rps = _WRK_RPS.search(out)
    if rps is None:
        raise RuntimeError(f"could not parse wrk output:\n{out}")
    total = _WRK_TOTAL.search(out)
    errors = sum(int(x) for x in _WRK_SOCKET.findall(out)[0]) if _WRK_SOCKET.search(out) else 0
    non2xx = _WRK_NON2XX.search(out)
    errors += int(non2xx.group(1)) if non2xx else 0
    latency = _WRK_LATENCY.search(out)
    detail = f"latency avg {latency.group(1)}" if latency else ""
    return Result(float(rps.group(1)), int(total.group(1)) if total else 0, errors, detail)


# --------------------------------------------------------------------------- load: Python


class _Client(asyncio.Protocol):
    """One keep-alive connection sending the next GET as soon as a response is complete."""

    def __init__(self, request: bytes, stats: list[int], stop_at: float) -> None:
        self.request = request
        self.stats = stats  # [ok, errors]
        self.stop_at = stop_at
        self.buffer = bytearray()
        self.done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's is no subclass
        transport.write(self.request)

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
            status_ok = head[9:12] == b"200"
            del buf[:total]
            self.stats[0 if status_ok else 1] += 1
            if time.monotonic() >= self.stop_at:
                assert self.transport is not None
                self.transport.close()
                return
            assert self.transport is not None
            self.transport.write(self.request)

    def _fail(self) -> None:
        self.stats[1] += 1
        if self.transport is not None:
            self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.done.done():
            self.done.set_result(None)


async def _python_load(port: int, path: str, duration: float, connections: int) -> Result:
    request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode()
    loop = asyncio.get_running_loop()
    stats = [0, 0]
    started = time.monotonic()
    stop_at = started + duration
    clients = []
    for _ in range(connections):
        _, client = await loop.create_connection(
            lambda: _Client(request, stats, stop_at), "127.0.0.1", port
        )
        clients.append(client)
    try:
        await asyncio.wait_for(asyncio.gather(*(c.done for c in clients)), timeout=duration + 10)
    except asyncio.TimeoutError:
        for c in clients:
            if c.transport is not None:
                c.transport.close()
    elapsed = time.monotonic() - started
    return Result(stats[0] / elapsed, stats[0], stats[1])


def loadgen_main(argv: list[str]) -> None:
    """``http.py --_loadgen PORT PATH DURATION CONNECTIONS``: print one JSON result."""
    port, path, duration, connections = int(argv[0]), argv[1], float(argv[2]), int(argv[3])
    run: Callable[..., Result] = asyncio.run
    try:
        import uvloop

        run = uvloop.run
    except ImportError:  # pragma: no cover - uvloop comes with uvicorn[standard]
        pass
    result = run(_python_load(port, path, duration, connections))
    print(json.dumps(result.__dict__))


def run_python(port: int, path: str, duration: float, connections: int, cpu: int | None) -> Result:
    cmd = [sys.executable, os.path.abspath(__file__), "--_loadgen"]
    cmd += [str(port), path, str(duration), str(connections)]
    out = subprocess.run(
        cmd, capture_output=True, text=True, timeout=duration + 60, preexec_fn=_pinned(cpu)
    )
    if out.returncode != 0 or not out.stdout.strip():
        raise RuntimeError(f"load generator failed ({out.returncode}):\n{out.stderr[-2000:]}")
    return Result(**json.loads(out.stdout.strip().splitlines()[-1]))


# --------------------------------------------------------------------------- driver


def measure(target: Target, args: argparse.Namespace) -> Result:
    server_cpu, load_cpu = (0, 1) if args.pin else (None, None)
    with Server(target, server_cpu) as server:

        def load(seconds: float) -> Result:
            if args.loadgen == "wrk":
                return run_wrk(
                    server.port, target.path, seconds, args.connections, args.threads, load_cpu
                )
            return run_python(server.port, target.path, seconds, args.connections, load_cpu)

        if args.warmup > 0:
            load(args.warmup)
        cpu_before = server.cpu_seconds()
        result = load(args.duration)
        cpu_after = server.cpu_seconds()
    if result.requests == 0:
        raise RuntimeError("no request completed")
    if cpu_before is not None and cpu_after is not None:
        result.cpu_us = (cpu_after - cpu_before) / result.requests * 1e6
    return result


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python bench/http.py",
        description="wixhttp vs bare Starlette vs a raw ASGI ceiling, under the same uvicorn.",
    )
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
    parser.add_argument(
        "--pin",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="pin the server to CPU 0 and the load generator to CPU 1 (off by default: on a "
        "2-core VM it measured lower and no steadier)",
    )
    parser.add_argument(
        "--only", default="", help="comma-separated targets: " + ",".join(t.key for t in TARGETS)
    )
    parser.add_argument("--quick", action="store_true", help="smoke run: 3 s, 1 round, 1 s warm-up")
    args = parser.parse_args(argv)
    if args.quick:
        args.duration, args.rounds, args.warmup = 3.0, 1, 1.0
    if args.loadgen == "auto":
        args.loadgen = "wrk" if shutil.which("wrk") else "python"
    return args


def _terminate(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--_loadgen"]:
        loadgen_main(argv[1:])
        return 0
    args = parse_args(argv)
    # SIGTERM unwinds like Ctrl-C, so every ``with Server(...)`` stops its uvicorn.
    signal.signal(signal.SIGTERM, _terminate)
    keys = {k for k in args.only.split(",") if k}
    targets = [t for t in TARGETS if not keys or t.key in keys]
    if not targets:
        sys.exit(f"no target matches --only {args.only!r}")

    gen = (
        f"wrk -t{args.threads} -c{args.connections}"
        if args.loadgen == "wrk"
        else f"python asyncio keep-alive generator, {args.connections} connections"
    )
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores; load: {gen}")
    print(f"uvicorn {' '.join(UVICORN_SETTINGS)} --host 127.0.0.1 (one server at a time)")
    if args.pin:
        print("pinned: server on CPU 0, load generator on CPU 1 (--pin)")
    print("access logs: off on both sides (--no-access-log; wixhttp.access logger at WARNING)")
    print(
        f"{args.rounds} round(s) x {len(targets)} targets, {args.warmup:g}s warm-up + "
        f"{args.duration:g}s each; the load generator shares the machine's cores\n"
    )

    samples = {t.key: Samples() for t in targets}
    for rnd in range(1, args.rounds + 1):
        for target in targets:
            try:
                result = measure(target, args)
            except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
                print(f"round {rnd}  {target.label:<18} ERROR: {exc}", flush=True)
                continue
            samples[target.key].runs.append(result)
            errors = f", {result.errors} errors" if result.errors else ""
            detail = f", {result.detail}" if result.detail else ""
            cpu = f", server CPU {result.cpu_us:.1f} us/req" if result.cpu_us else ""
            print(
                f"round {rnd}  {target.label:<18} {result.rps:>10,.0f} req/s{cpu}{detail}{errors}",
                flush=True,
            )

    print()
    print(f"{'target':<18} {'path':<24} {'median req/s':>13} {'CPU us/req':>11}  runs (req/s)")
    for target in targets:
        sample = samples[target.key]
        shown = ", ".join(f"{r.rps:,.0f}" for r in sample.runs) or "-"
        cpu = f"{sample.cpu_us:>11.1f}" if sample.cpu_us else f"{'-':>11}"
        print(f"{target.label:<18} {target.path:<24} {sample.median:>13,.0f} {cpu}  {shown}")

    print()
    print(f"{'ratio (req/s medians)':<34} {'value':>6}  {'target':>7}  result  {'by CPU':>6}")
    for label, num, den, minimum in RATIOS:
        if num not in samples or den not in samples:
            continue
        a, b = samples[num], samples[den]
        value = a.median / b.median if b.median else 0.0
        by_cpu = f"{b.cpu_us / a.cpu_us:>6.3f}" if a.cpu_us and b.cpu_us else f"{'-':>6}"
        if minimum is None:
            verdict, goal = "(info)", ""
        else:
            verdict, goal = ("PASS" if value >= minimum else "FAIL"), f">= {minimum:.2f}"
        print(f"{label:<34} {value:>6.3f}  {goal:>7}  {verdict:<6}  {by_cpu}")
    print(
        "\nPASS/FAIL judges the req/s ratio. 'by CPU' is the same ratio from the server's CPU time"
        "\nper request (user + system, from /proc), which background load on the machine disturbs"
        "\nless than wall-clock throughput; both include uvicorn's own per-request work."
    )
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("\ninterrupted; servers stopped", file=sys.stderr)
        sys.exit(130)
