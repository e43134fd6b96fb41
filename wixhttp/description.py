"""``@describe``: what a handler tells its site's OpenAPI document beyond its docstring.

Metadata only: the decorator checks its arguments, stores them on the function and returns the
very same function, so the handler runs exactly as before and a request costs nothing more. The
document (:mod:`wixhttp.openapi`) reads it, also through decorators that use
``functools.wraps`` (which copies the function's ``__dict__``).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

__all__ = ["Description", "describe", "description_of"]

F = TypeVar("F", bound=Callable[..., Any])

ATTRIBUTE = "__wixhttp_describe__"
_PARAM = re.compile(r"\{([^{}/]+)\}")


class _Unset:
    def __repr__(self) -> str:
        return "<unset>"


UNSET: Any = _Unset()
"""The default of ``body``: no request body documented (``None`` would mean "no body")."""


@dataclass(frozen=True)
class Description:
    """What :func:`describe` was given, checked."""

    summary: str | None = None
    description: str | None = None
    query: Mapping[str, Any] = field(default_factory=dict)
    headers: Mapping[str, Any] = field(default_factory=dict)
    path: tuple[str, ...] | None = None
    path_params: Mapping[str, Any] = field(default_factory=dict)
    body: Any = UNSET
    responses: Mapping[int, tuple[Any, str | None]] = field(default_factory=dict)
    tags: tuple[str, ...] = ()
    deprecated: bool = False
    operation_id: str | None = None


def describe(
    *,
    summary: str | None = None,
    description: str | None = None,
    query: Mapping[str, Any] | None = None,
    headers: Mapping[str, Any] | None = None,
    path: str | Sequence[str] | None = None,
    path_params: Mapping[str, Any] | None = None,
    body: Any = UNSET,
    responses: Mapping[int, Any] | None = None,
    tags: Sequence[str] = (),
    deprecated: bool = False,
    operation_id: str | None = None,
) -> Callable[[F], F]:
    """Document a handler in the site's OpenAPI document; the handler itself is unchanged.

    - ``summary``/``description``: instead of the docstring's first line / the rest.
    - ``query``/``headers``: parameter name -> type; required unless the type admits ``None``
      (``int | None``). ``Annotated[int, "text"]`` gives the parameter a description.
    - ``path``: the sub-path template(s) the handler serves after ``/_functions/<name>``, e.g.
      ``"{id}"`` or ``("", "{id}")`` (``""``: the function's own URL); types of its parameters in
      ``path_params`` (``str`` by default). Without it: the function's URL and any sub-path.
    - ``body``: the JSON request body's type (``str``: text; ``X | None``: optional).
    - ``responses``: status -> a type (the JSON body), a text (its description only), or
      ``(type, text)``; ``None`` as the type for a response without a body.
    - ``tags`` (instead of the function's name), ``deprecated``, ``operation_id``.

    Types: builtins, ``list[...]``, ``dict[str, ...]``, unions, ``Literal``, ``TypedDict``,
    dataclasses, enums, ``datetime``/``date``/``UUID``/``Decimal`` and pydantic models.
    """
    paths = _paths(path)
    params = _path_params(paths, path_params or {})
    info = Description(
        summary=summary,
        description=description,
        query=dict(query or {}),
        headers=dict(headers or {}),
        path=paths,
        path_params=params,
        body=body,
        responses=_responses(responses or {}),
        tags=_tags(tags),
        deprecated=deprecated,
        operation_id=operation_id,
    )

    def decorate(func: F) -> F:
        try:
            setattr(func, ATTRIBUTE, info)
        except (AttributeError, TypeError):
            raise TypeError(
                f"@describe cannot annotate {func!r}; put it on a function"
            ) from None
        return func

    return decorate


def description_of(func: Callable[..., Any]) -> Description | None:
    """The :class:`Description` of a handler: on it, on what it wraps, or on a partial's
    function; None when it was not described."""
    seen: set[int] = set()
    target: Any = func
    while target is not None and id(target) not in seen:
        seen.add(id(target))
        info = getattr(target, ATTRIBUTE, None)
        if isinstance(info, Description):
            return info
        if isinstance(target, functools.partial):
            target = target.func
        else:
            target = getattr(target, "__wrapped__", None)
    return None


def _paths(path: str | Sequence[str] | None) -> tuple[str, ...] | None:
    if path is None:
        return None
    paths = (path,) if isinstance(path, str) else tuple(path)
    cleaned = tuple(dict.fromkeys(p.strip("/") for p in paths))
    if not cleaned:
        raise TypeError("describe(): path needs at least one template (\"\" is the function's URL)")
    return cleaned


def _path_params(paths: tuple[str, ...] | None, params: Mapping[str, Any]) -> dict[str, Any]:
    if paths is None:
        if params:
            raise TypeError("describe(): path_params needs a path template, e.g. path='{id}'")
        return {}
    named = {name for template in paths for name in _PARAM.findall(template)}
    unknown = sorted(set(params) - named)
    if unknown:
        raise TypeError(f"describe(): path_params {unknown} are not in path {list(paths)}")
    return dict(params)


def _responses(responses: Mapping[int, Any]) -> dict[int, tuple[Any, str | None]]:
    checked: dict[int, tuple[Any, str | None]] = {}
    for status, value in sorted(responses.items()):
        if isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599:
            raise TypeError(f"describe(): response status {status!r} is not an HTTP status")
        if isinstance(value, str):
            checked[status] = (UNSET, value)  # a description and no body schema
        elif isinstance(value, tuple) and len(value) == 2 and isinstance(value[1], str):
            checked[status] = (value[0], value[1])
        else:
            checked[status] = (value, None)
    return checked


def _tags(tags: Sequence[str]) -> tuple[str, ...]:
    if isinstance(tags, str):
        return (tags,)
    return tuple(tags)

