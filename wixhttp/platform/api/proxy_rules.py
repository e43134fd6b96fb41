"""``/v1/proxy/rules``: Appwrite's custom domains. This platform has none (a function is served
at ``/functions/{id}/_functions/...`` on the platform's own host), so the list is honestly
empty; ``appwrite push`` asks for it after a deployment, to print the function's domain."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Boolean, Integer, String, column
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from wixhttp.platform import errors
from wixhttp.platform.api.context import Resource, json_response
from wixhttp.platform.api.params import list_params
from wixhttp.platform.auth import Caller

__all__ = ["ProxyRulesApi"]

#: The attributes Appwrite lets a rules list filter and order on (its Rules query validator),
#: typed as its Proxy Rule model is, so a query is checked as Appwrite would check it.
_STRINGS = (
    "$id",
    "$createdAt",
    "$updatedAt",
    "domain",
    "type",
    "trigger",
    "deploymentResourceType",
    "deploymentResourceId",
    "deploymentId",
    "deploymentVcsProviderBranch",
    "status",
)
RULE_ATTRIBUTES: dict[str, Any] = {
    **{name: column(name, String) for name in _STRINGS},
    "$sequence": column("$sequence", Integer),
    "redirectStatusCode": column("redirectStatusCode", Integer),
    "enabled": column("enabled", Boolean),
}

_UNSUPPORTED = (
    "Custom domains (proxy rules) are not supported by wixhttp platform: a function is served "
    "at /functions/{functionId}/_functions/... on the platform's own host."
)


class ProxyRulesApi(Resource):
    def routes(self) -> list[Route]:
        many = "/v1/proxy/rules"
        return [
            Route(many, self.list, methods=["GET"]),
            Route(many + "/{rule_id}", self.get, methods=["GET"]),
            Route(many + "/{kind}", self.create, methods=["POST"]),
        ]

    async def list(self, request: Request) -> Response:
        await self._key(request, "rules.read")
        listing = list_params(request, RULE_ATTRIBUTES)  # a bad query is still a 400
        if listing.cursor is not None:
            raise errors.cursor_not_found(listing.cursor)
        return json_response({"total": 0, "rules": []})

    async def get(self, request: Request) -> Response:
        await self._key(request, "rules.read")
        raise errors.AppwriteError(
            404, "rule_not_found", "Rule with the requested ID could not be found."
        )

    async def create(self, request: Request) -> Response:
        await self._key(request, "rules.write")
        raise errors.not_implemented(_UNSUPPORTED)

    async def _key(self, request: Request, scope: str) -> Caller:
        """Appwrite asks for ``rules.*`` scopes, which this platform's keys cannot hold: any key
        of the project may ask, a guest may not."""
        caller = await self.caller(request, None)
        if not caller.is_key:
            raise errors.unauthorized_scope("User (role: guests)", scope)
        return caller
