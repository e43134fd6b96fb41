"""This node among those sharing the database: its heartbeat, and the reaper every node runs.

Every ``heartbeat`` seconds (5) the node stamps its ``platform_nodes`` row with the database's
clock, and reaps the nodes silent for ``timeout`` seconds (30): their ``processing`` executions
fail (``INTERRUPTED``), their builds go back to ``waiting``, their rows go, in one transaction
(:mod:`wixhttp.platform.recovery`). Reaping is idempotent: every node runs it. A node that finds
its own row gone (it stalled and was reaped) says so and registers again. The same loop deletes
rate-limit windows older than an hour.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from wixhttp.platform.config import NodeConfig
from wixhttp.platform.recovery import reap_silent, release_own, take_up_own
from wixhttp.platform.store import Store

__all__ = ["RATE_WINDOWS_KEPT", "NodeService"]

log = logging.getLogger("wixhttp.platform")

#: Seconds rate-limit counts are kept after their window started.
RATE_WINDOWS_KEPT = 3600.0


class NodeService:
    """Registers the node, beats its heart, reaps the silent ones (one per platform)."""

    def __init__(self, store: Store, project_id: str, node: str, config: NodeConfig) -> None:
        self.store = store
        self.project_id = project_id
        self.node = node
        self.config = config
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Take up what this node's last run left unfinished, then register: before the
        node claims any work."""
        await take_up_own(self.store, self.project_id, self.node, self.config.timeout)
        await self.store.register_node(self.node, self.project_id)
        self._task = asyncio.create_task(self._loop(), name="wixhttp-node")

    async def stop(self) -> None:
        """After the node's services stopped: hand its builds back, delete its row."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        try:
            await release_own(self.store, self.project_id, self.node)
        except Exception:  # noqa: BLE001 - the reaper of another node will do it
            log.exception("node %s could not hand back its work", self.node)

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.config.heartbeat)
            try:
                await self.tick()
            except Exception:  # noqa: BLE001 - the database may be away for a while
                log.exception("node %s: heartbeat or reaper failed", self.node)

    async def tick(self) -> None:
        """One heartbeat and one reaper pass."""
        if not await self.store.beat(self.node):
            log.warning(
                "node %s was taken for dead by another node (silent over %g s); registering again",
                self.node,
                self.config.timeout,
            )
            await self.store.register_node(self.node, self.project_id)
        await reap_silent(self.store, self.project_id, self.node, self.config.timeout)
        await self.store.forget_rate_windows(RATE_WINDOWS_KEPT)
