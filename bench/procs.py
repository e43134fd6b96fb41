"""Process helpers shared by the benchmark scripts: ports, child processes, CPU time from /proc.

Imported as ``bench.procs`` with the repository root on ``sys.path`` (never put ``bench/``
itself there: ``bench/http.py`` and ``bench/platform.py`` would shadow the standard library).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from collections.abc import Callable
from typing import NoReturn

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def pinned(cpu: int | None) -> Callable[[], None] | None:
    """A ``preexec_fn`` pinning the child to one CPU (``--pin``), else None."""
    if cpu is None or not hasattr(os, "sched_setaffinity"):
        return None
    return lambda: os.sched_setaffinity(0, {cpu})


def _stat_fields(pid: int | str) -> list[str] | None:
    """The fields of ``/proc/PID/stat`` after the command name (state first), else None."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU used so far by ``pid``, all threads (Linux /proc), else None."""
    fields = _stat_fields(pid)
    if fields is None:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children(pid: int) -> list[int]:
    """Direct children of ``pid`` (Linux /proc), e.g. the platform's worker processes."""
    try:
        entries = os.listdir("/proc")
    except OSError:
        return []
    found = []
    for entry in entries:
        if entry.isdigit() and (fields := _stat_fields(entry)) is not None:
            if int(fields[1]) == pid:
                found.append(int(entry))
    return found


class Process:
    """A child process in its own session, stopped (TERM, then KILL) by :meth:`stop`.

    Its output goes to ``log_path`` (appended), or to this process's own stdout/stderr when
    ``log_path`` is None.
    """

    def __init__(
        self,
        name: str,
        cmd: list[str],
        log_path: str | None = None,
        *,
        env: dict[str, str] | None = None,
        preexec_fn: Callable[[], None] | None = None,
        stop_timeout: float = 15.0,
    ) -> None:
        self.name = name
        self.log_path = log_path
        self.stop_timeout = stop_timeout
        with contextlib.ExitStack() as stack:
            log = stack.enter_context(open(log_path, "ab")) if log_path else None
            self.proc = subprocess.Popen(
                cmd,
                cwd=ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT if log else None,
                start_new_session=True,
                preexec_fn=preexec_fn,
            )

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def log_tail(self, limit: int = 2000) -> str:
        if not self.log_path:
            return ""
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
            self.proc.wait(timeout=self.stop_timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(OSError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()


def terminate(signum: int, frame: object) -> None:
    """A SIGTERM handler that unwinds like Ctrl+C, so every cleanup runs."""
    raise KeyboardInterrupt


def run_in_tempdir(
    run: Callable[[argparse.Namespace, str, list[Process]], None],
    args: argparse.Namespace,
    prefix: str,
    no_result: str,
) -> int:
    """``run(args, tmp, started)`` in a fresh temp directory; then stop ``started`` (last first)
    and remove the directory (``args.keep`` keeps it), also on Ctrl+C or SIGTERM. An error
    that stops the run is printed followed by ``no_result``. Returns the exit status, 0."""
    signal.signal(signal.SIGTERM, terminate)
    tmp = tempfile.mkdtemp(prefix=prefix)
    started: list[Process] = []
    try:
        run(args, tmp, started)
    except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
        print(f"\nERROR: {exc}\n{no_result}", flush=True)
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


def exit_with(main: Callable[[], int], stopped: str) -> NoReturn:
    """``sys.exit(main())``; on Ctrl+C or SIGTERM, say ``interrupted; {stopped}`` and exit 130."""
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print(f"\ninterrupted; {stopped}", file=sys.stderr)
        sys.exit(130)
