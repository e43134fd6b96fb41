"""Starting and stopping the processes that run user code (workers, build steps), sandboxed or
not (:mod:`wixhttp.platform.sandbox`)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import Mapping
from pathlib import Path

__all__ = ["SECRET_ENV", "SECRET_HEADER", "descendants", "kill_group", "tail", "worker_env"]

#: The request header carrying a worker's secret (:class:`wixhttp.platform.workers.Worker`),
#: and the variable it is handed in (read and removed by the worker before user code loads).
SECRET_HEADER = b"x-wixhttp-worker-secret"
SECRET_ENV = "WIXHTTP_WORKER_SECRET"

_PASSED_ENV = ("PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR", "SYSTEMROOT")


def worker_env(code_dir: Path, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """A small environment for user code: no platform secrets, the deployment's ``.deps`` and
    the platform's interpreter first on ``PATH``."""
    env = {name: os.environ[name] for name in _PASSED_ENV if name in os.environ}
    bindir = os.path.dirname(sys.executable)
    env["PATH"] = os.pathsep.join([bindir, env.get("PATH", os.defpath)])
    paths = [str(code_dir / ".deps")]
    if os.environ.get("PYTHONPATH"):
        paths.append(os.environ["PYTHONPATH"])
    env["PYTHONPATH"] = os.pathsep.join(paths)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.update(extra or {})
    return env


def descendants(pid: int) -> list[int]:
    """The processes started by ``pid``, and theirs (Linux ``/proc``; none elsewhere)."""
    found: list[int] = []
    pending = [pid]
    while pending:
        parent = pending.pop()
        try:
            tasks = os.listdir(f"/proc/{parent}/task")
        except OSError:
            continue
        for task in tasks:
            try:
                with open(f"/proc/{parent}/task/{task}/children") as file:
                    children = [int(child) for child in file.read().split()]
            except (OSError, ValueError):
                continue
            found += children
            pending += children
    return found


def _signal_group(process: asyncio.subprocess.Process, sig: int, spare_root: bool) -> None:
    if spare_root:
        # A sandbox's bwrap would die of SIGTERM and take its child down at once: the
        # processes it runs get the SIGTERM, and it exits when they do.
        for pid in descendants(process.pid):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, sig)
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, sig)


async def kill_group(
    process: asyncio.subprocess.Process,
    *,
    grace: float = 0.0,
    wait: float = 5.0,
    spare_root: bool = False,
) -> None:
    """Stop a process started with ``start_new_session`` and everything it started: SIGTERM
    and ``grace`` seconds to exit first if ``grace`` (to its descendants only if
    ``spare_root``), then SIGKILL to the whole group and up to ``wait`` seconds."""
    if grace > 0:
        _signal_group(process, signal.SIGTERM, spare_root)
        try:
            await asyncio.wait_for(process.wait(), grace)
            return
        except asyncio.TimeoutError:
            pass
    _signal_group(process, signal.SIGKILL, False)
    with contextlib.suppress(asyncio.TimeoutError):
        await asyncio.wait_for(process.wait(), wait)


def tail(path: Path | None, limit: int = 4000) -> str:
    """The last ``limit`` bytes of a log file, as text ("" if there is none)."""
    if path is None:
        return ""
    try:
        with open(path, "rb") as file:
            file.seek(0, os.SEEK_END)
            size = file.tell()
            file.seek(max(0, size - limit))
            return file.read().decode("utf-8", "replace").strip()
    except OSError:
        return ""
