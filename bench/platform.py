"""Throughput through the functions platform's proxy against the same site served directly.

Run from the repository root::

    python bench/platform.py              # 10 s x 3 interleaved rounds, 50 connections
    python bench/platform.py --quick      # a 3 s smoke run, 1 round

It starts a real platform (``python -m wixhttp.platform --data TMP --port P``), creates an API
key with ``python -m wixhttp keys create``, deploys ``bench/sites/hello`` twice with
``python -m wixhttp deploy ... --activate``: as function ``hello`` (logging on, Appwrite's
default: every call is recorded as an execution with its logs) and as ``hello-quiet`` (created
with logging off: the proxy alone), and starts ``python -m wixhttp serve bench/sites/hello``
beside it. All stay up for the whole run; each measurement gets a warm-up, then the same load
from ``wrk`` (if on PATH) or from this script's asyncio keep-alive load generator in a separate
process, against ``/functions/hello/_functions/hello``, ``/functions/hello-quiet/_functions/hello``
(platform -> worker) and ``/_functions/hello`` (direct), interleaved for ``--rounds`` rounds. It
prints the medians, their ratios and PASS/FAIL against issue 4's target (proxied >= 0.6 x
direct). It always exits 0 unless interrupted (130), stops by itself, and removes its processes
and temp directory on exit, Ctrl+C or SIGTERM.
"""

from __future__ import annotations

import os
import sys

# Run as ``python bench/platform.py``, Python puts ``bench/`` first on sys.path and this file
# would shadow the standard library's ``platform`` module (imported by uuid, httpx, ...).
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _HERE]

import argparse  # noqa: E402
import asyncio  # noqa: E402
import contextlib  # noqa: E402
import http.client  # noqa: E402
import json  # noqa: E402
import re  # noqa: E402
import shutil  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402

ROOT = os.path.dirname(_HERE)
SITE = os.path.join(_HERE, "sites", "hello")
FUNCTION_ID = "hello"
QUIET_ID = "hello-quiet"  # the same site with the function's logging off: no execution records
PROXIED_PATH = f"/functions/{FUNCTION_ID}/_functions/hello"
QUIET_PATH = f"/functions/{QUIET_ID}/_functions/hello"
DIRECT_PATH = "/_functions/hello"
EXPECTED_BODY = b'{"message":"hello"}'
TARGET_RATIO = 0.6
SCOPES = "functions.read,functions.write,executions.read,executions.write"
FALLBACK_SITE = '''"""A copy of bench/sites/hello's async handler (written by bench/platform.py)."""

from wixhttp import ok


async def get_hello(request):
    return ok({"body": {"message": "hello"}})
'''


@dataclass
class Result:
    rps: float
    requests: int
    errors: int
    latency: str = ""  # wrk's average latency, as printed
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


# --------------------------------------------------------------------------- processes


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _cpu_seconds(pid: int) -> float | None:
    """User + system CPU used so far by ``pid`` (Linux /proc), else None."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    """Direct children of ``pid`` (Linux /proc), e.g. the platform's worker processes."""
    found = []
    try:
        entries = os.listdir("/proc")
    except OSError:
        return []
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(entry))
    return found


class Process:
    """A child process in its own session, stopped (TERM, then KILL) by :meth:`stop`."""

    def __init__(self, name: str, cmd: list[str], log_path: str) -> None:
        self.name = name
        self.log_path = log_path
        with open(log_path, "ab") as log:
            self.proc = subprocess.Popen(
                cmd,
                cwd=ROOT,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def log_tail(self, limit: int = 2000) -> str:
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()[-limit:]
        except OSError:
            return ""

    def stop(self) -> None:
        if self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(OSError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()


def get(port: int, path: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def wait_ready(process: Process, port: int, path: str, timeout: float = 30.0) -> None:
    headers = {"X-Appwrite-Project": "default"}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not process.alive():
            raise RuntimeError(f"{process.name} exited:\n{process.log_tail()}")
        try:
            status, _ = get(port, path, headers)
        except OSError:
            time.sleep(0.05)
            continue
        if status == 200:
            return
        time.sleep(0.05)
    raise RuntimeError(f"{process.name} not ready after {timeout:g} s:\n{process.log_tail()}")


def check(port: int, path: str, label: str) -> None:
    status, body = get(port, path)
    if status != 200 or body != EXPECTED_BODY:
        raise RuntimeError(f"{label}: GET {path} gave {status} {body[:300]!r}")


def run_cli(*args: str) -> str:
    out = subprocess.run(
        [sys.executable, "-m", "wixhttp", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
    )
    if out.returncode != 0:
        raise RuntimeError(
            f"wixhttp {args[0]} failed ({out.returncode}):\n{out.stdout}{out.stderr}"
        )
    return out.stdout


def api(port: int, key: str, method: str, path: str, body: dict[str, object]) -> object:
    """One JSON call to the platform's API (raises on an error status)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {
        "X-Appwrite-Project": "default",
        "X-Appwrite-Key": key,
        "Content-Type": "application/json",
    }
    try:
        conn.request(method, "/v1" + path, body=json.dumps(body), headers=headers)
        resp = conn.getresponse()
        data = resp.read()
    finally:
        conn.close()
    if resp.status >= 400:
        raise RuntimeError(f"{method} {path}: {resp.status} {data[:300]!r}")
    return json.loads(data) if data else None


def bench_site(tmp: str) -> str:
    if os.path.isfile(os.path.join(SITE, "http_functions.py")):
        return SITE
    site = os.path.join(tmp, "site")  # bench/sites/hello not there yet: a copy of its handler
    os.makedirs(site)
    with open(os.path.join(site, "http_functions.py"), "w") as f:
        f.write(FALLBACK_SITE)
    return site


# --------------------------------------------------------------------------- load: wrk

_WRK_RPS = re.compile(r"Requests/sec:\s+([\d.]+)")
_WRK_TOTAL = re.compile(r"(\d+) requests in")
_WRK_NON2XX = re.compile(r"Non-2xx or 3xx responses:\s+(\d+)")
_WRK_SOCKET = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")
_WRK_LATENCY = re.compile(r"Latency\s+(\S+)\s+(\S+)\s+(\S+)")


def run_wrk(port: int, path: str, duration: float, connections: int, threads: int) -> Result:
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{max(1, round(duration))}s"]
    cmd.append(f"http://127.0.0.1:{port}{path}")
    out = subprocess.run(cmd, capture_output=True, text=True, check=False).stdout
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


# --------------------------------------------------------------------------- load: Python


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


async def _python_load(port: int, path: str, duration: float, connections: int) -> Result:
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
        await asyncio.wait_for(asyncio.gather(*(c.done for c in clients)), timeout=duration + 30)
    except asyncio.TimeoutError:
        for c in clients:
            if c.transport is not None:
                c.transport.close()
    elapsed = time.monotonic() - started
    done = int(stats[0] + stats[1])
    latency = f"{stats[2] / done * 1000:.2f}ms" if done else ""
    return Result(stats[0] / elapsed, int(stats[0]), int(stats[1]), latency)


def loadgen_main(argv: list[str]) -> None:
    """``platform.py --_loadgen PORT PATH DURATION CONNECTIONS``: print one JSON result."""
    port, path, duration, connections = int(argv[0]), argv[1], float(argv[2]), int(argv[3])
    run: Callable[..., Result] = asyncio.run
    try:
        import uvloop

        run = uvloop.run
    except ImportError:  # pragma: no cover - uvloop comes with uvicorn[standard]
        pass
    result = run(_python_load(port, path, duration, connections))
    print(json.dumps({k: v for k, v in result.__dict__.items() if k != "cpu_us"}))


def run_python(port: int, path: str, duration: float, connections: int) -> Result:
    cmd = [sys.executable, os.path.abspath(__file__), "--_loadgen"]
    cmd += [str(port), path, str(duration), str(connections)]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 60)
    if out.returncode != 0 or not out.stdout.strip():
        raise RuntimeError(f"load generator failed ({out.returncode}):\n{out.stderr[-2000:]}")
    return Result(**json.loads(out.stdout.strip().splitlines()[-1]))


# --------------------------------------------------------------------------- driver


def measure(port: int, path: str, processes: dict[str, int], args: argparse.Namespace) -> Result:
    def load(seconds: float) -> Result:
        if args.loadgen == "wrk":
            return run_wrk(port, path, seconds, args.connections, args.threads)
        return run_python(port, path, seconds, args.connections)

    if args.warmup > 0:
        load(args.warmup)
    before = {name: _cpu_seconds(pid) for name, pid in processes.items()}
    result = load(args.duration)
    after = {name: _cpu_seconds(pid) for name, pid in processes.items()}
    if result.requests == 0:
        raise RuntimeError("no request completed")
    for name, start in before.items():
        end = after[name]
        if start is not None and end is not None:
            result.cpu_us[name] = (end - start) / result.requests * 1e6
    return result


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python bench/platform.py",
        description="req/s through the platform's proxy vs the same site under wixhttp serve.",
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
        "--keep", action="store_true", help="keep the temp directory (data dir and server logs)"
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


def run(args: argparse.Namespace, tmp: str, started: list[Process]) -> None:
    gen = (
        f"wrk -t{args.threads} -c{args.connections}"
        if args.loadgen == "wrk"
        else f"python asyncio keep-alive generator, {args.connections} connections"
    )
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores; load: {gen}")
    print(
        "NOTE: the load generator runs on the same machine and shares its cores with the servers"
        "\n(proxied: platform + worker + load generator; direct: server + load generator)."
    )

    data = os.path.join(tmp, "data")
    site = bench_site(tmp)
    port, direct_port = _free_port(), _free_port()
    platform = Process(
        "platform",
        [sys.executable, "-m", "wixhttp.platform", "--data", data, "--port", str(port)],
        os.path.join(tmp, "platform.log"),
    )
    started.append(platform)
    wait_ready(platform, port, "/v1/functions/runtimes")
    key = run_cli("keys", "create", "--data", data, "--scopes", SCOPES).strip().splitlines()[-1]
    endpoint = f"http://127.0.0.1:{port}/v1"
    run_cli(
        "deploy", site, "--function", FUNCTION_ID, "--activate",
        "--endpoint", endpoint, "--key", key,
    )  # fmt: skip
    check(port, PROXIED_PATH, "platform")
    runtime = api(port, key, "GET", f"/functions/{FUNCTION_ID}", {})["runtime"]  # type: ignore[index]
    api(port, key, "POST", "/functions", {
        "functionId": QUIET_ID, "name": QUIET_ID, "runtime": runtime,
        "execute": ["any"], "logging": False,
    })  # fmt: skip
    run_cli(
        "deploy", site, "--function", QUIET_ID, "--activate",
        "--endpoint", endpoint, "--key", key,
    )  # fmt: skip
    check(port, QUIET_PATH, "platform (logging off)")
    direct = Process(
        "wixhttp serve",
        [sys.executable, "-m", "wixhttp", "serve", site, "--port", str(direct_port)],
        os.path.join(tmp, "serve.log"),
    )
    started.append(direct)
    wait_ready(direct, direct_port, DIRECT_PATH)
    check(direct_port, DIRECT_PATH, "wixhttp serve")
    # One worker per function: find each by the function id on its command line.
    workers = {FUNCTION_ID: 0, QUIET_ID: 0}
    for pid in _children(platform.pid):
        with contextlib.suppress(OSError), open(f"/proc/{pid}/cmdline", "rb") as f:
            args_seen = f.read().split(b"\0")
        for function_id in workers:  # its --site path holds a folder named after it
            if any(f"/{function_id}/".encode() in arg for arg in args_seen):
                workers[function_id] = pid
    print(f"site: {os.path.relpath(site, ROOT) if site == SITE else site}")
    print(
        f"proxied: http://127.0.0.1:{port}{PROXIED_PATH}  (logging on: each call is recorded "
        f"as an execution; platform pid {platform.pid}, worker pid {workers[FUNCTION_ID]})"
    )
    print(
        f"quiet:   http://127.0.0.1:{port}{QUIET_PATH}  (logging off: proxy only; worker pid "
        f"{workers[QUIET_ID]})"
    )
    print(f"direct:  http://127.0.0.1:{direct_port}{DIRECT_PATH}  (wixhttp serve pid {direct.pid})")
    print(
        f"{args.rounds} round(s) x 3 targets, {args.warmup:g}s warm-up + {args.duration:g}s "
        "each, interleaved; all servers stay up for the whole run\n"
    )

    def procs_of(function_id: str) -> dict[str, int]:
        procs = {"platform": platform.pid}
        if workers[function_id]:
            procs["worker"] = workers[function_id]
        return procs

    proxied_procs = procs_of(FUNCTION_ID)
    targets = [
        ("proxied", port, PROXIED_PATH, proxied_procs),
        ("quiet", port, QUIET_PATH, procs_of(QUIET_ID)),
        ("direct", direct_port, DIRECT_PATH, {"serve": direct.pid}),
    ]
    samples = {name: Samples() for name, *_ in targets}
    for rnd in range(1, args.rounds + 1):
        for name, target_port, path, procs in targets:
            try:
                result = measure(target_port, path, procs, args)
            except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
                print(f"round {rnd}  {name:<8} ERROR: {exc}", flush=True)
                continue
            samples[name].runs.append(result)
            cpu = ", ".join(f"{k} {v:.0f}" for k, v in result.cpu_us.items())
            errors = f", {result.errors} errors" if result.errors else ""
            print(
                f"round {rnd}  {name:<8} {result.rps:>9,.0f} req/s  latency avg "
                f"{result.latency or '-':>8}  CPU us/req: {cpu}{errors}",
                flush=True,
            )

    proxied, quiet, direct_s = samples["proxied"], samples["quiet"], samples["direct"]
    print()
    print(f"{'target':<8} {'median req/s':>13}  {'CPU us/req (median)':<34} runs (req/s)")
    for name, *_rest, procs in targets:
        sample = samples[name]
        cpu = " + ".join(f"{k} {sample.cpu_us(k):.0f}" for k in procs if sample.cpu_us(k))
        shown = ", ".join(f"{r.rps:,.0f}" for r in sample.runs) or "-"
        print(f"{name:<8} {sample.median:>13,.0f}  {cpu or '-':<34} {shown}")
    print()
    if not proxied.runs or not direct_s.runs:
        print("RESULT: no ratio (a target had no successful run)")
        return
    ratio = proxied.median / direct_s.median
    per_round = [p.rps / d.rps for p, d in zip(proxied.runs, direct_s.runs, strict=False)]
    verdict = "PASS" if ratio >= TARGET_RATIO else "FAIL"
    print(
        f"ratio proxied/direct (medians): {ratio:.3f}  target >= {TARGET_RATIO}  {verdict}"
        f"   per round: {', '.join(f'{r:.3f}' for r in per_round)}"
    )
    if quiet.runs:
        quiet_ratio = quiet.median / direct_s.median
        print(
            f"ratio quiet/direct (logging off): {quiet_ratio:.3f}  target >= {TARGET_RATIO}  "
            f"{'PASS' if quiet_ratio >= TARGET_RATIO else 'FAIL'}"
        )
    total_cpu = sum(proxied.cpu_us(k) for k in proxied_procs)
    if total_cpu and direct_s.cpu_us("serve"):
        print(
            f"(info) CPU per request, direct/proxied: {direct_s.cpu_us('serve') / total_cpu:.3f}"
            " - the proxied path spends the worker's CPU plus the platform's"
        )


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--_loadgen"]:
        loadgen_main(argv[1:])
        return 0
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _terminate)  # SIGTERM unwinds like Ctrl+C: cleanup runs
    tmp = tempfile.mkdtemp(prefix="wixhttp-bench-platform-")
    started: list[Process] = []
    try:
        run(args, tmp, started)
    except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
        print(f"\nERROR: {exc}\nRESULT: no ratio", flush=True)
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl+C must not skip cleanup
        for process in reversed(started):
            process.stop()
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
        signal.signal(signal.SIGINT, signal.default_int_handler)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("\ninterrupted; servers stopped, temp directory removed", file=sys.stderr)
        sys.exit(130)
