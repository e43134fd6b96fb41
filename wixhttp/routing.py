"""Turn a module's exports into a route table. Pure: a module in, a table out.

Exports named ``<prefix>_<name>`` with prefix one of get, post, put, delete, options, patch or
use become handlers of function ``<name>`` (split at the first underscore, so
``get_admin_members`` serves ``admin_members``). A module with ``__all__`` exports exactly
those names; otherwise its own top-level functions are its exports, so a ``get_user`` imported
from a helper module does not become an endpoint by accident. An export named like a handler
that is not callable (``use_cache = True``) is not a route.

A handler is called with the request, or with nothing when it declares no parameter (ported
``export function get_ping()``): decided here, from its signature. One that cannot be called
either way is a :class:`HandlerSignatureError`, raised while loading rather than on each call.
"""

from __future__ import annotations

import functools
import inspect
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

__all__ = [
    "FunctionRoute",
    "Handler",
    "HandlerSignatureError",
    "RouteTable",
    "build_route_table",
    "PREFIXES",
]

PREFIXES = ("get", "post", "put", "delete", "options", "patch", "use")
_EXPORT = re.compile(rf"^({'|'.join(PREFIXES)})_(.+)$")
_METHOD_ORDER = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


@dataclass(frozen=True)
class Handler:
    """One exported handler function."""

    export_name: str
    method: str  # upper-case HTTP method, or "USE" for the catch-all
    func: Callable[..., Any]
    is_async: bool
    file: str | None
    line: int | None
    takes_request: bool = True  # False: declared without parameters, called without arguments

    @property
    def location(self) -> str:
        if self.file is None:
            return "<unknown>"
        return f"{self.file}:{self.line}" if self.line else self.file


class HandlerSignatureError(Exception):
    """A handler that cannot be called with the request alone (nor without arguments)."""

    def __init__(self, message: str, file: str | None, line: int | None) -> None:
        super().__init__(message)
        self.message = message
        self.file = file
        self.line = line


@dataclass(frozen=True)
class FunctionRoute:
    """Everything served at ``/_functions/<name>``.

    ``dispatch`` maps each method to its handler, HEAD included (answered by GET, else by
    ``use_``); ``fallback`` is the ``use_`` handler; ``allow`` is the 405 ``Allow`` header.
    """

    name: str
    handlers: Mapping[str, Handler]
    dispatch: Mapping[str, Handler]
    fallback: Handler | None
    allow: str

    @property
    def methods(self) -> tuple[str, ...]:
        return tuple(self.handlers)

    def handler_for(self, method: str) -> Handler | None:
        return self.dispatch.get(method) or self.fallback


@dataclass(frozen=True)
class RouteTable:
    """All functions of a site, by name."""

    functions: Mapping[str, FunctionRoute] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.functions)

    def handlers(self) -> list[Handler]:
        return [h for route in self.functions.values() for h in route.handlers.values()]


def _is_async(func: Callable[..., Any]) -> bool:
    # Unwrapped too: a plain decorator (functools.wraps) around an async def still returns
    # its coroutine, and the handler inside awaits request.body.json().
    if inspect.iscoroutinefunction(func) or inspect.iscoroutinefunction(inspect.unwrap(func)):
        return True
    call = getattr(func, "__call__", None)  # noqa: B004 - async callable objects
    return call is not None and inspect.iscoroutinefunction(call)


def _takes_request(export_name: str, func: Callable[..., Any], where: tuple[Any, Any]) -> bool:
    """Whether ``func`` is called with the request (True) or with no argument (False)."""
    try:
        signature = inspect.signature(func)
    except (TypeError, ValueError):  # some builtins and C callables have none: try the request
        return True
    for args in ((object(),), ()):
        try:
            signature.bind(*args)
        except TypeError:
            continue
        return bool(args)
    raise HandlerSignatureError(
        f"handler {export_name}{signature} cannot be called with the request alone; "
        f"declare it as def {export_name}(request): (extra parameters need defaults), "
        f"or def {export_name}(): if it does not read the request",
        *where,
    )


def _location(func: Callable[..., Any]) -> tuple[str | None, int | None]:
    """Where the handler's code is: its own, a partial's function, or an instance's __call__."""
    target: Any = inspect.unwrap(func)
    while isinstance(target, functools.partial):
        target = inspect.unwrap(target.func)
    code = getattr(target, "__code__", None)
    if code is None and not inspect.isroutine(target):
        call = getattr(type(target), "__call__", None)  # noqa: B004 - a callable instance
        code = getattr(inspect.unwrap(call), "__code__", None) if call is not None else None
    if code is not None:
        return code.co_filename, code.co_firstlineno
    try:
        return inspect.getsourcefile(target), None
    except TypeError:
        return None, None


def _exports(module: ModuleType) -> list[tuple[str, Any]]:
    names = getattr(module, "__all__", None)
    if names is not None:
        return [(name, getattr(module, name)) for name in names if hasattr(module, name)]
    own = module.__name__
    return [
        (name, value)
        for name, value in vars(module).items()
        if getattr(inspect.unwrap(value), "__module__", own) == own
        or not inspect.isfunction(inspect.unwrap(value))
    ]


def build_route_table(module: ModuleType) -> RouteTable:
    """Build the route table of ``module`` (possibly empty); :class:`HandlerSignatureError` for
    a handler that cannot be called with the request."""
    grouped: dict[str, dict[str, Handler]] = {}
    for export_name, value in _exports(module):
        match = _EXPORT.match(export_name)
        if match is None or not callable(value) or inspect.isclass(value):
            continue
        prefix, name = match.groups()
        file, line = _location(value)
        takes_request = _takes_request(export_name, value, (file, line))
        method = prefix.upper()
        grouped.setdefault(name, {})[method] = Handler(
            export_name, method, value, _is_async(value), file, line, takes_request
        )

    functions: dict[str, FunctionRoute] = {}
    for name in sorted(grouped):
        handlers = grouped[name]
        fallback = handlers.get("USE")
        dispatch = {m: h for m, h in handlers.items() if m != "USE"}
        if "GET" in dispatch:
            dispatch["HEAD"] = dispatch["GET"]
        allowed = [m for m in _METHOD_ORDER if m in dispatch]
        ordered = dict(sorted(handlers.items(), key=lambda kv: _order(kv[0])))
        functions[name] = FunctionRoute(name, ordered, dispatch, fallback, ", ".join(allowed))
    return RouteTable(functions)


def _order(method: str) -> int:
    return _METHOD_ORDER.index(method) if method in _METHOD_ORDER else len(_METHOD_ORDER)
