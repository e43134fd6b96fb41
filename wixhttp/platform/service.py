"""The platform's state and its moving parts: store, build queue, worker pool, route cache.

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
from wixhttp.platform.executions import ExecutionConfig, Executions
from wixhttp.platform.store import Store, now
from wixhttp.platform.workers import WorkerPool, WorkerSpec, worker_env

__all__ = ["FunctionRoutes", "Platform", "PlatformConfig"]

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


@dataclass(frozen=True)
class FunctionRoutes:
    """What the proxy needs to know about a function, cached until the function changes."""

    function: Row
    production: WorkerSpec | None  # the active deployment
    development: WorkerSpec | None  # the latest ready deployment
    active_status: str = ""  # the active deployment's status ("" if there is none)


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
        self.executions = Executions(self, config.executions)
        self._routes: dict[str, FunctionRoutes] = {}
        self._changes = 0  # counts invalidations: a lookup that saw one meanwhile is not cached
        self._upload_locks: dict[str, asyncio.Lock] = {}

    # -- lifecycle -------------------------------------------------------------------------------

    async def start(self) -> None:
        await self.store.init()
        await self.executions.start()
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
        await self.executions.stop()
        await self.builder.stop()
        await self.workers.close()
        await self.store.close()

    def upload_lock(self, deployment_id: str) -> asyncio.Lock:
        return self._upload_locks.setdefault(deployment_id, asyncio.Lock())

    # -- functions & deployments -----------------------------------------------------------------

    def invalidate(self, function_id: str) -> None:
        self._changes += 1
        self._routes.pop(function_id, None)
        self.executions.function_changed(function_id)  # its cron schedule may have changed

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
        await self.executions.writer.flush()  # its pending execution records go with it
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

    async def function_routes(self, function_id: str) -> FunctionRoutes | None:
        cached = self._routes.get(function_id)
        if cached is not None:
            return cached
        changes = self._changes
        function = await self.store.get_function(self.project_id, function_id)
        if function is None:
            return None
        variables = await self.store.function_variables(self.project_id, function_id)
        production = None
        active_status = ""
        if function["deployment_id"]:
            deployment = await self.store.get_deployment(function["deployment_id"])
            if deployment is not None and deployment["function_id"] == function_id:
                active_status = str(deployment["status"])
                if active_status == "ready":
                    production = self._spec(function, deployment, variables)
        development = None
        ready = await self.store.latest_ready_deployment(self.project_id, function_id)
        if ready is not None:
            development = self._spec(function, ready, variables)
        routes = FunctionRoutes(function, production, development, active_status)
        if changes == self._changes:  # else what was read may already be stale
            self._routes[function_id] = routes
        return routes

    def _spec(self, function: Row, deployment: Row, variables: list[Row]) -> WorkerSpec:
        code = self.paths.code(function["id"], deployment["id"])
        runtime = function["runtime"]
        _key, _, version = runtime.rpartition("-")
        env = {
            "APPWRITE_FUNCTION_API_ENDPOINT": self.config.endpoint,
            "APPWRITE_FUNCTION_ID": function["id"],
            "APPWRITE_FUNCTION_NAME": function["name"],
            "APPWRITE_FUNCTION_DEPLOYMENT": deployment["id"],
            "APPWRITE_FUNCTION_PROJECT_ID": self.project_id,
            "APPWRITE_FUNCTION_RUNTIME_NAME": "Python",
            "APPWRITE_FUNCTION_RUNTIME_VERSION": version,
            "APPWRITE_FUNCTION_CPUS": "1",
            "APPWRITE_FUNCTION_MEMORY": "512",
            "APPWRITE_VERSION": "1.9.6",
            "APPWRITE_REGION": "default",
            "APPWRITE_DEPLOYMENT_TYPE": deployment["type"],
        }
        env.update({v["key"]: v["value"] for v in variables})
        return WorkerSpec(
            function_id=function["id"],
            deployment_id=deployment["id"],
            entry=code / deployment["entrypoint"],
            env=worker_env(code, env),
            timeout=float(function["timeout"]),
            log_path=self.paths.deployment_dir(function["id"], deployment["id"]) / "worker.log",
        )

    async def variables_changed(self, function_id: str) -> None:
        """Variables are environment variables: restart the function's workers to apply them."""
        self.invalidate(function_id)
        await self.workers.retire(function_id)


def runtime_available(runtime: str) -> bool:
    return runtime in models.RUNTIMES
