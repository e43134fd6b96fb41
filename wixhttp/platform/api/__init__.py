"""The platform's HTTP API: Appwrite's ``/v1/functions...`` and Wix's activation routes.

One module per resource; each validates input, calls a service and maps rows to the JSON
shapes of :mod:`wixhttp.platform.models`. Every error is answered here, in one place: Appwrite's
``{message, code, type, version}`` (Wix's envelope on the Wix routes). Every 204 carries a
non-JSON Content-Type, because the SDK reads ``Content-Type`` on every response.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from wixhttp.platform import errors
from wixhttp.platform.api.activations import ActivationsApi
from wixhttp.platform.api.context import Services, error_response
from wixhttp.platform.api.deployments import DeploymentsApi
from wixhttp.platform.api.executions import ExecutionsApi
from wixhttp.platform.api.functions import FunctionsApi
from wixhttp.platform.api.health import HealthApi
from wixhttp.platform.api.proxy_rules import ProxyRulesApi
from wixhttp.platform.api.usage import UsageApi
from wixhttp.platform.api.variables import VariablesApi
from wixhttp.platform.errors import AppwriteError, WixError
from wixhttp.platform.store import CursorNotFound

__all__ = ["EXCEPTION_HANDLERS", "Services", "routes"]

log = logging.getLogger("wixhttp.platform")


def routes(services: Services) -> list[Route]:
    """Every API route, by resource."""
    fn = "/v1/functions/{function_id}"
    return [
        *UsageApi(services).routes(fn),  # first: its paths would read as function ids
        *FunctionsApi(services).routes(fn),
        *VariablesApi(services).routes(fn),
        *DeploymentsApi(services).routes(fn),
        *ExecutionsApi(services).routes(fn),
        *ActivationsApi(services).routes(),
        *HealthApi(services).routes(),
        *ProxyRulesApi(services).routes(),
    ]


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, (AppwriteError, WixError))
    return error_response(exc)


async def _store_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, CursorNotFound)
    return error_response(errors.cursor_not_found(exc.cursor))


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        return error_response(errors.route_not_found())
    if exc.status_code == 405:
        return error_response(errors.method_not_allowed())
    return error_response(errors.http_error(exc.status_code, str(exc.detail)))


async def _server_error(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(errors.server_error())


#: What each exception becomes: the one place errors turn into responses.
EXCEPTION_HANDLERS: Mapping[type[Exception], Callable[[Request, Exception], Awaitable[Response]]]
EXCEPTION_HANDLERS = {
    AppwriteError: _api_error,
    WixError: _api_error,
    CursorNotFound: _store_error,
    HTTPException: _http_error,
    Exception: _server_error,
}
