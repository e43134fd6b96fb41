"""Which worker serves a function: its active deployment for ``/_functions`` and executions,
its latest ready one for ``/_functions-dev``; looked up from the store, cached until the
function changes (or for :data:`TTL` seconds at most).

With several nodes, a change made through another node reaches this one as an announcement
(:mod:`~wixhttp.platform.bus`); :class:`ChangeFeed` applies it: the target is read again and
the workers no longer serving what it says are stopped.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from wixhttp.platform.config import Paths
from wixhttp.platform.store import DeploymentRow, FunctionRow, Store, VariableRow
from wixhttp.platform.workers import WorkerPool, WorkerSpec, worker_env

__all__ = ["TTL", "ChangeFeed", "Target", "Targets"]

log = logging.getLogger("wixhttp.platform")

#: Seconds a cached target is used without being read again: the backstop for a change whose
#: announcement was missed.
TTL = 5.0


@dataclass(frozen=True)
class Target:
    """What the proxy needs to know about a function, cached until the function changes."""

    function: FunctionRow
    production: WorkerSpec | None  # the active deployment
    development: WorkerSpec | None  # the latest ready deployment
    active_status: str = ""  # the active deployment's status ("" if there is none)

    @property
    def specs(self) -> list[WorkerSpec]:
        """The workers this target may use."""
        return [spec for spec in (self.production, self.development) if spec is not None]


class Targets:
    """The cache of :class:`Target` per function of one project."""

    def __init__(
        self, store: Store, paths: Paths, project_id: str, endpoint: str, *, ttl: float = TTL
    ) -> None:
        self.store = store
        self.paths = paths
        self.project_id = project_id
        self.endpoint = endpoint  # the API endpoint a function's code is given
        self.ttl = ttl
        #: Called with a function's id when its expired target was read again.
        self.expired: Callable[[str], None] = lambda _function_id: None
        self._targets: dict[str, tuple[float, Target]] = {}  # id -> (monotonic deadline, target)
        self._changes = 0  # counts invalidations: a lookup that saw one meanwhile is not cached

    def invalidate(self, function_id: str) -> None:
        """The function, its deployments or its variables changed: read them again."""
        self._changes += 1
        self._targets.pop(function_id, None)

    def invalidate_all(self) -> None:
        """Read every function again (changes may have been missed)."""
        self._changes += 1
        self._targets.clear()

    async def lookup(self, function_id: str) -> Target | None:
        """The function's target, or None if there is no such function."""
        cached = self._targets.get(function_id)
        if cached is not None:
            deadline, target = cached
            moment = time.monotonic()
            if deadline > moment:
                return target
            # Expired: others keep it for a moment while this lookup reads the function again.
            self._targets[function_id] = (moment + min(1.0, self.ttl), target)
            self.expired(function_id)
        return await self.read(function_id)

    async def read(self, function_id: str) -> Target | None:
        """The function's target read from the store (and cached, unless it changed meanwhile)."""
        changes, deadline = self._changes, time.monotonic() + self.ttl
        function = await self.store.get_function(self.project_id, function_id)
        if function is None:
            if changes == self._changes:
                self._targets.pop(function_id, None)
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
            self._targets[function_id] = (deadline, target)
        return target

    def _spec(
        self, function: FunctionRow, deployment: DeploymentRow, variables: Sequence[VariableRow]
    ) -> WorkerSpec:
        code = self.paths.code(function["id"], deployment["id"])
        runtime = function["runtime"]
        _key, _, version = runtime.rpartition("-")
        # Appwrite's own variables come last: a function variable cannot override them.
        env = {v["key"]: v["value"] for v in variables}
        env |= {
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
            # The runtime's: the entrypoint relative to the code folder.
            "OPEN_RUNTIMES_ENTRYPOINT": deployment["entrypoint"],
        }
        return WorkerSpec(
            function_id=function["id"],
            deployment_id=deployment["id"],
            entry=code / deployment["entrypoint"],
            env=worker_env(code, env),
            timeout=float(function["timeout"]),
            log_path=self.paths.deployment_dir(function["id"], deployment["id"]) / "worker.log",
        )


class ChangeFeed:
    """Applies the changes announced on the bus's ``CHANGES`` channel (``<project>/<function>``)
    to this node: the function's target and cron schedule are read again at once (``changed``),
    then its workers that no longer serve what the target says are stopped (a deleted function's,
    a replaced deployment's, and those started with other variables). Idempotent: a node hears
    its own announcements too. A reconnect (announcements may have been missed) does this for
    every function, and so does an expired target for its function."""

    def __init__(
        self,
        targets: Targets,
        workers: WorkerPool,
        changed: Callable[[str], None],
    ) -> None:
        self.targets = targets
        self.workers = workers
        self.changed = changed  # what re-reads a function's target and schedule
        self._pending: set[str] = set()  # functions whose workers to check
        self._everything = False  # after a reconnect: every function
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        targets.expired = self._check

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="wixhttp-changes")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    def announced(self, payload: str) -> None:
        """A bus listener: ``payload`` is ``<project>/<function>``; other projects' are ignored."""
        project_id, _, function_id = payload.partition("/")
        if project_id == self.targets.project_id and function_id:
            self.changed(function_id)
            self._check(function_id)

    def reconnected(self) -> None:
        """The bus's reconnect callback: forget every target, then re-check every function."""
        self.targets.invalidate_all()
        self._everything = True
        self._wake.set()

    def _check(self, function_id: str) -> None:
        self._pending.add(function_id)
        self._wake.set()

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            try:
                if self._everything:
                    await self._change_everything()
                    self._everything = False  # only once done: else retried on the next wake
                while self._pending:
                    await self._retire_stale(self._pending.pop())
            except asyncio.CancelledError:
                raise
            except Exception:  # the store may be unreachable for a moment; the TTL retries
                log.exception("applying announced changes failed")

    async def _change_everything(self) -> None:
        functions = await self.targets.store.all_functions()
        ids = {f["id"] for f in functions if f["project_id"] == self.targets.project_id}
        ids.update(function_id for function_id, _ in self.workers.running())
        for function_id in ids:
            self.changed(function_id)
            self._pending.add(function_id)

    async def _retire_stale(self, function_id: str) -> None:
        target = await self.targets.read(function_id)  # not the cache: it may be older
        serving = target.specs if target is not None else []
        await self.workers.retire_stale(function_id, serving)
