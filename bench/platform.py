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
# Siblings are imported as ``bench.<name>`` with the repository root on sys.path instead.
_HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(_HERE)
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _HERE]
if ROOT not in (os.path.abspath(p or os.curdir) for p in sys.path):
    sys.path.insert(0, ROOT)

import argparse  # noqa: E402
import contextlib  # noqa: E402
import http.client  # noqa: E402
import json  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402

from bench import loadgen  # noqa: E402
from bench.loadgen import Samples  # noqa: E402
from bench.procs import Process, children, exit_with, free_port, run_in_tempdir  # noqa: E402

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


# --------------------------------------------------------------------------- servers and CLI


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


# --------------------------------------------------------------------------- driver


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python bench/platform.py",
        description="req/s through the platform's proxy vs the same site under wixhttp serve.",
    )
    loadgen.add_arguments(parser)
    parser.add_argument(
        "--keep", action="store_true", help="keep the temp directory (data dir and server logs)"
    )
    parser.add_argument("--quick", action="store_true", help="smoke run: 3 s, 1 round, 1 s warm-up")
    return loadgen.finish_args(parser.parse_args(argv))


def run(args: argparse.Namespace, tmp: str, started: list[Process]) -> None:
    gen = loadgen.describe(args)
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores; load: {gen}")
    print(
        "NOTE: the load generator runs on the same machine and shares its cores with the servers"
        "\n(proxied: platform + worker + load generator; direct: server + load generator)."
    )

    data = os.path.join(tmp, "data")
    site = bench_site(tmp)
    port, direct_port = free_port(), free_port()
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
    for pid in children(platform.pid):
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
                result = loadgen.measure(target_port, path, procs, args, grace=30.0)
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
    if argv[:1] == ["--_loadgen"]:  # the Python load generator (``python -m bench.loadgen``)
        return loadgen.main(argv[1:])
    args = parse_args(argv)
    return run_in_tempdir(run, args, "wixhttp-bench-platform-", "RESULT: no ratio")


if __name__ == "__main__":
    exit_with(main, "servers stopped, temp directory removed")
