"""Which worker serves a function: its active deployment for ``/_functions`` and executions,
its latest ready one for ``/_functions-dev``; looked up from the store, cached until the
function changes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from wixhttp.platform.config import Paths
from wixhttp.platform.store import DeploymentRow, FunctionRow, Store, VariableRow
from wixhttp.platform.workers import WorkerSpec, worker_env

__all__ = ["Target", "Targets"]


@dataclass(frozen=True)
class Target:
    """What the proxy needs to know about a function, cached until the function changes."""

    function: FunctionRow
    production: WorkerSpec | None  # the active deployment
    development: WorkerSpec | None  # the latest ready deployment
    active_status: str = ""  # the active deployment's status ("" if there is none)


class Targets:
    """The cache of :class:`Target` per function of one project."""

    def __init__(self, store: Store, paths: Paths, project_id: str, endpoint: str) -> None:
        self.store = store
        self.paths = paths
        self.project_id = project_id
        self.endpoint = endpoint  # the API endpoint a function's code is given
        self._targets: dict[str, Target] = {}
        self._changes = 0  # counts invalidations: a lookup that saw one meanwhile is not cached

    def invalidate(self, function_id: str) -> None:
        """The function, its deployments or its variables changed: read them again."""
        self._changes += 1
        self._targets.pop(function_id, None)

    async def lookup(self, function_id: str) -> Target | None:
        """The function's target, or None if there is no such function."""
        cached = self._targets.get(function_id)
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
        target = Target(function, production, development, active_status)
        if changes == self._changes:  # else what was read may already be stale
            self._targets[function_id] = target
        return target

    def _spec(
        self, function: FunctionRow, deployment: DeploymentRow, variables: Sequence[VariableRow]
    ) -> WorkerSpec:
        code = self.paths.code(function["id"], deployment["id"])
        runtime = function["runtime"]
        _key, _, version = runtime.rpartition("-")
        env = {
            "APPWRITE_FUNCTION_API_ENDPOINT": self.endpoint,
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
