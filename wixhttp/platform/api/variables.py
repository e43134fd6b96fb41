"""``/v1/functions/{id}/variables``: a function's environment variables."""

from __future__ import annotations

import re
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from wixhttp.platform import errors, models
from wixhttp.platform.api.context import Resource, json_response, no_content
from wixhttp.platform.api.params import list_params, read_json
from wixhttp.platform.store import VARIABLE_ATTRIBUTES, new_id

__all__ = ["VariablesApi", "variable_key"]

_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class VariablesApi(Resource):
    def routes(self, fn: str) -> list[Route]:
        one = fn + "/variables/{variable_id}"
        return [
            Route(fn + "/variables", self.list, methods=["GET"]),
            Route(fn + "/variables", self.create, methods=["POST"]),
            Route(one, self.get, methods=["GET"]),
            Route(one, self.update, methods=["PUT"]),
            Route(one, self.delete, methods=["DELETE"]),
        ]

    async def create(self, request: Request) -> Response:
        function = await self.scoped_function(request, "functions.write")
        params = await read_json(request)
        # Optional: Appwrite 1.9's own OpenAPI has none, and SDKs for 1.7/1.8 never send it.
        variable_id = params.identifier("variableId") if params.has("variableId") else new_id()
        values = {
            "key": variable_key(params.string("key", required=True, max_length=255)),
            "value": params.string("value", required=True, max_length=8192),
            "secret": params.boolean("secret", False),
            "description": params.string("description", max_length=255),
        }
        row = await self.services.functions.create_variable(function["id"], variable_id, values)
        return json_response(models.variable_json(row), 201)

    async def list(self, request: Request) -> Response:
        function = await self.scoped_function(request, "functions.read")
        rows, total = await self.services.functions.list_variables(
            function["id"], list_params(request, VARIABLE_ATTRIBUTES)
        )
        return json_response({"total": total, "variables": [models.variable_json(r) for r in rows]})

    async def get(self, request: Request) -> Response:
        function = await self.scoped_function(request, "functions.read")
        variable_id = request.path_params["variable_id"]
        row = await self.services.functions.variable(function["id"], variable_id)
        return json_response(models.variable_json(row))

    async def update(self, request: Request) -> Response:
        function = await self.scoped_function(request, "functions.write")
        variable_id = request.path_params["variable_id"]
        stored = await self.services.functions.variable(function["id"], variable_id)
        params = await read_json(request)
        values: dict[str, Any] = {}
        if params.has("key"):
            values["key"] = variable_key(params.string("key", required=True, max_length=255))
        if params.has("value"):
            values["value"] = params.string("value", max_length=8192)
        if params.has("description"):
            values["description"] = params.string("description", max_length=255)
        if params.has("secret"):
            values["secret"] = params.boolean("secret", False)
        row = await self.services.functions.update_variable(stored, values)
        return json_response(models.variable_json(row))

    async def delete(self, request: Request) -> Response:
        function = await self.scoped_function(request, "functions.write")
        variable_id = request.path_params["variable_id"]
        await self.services.functions.delete_variable(function["id"], variable_id)
        return no_content()


def variable_key(key: str) -> str:
    """``key`` if it is an environment variable name (else 400)."""
    if not _KEY.fullmatch(key):
        raise errors.argument_invalid(
            "Invalid `key` param: a variable key is an environment variable name: letters, "
            "digits and underscores, not starting with a digit"
        )
    return key
