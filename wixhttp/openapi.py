"""An OpenAPI 3.1 document of a site, built from its route table.

Pure: a route table in, a JSON-able dict out. The same table always gives the same document
(functions and methods in a fixed order), so the document can be committed and diffed.
"""

from __future__ import annotations

import inspect
from typing import Any

from wixhttp.routing import FunctionRoute, Handler, RouteTable

__all__ = ["build_document"]

OPENAPI_VERSION = "3.1.0"


def build_document(
    routes: RouteTable, *, title: str = "wixhttp site", version: str = "0.0.0"
) -> dict[str, Any]:
    """The OpenAPI document of ``routes``: one path per function and one for its sub-paths,
    one operation per method."""
    paths: dict[str, Any] = {}
    for name in sorted(routes.functions):
        route = routes.functions[name]
        operations = _operations(route)
        paths[f"/_functions/{name}"] = operations
        paths[f"/_functions/{name}/{{path}}"] = {
            "parameters": [_SUB_PATH],
            **{method: _sub_path_op(op) for method, op in operations.items()},
        }
    return {
        "openapi": OPENAPI_VERSION,
        "info": {"title": title, "version": version},
        "paths": paths,
    }


def _operations(route: FunctionRoute) -> dict[str, Any]:
    operations: dict[str, Any] = {}
    for method, handler in sorted(route.handlers.items()):
        if method == "USE":
            continue
        operations[method.lower()] = _operation(handler)
    if route.fallback is not None:
        for method in _USE_METHODS:
            operations.setdefault(method, _operation(route.fallback))
    return operations


def _operation(handler: Handler) -> dict[str, Any]:
    doc = inspect.getdoc(handler.func) or ""
    summary, _, description = doc.partition("\n")
    operation: dict[str, Any] = {"operationId": handler.export_name}
    if summary:
        operation["summary"] = summary.strip()
    if description.strip():
        operation["description"] = description.strip()
    operation["responses"] = {"200": {"description": "the handler's answer"}}
    return operation


def _sub_path_op(operation: dict[str, Any]) -> dict[str, Any]:
    return {**operation, "operationId": f"{operation['operationId']}_sub_path"}


_USE_METHODS = ("get", "post", "put", "patch", "delete", "options")
_SUB_PATH = {
    "name": "path",
    "in": "path",
    "required": True,
    "description": "the rest of the URL, as request.path (segments joined with /)",
    "schema": {"type": "string"},
}
