"""What becomes of the work of a node that stopped: its ``processing`` executions are failed
(never run twice: they may have run), its unfinished builds are queued again for any node.

* **Start-up** takes up the node's own work at once (a previous run under the same name); on
  SQLite, the one node of its database, that is all unfinished work.
* **The reaper** (:mod:`wixhttp.platform.nodes`) takes up the work of nodes silent too long.
* **A clean stop** hands the node's builds back.

Each is one transaction (:class:`~wixhttp.platform.store.nodes.NodeQueries`).
``waiting`` and ``scheduled`` executions need nothing: they stay in their table, claimable by any
node (:mod:`wixhttp.platform.runner`).
"""

from __future__ import annotations

import logging

from wixhttp.platform.calls import Row
from wixhttp.platform.capture import tail
from wixhttp.platform.store import PendingExecutionRow, Reaped, Store, now

__all__ = [
    "INTERRUPTED",
    "NO_PENDING",
    "append_text",
    "failed_values",
    "interrupted_values",
    "reap_silent",
    "release_own",
    "take_up_own",
]

log = logging.getLogger("wixhttp.platform")

INTERRUPTED = "The platform stopped while this execution was running; it was not retried."
RESTARTED = "The platform restarted; building again"
NODE_LOST = "The node building it stopped answering; building again"
NODE_STOPPED = "The node building it stopped; building again"


def append_text(first: str, second: str) -> str:
    return f"{first}\n{second}" if first and second else first or second


NO_PENDING: Row = {"pending_headers": None, "pending_body": None}


def failed_values(message: str) -> Row:
    """An execution's values when the platform could not run it (or finish running it)."""
    return {"status": "failed", "response_status_code": 500, "errors": message, "updated_at": now()}


def interrupted_values(row: PendingExecutionRow) -> Row:
    """What a ``processing`` execution becomes when its node stopped."""
    return {
        **NO_PENDING,
        "status": "failed",
        "errors": tail(append_text(row["errors"], INTERRUPTED), errors=True),
        "response_status_code": row["response_status_code"] or 500,
        "updated_at": now(),
    }


def _logged(reaped: Reaped, what: str) -> Reaped:
    if reaped.executions or reaped.builds:
        log.warning(
            "%s: %d running executions failed (interrupted), %d builds queued again",
            what,
            reaped.executions,
            reaped.builds,
        )
    return reaped


async def take_up_own(store: Store, project_id: str, node: str, timeout: float) -> Reaped:
    """At start-up, before any work is claimed: what this node's last run left unfinished (on
    SQLite: whatever any run left; on PostgreSQL, work claimed by no node too if no other node
    heartbeat within ``timeout`` s)."""
    if not store.shared:
        reaped = await store.reap_all_nodes(project_id, interrupted_values, RESTARTED)
    else:
        reaped = await store.reap_node(
            project_id, node, unclaimed_within=timeout, fail=interrupted_values, note=RESTARTED
        )
    return _logged(reaped, f"node {node} after its restart")


async def reap_silent(store: Store, project_id: str, node: str, timeout: float) -> Reaped:
    """The work of the other nodes silent for ``timeout`` seconds (idempotent: any node may
    run it at any time)."""
    reaped = await store.reap_silent_nodes(project_id, timeout, node, interrupted_values, NODE_LOST)
    if reaped.nodes:
        log.warning("nodes silent for %g s, taken for dead: %s", timeout, ", ".join(reaped.nodes))
    return _logged(reaped, "their work")


async def release_own(store: Store, project_id: str, node: str) -> Reaped:
    """At a clean stop, after the node's services stopped: its row goes, its builds go back to
    ``waiting`` for another node (and any execution still ``processing`` is failed)."""
    reaped = await store.reap_node(
        project_id, node, unclaimed_within=None, fail=interrupted_values, note=NODE_STOPPED
    )
    return _logged(reaped, f"node {node} stopping")
