"""Deployments: uploads (single and chunked) to the data directory, duplicates, deletion,
cancellation, the build queue's bookkeeping, and which deployment is the function's latest.

No HTTP here: the API layer parses multipart bodies and ``Content-Range`` headers, then calls
this service with an open file and the validated numbers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, BinaryIO

from wixhttp.platform import errors
from wixhttp.platform.builds import Builder
from wixhttp.platform.config import Paths
from wixhttp.platform.functions import FunctionService
from wixhttp.platform.queries import ListRequest
from wixhttp.platform.store import DeploymentRow, FunctionRow, Store, new_id, now

__all__ = ["CHUNK_SIZE", "DeploymentService"]

log = logging.getLogger("wixhttp.platform")
Row = Mapping[str, Any]  # a deployment: as stored, or as just created

#: The size of every chunk of a chunked upload but the last (Appwrite's SDKs send 5 MiB).
CHUNK_SIZE = 5 * 1024 * 1024


class DeploymentService:
    def __init__(
        self,
        store: Store,
        project_id: str,
        paths: Paths,
        builder: Builder,
        functions: FunctionService,
        max_source_size: int,
    ) -> None:
        self.store = store
        self.project_id = project_id
        self.paths = paths
        self.builder = builder
        self.functions = functions
        self.max_source_size = max_source_size
        self._upload_locks: dict[str, asyncio.Lock] = {}

    async def get(self, function_id: str, deployment_id: str) -> DeploymentRow:
        row = await self.store.get_deployment(deployment_id)
        if row is None or row["function_id"] != function_id or row["project_id"] != self.project_id:
            raise errors.deployment_not_found()
        return row

    async def page(self, function_id: str, request: ListRequest) -> tuple[list[DeploymentRow], int]:
        return await self.store.list_deployments(self.project_id, function_id, request)

    async def update(
        self,
        deployment_id: str,
        values: dict[str, Any],
        *,
        only_if_status: Sequence[str] = (),
        claimed_by: str | None = None,
    ) -> DeploymentRow | None:
        """Update a deployment; keeps the function's ``latestDeploymentStatus`` in step."""
        row = await self.store.update_deployment(
            deployment_id, values, only_if_status=only_if_status, claimed_by=claimed_by
        )
        if row is not None and "status" in values:
            function_id = row["function_id"]
            function = await self.store.get_function(self.project_id, function_id)
            if function is not None and function["latest_deployment_id"] == deployment_id:
                status = {"latest_deployment_status": row["status"]}
                await self.functions.update(function_id, status)
            self.functions.changed(function_id)
        return row

    # -- uploads ---------------------------------------------------------------------------------

    def _new_row(
        self, function_id: str, settings: Mapping[str, Any], **values: Any
    ) -> dict[str, Any]:
        stamp = now()
        return {
            "id": new_id(),
            "project_id": self.project_id,
            "function_id": function_id,
            "created_at": stamp,
            "updated_at": stamp,
            "type": "manual",
            "status": "waiting",
            "build_logs": "",
            "build_duration": 0,
            "build_size": 0,
            **settings,
            **values,
        }

    async def upload(self, function_id: str, code: BinaryIO, settings: Mapping[str, Any]) -> Row:
        """A whole archive in one request."""
        limit = self.max_source_size
        row = self._new_row(function_id, settings, chunks_total=1, chunks_uploaded=1)
        source = self.paths.source(function_id, row["id"])
        try:
            size = await asyncio.to_thread(_save, code, source, limit)
        except _TooLarge:
            await asyncio.to_thread(shutil.rmtree, source.parent, True)
            raise errors.file_too_large(limit) from None
        if size == 0:
            await asyncio.to_thread(shutil.rmtree, source.parent, True)
            raise errors.file_empty("The uploaded file is empty.")
        row.update(source_size=size, total_size=size)
        await self.store.create_deployment(row)
        await self._uploaded(row)
        return row

    async def upload_chunk(
        self,
        function_id: str,
        code: BinaryIO,
        settings: Mapping[str, Any],
        chunk_range: tuple[int, int, int],
        upload_id: str,
    ) -> Row:
        """One chunk of a chunked upload (``Content-Range: bytes start-end/size``); the first
        creates the deployment, the others name it (``upload_id``); the last one completes it,
        whatever order they arrive in."""
        start, end, size = chunk_range
        chunks = max(1, math.ceil(size / CHUNK_SIZE))
        if start % CHUNK_SIZE or end != min(start + CHUNK_SIZE, size) - 1:
            raise errors.content_range_invalid(
                f"chunks must be {CHUNK_SIZE} bytes aligned (got bytes {start}-{end}/{size})"
            )
        row: Row
        if upload_id:
            row = await self.get(function_id, upload_id)
            if int(row["chunks_total"]) != chunks:
                raise errors.content_range_invalid("the total size differs from the first chunk's")
        else:
            row = self._new_row(
                function_id,
                settings,
                chunks_total=chunks,
                chunks_uploaded=0,
                source_size=size,
                total_size=size,
            )
            await self.store.create_deployment(row)
        if int(row["chunks_uploaded"]) >= chunks:
            return row
        parts = self.paths.uploads(row["id"])
        part = parts / f"{start // CHUNK_SIZE:06d}.part"
        try:
            written = await asyncio.to_thread(_save, code, part, end - start + 1)
        except _TooLarge:
            written = -1
        if written != end - start + 1:
            with contextlib.suppress(OSError):
                part.unlink()
            raise errors.content_range_invalid(
                f"the chunk holds {written} bytes, the range says {end - start + 1}"
            )
        return await self._count_chunk(function_id, row["id"], part, chunks)

    async def _count_chunk(
        self, function_id: str, deployment_id: str, part: Path, chunks: int
    ) -> Row:
        """Count a chunk once. The source is assembled before the last one is counted: a
        deployment is claimable by any node's builder once all its chunks are counted."""
        parts = part.parent
        source = self.paths.source(function_id, deployment_id)
        async with self._upload_locks.setdefault(deployment_id, asyncio.Lock()):
            counted = part.with_suffix(".counted")
            if counted.exists():
                current = await self.store.get_deployment(deployment_id)
            else:
                current = await self.store.get_deployment(deployment_id)
                last = current is not None and int(current["chunks_uploaded"]) == chunks - 1
                if last and not source.exists():
                    await asyncio.to_thread(_assemble, parts, chunks, source)
                counted.touch()
                current = await self.store.record_chunk(deployment_id)
                if current is not None and int(current["chunks_uploaded"]) == chunks:
                    await asyncio.to_thread(shutil.rmtree, parts, True)
                    await self._uploaded(current)
            if current is None:
                raise errors.deployment_not_found("The deployment was deleted during the upload.")
        return current

    async def duplicate(self, function_id: str, deployment_id: str) -> Row:
        original = await self.get(function_id, deployment_id)
        if int(original["chunks_uploaded"]) < int(original["chunks_total"]):
            raise errors.build_not_ready("The deployment's upload is incomplete.")
        settings = {
            "entrypoint": original["entrypoint"],
            "commands": original["commands"],
            "activate": True,
        }
        size = original["source_size"]
        row = self._new_row(
            function_id,
            settings,
            chunks_total=1,
            chunks_uploaded=1,
            source_size=size,
            total_size=size,
        )
        source = self.paths.source(function_id, row["id"])
        source.parent.mkdir(parents=True, exist_ok=True)
        await asyncio.to_thread(
            shutil.copyfile, self.paths.source(function_id, original["id"]), source
        )
        await self.store.create_deployment(row)
        await self._uploaded(row)
        return row

    async def _uploaded(self, deployment: Row) -> None:
        """A deployment's source is complete: it becomes the latest; the builder is woken (on
        this node; the database announces it to the others)."""
        function_id = deployment["function_id"]
        if deployment["activate"]:
            await self.store.clear_activate_flags(self.project_id, function_id, deployment["id"])
        await self.functions.update(
            function_id,
            {
                "latest_deployment_id": deployment["id"],
                "latest_deployment_created_at": deployment["created_at"],
                "latest_deployment_status": deployment["status"],
            },
        )
        self.builder.wake()

    async def build_finished(self, deployment: Row) -> None:
        """The build's outcome is stored (and, if ready with activate, it is active)."""
        function_id = deployment["function_id"]
        self.functions.changed(function_id)
        log.info(
            "deployment %s of %s finished: %s%s",
            deployment["id"],
            function_id,
            deployment["status"],
            " and active" if deployment["status"] == "ready" and deployment["activate"] else "",
        )
        await self.functions.retire_unused(function_id)

    # -- the rest of a deployment's life ---------------------------------------------------------

    async def delete(self, function: FunctionRow, deployment_id: str) -> None:
        """Cancel its build, forget it (the function's latest/active fields follow), stop its
        workers, delete its files."""
        function_id = function["id"]
        await self.get(function_id, deployment_id)
        self.builder.cancel(deployment_id)
        await self.store.delete_deployment(deployment_id)
        values: dict[str, Any] = {}
        if function["deployment_id"] == deployment_id:
            values.update(deployment_id="", deployment_created_at="")
        if function["latest_deployment_id"] == deployment_id:
            latest = await self.store.latest_deployment(self.project_id, function_id)
            values.update(
                latest_deployment_id=latest["id"] if latest else "",
                latest_deployment_created_at=latest["created_at"] if latest else "",
                latest_deployment_status=latest["status"] if latest else "",
            )
        if values:
            await self.functions.update(function_id, values)
        self.functions.changed(function_id)
        active = [function["deployment_id"]] if not values.get("deployment_id") else []
        await self.functions.workers.retire(function_id, active)
        await self.functions.retire_unused(function_id)
        await asyncio.to_thread(
            shutil.rmtree, self.paths.deployment_dir(function_id, deployment_id), True
        )
        await asyncio.to_thread(shutil.rmtree, self.paths.uploads(deployment_id), True)

    async def cancel(self, function_id: str, deployment_id: str) -> DeploymentRow:
        row = await self.get(function_id, deployment_id)
        if row["status"] in ("ready", "failed"):
            raise errors.build_already_completed()
        if row["status"] == "canceled":
            return row
        updated = await self.update(
            row["id"],
            {"status": "canceled", "build_logs": row["build_logs"] + f"[{now()}] Canceled\n"},
            only_if_status=["waiting", "processing", "building"],
        )
        self.builder.cancel(row["id"])  # here; the node building it elsewhere sees the status
        if updated is None:  # it finished meanwhile
            updated = await self.get(function_id, row["id"])
        return updated

    def source(self, row: DeploymentRow) -> Path:
        """The uploaded archive of a deployment (404 until its upload is complete)."""
        path = self.paths.source(row["function_id"], row["id"])
        if not path.exists():
            raise errors.deployment_not_found("The deployment's source is not uploaded yet.")
        return path

    def output(self, row: DeploymentRow) -> Path:
        """The built code directory of a ready deployment."""
        if row["status"] != "ready":
            raise errors.build_not_found("The deployment has no build output (not ready).")
        code = self.paths.code(row["function_id"], row["id"])
        if not code.is_dir():
            raise errors.build_not_found(
                "The deployment's build output is missing from the data directory; deploy again."
            )
        return code


class _TooLarge(Exception):
    pass


def _save(upload: BinaryIO, target: Path, limit: int) -> int:
    """Copy an upload to ``target`` (atomically); raises :class:`_TooLarge` past ``limit``."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + f".{os.getpid()}.{id(upload)}.tmp")
    size = 0
    upload.seek(0)
    try:
        with open(tmp, "wb") as out:
            while True:
                block = upload.read(1024 * 1024)
                if not block:
                    break
                size += len(block)
                if size > limit:
                    raise _TooLarge
                out.write(block)
        os.replace(tmp, target)
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
    return size


def _assemble(parts: Path, chunks: int, source: Path) -> None:
    source.parent.mkdir(parents=True, exist_ok=True)
    tmp = source.with_name(source.name + ".tmp")
    with open(tmp, "wb") as out:
        for index in range(chunks):
            with open(parts / f"{index:06d}.part", "rb") as part:
                shutil.copyfileobj(part, out, 1024 * 1024)
    os.replace(tmp, source)
