"""The platform's state and its moving parts: store, build queue, worker pool, targets, and
the executions with their writer and scheduler, built and started in dependency order.

The HTTP layer (:mod:`wixhttp.platform.api`) validates requests and maps results to JSON; the
rules that span several tables (which deployment is active, what the latest one is, which
workers must be retired) live here so that every route applies them the same way.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wixhttp.platform import models
from wixhttp.platform.auth import DEFAULT_PROJECT, KeyCache
from wixhttp.platform.builds import UNFINISHED, BuildConfig, Builder, Paths
from wixhttp.platform.executions import ExecutionConfig, ExecutionService
from wixhttp.platform.scheduler import Scheduler
from wixhttp.platform.store import Store, now
from wixhttp.platform.targets import Target, Targets
from wixhttp.platform.workers import WorkerPool
from wixhttp.platform.writer import BatchWriter

__all__ = ["Platform", "PlatformConfig"]

log = logging.getLogger("wixhttp.platform")
Row = dict[str, Any]


@dataclass(frozen=True)
class PlatformConfig:
    data_dir: Path
    project_id: str = DEFAULT_PROJECT
    host: str = "127.0.0.1"
    port: int = 8080
    max_source_size: int = 30_000_000
    activation_limit: int = 10  # successful upserts per function ...
    activation_window: float = 60.0  # ... per this many seconds
    build: BuildConfig = field(default_factory=BuildConfig)
    executions: ExecutionConfig = field(default_factory=ExecutionConfig)

    @property
    def endpoint(self) -> str:
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::") else self.host
        return f"http://{host}:{self.port}/v1"


class Platform:
    def __init__(self, config: PlatformConfig, store: Store | None = None) -> None:
        self.config = config
        self.project_id = config.project_id
        self.paths = Paths(config.data_dir)
        self.store = store or Store.in_directory(config.data_dir)
        self.keys = KeyCache(self.store)
        self.builder = Builder(
            self.paths,
            config.build,
            self.update_deployment,
            self.store.finish_deployment,
            self._build_finished,
        )
        self.workers = WorkerPool()
        self.targets = Targets(self.store, self.paths, self.project_id, config.endpoint)
        self.writer = BatchWriter(
            self.store,
            delay=config.executions.write_delay,
            max_pending=config.executions.max_pending_records,
        )
        self.scheduler = Scheduler(self.store, self.targets, self.project_id, config.endpoint)
        self.executions = ExecutionService(
            self.store,
            self.writer,
            self.targets,
            self.workers,
            self.scheduler,
            self.project_id,
            config.executions,
        )
        self._upload_locks: dict[str, asyncio.Lock] = {}

    # -- lifecycle -------------------------------------------------------------------------------

    async def start(self) -> None:
        await self.store.init()
        self.writer.start()
        await self.executions.start()
        await self.scheduler.start()
        self.builder.start()
        for row in await self.store.deployments_with_status(UNFINISHED):
            if row["status"] != "waiting":
                note = f"{row['build_logs']}[{now()}] The platform restarted; building again\n"
                row = (
                    await self.update_deployment(
                        row["id"], {"status": "waiting", "build_logs": note}
                    )
                    or row
                )
            self.builder.enqueue(row)

    async def stop(self) -> None:
        await self.scheduler.stop()
        await self.executions.stop()
        await self.writer.stop()
        await self.builder.stop()
        await self.workers.close()
        await self.store.close()

    def upload_lock(self, deployment_id: str) -> asyncio.Lock:
        return self._upload_locks.setdefault(deployment_id, asyncio.Lock())

    # -- functions & deployments -----------------------------------------------------------------

    def invalidate(self, function_id: str) -> None:
        self.targets.invalidate(function_id)
        self.scheduler.function_changed(function_id)  # its cron schedule may have changed

    async def update_function(self, function_id: str, values: dict[str, Any]) -> Row | None:
        row = await self.store.update_function(self.project_id, function_id, values)
        self.invalidate(function_id)
        return row

    async def update_deployment(
        self, deployment_id: str, values: dict[str, Any], *, only_if_status: list[str] | None = None
    ) -> Row | None:
        """Update a deployment; keeps the function's ``latestDeploymentStatus`` in step."""
        row = await self.store.update_deployment(
            deployment_id, values, only_if_status=only_if_status or ()
        )
        if row is not None and "status" in values:
            function = await self.store.get_function(self.project_id, row["function_id"])
            if function is not None and function["latest_deployment_id"] == deployment_id:
                await self.update_function(
                    row["function_id"], {"latest_deployment_status": row["status"]}
                )
            self.invalidate(row["function_id"])
        return row

    async def deployment_uploaded(self, deployment: Row) -> None:
        """A deployment's source is complete: it becomes the latest and is queued."""
        function_id = deployment["function_id"]
        if deployment["activate"]:
            await self.store.clear_activate_flags(self.project_id, function_id, deployment["id"])
        await self.update_function(
            function_id,
            {
                "latest_deployment_id": deployment["id"],
                "latest_deployment_created_at": deployment["created_at"],
                "latest_deployment_status": deployment["status"],
            },
        )
        self.builder.enqueue(deployment)

    async def _build_finished(self, deployment: Row) -> None:
        """The build's outcome is stored (and, if ready with activate, it is active)."""
        function_id = deployment["function_id"]
        self.invalidate(function_id)
        log.info(
            "deployment %s of %s finished: %s%s",
            deployment["id"],
            function_id,
            deployment["status"],
            " and active" if deployment["status"] == "ready" and deployment["activate"] else "",
        )
        await self.retire_unused(function_id)

    async def activate(self, function_id: str, deployment: Row) -> Row | None:
        """Make ``deployment`` the one ``/_functions`` serves."""
        row = await self.update_function(
            function_id,
            {
                "deployment_id": deployment["id"],
                "deployment_created_at": deployment["created_at"],
                "live": True,
            },
        )
        await self.retire_unused(function_id)
        return row

    async def retire_unused(self, function_id: str) -> None:
        """Stop workers serving neither the active nor the latest ready deployment."""
        function = await self.store.get_function(self.project_id, function_id)
        keep: list[str] = []
        if function is not None:
            keep.append(function["deployment_id"])
            ready = await self.store.latest_ready_deployment(self.project_id, function_id)
            if ready is not None:
                keep.append(ready["id"])
        await self.workers.retire(function_id, keep)

    async def delete_deployment_files(self, function_id: str, deployment_id: str) -> None:
        await asyncio.to_thread(
            shutil.rmtree, self.paths.deployment_dir(function_id, deployment_id), True
        )
        await asyncio.to_thread(shutil.rmtree, self.paths.uploads(deployment_id), True)

    async def delete_function(self, function_id: str) -> bool:
        function = await self.store.get_function(self.project_id, function_id)
        if function is None:
            return False
        await self.writer.flush()  # its pending execution records go with it
        removed = await self.store.delete_function(self.project_id, function_id)
        self.invalidate(function_id)
        for deployment_id in removed:
            self.builder.cancel(deployment_id)
        await self.workers.retire(function_id)
        for deployment_id in removed:
            await asyncio.to_thread(shutil.rmtree, self.paths.uploads(deployment_id), True)
        await asyncio.to_thread(shutil.rmtree, self.paths.function_dir(function_id), True)
        return True

    # -- serving ---------------------------------------------------------------------------------

    async def function_routes(self, function_id: str) -> Target | None:
        """:meth:`Targets.lookup` (for the HTTP layer, until it holds the targets itself)."""
        return await self.targets.lookup(function_id)

    async def variables_changed(self, function_id: str) -> None:
        """Variables are environment variables: restart the function's workers to apply them."""
        self.invalidate(function_id)
        await self.workers.retire(function_id)


def runtime_available(runtime: str) -> bool:
    return runtime in models.RUNTIMES
