"""Functions, their variables and which deployment is active: the rules, without HTTP.

Every write that changes what a function serves calls ``changed(function_id)`` (the route
cache and the cron schedule follow it) and retires the workers nothing serves any more.
Activation is one state for Appwrite and Wix: ``PATCH /v1/functions/{id}/deployment`` and
Wix's upsert both end in :meth:`FunctionService.activate`.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

from wixhttp.platform import errors, models
from wixhttp.platform.builds import Builder
from wixhttp.platform.config import Paths
from wixhttp.platform.queries import ListRequest
from wixhttp.platform.store import (
    ActivationRow,
    DeploymentRow,
    Duplicate,
    FunctionRow,
    Store,
    VariableRow,
    now,
)
from wixhttp.platform.workers import WorkerPool

__all__ = ["FunctionService"]

Row = dict[str, Any]


class FunctionService:
    def __init__(
        self,
        store: Store,
        project_id: str,
        paths: Paths,
        workers: WorkerPool,
        builder: Builder,
        changed: Callable[[str], None],
        flush_executions: Callable[[], Awaitable[None]],
    ) -> None:
        self.store = store
        self.project_id = project_id
        self.paths = paths
        self.workers = workers
        self.builder = builder
        self.changed = changed
        self._flush_executions = flush_executions

    # -- functions -------------------------------------------------------------------------------

    async def get(self, function_id: str) -> FunctionRow:
        row = await self.store.get_function(self.project_id, function_id)
        if row is None:
            raise errors.function_not_found()
        return row

    async def page(self, request: ListRequest) -> tuple[list[FunctionRow], int]:
        return await self.store.list_functions(self.project_id, request)

    async def create(self, function_id: str, fields: Mapping[str, Any]) -> Row:
        stamp = now()
        row: Row = {
            "project_id": self.project_id,
            "id": function_id,
            "created_at": stamp,
            "updated_at": stamp,
            "live": True,
            "deployment_id": "",
            "deployment_created_at": "",
            "latest_deployment_id": "",
            "latest_deployment_created_at": "",
            "latest_deployment_status": "",
            **fields,
        }
        try:
            await self.store.create_function(row)
        except Duplicate:
            raise errors.function_already_exists() from None
        self.changed(function_id)
        return row

    async def replace(self, stored: FunctionRow, fields: dict[str, Any]) -> FunctionRow:
        """PUT: ``fields`` replace the writable fields of ``stored``."""
        function_id = stored["id"]
        if any(fields[key] != stored[key] for key in ("name", "entrypoint", "commands", "runtime")):
            fields["live"] = False
        row = await self.update(function_id, fields)
        if row is None:
            raise errors.function_not_found()
        if fields["timeout"] != stored["timeout"] or fields["runtime"] != stored["runtime"]:
            await self.workers.retire(function_id)
        return row

    async def update(self, function_id: str, values: dict[str, Any]) -> FunctionRow | None:
        row = await self.store.update_function(self.project_id, function_id, values)
        self.changed(function_id)
        return row

    async def delete(self, function_id: str) -> None:
        """The function, its variables, deployments, executions, builds, workers and files."""
        if await self.store.get_function(self.project_id, function_id) is None:
            return
        await self._flush_executions()  # its pending execution records go with it
        removed = await self.store.delete_function(self.project_id, function_id)
        self.changed(function_id)
        for deployment_id in removed:
            self.builder.cancel(deployment_id)
        await self.workers.retire(function_id)
        for deployment_id in removed:
            await asyncio.to_thread(shutil.rmtree, self.paths.uploads(deployment_id), True)
        await asyncio.to_thread(shutil.rmtree, self.paths.function_dir(function_id), True)

    async def with_variables(self, row: Mapping[str, Any]) -> dict[str, Any]:
        """The function's JSON (its variables included)."""
        variables = await self.store.function_variables(self.project_id, row["id"])
        return models.function_json(row, variables)

    # -- activation ------------------------------------------------------------------------------

    async def set_deployment(self, function_id: str, deployment: DeploymentRow) -> FunctionRow:
        """Appwrite's ``PATCH .../deployment``: activate a ready deployment."""
        if deployment["status"] != "ready":
            raise errors.build_not_ready(
                "Build not ready: the deployment's status is "
                f'"{deployment["status"]}"; wait until it is "ready".'
            )
        row = await self.activate(function_id, deployment)
        assert row is not None
        return row

    async def activate(
        self, function_id: str, deployment: DeploymentRow
    ) -> FunctionRow | None:
        """Make ``deployment`` the one ``/_functions`` serves."""
        row = await self.update(
            function_id,
            {
                "deployment_id": deployment["id"],
                "deployment_created_at": deployment["created_at"],
                "live": True,
            },
        )
        await self.retire_unused(function_id)
        return row

    async def deactivate(self, function: FunctionRow) -> None:
        """``/_functions`` answers 404 until the next activation; ``-dev`` keeps serving."""
        function_id = function["id"]
        if function["deployment_id"]:
            await self.update(function_id, {"deployment_id": "", "deployment_created_at": ""})
            await self.retire_unused(function_id)
        await self.store.deactivate(self.project_id, function_id)

    async def wix_function(self, function_id: str) -> FunctionRow:
        """The function, or Wix's 404 ``FUNCTION_NOT_FOUND``."""
        function = await self.store.get_function(self.project_id, function_id)
        if function is None:
            raise errors.WixError(
                404,
                "FUNCTION_NOT_FOUND",
                f"Function {function_id!r} does not exist.",
                data={"functionId": function_id},
            )
        return function

    async def wix_activate(self, function: FunctionRow) -> ActivationRow:
        """Wix's upsert: activate the latest deployment (it must be ready); the activation row
        with its revision, which grows on every upsert, even one that changes nothing."""
        deployment = await self._ready_latest(function)
        if function["deployment_id"] != deployment["id"]:
            await self.activate(function["id"], deployment)
        return await self.store.upsert_activation(
            self.project_id, function["id"], deployment["id"]
        )

    async def _ready_latest(self, function: FunctionRow) -> DeploymentRow:
        """The latest deployment, if it can be activated; else Wix's 428 saying why not."""
        data: dict[str, Any] = {"functionId": function["id"]}
        if not function["enabled"]:
            raise errors.WixError(
                428,
                "FUNCTION_DISABLED",
                "The function is disabled; enable it (update with enabled=true) first.",
                data=data,
            )
        if function["runtime"] not in models.RUNTIMES:
            raise errors.WixError(
                428,
                "RUNTIME_UNAVAILABLE",
                f"The function's runtime {function['runtime']!r} is not available on this host "
                f"(available: {', '.join(models.RUNTIMES)}); update the function's runtime.",
                data={**data, "runtime": function["runtime"]},
            )
        latest = await self.store.latest_deployment(self.project_id, function["id"])
        if latest is None:
            raise errors.WixError(
                428,
                "NO_DEPLOYMENT",
                "The function has no deployment yet; deploy code first (wixhttp deploy).",
                data=data,
            )
        data["deploymentId"] = latest["id"]
        problem = _not_activatable(latest, self.paths.code(function["id"], latest["id"]))
        if problem is not None:
            code, message, extra = problem
            raise errors.WixError(428, code, message, data={**data, **extra})
        return latest

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

    # -- variables -------------------------------------------------------------------------------

    async def variable(self, function_id: str, variable_id: str) -> VariableRow:
        row = await self.store.get_variable(self.project_id, function_id, variable_id)
        if row is None:
            raise errors.variable_not_found()
        return row

    async def list_variables(
        self, function_id: str, request: ListRequest
    ) -> tuple[list[VariableRow], int]:
        return await self.store.list_variables(self.project_id, function_id, request)

    async def create_variable(self, function_id: str, variable_id: str, values: Row) -> Row:
        stamp = now()
        row: Row = {
            "project_id": self.project_id,
            "function_id": function_id,
            "id": variable_id,
            "created_at": stamp,
            "updated_at": stamp,
            **values,
        }
        try:
            await self.store.create_variable(row)
        except Duplicate:
            raise errors.variable_already_exists(
                "Variable with the same ID or key already exists in this function."
            ) from None
        await self._variables_changed(function_id)
        return row

    async def update_variable(self, stored: VariableRow, values: Row) -> VariableRow:
        """Change ``stored`` (as read by :meth:`variable`) with the ``values`` given."""
        function_id, variable_id = stored["function_id"], stored["id"]
        if stored["secret"] and values.get("secret") is False:
            raise errors.variable_cannot_unset_secret()
        try:
            row = await self.store.update_variable(
                self.project_id, function_id, variable_id, values
            )
        except Duplicate:
            raise errors.variable_already_exists(
                "A variable with the same key already exists."
            ) from None
        if row is None:  # deleted meanwhile
            raise errors.variable_not_found()
        await self._variables_changed(function_id)
        return row

    async def delete_variable(self, function_id: str, variable_id: str) -> None:
        await self.variable(function_id, variable_id)
        await self.store.delete_variable(self.project_id, function_id, variable_id)
        await self._variables_changed(function_id)

    async def _variables_changed(self, function_id: str) -> None:
        """Variables are environment variables: restart the function's workers to apply them."""
        self.changed(function_id)
        await self.workers.retire(function_id)


def _not_activatable(latest: DeploymentRow, code: Path) -> tuple[str, str, dict[str, Any]] | None:
    """Why Wix may not activate the latest deployment: (code, message, data), or None."""
    status, deployment_id = latest["status"], latest["id"]
    if status in ("waiting", "processing", "building"):
        return (
            "DEPLOYMENT_NOT_READY",
            f"The latest deployment {deployment_id} is still {status}; activate it when its "
            "build is ready.",
            {"status": status},
        )
    if status == "failed":
        return (
            "DEPLOYMENT_FAILED",
            f"The latest deployment {deployment_id} failed to build; see its buildLogs and "
            "deploy a fixed version.",
            {},
        )
    if status == "canceled":
        message = f"The latest deployment {deployment_id} was canceled; deploy again."
        return "DEPLOYMENT_CANCELED", message, {}
    if not (code / latest["entrypoint"]).is_file():
        return (
            "DEPLOYMENT_FILES_MISSING",
            f"The built files of deployment {deployment_id} are missing from the data "
            "directory; deploy again.",
            {},
        )
    return None
