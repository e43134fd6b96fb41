"""``/v1/functions/{id}/executions``: creating (sync, async, scheduled), listing, reading and
deleting executions; the validation of an execution's method, headers and schedule, and the
per-IP rate limit of callers without a key."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from wixhttp.platform import errors, models
from wixhttp.platform.api.context import Resource, Services, json_response, no_content
from wixhttp.platform.api.params import Params, list_params, read_json
from wixhttp.platform.auth import Caller, guest_may_execute, require_scope
from wixhttp.platform.calls import Call, Outcome
from wixhttp.platform.config import MAX_EXECUTION_BODY
from wixhttp.platform.scheduler import scheduled_time
from wixhttp.platform.store import EXECUTION_ATTRIBUTES, FunctionRow
from wixhttp.platform.store.rates import RateQueries

__all__ = ["EXECUTION_METHODS", "ExecutionsApi", "RateLimiter"]

EXECUTION_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD")
_HEADER_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?$")
_LATIN_1 = re.compile(r"^[\x00-\xff]*$")
_HEADERS_INVALID = (
    'Invalid headers: Alphanumeric characters or hyphens only, cannot start with "x-appwrite", '
    "maximum 100 keys, and total size 16384."
)


class RateLimiter:
    """Fixed windows aligned to the clock (like Appwrite's abuse limits), counted in the
    database (one upsert per hit), so every node sharing it counts against one limit."""

    def __init__(self, store: RateQueries, limit: int, prefix: str, window: int = 60) -> None:
        self.store = store
        self.limit = limit
        self.prefix = prefix
        self.window = window

    async def hit(self, key: str) -> tuple[bool, dict[str, str]]:
        """Count one request from ``key``: whether it is allowed, and the X-RateLimit-*."""
        count, start, _ = await self.store.count_hit(self.prefix + key, self.window)
        headers = {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(max(0, self.limit - count)),
            "X-RateLimit-Reset": str(start + self.window),
        }
        return count <= self.limit, headers


class ExecutionsApi(Resource):
    def __init__(self, services: Services) -> None:
        super().__init__(services)
        self.rate_limit = services.executions.config.rate_limit
        self.limiter = RateLimiter(
            services.executions.store, self.rate_limit, f"guest:{self.project}:"
        )

    def routes(self, fn: str) -> list[Route]:
        many, one = fn + "/executions", fn + "/executions/{execution_id}"
        return [
            Route(many, self.list, methods=["GET"]),
            Route(many, self.create, methods=["POST"]),
            Route(one, self.get, methods=["GET"]),
            Route(one, self.delete, methods=["DELETE"]),
        ]

    async def create(self, request: Request) -> Response:
        caller = await self.caller(request, None)
        if caller.is_key:
            require_scope(caller, "executions.write", self.project)
        client_ip = request.client.host if request.client else ""
        limit_headers: dict[str, str] = {}
        if not caller.is_key and self.rate_limit > 0:
            allowed, limit_headers = await self.limiter.hit(client_ip)
            if not allowed:
                raise errors.rate_limit_exceeded(limit_headers)
        params = await read_json(request)
        min_lead = self.services.executions.config.min_schedule_lead
        call, is_async, due = _parse(params, request, min_lead)
        routes = await self.services.targets.lookup(request.path_params["function_id"])
        if routes is None or (not routes.function["enabled"] and not caller.is_key):
            raise errors.function_not_found()
        if not routes.active_status:
            raise errors.deployment_not_found(
                "Deployment not found. Create a deployment before trying to execute a function"
            )
        if routes.active_status != "ready" or routes.production is None:
            raise errors.build_not_ready(
                "Build not ready: the function's active deployment is "
                f'"{routes.active_status}", not "ready".'
            )
        _check_may_execute(caller, routes.function["execute"])
        executions = self.services.executions
        if due is not None:
            row = await executions.schedule(routes, call, due)
            return json_response(models.execution_json(row), 202, limit_headers)
        if is_async:
            row = await executions.enqueue(routes, call)
            return json_response(models.execution_json(row), 202, limit_headers)
        row, outcome = await executions.run_sync(routes, call)
        return json_response(_sync_reply(row, outcome), 201, limit_headers)

    async def _function(self, request: Request, scope: str) -> FunctionRow:
        caller = await self.caller(request, scope)
        row = await self.services.functions.get(request.path_params["function_id"])
        if not row["enabled"] and not caller.is_key:
            raise errors.function_not_found()
        return row

    async def list(self, request: Request) -> Response:
        function = await self._function(request, "executions.read")
        list_request = list_params(request, EXECUTION_ATTRIBUTES)
        rows, total = await self.services.executions.page(function["id"], list_request)
        data = [models.execution_json(row) for row in rows]
        return json_response({"total": total, "executions": data})

    async def get(self, request: Request) -> Response:
        function = await self._function(request, "executions.read")
        execution_id = request.path_params["execution_id"]
        row = await self.services.executions.get(function["id"], execution_id)
        return json_response(models.execution_json(row))

    async def delete(self, request: Request) -> Response:
        function = await self._function(request, "executions.write")
        execution_id = request.path_params["execution_id"]
        await self.services.executions.delete(function["id"], execution_id)
        return no_content()


def _check_may_execute(caller: Caller, execute: list[str]) -> None:
    if not caller.is_key and not guest_may_execute(execute):
        raise errors.user_unauthorized(
            "The current user is not authorized to perform the requested action: missing "
            f'"execute" permission for role "guests"; the function allows {json.dumps(execute)}'
            ". Send an API key with executions.write in X-Appwrite-Key."
        )


def _parse(params: Params, request: Request, min_lead: float) -> tuple[Call, bool, float | None]:
    """The request an execution sends into the function, whether it runs asynchronously and
    when (a scheduled one), validated in Appwrite's order."""
    body = params.string("body", max_length=MAX_EXECUTION_BODY)
    is_async = params.boolean("async", False)
    path = params.string("path", default="/", max_length=2048) or "/"
    method = params.string("method", default="POST")
    if method not in EXECUTION_METHODS:
        raise errors.argument_invalid(
            f"Invalid `method` param: Value must be one of ({', '.join(EXECUTION_METHODS)})"
        )
    raw_headers = _headers_param(params.data.get("headers"))
    due = None
    if params.has("scheduledAt"):
        scheduled_at = params.string("scheduledAt", max_length=100)
        if not is_async:
            raise errors.bad_request(
                "Scheduled executions must run asynchronously. Set scheduledAt to a future "
                "date, or set async to true."
            )
        due = scheduled_time(scheduled_at, min_lead)
    call = Call(
        method=method,
        path=path,
        headers=_execution_headers(raw_headers),
        body=body,
        client_ip=request.client.host if request.client else "",
        host=request.headers.get("host", ""),
        scheme=request.url.scheme,
    )
    return call, is_async, due


def _sync_reply(row: Mapping[str, Any], outcome: Outcome) -> dict[str, Any]:
    """A synchronous execution's record with the whole response (stored ones keep less)."""
    response_headers = [
        {"name": k.decode("latin-1"), "value": v.decode("latin-1")}
        for k, v in outcome.headers
    ]
    response_headers.append({"name": "x-appwrite-execution-id", "value": row["id"]})
    return models.execution_json(
        row,
        response_body=outcome.body.decode("utf-8", "replace"),
        response_headers=response_headers,
    )


def _headers_param(value: Any) -> dict[str, Any]:
    """``headers``: a JSON object, or a string holding one (Appwrite takes both)."""
    if value is None or value == [] or value == "":
        return {}
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise errors.bad_request(_HEADERS_INVALID) from None
        if value is None or value == []:
            return {}
        if not isinstance(value, dict):
            raise errors.bad_request(_HEADERS_INVALID)
    if not isinstance(value, dict):
        raise errors.argument_invalid("Invalid `headers` param: Value must be a valid object")
    return value


def _header_text(value: Any) -> str:
    """A header value as the SDKs send it: strings, numbers and booleans become text."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    raise errors.bad_request(_HEADERS_INVALID)


def _execution_headers(raw: Mapping[str, Any]) -> dict[str, str]:
    """Appwrite's Headers validator: at most 100 keys, names of letters, digits and inner
    hyphens, none starting with ``x-appwrite-``, keys and values under 16 KiB in total. Values
    are coerced to strings (the SDK passes ints through); line breaks are refused."""
    if len(raw) > 100:
        raise errors.bad_request(_HEADERS_INVALID)
    size = 0
    headers: dict[str, str] = {}
    for key, value in raw.items():
        text = _header_text(value)
        size += len(key) + len(text)
        if (
            size >= 16384
            or not _HEADER_NAME.match(key)
            or key.lower().startswith("x-appwrite-")
            or any(c in text for c in "\r\n\0")
        ):
            raise errors.bad_request(_HEADERS_INVALID)
        if not _LATIN_1.match(text):
            raise errors.bad_request(
                f"Invalid headers: the value of {key} holds characters beyond Latin-1 "
                "(ISO-8859-1); a function reads header values as Latin-1, so it could not see "
                "them as sent. Percent-encode the value or send it in the body."
            )
        headers[key] = text
    return headers
