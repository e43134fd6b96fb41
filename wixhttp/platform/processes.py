"""Running a build step's process: its output fed line by line, bounded in time, killed with
its children when it times out or the build is canceled; sandboxed like workers under
``--isolation bwrap`` (:mod:`wixhttp.platform.sandbox`), its code folder writable."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from wixhttp.platform import sandbox
from wixhttp.platform.spawn import kill_group

__all__ = ["run_process"]


async def run_process(
    args: list[str] | str,
    *,
    cwd: Path,
    env: Mapping[str, str],
    timeout: float,
    output: Callable[[str], None],
) -> int | None:
    """Run a process (a shell command if ``args`` is a string), feeding its combined output
    to ``output`` line by line. Returns the exit code, or ``None`` if it timed out (it and its
    children are killed). ``cwd`` is a deployment's code folder (``.../<function>/<deployment>/
    code``): a sandboxed step sees it, writable, as the function's user."""
    box = sandbox.current()
    if box.active:
        function_id = cwd.parent.parent.name
        await asyncio.to_thread(sandbox.chown_tree, cwd, function_id)
        command = ["/bin/sh", "-c", args] if isinstance(args, str) else args
        args = box.wrap(command, function_id=function_id, code=cwd, code_writable=True)
    options: dict[str, Any] = {
        "cwd": cwd,
        "env": dict(env),
        "stdin": asyncio.subprocess.DEVNULL,
        "stdout": asyncio.subprocess.PIPE,
        "stderr": asyncio.subprocess.STDOUT,
        "start_new_session": True,
    }
    if isinstance(args, str):
        process = await asyncio.create_subprocess_shell(args, **options)
    else:
        process = await asyncio.create_subprocess_exec(*args, **options)

    async def pump_then_wait() -> int:
        # One coroutine, not a gather of two: a canceled gather leaves a future whose
        # CancelledError nobody retrieves, and asyncio logs it as a traceback.
        assert process.stdout is not None
        while line := await process.stdout.readline():
            output(line.decode("utf-8", "replace").rstrip("\n"))
        return await process.wait()

    try:
        return await asyncio.wait_for(pump_then_wait(), timeout)
    except asyncio.TimeoutError:
        await kill_group(process)
        return None
    except asyncio.CancelledError:
        await kill_group(process)
        raise
