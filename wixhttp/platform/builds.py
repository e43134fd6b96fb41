"""Builds: from an uploaded ``.tar.gz`` to a deployment that is ``ready`` (or ``failed``, with why).

Steps, each logged into ``buildLogs``:

1. **Extract safely** (:func:`wixhttp.platform.archive.extract_archive`): nothing that could
   land outside the deployment, bounded in entries and unpacked size.
2. **Run ``commands``** (if any) with ``/bin/sh`` in the code directory, bounded in time, output
   into the logs. ``pip install`` installs into the deployment's own ``.deps`` directory
   (``PIP_TARGET``), which is on the worker's ``PYTHONPATH``.
3. **Byte-compile** the code (``compileall``): syntax errors anywhere fail the build.
4. **Import check** in a separate process (``python -m wixhttp.platform.entry``): the
   entrypoint is loaded exactly as a worker would load it, in the style it is written in (an
   Appwrite ``main(context)`` or Wix HTTP functions, see :mod:`wixhttp.platform.entry`); an
   import error, a missing ``main`` or a module with no handlers fails the build with the
   traceback in the logs, otherwise the style (and the Wix routes) are logged and recorded.

Commands and the import check see the function's variables in their environment, as its
workers do. The logs never show the server's own paths: the code folder reads as ``.`` and the data
directory and the server's installation are named, not spelled out.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import sys
import time
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

import wixhttp
from wixhttp.platform.archive import ArchiveError, directory_size, extract_archive
from wixhttp.platform.config import BuildConfig, Paths
from wixhttp.platform.entry import APPWRITE, MARKER, parse_found
from wixhttp.platform.processes import run_process
from wixhttp.platform.store import DeploymentRow, Store
from wixhttp.platform.workers import worker_env

__all__ = ["BuildFailed", "BuildLog", "Builder"]

log = logging.getLogger("wixhttp.platform")

LOG_LIMIT = 1_000_000
LOG_TRUNCATED = f"[WARNING] Logs truncated. The output exceeded {LOG_LIMIT} characters.\n"


# -- the build queue -----------------------------------------------------------------------------


#: Where the server's code is installed, as build logs name it instead of its path.
_SERVER_DIR = str(Path(wixhttp.__file__).resolve().parent.parent)


class BuildLog:
    """Build output, tail-capped at 1,000,000 characters like Appwrite's.

    ``code`` (the deployment's code folder) reads as ``.`` in what is added, ``data`` (the data
    directory) as ``<data>`` and the folder the server is installed in as ``<server>``: a
    user reading the logs of a failed build learns about their code, not the server's disk."""

    def __init__(self, code: Path | None = None, data: Path | None = None) -> None:
        self._parts: list[str] = []
        self._size = 0
        self._truncated = False
        hidden: dict[str, str] = {}
        if code is not None:
            for path in {str(code), str(code.resolve())}:
                hidden[path + os.sep] = ""
                hidden[path] = "."
        if data is not None:
            for path in {str(data), str(data.resolve())}:
                hidden[path] = "<data>"
        hidden[_SERVER_DIR] = "<server>"
        # Longest first, so a folder inside another is replaced before its parent.
        self._hidden = sorted(hidden.items(), key=lambda item: -len(item[0]))

    def add(self, line: str) -> None:
        for path, name in self._hidden:
            if path in line:
                line = line.replace(path, name)
        self._parts.append(line + "\n")
        self._size += len(line) + 1
        while self._size > LOG_LIMIT and self._parts:
            self._size -= len(self._parts.pop(0))
            self._truncated = True

    def step(self, message: str) -> None:
        self.add(f"[{time.strftime('%H:%M:%S')}] {message}")

    def text(self) -> str:
        body = "".join(self._parts)
        return LOG_TRUNCATED + body if self._truncated else body


Row = Mapping[str, Any]
StoreUpdate = Callable[..., Awaitable[Row | None]]
StoreFinish = Callable[..., Awaitable[DeploymentRow | None]]


class BuildFailed(Exception):
    pass


class Builder:
    """Claims this project's waiting builds from the ``deployments`` table, at most
    ``config.concurrency`` at a time, and runs them.

    The claim loop runs when :meth:`wake` is called (an upload here, a ``builds``
    announcement from another node) and at least every ``poll`` seconds; each time it also
    re-reads the status of the builds it runs, and stops those canceled, deleted or claimed
    by another node meanwhile (so a cancel through any node stops the build within a second).

    ``update(deployment_id, values, only_if_status=..., claimed_by=...)`` persists progress;
    ``finish(...)`` (same arguments) persists the outcome (and activates the deployment in the
    same transaction); ``finished(row)`` is then called with the final row of every build that
    ended ready or failed.
    """

    def __init__(
        self,
        paths: Paths,
        config: BuildConfig,
        store: Store,
        node: str,
        project_id: str,
        update: StoreUpdate,
        finish: StoreFinish,
        finished: Callable[[DeploymentRow], Awaitable[None]],
        poll: float = 1.0,
    ) -> None:
        self.paths = paths
        self.config = config
        self.store = store
        self.node = node
        self.project_id = project_id
        self.poll = poll
        self._update = update
        self._finish = finish
        self._finished = finished
        self._wake = asyncio.Event()
        self._running: dict[str, asyncio.Task[None]] = {}
        self._loop_task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._loop_task = asyncio.create_task(self._loop(), name="wixhttp-builds")

    async def stop(self) -> None:
        """Stop claiming and stop the running builds (their rows are left as they are: the
        node hands them back, see :func:`~wixhttp.platform.recovery.release_own`)."""
        tasks = [*self._running.values(), *([self._loop_task] if self._loop_task else [])]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._loop_task = None

    def wake(self) -> None:
        """There may be a build to claim."""
        self._wake.set()

    def cancel(self, deployment_id: str) -> None:
        """Stop a build this node runs now (its row says why)."""
        task = self._running.get(deployment_id)
        if task is not None:
            task.cancel()

    async def _loop(self) -> None:
        while True:
            self._wake.clear()
            try:
                await self._watch()
                await self._claim()
            except Exception:  # noqa: BLE001 - the database may be away for a while
                log.exception("build queue: claiming or watching builds failed")
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll)

    async def _claim(self) -> None:
        free = self.config.concurrency - len(self._running)
        if free <= 0:
            return
        for deployment in await self.store.claim_builds(self.project_id, self.node, free):
            task = asyncio.create_task(self._run_one(deployment))
            self._running[deployment["id"]] = task

    async def _watch(self) -> None:
        """Stop the running builds whose row no longer says this node builds them."""
        if not self._running:
            return
        claims = await self.store.build_claims(list(self._running))
        for deployment_id, task in list(self._running.items()):
            status, node = claims.get(deployment_id, ("deleted", ""))
            if status not in ("processing", "building") or node != self.node:
                task.cancel()

    async def _run_one(self, deployment: Row) -> None:
        try:
            await self._build(deployment)
        except asyncio.CancelledError:
            pass  # canceled, deleted, taken over, or the node stops
        except Exception:  # noqa: BLE001 - one build's bug must not stop the queue
            log.exception("build of deployment %s crashed", deployment["id"])
        finally:
            self._running.pop(deployment["id"], None)
            self.wake()

    async def _build(self, deployment: Row) -> None:
        dep_id: str = deployment["id"]
        fn_id: str = deployment["function_id"]
        mine = {"claimed_by": self.node}
        started = time.monotonic()
        code = self.paths.code(fn_id, dep_id)
        logs = BuildLog(code, self.paths.root)
        for line in str(deployment.get("build_logs") or "").splitlines():
            logs.add(line)  # e.g. a note that the platform restarted mid-build
        logs.step(f"Build of deployment {dep_id} started on node {self.node}")
        row = await self._update(
            dep_id,
            {"status": "building", "build_logs": logs.text()},
            only_if_status=["processing"],
            **mine,
        )
        if row is None:
            return
        status = "failed"
        routes: list[dict[str, Any]] = []
        try:
            routes = await self._steps(deployment, code, logs)
            status = "ready"
            logs.step("Build succeeded")
        except BuildFailed as exc:
            logs.step(f"Build failed: {exc}")
        except asyncio.CancelledError:
            logs.step("Build canceled")
            with contextlib.suppress(Exception):
                values = {"build_logs": logs.text()}
                await self._update(dep_id, values, only_if_status=["canceled"], **mine)
            raise
        duration = time.monotonic() - started
        build_size = directory_size(code) if status == "ready" else 0
        final = await self._finish(
            dep_id,
            {
                "status": status,
                "build_logs": logs.text(),
                "build_duration": int(round(duration)),
                "build_size": build_size,
                "total_size": int(deployment["source_size"]) + build_size,
                "routes": routes,
            },
            only_if_status=["building"],
            **mine,
        )
        if final is not None:
            await self._finished(final)

    async def _steps(self, deployment: Row, code: Path, logs: BuildLog) -> list[dict[str, Any]]:
        """Extract, run the commands, byte-compile, load: the routes, or :class:`BuildFailed`."""
        await self._extract(deployment, code, logs)
        # The function's variables, as its workers get them: code that reads one at import
        # (or a build command that needs one) works in the build as it will when served.
        variables = await self.store.function_variables(self.project_id, deployment["function_id"])
        env = worker_env(
            code, {**{v["key"]: v["value"] for v in variables}, "PIP_TARGET": str(code / ".deps")}
        )
        commands = deployment["commands"].strip()
        if commands:
            await self._run_commands(commands, code, env, logs)
        await self._compile(code, env, logs)
        return await self._load(deployment["entrypoint"], code, env, logs)

    async def _extract(self, deployment: Row, code: Path, logs: BuildLog) -> None:
        """Unpack the source into ``code`` and check the entrypoint is a file in it."""
        source = self.paths.source(deployment["function_id"], deployment["id"])
        if code.exists():
            await asyncio.to_thread(shutil.rmtree, code, True)
        logs.step(f"Extracting {source.name} ({deployment['source_size']} bytes)")
        try:
            unpacked = await asyncio.to_thread(
                extract_archive,
                source,
                code,
                max_size=self.config.max_unpacked_size,
                max_files=self.config.max_files,
            )
        except ArchiveError as exc:
            await asyncio.to_thread(shutil.rmtree, code, True)
            raise BuildFailed(f"unsafe or invalid archive: {exc}") from None
        logs.step(f"Extracted {unpacked} bytes")
        entrypoint: str = deployment["entrypoint"]
        entry = (code / entrypoint).resolve()
        if not entry.is_relative_to(code.resolve()) or not entry.is_file():
            raise BuildFailed(
                f"entrypoint {entrypoint!r} is not a file in the archive; set --entrypoint "
                "or put it at the archive's root"
            )

    async def _run_commands(
        self, commands: str, code: Path, env: Mapping[str, str], logs: BuildLog
    ) -> None:
        logs.step(f"Running commands: {commands}")
        rc = await run_process(
            commands,
            cwd=code,
            env=env,
            timeout=self.config.commands_timeout,
            output=logs.add,
        )
        if rc is None:
            raise BuildFailed(f"commands timed out after {self.config.commands_timeout:g} s")
        if rc != 0:
            raise BuildFailed(f"commands exited with status {rc}")

    async def _compile(self, code: Path, env: Mapping[str, str], logs: BuildLog) -> None:
        logs.step("Byte-compiling")
        compile_env = {**env}
        compile_env.pop("PYTHONDONTWRITEBYTECODE", None)
        rc = await run_process(
            [sys.executable, "-m", "compileall", "-q", "-x", r"[/\\]\.deps[/\\]", "."],
            cwd=code,
            env=compile_env,
            timeout=self.config.check_timeout,
            output=logs.add,
        )
        if rc != 0:
            raise BuildFailed("byte-compiling failed (see the errors above)")

    async def _load(
        self, entrypoint: str, code: Path, env: Mapping[str, str], logs: BuildLog
    ) -> list[dict[str, Any]]:
        """Load the entrypoint in a separate process (:mod:`wixhttp.platform.entry`); the
        Wix routes it serves (none for an Appwrite ``main``)."""
        logs.step(f"Loading {entrypoint} in a separate process")
        lines: list[str] = []
        rc = await run_process(
            [sys.executable, "-m", "wixhttp.platform.entry", str(code), entrypoint],
            cwd=code,
            env=env,
            timeout=self.config.check_timeout,
            output=lines.append,
        )
        if rc is None:
            raise BuildFailed(
                f"loading the entrypoint took longer than {self.config.check_timeout:g} s"
            )
        marker = next((ln for ln in reversed(lines) if ln.startswith(MARKER)), None)
        for line in lines:
            if not line.startswith(MARKER):
                logs.add(line)
        if rc != 0 or marker is None:
            raise BuildFailed(f"{entrypoint} could not be loaded (see the error above)")
        found = parse_found(marker)
        if found.style == APPWRITE:
            logs.step(f"Appwrite runtime: main(context) in {entrypoint}")
            return []
        count = len(found.routes)
        logs.step(f"Wix HTTP functions: {count} handler{'' if count == 1 else 's'}")
        for route in found.routes:
            logs.add(f"  /_functions/{route['name']}  {', '.join(route['methods'])}")
        return found.routes
