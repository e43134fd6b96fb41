"""``/v1/functions/usage``, ``/v1/functions/{id}/usage`` and ``/v1/functions/templates``.

Usage is counted from the execution and deployment records (Appwrite's ``UsageFunctions`` and
``UsageFunction`` models): totals over all time, and one point per hour (``range=24h``) or per day
(``30d``, ``90d``; the default) over the range, zeros included. Times are milliseconds and
"MB-seconds" count each run at the specification's 512 MB, as Appwrite does. Templates are
Appwrite's starter repositories, which this platform does not host: the list is empty and every
template id is 404 ``function_template_not_found``.
"""

from __future__ import annotations

import time
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from wixhttp.platform import errors
from wixhttp.platform.api.context import Resource, json_response
from wixhttp.platform.api.params import query_params
from wixhttp.platform.errors import AppwriteError
from wixhttp.platform.store.usage import Usage

__all__ = ["UsageApi"]

#: range -> (periods, seconds per period, prefix width of an ISO time, the period's suffix)
_RANGES = {
    "24h": (24, 3600, 13, ":00:00.000+00:00"),
    "30d": (30, 86400, 10, "T00:00:00.000+00:00"),
    "90d": (90, 86400, 10, "T00:00:00.000+00:00"),
}
_MEMORY_MB = 512
#: Series name -> (the stored metric, its scale): seconds become ms or MB-seconds.
_SERIES = {
    "deployments": ("deployments", 1),
    "deploymentsStorage": ("deploymentsStorage", 1),
    "builds": ("builds", 1),
    "buildsSuccess": ("buildsSuccess", 1),
    "buildsFailed": ("buildsFailed", 1),
    "buildsStorage": ("buildsStorage", 1),
    "buildsTime": ("buildsSeconds", 1000),
    "buildsMbSeconds": ("buildsSeconds", _MEMORY_MB),
    "executions": ("executions", 1),
    "executionsTime": ("executionsSeconds", 1000),
    "executionsMbSeconds": ("executionsSeconds", _MEMORY_MB),
}


class UsageApi(Resource):
    def routes(self, fn: str) -> list[Route]:
        return [
            Route("/v1/functions/usage", self.list_usage, methods=["GET"]),
            Route("/v1/functions/templates", self.list_templates, methods=["GET"]),
            Route("/v1/functions/templates/{template_id}", self.get_template, methods=["GET"]),
            Route(fn + "/usage", self.get_usage, methods=["GET"]),
        ]

    async def list_templates(self, request: Request) -> Response:
        await self.caller(request, None)  # public on Appwrite too; the project must exist
        return json_response({"total": 0, "templates": []})

    async def get_template(self, request: Request) -> Response:
        await self.caller(request, None)
        raise AppwriteError(
            404,
            "function_template_not_found",
            "Function Template with the requested ID could not be found: this platform hosts "
            "no templates; deploy your code with create_deployment.",
        )

    async def list_usage(self, request: Request) -> Response:
        await self.caller(request, "functions.read")
        chosen = _range(request)
        usage = await self._usage(None, chosen)
        body = _model(usage, chosen)
        body["functionsTotal"] = int(usage.totals.get("functions", 0))
        body["functions"] = _points(usage, chosen, "functions", 1)
        return json_response(body)

    async def get_usage(self, request: Request) -> Response:
        function = await self.scoped_function(request, "functions.read")
        chosen = _range(request)
        body = _model(await self._usage(function["id"], chosen), chosen)
        builds = body["buildsTotal"]
        body["buildsTimeAverage"] = round(body["buildsTimeTotal"] / builds) if builds else 0
        return json_response(body)

    async def _usage(self, function_id: str | None, chosen: str) -> Usage:
        periods, seconds, width, _ = _RANGES[chosen]
        since = _period_start(time.time() - (periods - 1) * seconds, seconds, width, chosen)
        writer = self.services.executions.writer
        if writer.busy:  # executions recorded but not written yet count too
            await writer.flush()
        store = self.services.functions.store
        return await store.usage(self.project, function_id, since, width)


def _range(request: Request) -> str:
    chosen = query_params(request).string("range", default="30d")
    if chosen not in _RANGES:
        raise errors.argument_invalid(
            f"Invalid `range` param: Value must be one of ({', '.join(_RANGES)})"
        )
    return chosen


def _period_start(stamp: float, seconds: int, width: int, chosen: str) -> str:
    start = stamp - stamp % seconds
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(start))[:width] + _RANGES[chosen][3]


def _points(usage: Usage, chosen: str, metric: str, scale: int) -> list[dict[str, Any]]:
    """One ``{value, date}`` per period of the range, oldest first, zeros included."""
    periods, seconds, width, suffix = _RANGES[chosen]
    first = time.time() - (periods - 1) * seconds
    points = []
    for index in range(periods):
        date = _period_start(first + index * seconds, seconds, width, chosen)
        value = usage.series.get(date[:width], {}).get(metric, 0.0)
        points.append({"value": round(value * scale), "date": date})
    return points


def _model(usage: Usage, chosen: str) -> dict[str, Any]:
    """The fields ``UsageFunction`` and ``UsageFunctions`` share."""
    body: dict[str, Any] = {"range": chosen}
    for name, (metric, scale) in _SERIES.items():
        body[name + "Total"] = round(usage.totals.get(metric, 0.0) * scale)
    for name, (metric, scale) in _SERIES.items():
        body[name] = _points(usage, chosen, metric, scale)
    return body
