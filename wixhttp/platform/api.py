"""The Appwrite-compatible HTTP API (``/v1/functions...``), the function proxy
(``/functions/{id}/_functions[-dev]/...``) and the Wix activation routes.

Handlers validate input, call :class:`~wixhttp.platform.service.Platform` and map rows to the
JSON shapes of :mod:`wixhttp.platform.models`. Every error is Appwrite's
``{message, code, type, version}`` (Wix's envelope on the Wix routes); every 204 carries a
non-JSON Content-Type, because the SDK reads ``Content-Type`` on every response.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import os
import re
import shutil
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any

from croniter import croniter
from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from wixhttp.platform import activation, archive, models
from wixhttp.platform.auth import Caller, authenticate, require_scope
from wixhttp.platform.capture import CAPTURE_HEADER
from wixhttp.platform.errors import VERSION, AppwriteError, argument_invalid
from wixhttp.platform.executions import (
    Call,
    injected_headers,
    scheduled_time,
)
from wixhttp.platform.queries import parse_list_request
from wixhttp.platform.service import Platform, PlatformConfig
from wixhttp.platform.store import (
    DEPLOYMENT_ATTRIBUTES,
    EXECUTION_ATTRIBUTES,
    FUNCTION_ATTRIBUTES,
    VARIABLE_ATTRIBUTES,
    CursorNotFound,
    Duplicate,
    new_id,
    now,
)
from wixhttp.platform.workers import WorkerError

__all__ = ["CHUNK_SIZE", "create_platform_app"]

log = logging.getLogger("wixhttp.platform")

CHUNK_SIZE = 5 * 1024 * 1024
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,35}$")
_CONTENT_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+)$")
_NO_CACHE = {
    "Cache-Control": "no-cache, no-store, must-revalidate",
    "Expires": "0",
    "Pragma": "no-cache",
}
_GATEWAY_TYPES = {
    502: "function_worker_crashed",
    503: "function_worker_unavailable",
    504: "function_worker_timeout",
}
_ROUTE_NOT_FOUND = "The requested route was not found. Please refer to the API docs and try again."


def _json(data: Any, status: int = 200) -> Response:
    return JSONResponse(data, status_code=status)


def _no_content() -> Response:
    # The SDK reads Content-Type on every response, and parses it as JSON if it says so.
    return Response(status_code=204, media_type="text/html; charset=UTF-8")


def _error_response(error: AppwriteError) -> Response:
    return JSONResponse(
        error.body(), status_code=error.status, headers={**_NO_CACHE, **error.headers}
    )


# -- parameters ----------------------------------------------------------------------------------


class Params:
    """Typed access to a request's parameters, with Appwrite's error messages."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.data = data

    def has(self, name: str) -> bool:
        return self.data.get(name) is not None

    def string(
        self, name: str, *, required: bool = False, default: str = "", max_length: int = 0
    ) -> str:
        value = self.data.get(name)
        if value is None:
            if required:
                raise argument_invalid(f'Param "{name}" is not optional.')
            return default
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise argument_invalid(f"Invalid `{name}` param: Value must be a valid string")
        text = str(value)
        if required and not text:
            raise argument_invalid(f'Param "{name}" is not optional.')
        if max_length and len(text) > max_length:
            raise argument_invalid(
                f"Invalid `{name}` param: Value must be a valid string and at most "
                f"{max_length} chars"
            )
        return text

    def boolean(self, name: str, default: bool) -> bool:
        value = self.data.get(name)
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "1", "false", "0", ""):
            return value.lower() in ("true", "1")
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        raise argument_invalid(f"Invalid `{name}` param: Value must be a valid boolean")

    def integer(self, name: str, default: int, low: int, high: int) -> int:
        value = self.data.get(name)
        if value is None:
            return default
        number: int | None = None
        if isinstance(value, int) and not isinstance(value, bool):
            number = value
        elif isinstance(value, float) and value.is_integer():
            number = int(value)
        elif isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
            number = int(value)
        if number is None or not low <= number <= high:
            raise argument_invalid(
                f"Invalid `{name}` param: Value must be a valid range between {low} and {high}"
            )
        return number

    def strings(
        self, name: str, *, max_items: int = 100, max_length: int = 256
    ) -> list[str] | None:
        value = self.data.get(name)
        if value is None:
            return None
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise argument_invalid(f"Invalid `{name}` param: Value must be an array of strings")
        if len(value) > max_items:
            raise argument_invalid(
                f"Invalid `{name}` param: Value must be an array of at most {max_items} items"
            )
        if any(len(v) > max_length for v in value):
            raise argument_invalid(
                f"Invalid `{name}` param: Each value must be at most {max_length} chars"
            )
        return list(value)

    def identifier(self, name: str) -> str:
        value = self.string(name, required=True)
        if value == "unique()":
            return new_id()
        if not _ID.match(value):
            raise argument_invalid(
                f"Invalid `{name}` param: Parameter must contain at most 36 chars. Valid chars "
                "are a-z, A-Z, 0-9, period, hyphen, and underscore. Can't start with a special "
                "char"
            )
        return value


#: The largest JSON body the API reads: an execution's 10 MiB ``body`` JSON-escaped, with room.
MAX_JSON_BODY = 64 * 1024 * 1024


async def _body(request: Request) -> Params:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_JSON_BODY:
        raise _json_body_too_large()
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_JSON_BODY:
            raise _json_body_too_large()
        chunks.append(chunk)
    raw = b"".join(chunks)
    if not raw.strip():
        return Params({})
    try:
        data = json.loads(raw)
    except ValueError:
        raise argument_invalid("The request body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise argument_invalid("The request body must be a JSON object.")
    return Params(data)


def _json_body_too_large() -> AppwriteError:
    # 400, not 413: Appwrite answers no 413 (its error statuses are ALLOWED_STATUSES).
    return AppwriteError(
        400,
        "general_argument_invalid",
        f"The request body exceeds {MAX_JSON_BODY} bytes.",
    )


def _query_list(request: Request, name: str) -> list[str]:
    """``name[0]=..&name[1]=..`` (the SDK), ``name[]=..`` or repeated ``name=..``."""
    indexed: list[tuple[int, int, str]] = []
    for order, (key, value) in enumerate(request.query_params.multi_items()):
        if key == name or key == f"{name}[]":
            indexed.append((order, order, value))
        elif key.startswith(f"{name}[") and key.endswith("]"):
            inner = key[len(name) + 1 : -1]
            if inner.isdigit():
                indexed.append((int(inner), order, value))
    indexed.sort()
    return [value for _, _, value in indexed]


def _list_params(request: Request, attributes: Mapping[str, Any]) -> Any:
    query = Params(dict(request.query_params))
    return parse_list_request(
        _query_list(request, "queries"),
        attributes,
        search=query.string("search", max_length=256),
        total=query.boolean("total", True),
    )


# -- the API -------------------------------------------------------------------------------------

Handler = Callable[[Request], Awaitable[Response]]


class Api:
    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self.store = platform.store
        self.project = platform.project_id

    async def caller(self, request: Request, scope: str | None) -> Caller:
        caller = await authenticate(
            request.headers, self.platform.keys, self.project, asyncio.get_running_loop().time()
        )
        if scope is not None:
            require_scope(caller, scope, self.project)
        return caller

    async def function(self, function_id: str) -> dict[str, Any]:
        row = await self.store.get_function(self.project, function_id)
        if row is None:
            raise AppwriteError(
                404, "function_not_found", "Function with the requested ID could not be found."
            )
        return row

    async def scoped_function(self, request: Request, scope: str) -> tuple[str, dict[str, Any]]:
        """Check the caller has ``scope``, then find the path's function: (its id, its row)."""
        await self.caller(request, scope)
        function_id = request.path_params["function_id"]
        return function_id, await self.function(function_id)

    async def function_json(self, row: Mapping[str, Any]) -> dict[str, Any]:
        variables = await self.store.function_variables(self.project, row["id"])
        return models.function_json(row, variables)

    async def deployment(self, function_id: str, deployment_id: str) -> dict[str, Any]:
        row = await self.store.get_deployment(deployment_id)
        if row is None or row["function_id"] != function_id or row["project_id"] != self.project:
            raise AppwriteError(
                404,
                "deployment_not_found",
                "Deployment with the requested ID could not be found.",
            )
        return row

    # -- runtimes & specifications ---------------------------------------------------------------

    async def list_runtimes(self, request: Request) -> Response:
        await self.caller(request, None)  # public, but the project must exist
        runtimes = [models.runtime_json(r) for r in models.RUNTIMES]
        total = Params(dict(request.query_params)).boolean("total", True)
        return _json({"total": len(runtimes) if total else 0, "runtimes": runtimes})

    async def list_specifications(self, request: Request) -> Response:
        await self.caller(request, "functions.read")
        spec = {
            "memory": 512,
            "cpus": 1,
            "enabled": True,
            "slug": models.DEFAULT_SPECIFICATION,
        }
        return _json({"total": 1, "specifications": [spec]})

    # -- functions -------------------------------------------------------------------------------

    def _function_fields(self, params: Params, stored: Mapping[str, Any] | None) -> dict[str, Any]:
        """The writable fields of a function (create, or PUT's full replace)."""
        runtime = params.string("runtime", required=stored is None, max_length=64)
        if not runtime and stored is not None:
            runtime = stored["runtime"]
        if runtime not in models.RUNTIMES:
            raise AppwriteError(
                404,
                "function_runtime_unsupported",
                f'Runtime "{runtime}" is not supported by this host. Available runtimes: '
                f"{', '.join(models.RUNTIMES)}",
            )
        schedule = params.string("schedule", max_length=256)
        if schedule and not croniter.is_valid(schedule):
            raise argument_invalid(
                f"Invalid `schedule` param: Value must be a valid CRON: {schedule}"
            )
        entrypoint = params.string("entrypoint", max_length=1028)
        if not entrypoint and stored is not None:
            entrypoint = stored["entrypoint"]
        extra = dict(models.FUNCTION_EXTRAS)
        if stored is not None:
            # Kept when not sent (Appwrite keeps branches, paths and specifications on PUT).
            for key in (
                "providerBranches",
                "providerPaths",
                "buildSpecification",
                "runtimeSpecification",
            ):
                extra[key] = stored["extra"].get(key, extra[key])
        for key in (
            "description",
            "installationId",
            "providerRepositoryId",
            "providerBranch",
            "providerRootDirectory",
        ):
            if params.has(key):
                extra[key] = params.string(key, max_length=2048)
        for key in ("buildSpecification", "runtimeSpecification"):
            if params.has(key):
                extra[key] = params.string(key, max_length=128)
        extra["providerSilentMode"] = params.boolean("providerSilentMode", False)
        for key in ("providerBranches", "providerPaths"):
            value = params.strings(key)
            if value is not None:
                extra[key] = value
        extra["deploymentRetention"] = params.integer("deploymentRetention", 0, 0, 36500)
        return {
            "name": params.string("name", required=True, max_length=128),
            "runtime": runtime,
            "execute": params.strings("execute", max_items=100) or [],
            "events": params.strings("events", max_items=100) or [],
            "schedule": schedule,
            "timeout": params.integer("timeout", 15, 1, 900),
            "enabled": params.boolean("enabled", True),
            "logging": params.boolean("logging", True),
            "entrypoint": entrypoint,
            "commands": params.string("commands", max_length=8192),
            "scopes": params.strings("scopes", max_items=200) or [],
            "extra": extra,
        }

    async def create_function(self, request: Request) -> Response:
        await self.caller(request, "functions.write")
        params = await _body(request)
        function_id = params.identifier("functionId")
        fields = self._function_fields(params, None)
        stamp = now()
        row = {
            "project_id": self.project,
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
            raise AppwriteError(
                409, "function_already_exists", "Function with the requested ID already exists."
            ) from None
        self.platform.invalidate(function_id)
        return _json(models.function_json(row), 201)

    async def list_functions(self, request: Request) -> Response:
        await self.caller(request, "functions.read")
        rows, total = await self.store.list_functions(
            self.project, _list_params(request, FUNCTION_ATTRIBUTES)
        )
        return _json({"total": total, "functions": [await self.function_json(r) for r in rows]})

    async def get_function(self, request: Request) -> Response:
        await self.caller(request, "functions.read")
        row = await self.function(request.path_params["function_id"])
        return _json(await self.function_json(row))

    async def update_function(self, request: Request) -> Response:
        function_id, stored = await self.scoped_function(request, "functions.write")
        params = await _body(request)
        fields = self._function_fields(params, stored)
        changed = any(
            fields[key] != stored[key] for key in ("name", "entrypoint", "commands", "runtime")
        )
        if changed:
            fields["live"] = False
        row = await self.platform.update_function(function_id, fields)
        if row is None:
            raise AppwriteError(
                404, "function_not_found", "Function with the requested ID could not be found."
            )
        if fields["timeout"] != stored["timeout"] or fields["runtime"] != stored["runtime"]:
            await self.platform.workers.retire(function_id)
        return _json(await self.function_json(row))

    async def delete_function(self, request: Request) -> Response:
        function_id, _ = await self.scoped_function(request, "functions.write")
        await self.platform.delete_function(function_id)
        return _no_content()

    async def set_function_deployment(self, request: Request) -> Response:
        function_id, _ = await self.scoped_function(request, "functions.write")
        params = await _body(request)
        deployment = await self.deployment(
            function_id, params.string("deploymentId", required=True)
        )
        if deployment["status"] != "ready":
            raise AppwriteError(
                400,
                "build_not_ready",
                "Build not ready: the deployment's status is "
                f'"{deployment["status"]}"; wait until it is "ready".',
            )
        row = await self.platform.activate(function_id, deployment)
        assert row is not None
        return _json(await self.function_json(row))

    # -- variables -------------------------------------------------------------------------------

    async def variable(self, function_id: str, variable_id: str) -> dict[str, Any]:
        row = await self.store.get_variable(self.project, function_id, variable_id)
        if row is None:
            raise AppwriteError(
                404, "variable_not_found", "Variable with the requested ID could not be found."
            )
        return row

    async def create_variable(self, request: Request) -> Response:
        function_id, _ = await self.scoped_function(request, "functions.write")
        params = await _body(request)
        variable_id = params.identifier("variableId")
        stamp = now()
        row = {
            "project_id": self.project,
            "function_id": function_id,
            "id": variable_id,
            "created_at": stamp,
            "updated_at": stamp,
            "key": _variable_key(params.string("key", required=True, max_length=255)),
            "value": params.string("value", required=True, max_length=8192),
            "secret": params.boolean("secret", False),
            "description": params.string("description", max_length=255),
        }
        try:
            await self.store.create_variable(row)
        except Duplicate:
            raise AppwriteError(
                409,
                "variable_already_exists",
                "Variable with the same ID or key already exists in this function.",
            ) from None
        await self.platform.variables_changed(function_id)
        return _json(models.variable_json(row), 201)

    async def list_variables(self, request: Request) -> Response:
        function_id, _ = await self.scoped_function(request, "functions.read")
        rows, total = await self.store.list_variables(
            self.project, function_id, _list_params(request, VARIABLE_ATTRIBUTES)
        )
        return _json({"total": total, "variables": [models.variable_json(r) for r in rows]})

    async def get_variable(self, request: Request) -> Response:
        function_id, _ = await self.scoped_function(request, "functions.read")
        row = await self.variable(function_id, request.path_params["variable_id"])
        return _json(models.variable_json(row))

    async def update_variable(self, request: Request) -> Response:
        function_id, _ = await self.scoped_function(request, "functions.write")
        variable_id = request.path_params["variable_id"]
        stored = await self.variable(function_id, variable_id)
        params = await _body(request)
        values: dict[str, Any] = {}
        if params.has("key"):
            values["key"] = _variable_key(params.string("key", required=True, max_length=255))
        if params.has("value"):
            values["value"] = params.string("value", max_length=8192)
        if params.has("description"):
            values["description"] = params.string("description", max_length=255)
        if params.has("secret"):
            secret = params.boolean("secret", False)
            if stored["secret"] and not secret:
                raise AppwriteError(
                    400,
                    "variable_cannot_unset_secret",
                    "Secret variables cannot be marked as non-secret. Delete and recreate it.",
                )
            values["secret"] = secret
        try:
            row = await self.store.update_variable(self.project, function_id, variable_id, values)
        except Duplicate:
            raise AppwriteError(
                409, "variable_already_exists", "A variable with the same key already exists."
            ) from None
        assert row is not None
        await self.platform.variables_changed(function_id)
        return _json(models.variable_json(row))

    async def delete_variable(self, request: Request) -> Response:
        function_id, _ = await self.scoped_function(request, "functions.write")
        variable_id = request.path_params["variable_id"]
        await self.variable(function_id, variable_id)
        await self.store.delete_variable(self.project, function_id, variable_id)
        await self.platform.variables_changed(function_id)
        return _no_content()

    # -- deployments -----------------------------------------------------------------------------

    async def create_deployment(self, request: Request) -> Response:
        function_id, function = await self.scoped_function(request, "functions.write")
        limit = self.platform.config.max_source_size
        length = request.headers.get("content-length", "")
        if length.isdigit() and int(length) > min(limit, CHUNK_SIZE) + 1024 * 1024 + (
            limit if "content-range" not in request.headers else 0
        ):
            raise _file_too_large(limit)
        chunk_range = _parse_range(request.headers.get("content-range"))
        if chunk_range is not None and chunk_range[2] > limit:
            raise _file_too_large(limit)
        try:
            form = await request.form(max_files=1, max_fields=16, max_part_size=64 * 1024)
        except HTTPException as exc:
            raise argument_invalid(f"Invalid multipart body: {exc.detail}") from None
        async with contextlib.AsyncExitStack() as stack:
            stack.push_async_callback(form.close)
            code = form.get("code")
            if not isinstance(code, UploadFile):
                raise AppwriteError(400, "storage_file_empty", "No file sent.")
            filename = code.filename or ""
            if not (filename.endswith(".gz") or filename.endswith(".tgz")):
                raise AppwriteError(
                    400,
                    "storage_file_type_unsupported",
                    f'File extension not allowed: "{filename}"; upload a .tar.gz archive.',
                )
            fields = Params({k: v for k, v in form.items() if isinstance(v, str)})
            entrypoint = (
                fields.string("entrypoint", max_length=1028)
                or function["entrypoint"]
                or "http_functions.py"
            )
            settings = {
                "entrypoint": entrypoint,
                "commands": fields.string("commands", max_length=8192) or function["commands"],
                "activate": fields.boolean("activate", False),
            }
            if chunk_range is None:
                return await self._single_upload(function_id, code, settings)
            return await self._chunk_upload(
                function_id, code, settings, chunk_range, request.headers.get("x-appwrite-id", "")
            )
        raise AssertionError("unreachable")  # pragma: no cover

    def _new_deployment(
        self, function_id: str, settings: Mapping[str, Any], **values: Any
    ) -> dict[str, Any]:
        stamp = now()
        return {
            "id": new_id(),
            "project_id": self.project,
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

    async def _single_upload(
        self, function_id: str, code: UploadFile, settings: Mapping[str, Any]
    ) -> Response:
        limit = self.platform.config.max_source_size
        row = self._new_deployment(function_id, settings, chunks_total=1, chunks_uploaded=1)
        source = self.platform.paths.source(function_id, row["id"])
        try:
            size = await asyncio.to_thread(_save_upload, code, source, limit)
        except _TooLarge:
            await asyncio.to_thread(shutil.rmtree, source.parent, True)
            raise _file_too_large(limit) from None
        if size == 0:
            await asyncio.to_thread(shutil.rmtree, source.parent, True)
            raise AppwriteError(400, "storage_file_empty", "The uploaded file is empty.")
        row.update(source_size=size, total_size=size)
        await self.store.create_deployment(row)
        await self.platform.deployment_uploaded(row)
        return _json(models.deployment_json(row), 202)

    async def _chunk_upload(
        self,
        function_id: str,
        code: UploadFile,
        settings: Mapping[str, Any],
        chunk_range: tuple[int, int, int],
        upload_id: str,
    ) -> Response:
        start, end, size = chunk_range
        chunks = max(1, math.ceil(size / CHUNK_SIZE))
        index = start // CHUNK_SIZE
        expected_end = min(start + CHUNK_SIZE, size) - 1
        if start % CHUNK_SIZE or end != expected_end:
            raise AppwriteError(
                400,
                "storage_invalid_content_range",
                f"Invalid content range: chunks must be {CHUNK_SIZE} bytes aligned "
                f"(got bytes {start}-{end}/{size})",
            )
        if upload_id:
            row = await self.deployment(function_id, upload_id)
            if int(row["chunks_total"]) != chunks:
                raise AppwriteError(
                    400,
                    "storage_invalid_content_range",
                    "Invalid content range: the total size differs from the first chunk's",
                )
        else:
            row = self._new_deployment(
                function_id,
                settings,
                chunks_total=chunks,
                chunks_uploaded=0,
                source_size=size,
                total_size=size,
            )
            await self.store.create_deployment(row)
        deployment_id = row["id"]
        if int(row["chunks_uploaded"]) >= chunks:
            return _json(models.deployment_json(row), 202)
        parts = self.platform.paths.uploads(deployment_id)
        part = parts / f"{index:06d}.part"
        try:
            written = await asyncio.to_thread(_save_upload, code, part, end - start + 1, True)
        except _TooLarge:
            written = -1
        if written != end - start + 1:
            with contextlib.suppress(OSError):
                part.unlink()
            raise AppwriteError(
                400,
                "storage_invalid_content_range",
                f"Invalid content range: the chunk holds {written} bytes, the range says "
                f"{end - start + 1}",
            )
        async with self.platform.upload_lock(deployment_id):
            counted = parts / f"{index:06d}.counted"
            if counted.exists():
                current = await self.store.get_deployment(deployment_id)
            else:
                counted.touch()
                current = await self.store.record_chunk(deployment_id)
            if current is None:
                raise AppwriteError(
                    404, "deployment_not_found", "The deployment was deleted during the upload."
                )
            if (
                int(current["chunks_uploaded"]) == chunks
                and not self.platform.paths.source(function_id, deployment_id).exists()
            ):
                source = self.platform.paths.source(function_id, deployment_id)
                await asyncio.to_thread(_assemble, parts, chunks, source)
                await self.platform.deployment_uploaded(current)
        return _json(models.deployment_json(current), 202)

    async def duplicate_deployment(self, request: Request) -> Response:
        function_id, _ = await self.scoped_function(request, "functions.write")
        params = await _body(request)
        original = await self.deployment(function_id, params.string("deploymentId", required=True))
        if int(original["chunks_uploaded"]) < int(original["chunks_total"]):
            raise AppwriteError(400, "build_not_ready", "The deployment's upload is incomplete.")
        row = self._new_deployment(
            function_id,
            {
                "entrypoint": original["entrypoint"],
                "commands": original["commands"],
                "activate": True,
            },
            chunks_total=1,
            chunks_uploaded=1,
            source_size=original["source_size"],
            total_size=original["source_size"],
        )
        source = self.platform.paths.source(function_id, row["id"])
        source.parent.mkdir(parents=True, exist_ok=True)
        await asyncio.to_thread(
            shutil.copyfile, self.platform.paths.source(function_id, original["id"]), source
        )
        await self.store.create_deployment(row)
        await self.platform.deployment_uploaded(row)
        return _json(models.deployment_json(row), 202)

    async def unsupported_deployment(self, request: Request) -> Response:
        await self.caller(request, "functions.write")
        raise AppwriteError(
            501,
            "general_not_implemented",
            "Template and VCS deployments are not supported by wixhttp platform; upload a "
            ".tar.gz with create_deployment (or `wixhttp deploy`).",
        )

    async def list_deployments(self, request: Request) -> Response:
        function_id, _ = await self.scoped_function(request, "functions.read")
        rows, total = await self.store.list_deployments(
            self.project, function_id, _list_params(request, DEPLOYMENT_ATTRIBUTES)
        )
        return _json({"total": total, "deployments": [models.deployment_json(r) for r in rows]})

    async def get_deployment(self, request: Request) -> Response:
        function_id, _ = await self.scoped_function(request, "functions.read")
        row = await self.deployment(function_id, request.path_params["deployment_id"])
        return _json(models.deployment_json(row))

    async def delete_deployment(self, request: Request) -> Response:
        function_id, function = await self.scoped_function(request, "functions.write")
        deployment_id = request.path_params["deployment_id"]
        await self.deployment(function_id, deployment_id)
        self.platform.builder.cancel(deployment_id)
        await self.store.delete_deployment(deployment_id)
        values: dict[str, Any] = {}
        if function["deployment_id"] == deployment_id:
            values.update(deployment_id="", deployment_created_at="")
        if function["latest_deployment_id"] == deployment_id:
            latest = await self.store.latest_deployment(self.project, function_id)
            values.update(
                latest_deployment_id=latest["id"] if latest else "",
                latest_deployment_created_at=latest["created_at"] if latest else "",
                latest_deployment_status=latest["status"] if latest else "",
            )
        if values:
            await self.platform.update_function(function_id, values)
        self.platform.invalidate(function_id)
        await self.platform.workers.retire(
            function_id, [function["deployment_id"]] if not values.get("deployment_id") else []
        )
        await self.platform.retire_unused(function_id)
        await self.platform.delete_deployment_files(function_id, deployment_id)
        return _no_content()

    async def download_deployment(self, request: Request) -> Response:
        function_id, _ = await self.scoped_function(request, "functions.read")
        row = await self.deployment(function_id, request.path_params["deployment_id"])
        kind = Params(dict(request.query_params)).string("type", default="source")
        paths = self.platform.paths
        if kind == "source":
            source = paths.source(function_id, row["id"])
            if not source.exists():
                raise AppwriteError(
                    404, "deployment_not_found", "The deployment's source is not uploaded yet."
                )
            return FileResponse(
                source,
                media_type="application/gzip",
                filename=f"{row['id']}-source.tar.gz",
            )
        if kind == "output":
            if row["status"] != "ready":
                raise AppwriteError(
                    404, "build_not_found", "The deployment has no build output (not ready)."
                )
            data = await asyncio.to_thread(_pack, paths.code(function_id, row["id"]))
            return Response(
                data,
                media_type="application/octet-stream",
                headers={
                    "Content-Disposition": f'attachment; filename="{row["id"]}-output.tar.gz"'
                },
            )
        raise argument_invalid("Invalid `type` param: Value must be one of (source, output)")

    async def cancel_deployment(self, request: Request) -> Response:
        function_id, _ = await self.scoped_function(request, "functions.write")
        row = await self.deployment(function_id, request.path_params["deployment_id"])
        if row["status"] in ("ready", "failed"):
            raise AppwriteError(
                400,
                "build_already_completed",
                "Build with the requested ID is already completed and cannot be canceled.",
            )
        if row["status"] == "canceled":
            return _json(models.deployment_json(row))
        updated = await self.platform.update_deployment(
            row["id"],
            {"status": "canceled", "build_logs": row["build_logs"] + f"[{now()}] Canceled\n"},
            only_if_status=["waiting", "processing", "building"],
        )
        self.platform.builder.cancel(row["id"])
        if updated is None:  # it finished meanwhile
            updated = await self.deployment(function_id, row["id"])
        return _json(models.deployment_json(updated))

    # -- executions ------------------------------------------------------------------------------

    async def create_execution(self, request: Request) -> Response:
        caller = await self.caller(request, None)
        if caller.is_key:
            require_scope(caller, "executions.write", self.project)
        executions = self.platform.executions
        client_ip = request.client.host if request.client else ""
        limit_headers: dict[str, str] = {}
        if not caller.is_key and executions.config.rate_limit > 0:
            allowed, limit_headers = executions.rate_limiter.hit(client_ip)
            if not allowed:
                raise AppwriteError(
                    429,
                    "general_rate_limit_exceeded",
                    "Rate limit for the current endpoint has been exceeded. Please try again "
                    "after some time.",
                    headers=limit_headers,
                )
        function_id = request.path_params["function_id"]
        params = await _body(request)
        body = params.string("body", max_length=MAX_EXECUTION_BODY)
        is_async = params.boolean("async", False)
        path = params.string("path", default="/", max_length=2048) or "/"
        method = params.string("method", default="POST")
        if method not in EXECUTION_METHODS:
            raise argument_invalid(
                f"Invalid `method` param: Value must be one of ({', '.join(EXECUTION_METHODS)})"
            )
        raw_headers = _headers_param(params.data.get("headers"))
        scheduled_at = (
            params.string("scheduledAt", max_length=100) if params.has("scheduledAt") else None
        )
        if scheduled_at is not None and not is_async:
            raise AppwriteError(
                400,
                "general_bad_request",
                "Scheduled executions must run asynchronously. Set scheduledAt to a future date, "
                "or set async to true.",
            )
        due = (
            scheduled_time(scheduled_at, executions.config.min_schedule_lead)
            if scheduled_at is not None
            else None
        )
        headers = _execution_headers(raw_headers)
        routes = await self.platform.function_routes(function_id)
        if routes is None or (not routes.function["enabled"] and not caller.is_key):
            raise AppwriteError(
                404, "function_not_found", "Function with the requested ID could not be found."
            )
        if not routes.active_status:
            raise AppwriteError(
                404,
                "deployment_not_found",
                "Deployment not found. Create a deployment before trying to execute a function",
            )
        if routes.active_status != "ready" or routes.production is None:
            raise AppwriteError(
                400,
                "build_not_ready",
                "Build not ready: the function's active deployment is "
                f'"{routes.active_status}", not "ready".',
            )
        execute = list(routes.function["execute"])
        if not caller.is_key and not {"any", "guests"} & set(execute):
            raise AppwriteError(
                401,
                "user_unauthorized",
                "The current user is not authorized to perform the requested action: missing "
                f'"execute" permission for role "guests"; the function allows {json.dumps(execute)}'
                ". Send an API key with executions.write in X-Appwrite-Key.",
            )
        call = Call(
            method=method,
            path=path,
            headers=headers,
            body=body,
            client_ip=client_ip,
            host=request.headers.get("host", ""),
            scheme=request.url.scheme,
        )
        if due is not None:
            row = await executions.schedule(routes, call, due)
            return JSONResponse(models.execution_json(row), 202, headers=limit_headers)
        if is_async:
            row = await executions.enqueue(routes, call)
            return JSONResponse(models.execution_json(row), 202, headers=limit_headers)
        row, outcome = await executions.run_sync(routes, call)
        response_headers = [
            {"name": k.decode("latin-1"), "value": v.decode("utf-8", "replace")}
            for k, v in outcome.headers
        ]
        response_headers.append({"name": "x-appwrite-execution-id", "value": row["id"]})
        data = models.execution_json(
            row,
            response_body=outcome.body.decode("utf-8", "replace"),
            response_headers=response_headers,
        )
        return JSONResponse(data, 201, headers=limit_headers)

    async def _execution_function(self, request: Request, scope: str) -> dict[str, Any]:
        caller = await self.caller(request, scope)
        row = await self.function(request.path_params["function_id"])
        if not row["enabled"] and not caller.is_key:
            raise AppwriteError(
                404, "function_not_found", "Function with the requested ID could not be found."
            )
        return row

    async def _execution(self, function_id: str, execution_id: str) -> dict[str, Any]:
        writer = self.platform.executions.writer
        if writer.has(execution_id):
            await writer.flush()
        row = await self.store.get_execution(self.project, function_id, execution_id)
        if row is None:
            raise AppwriteError(
                404, "execution_not_found", "Execution with the requested ID could not be found."
            )
        return row

    async def list_executions(self, request: Request) -> Response:
        function = await self._execution_function(request, "executions.read")
        list_request = _list_params(request, EXECUTION_ATTRIBUTES)
        writer = self.platform.executions.writer
        if writer.busy:
            await writer.flush()
        rows, total = await self.store.list_executions(self.project, function["id"], list_request)
        return _json({"total": total, "executions": [models.execution_json(row) for row in rows]})

    async def get_execution(self, request: Request) -> Response:
        function = await self._execution_function(request, "executions.read")
        row = await self._execution(function["id"], request.path_params["execution_id"])
        return _json(models.execution_json(row))

    async def delete_execution(self, request: Request) -> Response:
        function = await self._execution_function(request, "executions.write")
        row = await self._execution(function["id"], request.path_params["execution_id"])
        status = row["status"]
        executions = self.platform.executions
        if status in ("waiting", "processing") or (
            status == "scheduled" and not executions.cancel(row["id"])
        ):
            raise AppwriteError(
                400,
                "execution_in_progress",
                f"The execution is {status if status != 'scheduled' else 'starting'}: it can be "
                "deleted once it has completed or failed (a scheduled one, until it starts).",
            )
        writer = executions.writer
        await writer.flush(writer.delete(row["id"]))
        return _no_content()


MAX_EXECUTION_BODY = 10_485_760
EXECUTION_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD")
_HEADER_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?$")
_HEADERS_INVALID = (
    'Invalid headers: Alphanumeric characters or hyphens only, cannot start with "x-appwrite", '
    "maximum 100 keys, and total size 16384."
)


def _headers_param(value: Any) -> dict[str, Any]:
    """``headers``: a JSON object, or a string holding one (Appwrite takes both)."""
    if value is None or value == [] or value == "":
        return {}
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise AppwriteError(400, "general_bad_request", _HEADERS_INVALID) from None
        if value is None or value == []:
            return {}
        if not isinstance(value, dict):
            raise AppwriteError(400, "general_bad_request", _HEADERS_INVALID)
    if not isinstance(value, dict):
        raise argument_invalid("Invalid `headers` param: Value must be a valid object")
    return value


def _execution_headers(raw: Mapping[str, Any]) -> dict[str, str]:
    """Appwrite's Headers validator: at most 100 keys, names of letters, digits and inner
    hyphens, none starting with ``x-appwrite-``, keys and values under 16 KiB in total. Values
    are coerced to strings (the SDK passes ints through); line breaks are refused."""
    if len(raw) > 100:
        raise AppwriteError(400, "general_bad_request", _HEADERS_INVALID)
    size = 0
    headers: dict[str, str] = {}
    for key, value in raw.items():
        if isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, (int, float)):
            text = str(value)
        elif value is None:
            text = ""
        elif isinstance(value, str):
            text = value
        else:
            raise AppwriteError(400, "general_bad_request", _HEADERS_INVALID)
        size += len(key) + len(text)
        if (
            size >= 16384
            or not _HEADER_NAME.match(key)
            or key.lower().startswith("x-appwrite-")
            or any(c in text for c in "\r\n\0")
        ):
            raise AppwriteError(400, "general_bad_request", _HEADERS_INVALID)
        headers[key] = text
    return headers


def _variable_key(key: str) -> str:
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key):
        raise argument_invalid(
            "Invalid `key` param: a variable key is an environment variable name: letters, "
            "digits and underscores, not starting with a digit"
        )
    return key


def _file_too_large(limit: int) -> AppwriteError:
    return AppwriteError(
        400,
        "deployment_invalid_file_size",
        f"The file size is either not valid or exceeds the maximum allowed size of {limit} bytes.",
    )


def _parse_range(header: str | None) -> tuple[int, int, int] | None:
    if header is None:
        return None
    match = _CONTENT_RANGE.match(header.strip())
    if not match:
        raise AppwriteError(
            400, "storage_invalid_content_range", f"Invalid content range: {header[:100]}"
        )
    start, end, size = (int(g) for g in match.groups())
    if not start <= end < size:
        raise AppwriteError(
            400, "storage_invalid_content_range", f"Invalid content range: {header[:100]}"
        )
    return start, end, size


class _TooLarge(Exception):
    pass


def _save_upload(upload: UploadFile, target: Any, limit: int, exact: bool = False) -> int:
    """Copy an upload to ``target`` (atomically); raises :class:`_TooLarge` past ``limit``."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + f".{os.getpid()}.{id(upload)}.tmp")
    size = 0
    upload.file.seek(0)
    try:
        with open(tmp, "wb") as out:
            while True:
                block = upload.file.read(1024 * 1024)
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


def _assemble(parts: Any, chunks: int, source: Any) -> None:
    source.parent.mkdir(parents=True, exist_ok=True)
    tmp = source.with_name(source.name + ".tmp")
    with open(tmp, "wb") as out:
        for index in range(chunks):
            with open(parts / f"{index:06d}.part", "rb") as part:
                shutil.copyfileobj(part, out, 1024 * 1024)
    os.replace(tmp, source)
    shutil.rmtree(parts, ignore_errors=True)


def _pack(directory: Any) -> bytes:
    return archive.pack(directory)


# -- the proxy to workers ------------------------------------------------------------------------


class _ClientGone(Exception):
    """The caller disconnected before its request body was complete."""


class FunctionProxy:
    """``/functions/{id}/_functions/...`` (active deployment) and ``.../_functions-dev/...``
    (latest ready deployment) forwarded to the function's worker. Raw ASGI for speed."""

    def __init__(self, platform: Platform, prefix: str, max_body: int = 10 * 1024 * 1024) -> None:
        self.platform = platform
        self.prefix = prefix
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            answer = await self.handle(scope, receive)
        except AppwriteError as error:
            answer = _error_response(error)
        except _ClientGone:
            return
        if isinstance(answer, Response):
            await answer(scope, receive, send)
            return
        status, headers, body = answer
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def handle(
        self, scope: Scope, receive: Receive
    ) -> Response | tuple[int, list[tuple[bytes, bytes]], bytes]:
        function_id: str = scope["path_params"]["function_id"]
        routes = await self.platform.function_routes(function_id)
        if routes is None:
            raise AppwriteError(
                404, "function_not_found", "Function with the requested ID could not be found."
            )
        headers = scope["headers"]
        function = routes.function
        key_in_authorization = False
        if not {"any", "guests"} & set(function["execute"]) or not function["enabled"]:
            secret = _header(headers, b"x-appwrite-key")
            if not secret:
                bearer = _header(headers, b"authorization")
                secret = bearer[7:].strip() if bearer.lower().startswith("bearer ") else ""
                key_in_authorization = bool(secret)
            caller, project = (
                await self.platform.keys.resolve(secret, asyncio.get_running_loop().time())
                if secret
                else (Caller(None, frozenset()), "")
            )
            if not caller.is_key or project != self.platform.project_id:
                if not function["enabled"]:
                    raise AppwriteError(
                        404,
                        "function_not_found",
                        "Function with the requested ID could not be found.",
                    )
                raise AppwriteError(
                    401,
                    "user_unauthorized",
                    "The current user is not authorized to execute this function: its execute "
                    'list does not contain "any"; send an API key with executions.write in '
                    "X-Appwrite-Key.",
                )
            require_scope(caller, "executions.write", self.platform.project_id)
        spec = routes.production if self.prefix == "_functions" else routes.development
        if spec is None:
            if self.prefix == "_functions":
                message = (
                    "The function has no active deployment: activate a ready deployment "
                    "(publish it) to serve /_functions; /_functions-dev serves the latest "
                    "ready one."
                )
            else:
                message = "The function has no ready deployment yet."
            raise AppwriteError(404, "deployment_not_found", message)
        body = await self._read_body(receive)
        raw_path: bytes = scope.get("raw_path") or scope["path"].encode("utf-8")
        marker = f"/{self.prefix}/".encode()
        target = raw_path[raw_path.index(marker) :] if marker in raw_path else marker
        if scope.get("query_string"):
            target += b"?" + scope["query_string"]
        client = scope.get("client")
        client_ip = str(client[0]) if client else ""
        # The worker believes X-Forwarded-*: only the platform's own values may reach it; the
        # internal x-wixhttp-* control headers and the x-appwrite-* headers the platform
        # injects (execution id, trigger, client IP, ...) never come from a caller, and the
        # caller's API key (x-appwrite-key, or Authorization when it carried the key) is not
        # handed to the function's code.
        forwarded = [
            (k, v)
            for k, v in headers
            if not k.startswith((b"x-forwarded-", b"x-wixhttp-", b"x-appwrite-"))
            and not (key_in_authorization and k == b"authorization")
        ]
        execution_id = new_id()
        forwarded.extend(
            (k.encode("latin-1"), v.encode("latin-1"))
            for k, v in injected_headers(execution_id, "http", client_ip)
        )
        if client_ip:
            forwarded.append((b"x-forwarded-for", client_ip.encode()))
        forwarded.append((b"x-forwarded-proto", str(scope.get("scheme", "http")).encode()))
        forwarded.append((b"x-forwarded-prefix", f"/functions/{function_id}".encode()))
        # With the function's logging on, the call is recorded as an execution (trigger http),
        # its logs captured; the record is written in a batch, off this request's path.
        record = bool(function["logging"])
        if record:
            forwarded.append((CAPTURE_HEADER, execution_id.encode("latin-1")))
            created_at = now()
            started = time.perf_counter()
        try:
            result = await self.platform.workers.forward(
                spec, scope["method"], target, forwarded, body
            )
        except WorkerError as exc:
            if record:
                self.platform.executions.record_http(
                    spec,
                    execution_id,
                    created_at,
                    scope["method"],
                    target,
                    headers,
                    client_ip,
                    exc,
                    started,
                )
            # Not an SDK route: answer as a gateway would (502/503/504), in Appwrite's shape.
            return JSONResponse(
                {
                    "message": str(exc),
                    "code": exc.status,
                    "type": _GATEWAY_TYPES[exc.status],
                    "version": VERSION,
                },
                status_code=exc.status,
                headers=_NO_CACHE,
            )
        if record:
            self.platform.executions.record_http(
                spec,
                execution_id,
                created_at,
                scope["method"],
                target,
                headers,
                client_ip,
                result,
                started,
            )
        reply = [
            (k, v)
            for k, v in result.headers
            if k != b"content-length" and not k.startswith(b"x-wixhttp-")
        ]
        if scope["method"] == "HEAD":
            length = [(k, v) for k, v in result.headers if k == b"content-length"]
            return result.status, reply + length, b""
        reply.append((b"content-length", str(len(result.body)).encode()))
        return result.status, reply, result.body

    async def _read_body(self, receive: Receive) -> bytes:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise _ClientGone  # never forward half a body as if it were the whole
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                raise AppwriteError(
                    400,
                    "general_argument_invalid",
                    f"The request body exceeds {self.max_body} bytes.",
                )
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks)


def _header(headers: list[tuple[bytes, bytes]], name: bytes) -> str:
    for key, value in headers:
        if key.lower() == name:
            return value.decode("latin-1")
    return ""


# -- the app -------------------------------------------------------------------------------------


async def _appwrite_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, AppwriteError)
    return _error_response(exc)


async def _cursor_not_found(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, CursorNotFound)
    message = f'Document with ID "{exc.cursor}" could not be found.'
    return _error_response(AppwriteError(400, "general_cursor_not_found", message))


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        error = AppwriteError(404, "general_route_not_found", _ROUTE_NOT_FOUND)
    elif exc.status_code == 405:
        error = AppwriteError(405, "general_route_not_found", "Method not allowed on this route.")
    else:
        error = AppwriteError(exc.status_code, "general_unknown", str(exc.detail))
    return _error_response(error)


async def _server_error(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return _error_response(AppwriteError(500, "general_unknown", "Server Error"))


def create_platform_app(config: PlatformConfig, platform: Platform | None = None) -> PlatformApp:
    """The platform as an ASGI app; its lifespan starts and stops builds and workers."""
    platform = platform or Platform(config)
    api = Api(platform)
    wix = activation.ActivationApi(platform)
    production = FunctionProxy(platform, "_functions")
    development = FunctionProxy(platform, "_functions-dev")

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        await platform.start()
        try:
            yield
        finally:
            await platform.stop()

    fn = "/v1/functions/{function_id}"
    routes = [
        Route("/v1/functions", api.list_functions, methods=["GET"]),
        Route("/v1/functions", api.create_function, methods=["POST"]),
        Route("/v1/functions/runtimes", api.list_runtimes, methods=["GET"]),
        Route("/v1/functions/specifications", api.list_specifications, methods=["GET"]),
        Route(fn, api.get_function, methods=["GET"]),
        Route(fn, api.update_function, methods=["PUT"]),
        Route(fn, api.delete_function, methods=["DELETE"]),
        Route(fn + "/deployment", api.set_function_deployment, methods=["PATCH"]),
        Route(fn + "/variables", api.list_variables, methods=["GET"]),
        Route(fn + "/variables", api.create_variable, methods=["POST"]),
        Route(fn + "/variables/{variable_id}", api.get_variable, methods=["GET"]),
        Route(fn + "/variables/{variable_id}", api.update_variable, methods=["PUT"]),
        Route(fn + "/variables/{variable_id}", api.delete_variable, methods=["DELETE"]),
        Route(fn + "/deployments", api.list_deployments, methods=["GET"]),
        Route(fn + "/deployments", api.create_deployment, methods=["POST"]),
        Route(fn + "/deployments/duplicate", api.duplicate_deployment, methods=["POST"]),
        Route(fn + "/deployments/template", api.unsupported_deployment, methods=["POST"]),
        Route(fn + "/deployments/vcs", api.unsupported_deployment, methods=["POST"]),
        Route(fn + "/deployments/{deployment_id}", api.get_deployment, methods=["GET"]),
        Route(fn + "/deployments/{deployment_id}", api.delete_deployment, methods=["DELETE"]),
        Route(
            fn + "/deployments/{deployment_id}/download",
            api.download_deployment,
            methods=["GET"],
        ),
        Route(fn + "/deployments/{deployment_id}/status", api.cancel_deployment, methods=["PATCH"]),
        Route(fn + "/executions", api.list_executions, methods=["GET"]),
        Route(fn + "/executions", api.create_execution, methods=["POST"]),
        Route(fn + "/executions/{execution_id}", api.get_execution, methods=["GET"]),
        Route(fn + "/executions/{execution_id}", api.delete_execution, methods=["DELETE"]),
        Route("/functions/v1/activations/upsert", wix.upsert, methods=["POST"]),
        Route("/functions/v1/activations/{function_id}", wix.delete, methods=["DELETE"]),
    ]
    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        exception_handlers={
            AppwriteError: _appwrite_error,
            CursorNotFound: _cursor_not_found,
            HTTPException: _http_error,
            Exception: _server_error,
        },
    )
    return PlatformApp(app, platform, production, development)


class PlatformApp:
    """The ASGI entry point. Function traffic (``/functions/{id}/_functions[-dev]/...``) goes
    straight to the proxy, skipping the router and middleware: it is the hot path. Everything
    else, lifespan included, is the Starlette app's."""

    def __init__(
        self,
        app: Starlette,
        platform: Platform,
        production: FunctionProxy,
        development: FunctionProxy,
    ) -> None:
        self.app = app
        self.platform = platform
        self._proxies = {"_functions": production, "_functions-dev": development}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path: str = scope["path"]
            if path.startswith("/functions/"):
                parts = path.split("/", 4)
                if len(parts) >= 4 and parts[2]:
                    proxy = self._proxies.get(parts[3])
                    if proxy is not None:
                        scope["path_params"] = {"function_id": parts[2]}
                        try:
                            await proxy(scope, receive, send)
                        except Exception:
                            log.exception("proxy error on %s", path)
                            await _error_response(
                                AppwriteError(500, "general_unknown", "Server Error")
                            )(scope, receive, send)
                        return
        await self.app(scope, receive, send)


__all__ += ["Api", "FunctionProxy", "Params", "PlatformApp", "VERSION"]
