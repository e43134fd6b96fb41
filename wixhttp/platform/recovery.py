"""What a restart does to the executions the last run left unfinished: ``processing`` ones are
marked failed (never run twice); ``waiting`` and ``scheduled`` ones are left to the claim loop
(:mod:`wixhttp.platform.runner`)."""

from __future__ import annotations

import logging

from wixhttp.platform.calls import Row
from wixhttp.platform.capture import tail
from wixhttp.platform.store import Store, now
from wixhttp.platform.writer import BatchWriter

__all__ = ["INTERRUPTED", "NO_PENDING", "append_text", "failed_values", "recover"]

log = logging.getLogger("wixhttp.platform")

INTERRUPTED = "The platform stopped while this execution was running; it was not retried."



def append_text(first: str, second: str) -> str:
    return f"{first}\n{second}" if first and second else first or second


NO_PENDING: Row = {"pending_headers": None, "pending_body": None}


def failed_values(message: str) -> Row:
    """An execution's values when the platform could not run it (or finish running it)."""
    return {"status": "failed", "response_status_code": 500, "errors": message, "updated_at": now()}


async def recover(
    store: Store,
    writer: BatchWriter,
    project_id: str,
) -> None:
    """Take up the executions the last run left unfinished (at start-up, before the runners)."""
    stamp = now()
    failed = queued = scheduled = 0
    for row in await store.unfinished_executions(project_id):
        if row["status"] == "processing" or row["pending_headers"] is None:
            writer.update(
                row["id"],
                {
                    **NO_PENDING,
                    "status": "failed",
                    "errors": tail(append_text(row["errors"], INTERRUPTED), errors=True),
                    "response_status_code": row["response_status_code"] or 500,
                    "updated_at": stamp,
                },
            )
            failed += 1
            continue
        queued += row["status"] == "waiting"
        scheduled += row["status"] == "scheduled"
    await writer.flush()
    if failed or queued or scheduled:
        log.info(
            "executions after restart: %d interrupted (failed), %d waiting, %d scheduled",
            failed,
            queued,
            scheduled,
        )
