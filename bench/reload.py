"""Save-to-served latency of ``wixhttp dev`` against ``uvicorn --reload`` (issue 3).

For each server the benchmark generates an equivalent site in a temp dir (20 GET handlers plus a
``helpers`` module they import), starts the server on 127.0.0.1 and a free port, and then, while a
background client sends ~50 requests/s to a handler that is never edited, it ``--iterations`` times
rewrites the edited handler's return value (a fresh token each time) and polls that endpoint over a
keep-alive connection until the body carries the token. Save-to-served is the time from just before
the write to the end of the first response carrying the token.

Halfway through, one save breaks the file (a syntax error); it is held broken for a second and the
next iteration's save is the fix (its save-to-served is part of the figures). Three runs:

* ``wixhttp dev``                   -- the broken state answers 500 ``site_load_error`` by design;
* ``wixhttp dev --keep-last-good``  -- the broken save must not produce a single 500;
* ``uvicorn --reload``              -- a Starlette app of the same 20 routes, uvicorn's defaults.

Failure accounting (per run):

* hung: a request with no response within ``--timeout`` seconds (the client's read timeout);
* failed: any other request that did not get a 200 carrying the expected body (connection error,
  reset, non-2xx, wrong body) -- except, in ``wixhttp dev`` default mode, a 500 whose JSON ``error``
  is ``site_load_error`` for a request sent in the broken window (from the broken write to the first
  fixed response the poller saw): that is the error page working as designed and is counted as
  "500 by design". Background failures are split into "during normal reloads" and "during the
  broken window". The poller's own requests to the edited endpoint are classified the same way and
  reported separately ("poller errors"), because their number depends on the polling rate.
* The target "zero failed requests" holds for a wixhttp run when failed + hung + poller errors
  is 0; with ``--keep-last-good`` additionally no response may be a 500.

Run:  python bench/reload.py            (about 1 minute; exits 0 whatever the result)
"""

from __future__ import annotations

import os
import sys

# Run as ``python bench/reload.py``, Python puts ``bench/`` first on sys.path, where
# ``bench/http.py`` would shadow the standard library's ``http`` (used by httpx and uvicorn).
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _HERE]

import argparse  # noqa: E402
import asyncio  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import queue  # noqa: E402
import re  # noqa: E402
import secrets  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from concurrent.futures import ThreadPoolExecutor  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from pathlib import Path  # noqa: E402

import httpx  # noqa: E402

HANDLERS = 20
EDITED = "fn00"
BACKGROUND = "fn10"
STARTUP_TIMEOUT_S = 30.0

HELPER = '''"""Helper module imported by every handler of the generated site."""

PREFIX = "value:"


def tag(value):
    return PREFIX + value
'''


# --------------------------------------------------------------------------- generated sites


def _names() -> list[str]:
    return [f"fn{i:02d}" for i in range(HANDLERS)]


def _value(name: str, token: str) -> str:
    return token if name == EDITED else name


def wixhttp_source(token: str, *, broken: bool = False) -> str:
    out = ["from helpers import tag", "", "from wixhttp import ok", ""]
    for name in _names():
        body = f'{{"fn": "{name}", "value": tag("{_value(name, token)}")}}'
        out += ["", f"def get_{name}(request):", f'    return ok({{"body": {body}}})', ""]
    if broken:
        out += ["", "def oops(:  # a save in the middle of typing", ""]
    return "\n".join(out)


def starlette_source(token: str, *, broken: bool = False) -> str:
    out = [
        "from helpers import tag",
        "from starlette.applications import Starlette",
        "from starlette.responses import JSONResponse",
        "from starlette.routing import Route",
        "",
    ]
    for name in _names():
        body = f'{{"fn": "{name}", "value": tag("{_value(name, token)}")}}'
        out += ["", f"def {name}(request):", f"    return JSONResponse({body})", ""]
    routes = ", ".join(f'Route("/_functions/{n}", {n})' for n in _names())
    out += ["", f"app = Starlette(routes=[{routes}])", ""]
    if broken:
        out += ["", "def oops(:  # a save in the middle of typing", ""]
    return "\n".join(out)


@dataclass(frozen=True)
class Flavour:
    label: str
    kind: str  # "wixhttp" or "uvicorn"
    keep_last_good: bool = False

    @property
    def filename(self) -> str:
        return "http_functions.py" if self.kind == "wixhttp" else "app.py"

    def source(self, token: str, *, broken: bool = False) -> str:
        make = wixhttp_source if self.kind == "wixhttp" else starlette_source
        return make(token, broken=broken)

    def argv(self, site: Path, port: int) -> list[str]:
        if self.kind == "wixhttp":
            argv = [sys.executable, "-m", "wixhttp", "dev", str(site), "--port", str(port)]
            return [*argv, "--keep-last-good"] if self.keep_last_good else argv
        return [
            sys.executable, "-m", "uvicorn", "app:app", "--app-dir", str(site),
            "--reload", "--reload-dir", str(site), "--host", "127.0.0.1", "--port", str(port),
        ]  # fmt: skip

    @property
    def broken_marker(self) -> str:
        """A log line that shows the server has seen the broken save."""
        return "reload failed" if self.kind == "wixhttp" else "SyntaxError"

    @property
    def errors_by_design(self) -> bool:
        return self.kind == "wixhttp" and not self.keep_last_good


FLAVOURS = {
    "wixhttp": Flavour("wixhttp dev", "wixhttp"),
    "wixhttp-klg": Flavour("wixhttp dev --keep-last-good", "wixhttp", keep_last_good=True),
    "uvicorn": Flavour("uvicorn --reload", "uvicorn"),
}


# --------------------------------------------------------------------------- processes

_LIVE: list[Server] = []


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """A server subprocess in its own process group (uvicorn --reload has a child to kill too)."""

    def __init__(self, argv: list[str], log_path: Path, base_url: str) -> None:
        self.argv = argv
        self.log_path = log_path
        self.base_url = base_url
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        with self.log_path.open("wb") as log:
            self.proc = subprocess.Popen(
                self.argv, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True
            )
        _LIVE.append(self)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_ready(self, url: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        with httpx.Client(timeout=2) as client:
            while time.monotonic() < deadline:
                if self.proc is not None and self.proc.poll() is not None:
                    break
                try:
                    if client.get(url).status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                time.sleep(0.05)
        tail = "\n".join(self.log().splitlines()[-20:])
        raise RuntimeError(f"{' '.join(self.argv)} did not answer within {timeout}s:\n{tail}")

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if self in _LIVE:
            _LIVE.remove(self)
        if proc is None or proc.poll() is not None:
            return
        for sig, grace in ((signal.SIGINT, 5.0), (signal.SIGKILL, 5.0)):
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                return
            try:
                proc.wait(grace)
                break
            except subprocess.TimeoutExpired:
                continue
        try:  # the group may outlive its leader (uvicorn's reload child)
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def stop_all() -> None:
    for server in list(_LIVE):
        server.stop()


# --------------------------------------------------------------------------- clients


@dataclass
class Sample:
    start: float
    end: float
    status: int | None = None
    error: str | None = None  # "timeout" or the exception's class name
    code: str | None = None  # JSON "error" field of a non-200 answer
    text: str = ""

    @property
    def hung(self) -> bool:
        return self.error == "timeout"


def fetch(client: httpx.Client, url: str) -> Sample:
    start = time.perf_counter()
    try:
        response = client.get(url)
    except httpx.TimeoutException:
        return Sample(start, time.perf_counter(), error="timeout")
    except httpx.HTTPError as exc:
        return Sample(start, time.perf_counter(), error=type(exc).__name__)
    end = time.perf_counter()
    sample = Sample(start, end, status=response.status_code, text=response.text)
    if response.status_code != 200:
        try:
            sample.code = json.loads(response.text).get("error")
        except (ValueError, AttributeError):
            sample.code = None
    return sample


class BackgroundLoad(threading.Thread):
    """~``rate`` requests/s to an endpoint that is never edited, on a schedule (open loop).

    Requests go out on time even while earlier ones are stuck (a hung request must not slow the
    load down): each is sent from a worker thread over a shared pool of keep-alive connections,
    so normally one connection carries them all.
    """

    WORKERS = 128

    def __init__(self, url: str, rate: float, timeout: float) -> None:
        super().__init__(daemon=True, name="background-load")
        self.url = url
        self.interval = 1.0 / rate
        self.timeout = timeout
        self.samples: list[Sample] = []
        self.halt = threading.Event()

    def run(self) -> None:
        limits = httpx.Limits(max_connections=self.WORKERS, max_keepalive_connections=self.WORKERS)
        with (
            httpx.Client(timeout=self.timeout, limits=limits) as client,
            ThreadPoolExecutor(self.WORKERS, thread_name_prefix="load") as pool,
        ):
            due = time.perf_counter()
            while not self.halt.is_set():
                now = time.perf_counter()
                if now < due:
                    self.halt.wait(due - now)
                    continue
                due = max(due + self.interval, now)  # fall behind rather than burst
                pool.submit(lambda: self.samples.append(fetch(client, self.url)))


# --------------------------------------------------------------------------- one run


@dataclass
class RunResult:
    flavour: Flavour
    latencies_ms: list[float] = field(default_factory=list)
    fix_ms: float | None = None
    timed_out_saves: int = 0
    broken_seen_ms: float | None = None
    background: list[Sample] = field(default_factory=list)
    poller: list[Sample] = field(default_factory=list)
    windows: list[tuple[float, float]] = field(default_factory=list)
    reload_ms: list[float] = field(default_factory=list)
    klg_violations: int = 0
    failed_reloads: int = 0
    error: str | None = None


def _contains(token: str) -> Callable[[Sample], bool]:
    return lambda s: s.status == 200 and token in s.text


def save_and_wait(
    path: Path,
    source: str,
    client: httpx.Client,
    url: str,
    done: Callable[[Sample], bool],
    *,
    poll_s: float,
    limit_s: float,
    polled: list[Sample],
) -> tuple[float, float | None]:
    """Write ``source``, poll ``url`` until ``done``: (write time, first done answer time)."""
    written = time.perf_counter()
    path.write_text(source)
    deadline = written + limit_s
    while True:
        sample = fetch(client, url)
        polled.append(sample)
        if done(sample):
            return written, sample.end
        if time.perf_counter() > deadline:
            return written, None
        time.sleep(poll_s)


def wait_for_log(server: Server, marker: str, count: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.log().count(marker) > count:
            return True
        time.sleep(0.01)
    return False


def run_flavour(flavour: Flavour, args: argparse.Namespace, workdir: Path) -> RunResult:
    result = RunResult(flavour)
    site = workdir / flavour.label.replace(" ", "_").replace("-", "")
    site.mkdir()
    (site / "helpers.py").write_text(HELPER)
    entry = site / flavour.filename
    token = "t-initial"
    entry.write_text(flavour.source(token))
    port = free_port()
    base = f"http://127.0.0.1:{port}/_functions"
    server = Server(flavour.argv(site, port), workdir / f"{site.name}.log", base)
    edited_url, background_url = f"{base}/{EDITED}", f"{base}/{BACKGROUND}"
    load = BackgroundLoad(background_url, args.rate, args.timeout)
    broken_at = args.iterations // 2
    try:
        server.start()
        server.wait_ready(edited_url, STARTUP_TIMEOUT_S)
        time.sleep(args.interval)  # let the watcher finish starting
        load.start()
        with httpx.Client(timeout=args.timeout) as client:
            for i in range(args.iterations):
                if i == broken_at:
                    broken_phase(flavour, server, entry, token, client, edited_url, result, args)
                token = f"t{i:03d}-{secrets.token_hex(4)}"
                written, served = save_and_wait(
                    entry,
                    flavour.source(token),
                    client,
                    edited_url,
                    _contains(token),
                    poll_s=args.poll_ms / 1000,
                    limit_s=args.save_timeout,
                    polled=result.poller,
                )
                if i == broken_at and result.windows:
                    start, _ = result.windows[-1]
                    result.windows[-1] = (start, served if served is not None else math.inf)
                if served is None:
                    result.timed_out_saves += 1
                else:
                    result.latencies_ms.append((served - written) * 1000)
                    if i == broken_at:
                        result.fix_ms = (served - written) * 1000
                print(
                    f"  [{flavour.label}] save {i + 1:>3}/{args.iterations}: "
                    + (f"{(served - written) * 1000:8.1f} ms" if served else "   timed out")
                    + ("  (fix after the broken save)" if i == broken_at else ""),
                    flush=True,
                )
                time.sleep(args.interval)
    except RuntimeError as exc:
        result.error = str(exc)
    finally:
        load.halt.set()
        load.join(args.timeout + 5)
        result.background = load.samples
        server.stop()
    log = server.log()
    result.reload_ms = [float(m) for m in re.findall(r"reloaded in ([\d.]+) ms", log)]
    result.failed_reloads = log.count("reload failed")
    return result


def broken_phase(
    flavour: Flavour,
    server: Server,
    entry: Path,
    token: str,
    client: httpx.Client,
    url: str,
    result: RunResult,
    args: argparse.Namespace,
) -> None:
    """Save a syntax error, wait until the server has seen it, hold it broken for a while."""
    before = server.log().count(flavour.broken_marker)
    written = time.perf_counter()
    result.windows.append((written, math.inf))  # closed by the fix
    if flavour.errors_by_design:
        # The error page must appear, and it is measured like a save.
        _, seen = save_and_wait(
            entry,
            flavour.source(token, broken=True),
            client,
            url,
            lambda s: s.status == 500 and s.code == "site_load_error",
            poll_s=args.poll_ms / 1000,
            limit_s=args.save_timeout,
            polled=result.poller,
        )
        result.broken_seen_ms = (seen - written) * 1000 if seen is not None else None
    else:
        entry.write_text(flavour.source(token, broken=True))
        if wait_for_log(server, flavour.broken_marker, before, args.save_timeout):
            result.broken_seen_ms = (time.perf_counter() - written) * 1000
    print(
        f"  [{flavour.label}] broken save seen after "
        + (f"{result.broken_seen_ms:.1f} ms" if result.broken_seen_ms is not None else "(never)"),
        flush=True,
    )
    hold_until = time.perf_counter() + args.broken_hold
    if flavour.kind == "wixhttp":
        # Keep asking the edited endpoint: with --keep-last-good it must go on serving `token`.
        while time.perf_counter() < hold_until:
            sample = fetch(client, url)
            result.poller.append(sample)
            if flavour.keep_last_good and not _contains(token)(sample):
                result.klg_violations += 1
            time.sleep(0.02)
    else:
        time.sleep(args.broken_hold)  # uvicorn has no worker now; polling would only hang


# --------------------------------------------------------------------------- accounting


@dataclass
class Tally:
    failed_normal: int = 0
    failed_broken: int = 0
    hung: int = 0
    by_design: int = 0
    served_500: int = 0
    total: int = 0
    reasons: dict[str, int] = field(default_factory=dict)

    @property
    def failed(self) -> int:
        return self.failed_normal + self.failed_broken


def tally(samples: list[Sample], result: RunResult, ok: Callable[[Sample], bool]) -> Tally:
    t = Tally(total=len(samples))
    for s in samples:
        in_window = any(a <= s.start <= b for a, b in result.windows)
        if s.status == 500:
            t.served_500 += 1
        if s.hung:
            t.hung += 1
            continue
        if ok(s):
            continue
        if (
            result.flavour.errors_by_design
            and in_window
            and s.status == 500
            and s.code == "site_load_error"
        ):
            t.by_design += 1
            continue
        reason = s.error or f"HTTP {s.status}" + (f" {s.code}" if s.code else "")
        t.reasons[reason] = t.reasons.get(reason, 0) + 1
        if in_window:
            t.failed_broken += 1
        else:
            t.failed_normal += 1
    return t


def background_ok(s: Sample) -> bool:
    return s.status == 200 and f"value:{BACKGROUND}" in s.text


def poller_ok(s: Sample) -> bool:
    return s.status == 200 and "value:t" in s.text


def p95(values: list[float]) -> float:
    """Nearest-rank 95th percentile (the 29th of 30 sorted values)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.99 * len(ordered)) - 1)]


def reloads_logged(r: RunResult, args: argparse.Namespace) -> str:
    if r.flavour.kind != "wixhttp":
        return "-"
    return f"{len(r.reload_ms) + r.failed_reloads} / {args.iterations + 1}"


def fmt(value: float | None, unit: str = "") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:.1f}{unit}"


def report(results: list[RunResult], args: argparse.Namespace) -> None:
    rows: list[tuple[str, list[str]]] = []
    tallies = {}
    for r in results:
        tallies[r.flavour.label] = (
            tally(r.background, r, background_ok),
            tally(r.poller, r, poller_ok),
        )

    def row(name: str, make: Callable[[RunResult], str]) -> None:
        rows.append((name, [make(r) for r in results]))

    def stat(fn: Callable[[list[float]], float], values: list[float]) -> str:
        return fmt(fn(values)) if values else "-"

    row("saves measured / timed out", lambda r: f"{len(r.latencies_ms)} / {r.timed_out_saves}")
    row("save-to-served median (ms)", lambda r: stat(statistics.median, r.latencies_ms))
    row("save-to-served p95 (ms)", lambda r: stat(p95, r.latencies_ms))
    row("save-to-served max (ms)", lambda r: stat(max, r.latencies_ms))
    row("save-to-served min (ms)", lambda r: stat(min, r.latencies_ms))
    row("fix after broken save (ms)", lambda r: fmt(r.fix_ms))
    row("broken save seen after (ms)", lambda r: fmt(r.broken_seen_ms))
    row("server reload, from log, median (ms)", lambda r: stat(statistics.median, r.reload_ms))
    row(
        "poll round trip median (ms)",
        lambda r: stat(statistics.median, [(s.end - s.start) * 1000 for s in r.poller]),
    )
    row("reloads logged (saves incl. broken)", lambda r: reloads_logged(r, args))
    row("background requests", lambda r: str(tallies[r.flavour.label][0].total))

    def spread(r: RunResult) -> str:
        waits = [(s.end - s.start) * 1000 for s in r.background]
        return f"{stat(p99, waits)} / {stat(max, waits)}"

    row("  latency p99 / max (ms)", spread)
    row("  failed, normal reloads", lambda r: str(tallies[r.flavour.label][0].failed_normal))
    row("  failed, broken window", lambda r: str(tallies[r.flavour.label][0].failed_broken))
    row(f"  hung (> {args.timeout:g} s)", lambda r: str(tallies[r.flavour.label][0].hung))
    row("  500 by design (broken window)", lambda r: str(tallies[r.flavour.label][0].by_design))
    row("poller requests", lambda r: str(tallies[r.flavour.label][1].total))
    row(
        "  poller errors (failed + hung)",
        lambda r: str(tallies[r.flavour.label][1].failed + tallies[r.flavour.label][1].hung),
    )
    row("  500 by design (broken window)", lambda r: str(tallies[r.flavour.label][1].by_design))
    row(
        "keep-last-good violations",
        lambda r: str(r.klg_violations) if r.flavour.keep_last_good else "-",
    )

    width = max(len(name) for name, _ in rows) + 2
    col = max(18, *(len(r.flavour.label) + 2 for r in results))
    print()
    print(f"{'':<{width}}" + "".join(f"{r.flavour.label:>{col}}" for r in results))
    for name, cells in rows:
        print(f"{name:<{width}}" + "".join(f"{c:>{col}}" for c in cells))

    for r in results:
        bg, poll = tallies[r.flavour.label]
        reasons = {**bg.reasons}
        for k, v in poll.reasons.items():
            reasons[f"poller: {k}"] = reasons.get(f"poller: {k}", 0) + v
        if r.error:
            print(f"\n{r.flavour.label}: run aborted: {r.error}")
        if reasons or bg.hung or poll.hung:
            detail = ", ".join(f"{k} x{v}" for k, v in sorted(reasons.items()))
            print(
                f"{r.flavour.label}: failures: {detail or '-'}; hung {bg.hung} + poller {poll.hung}"
            )

    by_label = {r.flavour.label: r for r in results}
    wix = by_label.get(FLAVOURS["wixhttp"].label)
    klg = by_label.get(FLAVOURS["wixhttp-klg"].label)
    uvi = by_label.get(FLAVOURS["uvicorn"].label)
    checks: list[tuple[str, bool | None, str]] = []
    if wix and wix.latencies_ms:
        med, top = statistics.median(wix.latencies_ms), p95(wix.latencies_ms)
        checks.append(("wixhttp median <= 50 ms", med <= 50, f"{med:.1f} ms"))
        checks.append(("wixhttp p95 <= 150 ms", top <= 150, f"{top:.1f} ms"))
    for r in (wix, klg):
        if r is None:
            continue
        bg, poll = tallies[r.flavour.label]
        bad = (
            bg.failed
            + bg.hung
            + poll.failed
            + poll.hung
            + r.timed_out_saves
            + (r.error is not None)
        )
        checks.append((f"{r.flavour.label}: zero failed requests", bad == 0, f"{bad} failed/hung"))
    if klg:
        bg, poll = tallies[klg.flavour.label]
        n500 = bg.served_500 + poll.served_500 + klg.klg_violations
        checks.append(("--keep-last-good: no 500 on the broken save", n500 == 0, f"{n500} bad"))
    if wix and uvi and wix.latencies_ms and uvi.latencies_ms:
        ratio = statistics.median(uvi.latencies_ms) / statistics.median(wix.latencies_ms)
        checks.append(("10x faster than uvicorn --reload (medians)", ratio >= 10, f"{ratio:.1f}x"))
    print()
    for name, passed, figure in checks:
        print(f"{'PASS' if passed else 'FAIL'}  {name:<52} {figure}")


# --------------------------------------------------------------------------- profile


def profile(workdir: Path, n: int) -> None:
    """Where wixhttp's time goes, in-process: watchfiles' latency and load_site's time."""
    import watchfiles

    from wixhttp.loading import load_site
    from wixhttp.reload import WATCH_DEBOUNCE_MS, WATCH_STEP_MS, SiteWatchFilter

    site = workdir / "profile_site"
    site.mkdir()
    (site / "helpers.py").write_text(HELPER)
    entry = site / "http_functions.py"
    entry.write_text(wixhttp_source("t-initial"))

    loads = []
    for i in range(n):
        entry.write_text(wixhttp_source(f"t{i:03d}"))
        started = time.perf_counter()
        load_site(entry)
        loads.append((time.perf_counter() - started) * 1000)

    seen: queue.Queue[float] = queue.Queue()
    stop = threading.Event()

    async def watch() -> None:
        async_stop = asyncio.Event()

        async def relay() -> None:
            while not stop.is_set():
                await asyncio.sleep(0.01)
            async_stop.set()

        relay_task = asyncio.create_task(relay())
        async for _ in watchfiles.awatch(
            site,
            watch_filter=SiteWatchFilter(),
            step=WATCH_STEP_MS,
            debounce=WATCH_DEBOUNCE_MS,
            stop_event=async_stop,
        ):
            seen.put(time.perf_counter())
        await relay_task

    thread = threading.Thread(target=asyncio.run, args=(watch(),), daemon=True)
    thread.start()
    time.sleep(0.5)
    watch_ms = []
    for i in range(n):
        written = time.perf_counter()
        entry.write_text(wixhttp_source(f"w{i:03d}"))
        try:
            watch_ms.append((seen.get(timeout=5) - written) * 1000)
        except queue.Empty:
            pass
        time.sleep(0.2)
        while not seen.empty():
            seen.get_nowait()
    stop.set()
    thread.join(5)
    print(
        f"\nprofile (in-process, {n} saves; "
        f"step={WATCH_STEP_MS} ms, debounce={WATCH_DEBOUNCE_MS} ms)"
    )
    for name, values in (("watchfiles awatch: write -> changes", watch_ms), ("load_site", loads)):
        if values:
            print(
                f"  {name:<38} median {statistics.median(values):6.1f}  p95 {p95(values):6.1f}"
                f"  max {max(values):6.1f} ms"
            )


# --------------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--iterations", type=int, default=30, help="saves per server (30)")
    parser.add_argument("--rate", type=float, default=50.0, help="background requests/s (50)")
    parser.add_argument("--poll-ms", type=float, default=2.0, help="poll interval (2 ms)")
    parser.add_argument("--interval", type=float, default=0.3, help="pause between saves (0.3 s)")
    parser.add_argument("--timeout", type=float, default=5.0, help="a request hangs after (5 s)")
    parser.add_argument(
        "--save-timeout", type=float, default=20.0, help="give up on one save after (20 s)"
    )
    parser.add_argument(
        "--broken-hold", type=float, default=1.0, help="keep the broken save for (1 s)"
    )
    parser.add_argument(
        "--only",
        action="append",
        choices=sorted(FLAVOURS),
        help="run only this server (repeatable; default: all three)",
    )
    parser.add_argument(
        "--profile", action="store_true", help="also time watchfiles and load_site in-process"
    )
    args = parser.parse_args()
    if args.iterations < 2:
        parser.error("--iterations must be at least 2 (one broken save and its fix)")

    def terminate(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, terminate)
    signal.signal(signal.SIGINT, terminate)  # also when started with SIGINT ignored (`cmd &`)
    results: list[RunResult] = []
    try:
        with tempfile.TemporaryDirectory(prefix="wixhttp-bench-reload-") as tmp:
            workdir = Path(tmp)
            print(
                f"{args.iterations} saves per server, background {args.rate:g} req/s, "
                f"poll every {args.poll_ms:g} ms, {args.interval:g} s between saves; "
                f"save {args.iterations // 2 + 1} is preceded by a broken save"
            )
            for key in args.only or ["wixhttp", "wixhttp-klg", "uvicorn"]:
                print(f"\n== {FLAVOURS[key].label}", flush=True)
                results.append(run_flavour(FLAVOURS[key], args, workdir))
            report(results, args)
            if args.profile:
                profile(workdir, args.iterations)
    except KeyboardInterrupt:
        print("\ninterrupted; servers stopped", file=sys.stderr)
    finally:
        stop_all()


if __name__ == "__main__":
    main()
