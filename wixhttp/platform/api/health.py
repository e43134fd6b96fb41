"""``/v1/health``: the server's version (the Appwrite CLI checks it before it accepts an endpoint)
and Appwrite's HTTP health check."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from wixhttp.platform import errors
from wixhttp.platform.api.context import Resource, json_response

__all__ = ["HealthApi"]


class HealthApi(Resource):
    def routes(self) -> list[Route]:
        return [
            Route("/v1/health", self.http, methods=["GET"]),
            Route("/v1/health/version", self.version, methods=["GET"]),
        ]

    async def version(self, request: Request) -> Response:
        """Public, as in Appwrite: the CLI calls it with the project ``console``, or none."""
        return json_response({"version": errors.VERSION})

    async def http(self, request: Request) -> Response:
        """Appwrite's Health Status model. Appwrite asks for the ``health.read`` scope, which
        this platform's keys cannot hold: any key of the project may ask, a guest may not."""
        caller = await self.caller(request, None)
        if not caller.is_key:
            raise errors.unauthorized_scope("User (role: guests)", "health.read")
        return json_response({"name": "http", "ping": 0, "status": "pass"})
