"""``/v1/functions``: runtimes, specifications, functions, and the active deployment."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from croniter import croniter
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from wixhttp.platform import errors, models
from wixhttp.platform.api.context import Resource, json_response, no_content
from wixhttp.platform.api.params import Params, list_params, query_params, read_json
from wixhttp.platform.api.variables import variable_key
from wixhttp.platform.store import FUNCTION_ATTRIBUTES, new_id

__all__ = ["FunctionsApi"]

#: Kept when not sent on PUT (Appwrite keeps branches, paths and specifications).
_KEPT_EXTRAS = ("providerBranches", "providerPaths", "buildSpecification", "runtimeSpecification")
_TEXT_EXTRAS = (
    "description",
    "installationId",
    "providerRepositoryId",
    "providerBranch",
    "providerRootDirectory",
)


class FunctionsApi(Resource):
    def routes(self, fn: str) -> list[Route]:
        return [
            Route("/v1/functions", self.list, methods=["GET"]),
            Route("/v1/functions", self.create, methods=["POST"]),
            Route("/v1/functions/runtimes", self.list_runtimes, methods=["GET"]),
            Route("/v1/functions/specifications", self.list_specifications, methods=["GET"]),
            Route(fn, self.get, methods=["GET"]),
            Route(fn, self.update, methods=["PUT"]),
            Route(fn, self.delete, methods=["DELETE"]),
            Route(fn + "/deployment", self.set_deployment, methods=["PATCH"]),
        ]

    async def list_runtimes(self, request: Request) -> Response:
        await self.caller(request, None)  # public, but the project must exist
        runtimes = [models.runtime_json(r) for r in models.RUNTIMES]
        total = query_params(request).boolean("total", True)
        return json_response({"total": len(runtimes) if total else 0, "runtimes": runtimes})

    async def list_specifications(self, request: Request) -> Response:
        await self.caller(request, "functions.read")
        spec = {"memory": 512, "cpus": 1, "enabled": True, "slug": models.DEFAULT_SPECIFICATION}
        return json_response({"total": 1, "specifications": [spec]})

    async def create(self, request: Request) -> Response:
        await self.caller(request, "functions.write")
        params = await read_json(request)
        function_id = params.identifier("functionId")
        fields, variables = _function_fields(params, None), _vars(params)
        row = await self.services.functions.create(function_id, fields)
        if variables:
            await self._set_vars(function_id, variables)
            return json_response(await self.services.functions.with_variables(row), 201)
        return json_response(models.function_json(row), 201)

    async def list(self, request: Request) -> Response:
        await self.caller(request, "functions.read")
        functions = self.services.functions
        rows, total = await functions.page(list_params(request, FUNCTION_ATTRIBUTES))
        data = [await functions.with_variables(r) for r in rows]
        return json_response({"total": total, "functions": data})

    async def get(self, request: Request) -> Response:
        await self.caller(request, "functions.read")
        functions = self.services.functions
        row = await functions.get(request.path_params["function_id"])
        return json_response(await functions.with_variables(row))

    async def update(self, request: Request) -> Response:
        stored = await self.scoped_function(request, "functions.write")
        params = await read_json(request)
        fields, variables = _function_fields(params, stored), _vars(params)
        row = await self.services.functions.replace(stored, fields)
        if variables is not None:
            await self._set_vars(stored["id"], variables)
        return json_response(await self.services.functions.with_variables(row))

    async def _set_vars(self, function_id: str, variables: dict[str, str]) -> None:
        """The seed API's ``vars``: the function's variables become exactly these."""
        functions = self.services.functions
        existing = await functions.store.function_variables(self.project, function_id)
        for row in existing:
            if row["key"] not in variables:
                await functions.delete_variable(function_id, row["id"])
            elif row["value"] != variables[row["key"]]:
                await functions.update_variable(row, {"value": variables[row["key"]]})
        known = {row["key"] for row in existing}
        for key, value in variables.items():
            if key not in known:
                values = {"key": key, "value": value, "secret": False, "description": ""}
                await functions.create_variable(function_id, new_id(), values)

    async def delete(self, request: Request) -> Response:
        function = await self.scoped_function(request, "functions.write")
        await self.services.functions.delete(function["id"])
        return no_content()

    async def set_deployment(self, request: Request) -> Response:
        function = await self.scoped_function(request, "functions.write")
        params = await read_json(request)
        deployment = await self.services.deployments.get(
            function["id"], params.string("deploymentId", required=True)
        )
        row = await self.services.functions.set_deployment(function["id"], deployment)
        return json_response(await self.services.functions.with_variables(row))


def _function_fields(params: Params, stored: Mapping[str, Any] | None) -> dict[str, Any]:
    """The writable fields of a function (create, or PUT's full replace)."""
    runtime = params.string("runtime", required=stored is None, max_length=64)
    if not runtime and stored is not None:
        runtime = stored["runtime"]
    if runtime not in models.RUNTIMES:
        raise errors.function_runtime_unsupported(runtime, list(models.RUNTIMES))
    schedule = params.string("schedule", max_length=256)
    if schedule and not croniter.is_valid(schedule):
        raise errors.argument_invalid(
            f"Invalid `schedule` param: Value must be a valid CRON: {schedule}"
        )
    entrypoint = params.string("entrypoint", max_length=1028)
    if not entrypoint and stored is not None:
        entrypoint = stored["entrypoint"]
    extra = _extra_fields(params, stored)  # validated before the rest, as Appwrite does
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


def _vars(params: Params) -> dict[str, str] | None:
    """The seed API's ``vars`` (``{"KEY": "value"}``), checked; None when not sent."""
    value = params.data.get("vars")
    if value is None:
        return None
    if not isinstance(value, dict) or len(value) > 100:
        raise errors.argument_invalid(
            "Invalid `vars` param: Value must be a JSON object of at most 100 variables "
            '(e.g. {"KEY": "value"})'
        )
    variables: dict[str, str] = {}
    for key, text in value.items():
        checked = Params({"value": text})
        variables[variable_key(str(key))] = checked.string("value", max_length=8192)
    return variables


def _extra_fields(params: Params, stored: Mapping[str, Any] | None) -> dict[str, Any]:
    """The fields Appwrite stores and returns but this platform does not act on."""
    extra = dict(models.FUNCTION_EXTRAS)
    if stored is not None:
        for key in _KEPT_EXTRAS:
            extra[key] = stored["extra"].get(key, extra[key])
    for key in _TEXT_EXTRAS:
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
    return extra
