"""An OpenAPI 3.1 document of a site, built from its route table.

Pure: a route table in, a JSON-able dict out. The same table always gives the same document
(functions, paths, methods and statuses in a fixed order), so it can be committed and diffed.

What goes in: one path per function (``/_functions/<name>``) and one for its sub-paths
(``/_functions/<name>/{path}``, or the templates a handler gives with ``@describe(path=...)``);
one operation per method, a ``use_`` handler standing for every method without a handler of its
own (OPTIONS aside: CORS preflights answer it); HEAD is left implied by GET. Summary and
description come from the docstring (first line / the rest) unless ``@describe`` says otherwise;
tags from the function's name; ``operationId`` from the export name, unique in the document. The
errors wixhttp itself gives are shared responses of the ``Error`` schema.
"""

from __future__ import annotations

import copy
import functools
import http
import inspect
import re
import typing
from collections.abc import Sequence
from typing import Any

from wixhttp.description import UNSET, Description, description_of
from wixhttp.loading import LoadedSite
from wixhttp.routing import FunctionRoute, Handler, RouteTable
from wixhttp.schemas import SchemaSet, is_optional

__all__ = ["build_document", "site_document"]

OPENAPI_VERSION = "3.1.0"
PREFIX = "/_functions"

_USE_METHODS = ("get", "post", "put", "patch", "delete")
_METHOD_ORDER = ("get", "post", "put", "patch", "delete", "options")
_SUB_PATH = "{path}"
_PARAM = re.compile(r"\{([^{}/]+)\}")
_ERROR_REF = {"$ref": "#/components/schemas/Error"}
#: The errors of every operation (404 and 405 are for what the document does not list).
_OPERATION_ERRORS = (400, 413, 500, 504)

NOTE = (
    "Every path is also served under `/_functions-dev/` (Wix's prefix for a site's preview), "
    "and every GET also answers HEAD (without a body). The errors wixhttp itself gives are JSON "
    '`{"error": code, "message": text}` (the `Error` schema; an HTML page when the `Accept` '
    "header asks for `text/html`): 400, 413, 500 and 504 as listed for each operation, 404 for a "
    "function that does not exist and 405, with an `Allow` header, for a method a function has "
    "no handler for."
)


def build_document(
    routes: RouteTable,
    *,
    title: str = "wixhttp site",
    version: str = "0.0.0",
    description: str | None = None,
    servers: Sequence[str] = ("/",),
) -> dict[str, Any]:
    """The OpenAPI document of ``routes``: one path per function and one for its sub-paths,
    one operation per method. ``description`` (e.g. the site's module docstring) comes before a
    note on the prefixes and errors; ``servers`` are base URLs (relative ``/`` by default, so
    the document works behind any host)."""
    schemas = SchemaSet()
    # taken first: a user's class Error is Error2
    schemas.components["Error"] = copy.deepcopy(_ERROR_SCHEMA)
    paths: dict[str, dict[str, Any]] = {}
    for name in sorted(routes.functions):
        for method, handler in _methods(routes.functions[name]):
            info = description_of(handler.func)
            for index, template in enumerate(_templates(info)):
                url = f"{PREFIX}/{name}/{template}" if template else f"{PREFIX}/{name}"
                operation = _operation(schemas, name, method, handler, info, template)
                operation["operationId"] = _operation_id(handler, info, method, template, index)
                paths.setdefault(url, {})[method] = operation
    operations = [paths[url][m] for url in sorted(paths) for m in _METHOD_ORDER if m in paths[url]]
    _unique_operation_ids(operations)
    tags = sorted({tag for operation in operations for tag in operation["tags"]})
    ordered = {url: _path_item(url, paths[url]) for url in sorted(paths)}
    info_text = f"{description.strip()}\n\n{NOTE}" if description and description.strip() else NOTE
    return {
        "openapi": OPENAPI_VERSION,
        "info": {"title": title, "version": version, "description": info_text},
        "servers": [{"url": url} for url in servers],
        "tags": [{"name": tag} for tag in tags],
        "paths": ordered,
        "components": {
            "schemas": dict(sorted(schemas.components.items())),
            "responses": copy.deepcopy({name: response for _, name, response in _ERROR_RESPONSES}),
            "parameters": {"SubPath": copy.deepcopy(_SUB_PATH_PARAMETER)},
        },
    }


def site_document(
    site: LoadedSite,
    *,
    title: str | None = None,
    version: str | None = None,
    servers: Sequence[str] = ("/",),
) -> dict[str, Any]:
    """The OpenAPI document of a loaded site. Title: the site folder's name by default;
    version: the module's ``__version__`` (a string), else ``0.0.0``; description: the
    module's docstring."""
    module_version = getattr(site.module, "__version__", None)
    return build_document(
        site.routes,
        title=title or (site.directory.name if site.directory else site.module.__name__),
        version=version or (module_version if isinstance(module_version, str) else "0.0.0"),
        description=inspect.getdoc(site.module),
        servers=servers,
    )


def _methods(route: FunctionRoute) -> list[tuple[str, Handler]]:
    """(method, handler) of each documented operation; ``use_`` fills the missing methods."""
    methods = [(m.lower(), h) for m, h in route.handlers.items() if m not in ("USE", "HEAD")]
    if route.fallback is not None:
        own = {method for method, _ in methods}
        methods += [(m, route.fallback) for m in _USE_METHODS if m not in own]
    return methods


def _templates(info: Description | None) -> tuple[str, ...]:
    if info is None or info.path is None:
        return ("", _SUB_PATH)
    return info.path


def _operation(
    schemas: SchemaSet,
    name: str,
    method: str,
    handler: Handler,
    info: Description | None,
    template: str,
) -> dict[str, Any]:
    described = info or Description()
    summary, text = _doc(handler)
    summary = described.summary or summary
    text = described.description or text
    if handler.method == "USE":
        served = f"Served by `{handler.export_name}`: every method without a handler of its own."
        text = f"{text}\n\n{served}" if text else served
    operation: dict[str, Any] = {"tags": list(described.tags) or [name]}
    if summary:
        operation["summary"] = summary
    if text:
        operation["description"] = text
    operation["operationId"] = ""  # set by the caller; here for the key order
    parameters = _parameters(schemas, described, template)
    if parameters:
        operation["parameters"] = parameters
    if described.body is not UNSET and described.body is not None:
        operation["requestBody"] = _request_body(schemas, described.body)
    operation["responses"] = _responses(schemas, info)
    if described.deprecated:
        operation["deprecated"] = True
    return operation


def _doc(handler: Handler) -> tuple[str, str]:
    """The handler's docstring as (first line, the rest)."""
    target: Any = inspect.unwrap(handler.func)
    while isinstance(target, functools.partial):
        target = inspect.unwrap(target.func)
    doc = inspect.getdoc(target) or ""
    summary, _, rest = doc.partition("\n")
    return summary.strip(), rest.strip()


def _parameters(schemas: SchemaSet, info: Description, template: str) -> list[dict[str, Any]]:
    parameters: list[dict[str, Any]] = []
    if template != _SUB_PATH or info.path is not None:  # the generic {path}: on its path item
        for param in _PARAM.findall(template):
            annotation = info.path_params.get(param, str)
            parameters.append(_parameter(schemas, param, "path", annotation, required=True))
    for where, declared in (("query", info.query), ("header", info.headers)):
        for param, annotation in declared.items():
            required = not is_optional(annotation)
            parameters.append(_parameter(schemas, param, where, annotation, required=required))
    return parameters


def _parameter(
    schemas: SchemaSet, name: str, where: str, annotation: Any, *, required: bool
) -> dict[str, Any]:
    schema = schemas.of(_without_none(annotation))
    parameter: dict[str, Any] = {"name": name, "in": where, "required": required}
    described = schema.pop("description", None) if "$ref" not in schema else None
    if described:
        parameter["description"] = described
    parameter["schema"] = schema
    return parameter


def _request_body(schemas: SchemaSet, body: Any) -> dict[str, Any]:
    return {
        "required": not is_optional(body),
        "content": _content(schemas, _without_none(body)),
    }


def _content(schemas: SchemaSet, annotation: Any) -> dict[str, Any]:
    if annotation is str:
        return {"text/plain": {"schema": {"type": "string"}}}
    if annotation is bytes:
        return {"application/octet-stream": {}}
    return {"application/json": {"schema": schemas.of(annotation)}}


def _responses(schemas: SchemaSet, info: Description | None) -> dict[str, Any]:
    responses: dict[str, Any] = {}
    if info is None or not info.responses:
        responses["200"] = {"description": "The handler's answer."}
        responses["default"] = {
            "description": "Another status the handler answers with (e.g. notFound(...)); "
            "its body is the handler's."
        }
    else:
        for status, (annotation, text) in info.responses.items():
            response: dict[str, Any] = {"description": text or _phrase(status)}
            if annotation is not UNSET and annotation is not None and status not in (204, 304):
                response["content"] = _content(schemas, annotation)
            responses[str(status)] = response
    for status, name, _ in _ERROR_RESPONSES:
        if status in _OPERATION_ERRORS:
            responses.setdefault(str(status), {"$ref": f"#/components/responses/{name}"})
    return dict(sorted(responses.items(), key=lambda item: (item[0] == "default", item[0])))


def _phrase(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return f"Status {status}"


def _without_none(annotation: Any) -> Any:
    """``X`` of ``X | None`` (the optional part is said by ``required``)."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        inner, *notes = typing.get_args(annotation)
        rebuilt = (_without_none(inner), *notes)
        return typing.Annotated[rebuilt]
    if origin is typing.Union or type(annotation).__name__ == "UnionType":
        args = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        if len(args) == 1:
            return args[0]
        if len(args) > 1:
            return typing.Union[tuple(args)]  # noqa: UP007 - built from a tuple at run time
    return annotation


def _operation_id(
    handler: Handler, info: Description | None, method: str, template: str, index: int
) -> str:
    base = (info.operation_id if info else None) or handler.export_name
    if handler.method == "USE":
        base = f"{base}_{method}"
    if index == 0:
        return base
    if template == _SUB_PATH:
        return f"{base}_sub_path"
    return f"{base}_{re.sub(r'[^0-9A-Za-z]+', '_', template).strip('_') or 'root'}"


def _unique_operation_ids(operations: list[dict[str, Any]]) -> None:
    """``get_x``, then ``get_x_2``...: ids made from names may meet (``get_a`` at its sub-path
    and a function ``a_sub_path``); the first in document order keeps its own."""
    seen: set[str] = set()
    for operation in operations:
        wanted = candidate = operation["operationId"]
        n = 1
        while candidate in seen:
            n += 1
            candidate = f"{wanted}_{n}"
        seen.add(candidate)
        operation["operationId"] = candidate


def _path_item(url: str, item: dict[str, Any]) -> dict[str, Any]:
    """The operations in a fixed order; the generic sub-path parameter once, for all of them
    (an operation with a ``path`` template of its own names its parameters itself)."""
    ordered: dict[str, Any] = {}
    if url.endswith(f"/{_SUB_PATH}"):
        ordered["parameters"] = [{"$ref": "#/components/parameters/SubPath"}]
    ordered.update((method, item[method]) for method in _METHOD_ORDER if method in item)
    return ordered


_SUB_PATH_PARAMETER = {
    "name": "path",
    "in": "path",
    "required": True,
    "description": "The rest of the URL after the function's name, as `request.path` reads it: "
    "one or more segments written with `/` between them (`members/1/tags`). A client that "
    "percent-encodes a `/` in this value (`%2F`) sends one segment holding the `/`.",
    "schema": {"type": "string"},
}

_ERROR_SCHEMA: dict[str, Any] = {
    "title": "Error",
    "description": "An error wixhttp itself answers with (not one a handler returns).",
    "type": "object",
    "required": ["error", "message"],
    "properties": {
        "error": {"type": "string", "description": "A code, e.g. `invalid_json`."},
        "message": {"type": "string", "description": "What went wrong, for a person."},
        "details": {
            "type": "string",
            "description": "The traceback; in debug mode (`wixhttp dev`) only.",
        },
    },
}


def _error(description: str, code: str, message: str, **extra: Any) -> dict[str, Any]:
    example = {"error": code, "message": message}
    content = {"application/json": {"schema": _ERROR_REF, "example": example}}
    return {"description": description, **extra, "content": content}


_ERROR_RESPONSES: tuple[tuple[int, str, dict[str, Any]], ...] = (
    (400, "BadRequest", _error(
        "Refused by wixhttp: `invalid_json` when the handler reads a body that is not JSON "
        "(`body.json()`), `bad_request` for an invalid Content-Length or a DELETE with a body.",
        "invalid_json", "Expecting value: line 1 column 1 (char 0)",
    )),
    (404, "NotFound", _error(
        "No HTTP function of this name (`function_not_found`), or a path outside "
        "`/_functions` (`not_found`).",
        "function_not_found", "no HTTP function named 'nope'",
    )),
    (405, "MethodNotAllowed", _error(
        "The function has no handler for this method (`method_not_allowed`).",
        "method_not_allowed", "PATCH is not allowed for function 'items'; allowed: GET, HEAD",
        headers={"Allow": {
            "description": "The methods the function answers.",
            "schema": {"type": "string"},
        }},
    )),
    (413, "PayloadTooLarge", _error(
        "The request body is over the site's `max_body_size` (`payload_too_large`).",
        "payload_too_large", "request body is larger than the 524288 byte limit",
    )),
    (500, "InternalError", _error(
        "The handler raised, returned no response or a body that is not JSON "
        "(`internal_error`), or the site's code failed to load (`site_load_error`).",
        "internal_error", "Internal Server Error",
    )),
    (504, "Timeout", _error(
        "The handler did not answer within the site's `timeout` (`timeout`).",
        "timeout", "function 'items' did not answer within 14 seconds",
    )),
)  # fmt: skip
