"""The composition root: builds the platform's parts in dependency order, starts and stops them.

Nothing here decides anything: the rules live in the services (:mod:`~wixhttp.platform.functions`,
:mod:`~wixhttp.platform.deployments`, :mod:`~wixhttp.platform.executions`), which get exactly
the collaborators they use. :class:`Platform` is what the HTTP layer's
:class:`~wixhttp.platform.api.Services` protocol describes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from wixhttp.platform.auth import KeyCache
from wixhttp.platform.builds import Builder
from wixhttp.platform.bus import CHANGES, WORK, Bus
from wixhttp.platform.config import Paths, PlatformConfig
from wixhttp.platform.deployments import DeploymentService
from wixhttp.platform.executions import ExecutionService
from wixhttp.platform.functions import FunctionService
from wixhttp.platform.nodes import NodeService
from wixhttp.platform.scheduler import Scheduler
from wixhttp.platform.store import DeploymentRow, Store
from wixhttp.platform.targets import ChangeFeed, Targets
from wixhttp.platform.workers import WorkerPool
from wixhttp.platform.writer import BatchWriter

__all__ = ["Platform"]


class Platform:
    """One project's platform: store, keys, workers, builds, targets and the services."""

    def __init__(self, config: PlatformConfig, store: Store | None = None) -> None:
        self.config = config
        self.project_id = config.project_id
        self.paths = Paths(config.data_dir)
        self.store = store or Store.configured(config.data_dir, config.database)
        self.keys = KeyCache(self.store)
        self.node = config.node
        self.bus = Bus(self.store.url, shared=self.store.shared)
        self.workers = WorkerPool()
        self.targets = Targets(self.store, self.paths, self.project_id, config.endpoint)
        limits = config.executions
        self.writer = BatchWriter(
            self.store, delay=limits.write_delay, max_pending=limits.max_pending_records
        )
        self.scheduler = Scheduler(  # it reads the database's clock; its ticks wake the claims
            self.store,
            self.targets,
            self.project_id,
            config.endpoint,
            lambda: self.executions.wake(),
        )
        self.executions = ExecutionService(
            self.store,
            self.writer,
            self.targets,
            self.workers,
            self.project_id,
            config.executions,
            self.node,
            self.scheduler.clock,
        )
        self.nodes = NodeService(self.store, self.project_id, self.node, config.nodes)
        self.builder = Builder(
            self.paths,
            config.build,
            self.store,
            self.node,
            self.project_id,
            self._build_progress,
            self.store.finish_deployment,
            self._build_finished,
        )
        self.functions = FunctionService(
            self.store,
            self.project_id,
            self.paths,
            self.workers,
            self.builder,
            self._function_changed,
            self.writer.flush,
        )
        self.deployments = DeploymentService(
            self.store,
            self.project_id,
            self.paths,
            self.builder,
            self.functions,
            config.max_source_size,
        )
        self._listen()

    def _listen(self) -> None:
        """What the other nodes announce (see :mod:`~wixhttp.platform.bus`): work to claim and
        changes made through other nodes (and this node's own, heard back) to drop from the
        caches; after a lost connection, everything is looked at."""
        self.changes = ChangeFeed(self.targets, self.workers, self._function_changed)
        self.bus.subscribe(WORK, self.executions.wake)
        self.bus.subscribe(WORK, lambda work: self.builder.wake() if work == "builds" else None)
        self.bus.subscribe(CHANGES, self.changes.announced)
        self.bus.on_reconnect(self.executions.wake)
        self.bus.on_reconnect(self.builder.wake)
        self.bus.on_reconnect(self.changes.reconnected)

    # The build queue reports to the deployment service; the two services need the queue
    # (to enqueue and cancel builds), so it is built first and reaches them through these.

    async def _build_progress(
        self,
        deployment_id: str,
        values: dict[str, Any],
        *,
        only_if_status: Sequence[str] = (),
        claimed_by: str | None = None,
    ) -> DeploymentRow | None:
        return await self.deployments.update(
            deployment_id, values, only_if_status=only_if_status, claimed_by=claimed_by
        )

    async def _build_finished(self, deployment: DeploymentRow) -> None:
        await self.deployments.build_finished(deployment)

    def _function_changed(self, function_id: str) -> None:
        """A function, its deployments or variables changed: what serves it and its cron
        schedule are read again."""
        self.targets.invalidate(function_id)
        self.scheduler.function_changed(function_id)

    async def start(self) -> None:
        await self.store.init()
        self.changes.start()
        await self.bus.start()
        await self.nodes.start()  # this node's unfinished work first, before any claim
        self.writer.start()
        await self.executions.start()
        await self.scheduler.start()
        self.builder.start()

    async def stop(self) -> None:
        await self.scheduler.stop()
        await self.executions.stop()
        await self.writer.stop()
        await self.builder.stop()
        await self.nodes.stop()  # after the services: hands back the builds, deletes the row
        await self.changes.stop()
        await self.workers.close()
        await self.bus.stop()
        await self.store.close()
