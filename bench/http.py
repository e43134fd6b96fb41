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
# Siblings are imported as ``bench.<name>`` with the repository root on sys.path instead.
_HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(_HERE)
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _HERE]
if ROOT not in (os.path.abspath(p or os.curdir) for p in sys.path):
    sys.path.insert(0, ROOT)

import argparse  # noqa: E402
import http.client  # noqa: E402
import signal  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass  # noqa: E402

from bench import loadgen  # noqa: E402
from bench.loadgen import Result, Samples  # noqa: E402
from bench.procs import Process, exit_with, free_port, pinned, terminate  # noqa: E402

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


# --------------------------------------------------------------------------- servers


class Server:
    """One uvicorn process serving one app; a context manager that always stops it."""

    def __init__(self, target: Target, cpu: int | None = None) -> None:
        self.target = target
        self.cpu = cpu
        self.port = free_port()
        self.process: Process | None = None

    def __enter__(self) -> Server:
        cmd = [sys.executable, "-m", "uvicorn", *UVICORN_SETTINGS]
        cmd += ["--host", "127.0.0.1", "--port", str(self.port)]
        if self.target.factory:
            cmd.append("--factory")
        cmd.append(self.target.app)
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [ROOT, _pythonpath()])))
        self.process = Process(
            self.target.label, cmd, env=env, preexec_fn=pinned(self.cpu), stop_timeout=10
        )
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def _wait_ready(self, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process is not None
            if not self.process.alive():
                code = self.process.proc.returncode
                raise RuntimeError(f"{self.target.label}: uvicorn exited ({code})")
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

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is not None:
            process.stop()


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


# --------------------------------------------------------------------------- driver


def measure(target: Target, args: argparse.Namespace) -> Result:
    server_cpu, load_cpu = (0, 1) if args.pin else (None, None)
    with Server(target, server_cpu) as server:
        return loadgen.measure(server.port, target.path, {"server": server.pid}, args, cpu=load_cpu)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python bench/http.py",
        description="wixhttp vs bare Starlette vs a raw ASGI ceiling, under the same uvicorn.",
    )
    loadgen.add_arguments(parser)
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
    return loadgen.finish_args(parser.parse_args(argv))


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--_loadgen"]:  # the Python load generator (``python -m bench.loadgen``)
        return loadgen.main(argv[1:])
    args = parse_args(argv)
    # SIGTERM unwinds like Ctrl-C, so every ``with Server(...)`` stops its uvicorn.
    signal.signal(signal.SIGTERM, terminate)
    keys = {k for k in args.only.split(",") if k}
    targets = [t for t in TARGETS if not keys or t.key in keys]
    if not targets:
        sys.exit(f"no target matches --only {args.only!r}")

    gen = loadgen.describe(args)
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
            # wrk's average latency; this table has never shown the Python generator's
            shown = result.latency and args.loadgen == "wrk"
            detail = f", latency avg {result.latency}" if shown else ""
            server_cpu = result.cpu_us.get("server")
            cpu = f", server CPU {server_cpu:.1f} us/req" if server_cpu else ""
            print(
                f"round {rnd}  {target.label:<18} {result.rps:>10,.0f} req/s{cpu}{detail}{errors}",
                flush=True,
            )

    print()
    print(f"{'target':<18} {'path':<24} {'median req/s':>13} {'CPU us/req':>11}  runs (req/s)")
    for target in targets:
        sample = samples[target.key]
        shown = ", ".join(f"{r.rps:,.0f}" for r in sample.runs) or "-"
        server_cpu = sample.cpu_us("server")
        cpu = f"{server_cpu:>11.1f}" if server_cpu else f"{'-':>11}"
        print(f"{target.label:<18} {target.path:<24} {sample.median:>13,.0f} {cpu}  {shown}")

    print()
    print(f"{'ratio (req/s medians)':<34} {'value':>6}  {'target':>7}  result  {'by CPU':>6}")
    for label, num, den, minimum in RATIOS:
        if num not in samples or den not in samples:
            continue
        a, b = samples[num], samples[den]
        value = a.median / b.median if b.median else 0.0
        a_cpu, b_cpu = a.cpu_us("server"), b.cpu_us("server")
        by_cpu = f"{b_cpu / a_cpu:>6.3f}" if a_cpu and b_cpu else f"{'-':>6}"
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
    exit_with(main, "servers stopped")
