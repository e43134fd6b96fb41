"""wixhttp: Wix-Velo-style HTTP functions in Python.

Write ``get_<name>``/``post_<name>``/... handlers in ``http_functions.py``; each is served at
``/_functions/<name>``. See the README for the full reference.
"""

from wixhttp.app import create_app
from wixhttp.description import describe
from wixhttp.request import AsyncRequest, Request, WixHttpFunctionRequest
from wixhttp.responses import (
    WixHttpFunctionResponse,
    bad_request,
    badRequest,
    created,
    forbidden,
    not_found,
    notFound,
    ok,
    response,
    server_error,
    serverError,
)

__version__ = "0.1.0"

__all__ = [
    "AsyncRequest",
    "Request",
    "WixHttpFunctionRequest",
    "WixHttpFunctionResponse",
    "badRequest",
    "bad_request",
    "create_app",
    "created",
    "describe",
    "forbidden",
    "notFound",
    "not_found",
    "ok",
    "response",
    "serverError",
    "server_error",
]
