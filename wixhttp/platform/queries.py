"""Appwrite query strings -> SQL.

A query is a JSON string ``{"method": ..., "attribute": ..., "values": [...]}`` (the SDK's
``Query.equal("name", ["x"])`` etc.). :func:`parse_list_request` validates a list endpoint's
``queries[]``, ``search`` and ``total`` into a :class:`ListRequest` (pure data, no SQL), and
:func:`select_page` / :func:`count` turn one into SQLAlchemy Core statements for a table whose
API attribute names map to columns.

Supported: equal, notEqual, lessThan, lessThanEqual, greaterThan, greaterThanEqual, between,
notBetween, isNull, isNotNull, startsWith, endsWith, notStartsWith, notEndsWith, contains,
notContains, search, and, or, limit, offset, orderAsc, orderDesc, cursorAfter, cursorBefore and
select (accepted, ignored). Anything else is 400 ``general_query_invalid``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    false,
    func,
    not_,
    or_,
    select,
    true,
)
from sqlalchemy.sql.elements import KeyedColumnElement

from wixhttp.platform.errors import query_invalid

__all__ = [
    "COUNT_LIMIT",
    "DEFAULT_LIMIT",
    "Filter",
    "ListRequest",
    "count",
    "parse_list_request",
    "select_page",
]

DEFAULT_LIMIT = 25
MAX_LIMIT = 5000
MAX_OFFSET = 5000
COUNT_LIMIT = 5000
MAX_QUERIES = 100

_FILTERS = {
    "equal",
    "notEqual",
    "lessThan",
    "lessThanEqual",
    "greaterThan",
    "greaterThanEqual",
    "between",
    "notBetween",
    "isNull",
    "isNotNull",
    "startsWith",
    "endsWith",
    "notStartsWith",
    "notEndsWith",
    "contains",
    "notContains",
    "search",
}
_LOGICAL = {"and", "or"}
_SINGLE_VALUE = {"lessThan", "lessThanEqual", "greaterThan", "greaterThanEqual"}
_STRING_VALUE = {"startsWith", "endsWith", "notStartsWith", "notEndsWith", "search"}


@dataclass(frozen=True)
class Filter:
    """One filter: ``method`` on ``attribute`` with ``values``; ``and``/``or`` nest ``children``."""

    method: str
    attribute: str = ""
    values: tuple[Any, ...] = ()
    children: tuple[Filter, ...] = ()


@dataclass
class ListRequest:
    """What a list call asked for, validated."""

    filters: list[Filter] = field(default_factory=list)
    limit: int = DEFAULT_LIMIT
    offset: int = 0
    orders: list[tuple[str, bool]] = field(default_factory=list)  # (attribute, descending)
    cursor: str | None = None
    cursor_direction: Literal["after", "before"] = "after"
    search: str = ""
    total: bool = True


def _decode(raw: str) -> dict[str, Any]:
    try:
        data = json.loads(raw)
    except ValueError:
        raise query_invalid(f"Query must be a JSON object: {raw[:100]}") from None
    if not isinstance(data, dict) or not isinstance(data.get("method"), str):
        raise query_invalid(f"Query must be a JSON object with a method: {raw[:100]}")
    return data


def _filter(data: Mapping[str, Any], attributes: Mapping[str, Any], depth: int = 0) -> Filter:
    method = data["method"]
    values = data.get("values", [])
    if not isinstance(values, list):
        raise query_invalid(f'Query values must be an array for method "{method}"')
    if method in _LOGICAL:
        if depth > 3:
            raise query_invalid("Queries are nested too deeply")
        children: list[Filter] = []
        for child in values:
            if not isinstance(child, dict) or not isinstance(child.get("method"), str):
                raise query_invalid(f'"{method}" takes nested queries')
            if child["method"] not in _FILTERS | _LOGICAL:
                raise query_invalid(f'Method "{child["method"]}" cannot be nested in "{method}"')
            children.append(_filter(child, attributes, depth + 1))
        if not children:
            raise query_invalid(f'"{method}" needs at least one query')
        return Filter(method, children=tuple(children))
    attribute = data.get("attribute")
    if not isinstance(attribute, str) or attribute not in attributes:
        allowed = ", ".join(sorted(attributes))
        raise query_invalid(
            f"Attribute not found in schema: {attribute}. Queryable attributes: {allowed}"
        )
    if method in {"isNull", "isNotNull"}:
        return Filter(method, attribute)
    if not values:
        raise query_invalid(f'Method "{method}" needs at least one value')
    for value in values:
        if value is not None and not isinstance(value, (str, int, float, bool)):
            raise query_invalid(f'Values of "{method}" must be strings, numbers or booleans')
    if method in _SINGLE_VALUE and len(values) != 1:
        raise query_invalid(f'Method "{method}" takes exactly one value')
    if method in {"between", "notBetween"} and len(values) != 2:
        raise query_invalid(f'Method "{method}" takes exactly two values')
    if method in _STRING_VALUE and not all(isinstance(v, str) for v in values):
        raise query_invalid(f'Method "{method}" takes string values')
    return Filter(method, attribute, tuple(values))


def _int_value(data: Mapping[str, Any], low: int, high: int) -> int:
    values = data.get("values")
    method = data["method"]
    if (
        not isinstance(values, list)
        or len(values) != 1
        or isinstance(values[0], bool)
        or not isinstance(values[0], (int, float))
        or int(values[0]) != values[0]
    ):
        raise query_invalid(f'Method "{method}" takes one integer value')
    number = int(values[0])
    if not low <= number <= high:
        raise query_invalid(f'Value of "{method}" must be between {low} and {high}')
    return number


def parse_list_request(
    raw_queries: Sequence[str],
    attributes: Mapping[str, Any],
    *,
    search: str = "",
    total: bool = True,
) -> ListRequest:
    """Validate ``queries`` against ``attributes`` (the API names a list can filter on)."""
    if len(raw_queries) > MAX_QUERIES:
        raise query_invalid(f"At most {MAX_QUERIES} queries are allowed")
    request = ListRequest(search=search.strip(), total=total)
    for raw in raw_queries:
        data = _decode(raw)
        method = data["method"]
        if method in _FILTERS or method in _LOGICAL:
            request.filters.append(_filter(data, attributes))
        elif method == "limit":
            request.limit = _int_value(data, 0, MAX_LIMIT)
        elif method == "offset":
            request.offset = _int_value(data, 0, MAX_OFFSET)
        elif method in {"orderAsc", "orderDesc"}:
            attribute = data.get("attribute")
            if not isinstance(attribute, str) or attribute not in attributes:
                raise query_invalid(f"Attribute not found in schema: {attribute}")
            request.orders.append((attribute, method == "orderDesc"))
        elif method in {"cursorAfter", "cursorBefore"}:
            values = data.get("values")
            if not isinstance(values, list) or len(values) != 1 or not isinstance(values[0], str):
                raise query_invalid(f'Method "{method}" takes one document ID')
            request.cursor = values[0]
            request.cursor_direction = "after" if method == "cursorAfter" else "before"
        elif method == "select":
            continue
        else:
            raise query_invalid(f'Query method not supported: "{method}"')
    return request


# -- SQL -----------------------------------------------------------------------------------------

Columns = Mapping[str, KeyedColumnElement[Any]]


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _clause(item: Filter, columns: Columns) -> ColumnElement[bool]:
    if item.method == "and":
        return and_(*(_clause(child, columns) for child in item.children))
    if item.method == "or":
        return or_(*(_clause(child, columns) for child in item.children))
    column = columns[item.attribute]
    values = item.values
    first: object = values[0] if values else None
    match item.method:
        case "equal":
            return column.in_(values)
        case "notEqual":
            return column.not_in(values)
        case "lessThan":
            return column < first
        case "lessThanEqual":
            return column <= first
        case "greaterThan":
            return column > first
        case "greaterThanEqual":
            return column >= first
        case "between":
            return column.between(values[0], values[1])
        case "notBetween":
            return not_(column.between(values[0], values[1]))
        case "isNull":
            return column.is_(None)
        case "isNotNull":
            return column.is_not(None)
        case "startsWith":
            return or_(*(column.like(f"{_like_escape(str(v))}%", escape="\\") for v in values))
        case "endsWith":
            return or_(*(column.like(f"%{_like_escape(str(v))}", escape="\\") for v in values))
        case "notStartsWith":
            return and_(*(column.not_like(f"{_like_escape(str(v))}%", escape="\\") for v in values))
        case "notEndsWith":
            return and_(*(column.not_like(f"%{_like_escape(str(v))}", escape="\\") for v in values))
        case "contains":
            return or_(*(column.like(f"%{_like_escape(str(v))}%", escape="\\") for v in values))
        case "notContains":
            return and_(
                *(column.not_like(f"%{_like_escape(str(v))}%", escape="\\") for v in values)
            )
        case "search":
            return _search_clause([column], " ".join(str(v) for v in values))
    raise AssertionError(item.method)  # pragma: no cover - parse_list_request rejects it


def _search_clause(targets: Sequence[ColumnElement[Any]], text: str) -> ColumnElement[bool]:
    """Every whitespace-separated term must occur (case-insensitively) in one of ``targets``."""
    terms = [t for t in text.split() if t]
    if not terms:
        return true()
    return and_(
        *(
            or_(
                *(
                    func.lower(t).like(f"%{_like_escape(term.lower())}%", escape="\\")
                    for t in targets
                )
            )
            for term in terms
        )
    )


def _where(
    request: ListRequest, columns: Columns, search_targets: Sequence[ColumnElement[Any]]
) -> list[ColumnElement[bool]]:
    clauses = [_clause(item, columns) for item in request.filters]
    if request.search:
        clauses.append(
            _search_clause(search_targets, request.search) if search_targets else false()
        )
    return clauses


def select_page(
    base: Select[Any],
    request: ListRequest,
    columns: Columns,
    *,
    sequence: KeyedColumnElement[Any],
    search_targets: Sequence[ColumnElement[Any]] = (),
    cursor_row: Mapping[str, Any] | None = None,
) -> tuple[Select[Any], bool]:
    """``base`` filtered, ordered, paged. ``sequence`` breaks ties (and is the default order).

    ``cursor_row`` is the cursor document's column values keyed by API attribute name (plus
    ``$sequence``). Returns the statement and whether its rows must be reversed (cursorBefore).
    """
    stmt = base.where(*_where(request, columns, search_targets))
    orders: list[tuple[KeyedColumnElement[Any], bool, str]] = [
        (columns[name], desc, name) for name, desc in request.orders
    ]
    last_desc = orders[-1][1] if orders else False
    orders.append((sequence, last_desc, "$sequence"))
    reverse = request.cursor is not None and request.cursor_direction == "before"
    if reverse:
        orders = [(column, not desc, name) for column, desc, name in orders]
    if cursor_row is not None:
        alternatives: list[ColumnElement[bool]] = []
        for i, (column, desc, name) in enumerate(orders):
            equal = [c == cursor_row[n] for c, _, n in orders[:i]]
            step = column < cursor_row[name] if desc else column > cursor_row[name]
            alternatives.append(and_(*equal, step))
        stmt = stmt.where(or_(*alternatives))
    stmt = stmt.order_by(*(column.desc() if desc else column.asc() for column, desc, _ in orders))
    stmt = stmt.limit(request.limit).offset(request.offset)
    return stmt, reverse


def count(
    base: Select[Any],
    request: ListRequest,
    columns: Columns,
    *,
    search_targets: Sequence[ColumnElement[Any]] = (),
) -> Select[Any]:
    """The number of matching rows (capped at :data:`COUNT_LIMIT`), ignoring paging."""
    inner = base.where(*_where(request, columns, search_targets)).limit(COUNT_LIMIT).subquery()
    return select(func.count()).select_from(inner)
