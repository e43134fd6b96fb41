"""Appwrite query strings, validated.

A query is a JSON string ``{"method": ..., "attribute": ..., "values": [...]}`` (the SDK's
``Query.equal("name", ["x"])`` etc.). :func:`parse_list_request` validates a list endpoint's
``queries[]``, ``search`` and ``total`` against the list's attributes (API name -> column) into a
:class:`ListRequest` (pure data, no SQL); ``store/listing.py`` turns one into SQL.

Supported: equal, notEqual, lessThan, lessThanEqual, greaterThan, greaterThanEqual, between,
notBetween, isNull, isNotNull, startsWith, endsWith, notStartsWith, notEndsWith, contains,
notContains, search, notSearch, exists and notExists (the attributes in ``values`` are, or are
not, all set), and, or, limit, offset, orderAsc, orderDesc (without an attribute: by
``$sequence``, the insertion order, as Appwrite orders by its internal id), orderRandom (not with
a cursor), cursorAfter, cursorBefore and select (accepted, ignored). ``regex`` is 400
``general_query_invalid`` saying so (SQLite has no regular expressions, and PostgreSQL's differ
from Appwrite's); anything else is 400 naming the method.

One dialect: the answers are the same on SQLite and PostgreSQL.

- Values are checked against the attribute's column type, as Appwrite does (strictly): an
  integer column takes JSON integers (64-bit; ``$sequence`` also a string of digits), a float
  column numbers, a boolean column ``true``/``false``, a string column strings (no NUL, valid
  UTF-8); ``null`` is no value of any. Anything else is 400 ``general_query_invalid`` naming the
  attribute and the type, before any SQL runs.
- ``startsWith``/``endsWith``/``contains``/``search`` (and their negations) fold the ASCII letters
  A-Z only: "alpha" finds "ALPHA", but "é" does not find "É". SQLite's ``lower()`` and ``LIKE``
  know no other letters, and PostgreSQL's ``lower()``/``ILIKE`` fold per the server's locale, so
  this is the one rule both give alike (Appwrite on MariaDB also folds accented letters).
- Strings compare and sort by their bytes (code points): SQLite's ``BINARY``, and ``COLLATE "C"``
  on PostgreSQL whatever the database's collation, so orders and cursors agree.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy import Boolean, Float, Integer, Numeric
from sqlalchemy.sql.elements import KeyedColumnElement

from wixhttp.platform.errors import argument_invalid, query_invalid

__all__ = [
    "COUNT_LIMIT",
    "DEFAULT_LIMIT",
    "Columns",
    "Filter",
    "Kind",
    "ListRequest",
    "column_kind",
    "parse_list_request",
]

DEFAULT_LIMIT = 25
MAX_LIMIT = 5000
MAX_OFFSET = 5000
COUNT_LIMIT = 5000
MAX_QUERIES = 100
MAX_VALUES = 100
_INT64 = 2**63

_TEXT_MATCH = {
    "startsWith",
    "endsWith",
    "notStartsWith",
    "notEndsWith",
    "contains",
    "notContains",
    "search",
    "notSearch",
}
_SINGLE_VALUE = {"lessThan", "lessThanEqual", "greaterThan", "greaterThanEqual"}
_FILTERS = {
    "equal",
    "notEqual",
    *_SINGLE_VALUE,
    "between",
    "notBetween",
    "isNull",
    "isNotNull",
    *_TEXT_MATCH,
    "exists",
    "notExists",
}
_LOGICAL = {"and", "or"}
Kind = Literal["integer", "float", "boolean", "string"]
_EXPECTED = {
    "integer": "an integer",
    "float": "a number",
    "boolean": "a boolean",
    "string": "a string",
}


#: A list's queryable attributes: API name -> column (its type decides what values it takes).
Columns = Mapping[str, KeyedColumnElement[Any]]


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
    random: bool = False  # orderRandom: the rows in a random order (no cursor)
    search: str = ""
    total: bool = True


def _decode(raw: str) -> dict[str, Any]:
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        raise query_invalid(f"Query must be a JSON object: {raw[:100]}") from None
    if not isinstance(data, dict) or not isinstance(data.get("method"), str):
        raise query_invalid(f"Query must be a JSON object with a method: {raw[:100]}")
    return data


def column_kind(column: Any) -> Kind:
    """What values a column takes (a column of another type: strings)."""
    column_type = getattr(column, "type", None)
    if isinstance(column_type, Boolean):
        return "boolean"
    if isinstance(column_type, Integer):
        return "integer"
    if isinstance(column_type, (Float, Numeric)):
        return "float"
    return "string"


def _text(value: str) -> str | None:
    """``value`` if both engines can bind it (PostgreSQL refuses NUL and lone surrogates)."""
    if "\x00" in value:
        return None
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return None
    return value


def _converted(value: Any, kind: Kind, attribute: str) -> Any:
    """``value`` as the column's type, or None if it cannot be one."""
    if isinstance(value, str):
        if kind == "string":
            return _text(value)
        if attribute == "$sequence" and value.isascii() and value.isdigit():
            value = int(value)  # Appwrite's $sequence validator takes both
        else:
            return None
    if isinstance(value, bool):
        return value if kind == "boolean" else None
    if kind == "integer" and isinstance(value, int) and -_INT64 <= value < _INT64:
        return value
    if kind == "float" and isinstance(value, (int, float)):
        try:
            number = float(value)
        except OverflowError:
            return None
        return number if math.isfinite(number) else None
    return None


def _coerced(value: Any, kind: Kind, attribute: str) -> Any:
    converted = _converted(value, kind, attribute)
    if converted is None:
        shown = json.dumps(value, ensure_ascii=False)
        if _text(shown) is None:  # a lone surrogate: shown escaped
            shown = json.dumps(value)
        raise query_invalid(
            f'Query value is invalid for attribute "{attribute}": expected {_EXPECTED[kind]}'
            f"{' (64-bit)' if kind == 'integer' else ''}, got {shown[:100]}"
        )
    return converted


def _filter(data: Mapping[str, Any], attributes: Columns, depth: int = 0) -> Filter:
    method = data["method"]
    values = data.get("values", [])
    if not isinstance(values, list):
        raise query_invalid(f'Query values must be an array for method "{method}"')
    if method in _LOGICAL:
        return _logical(method, values, attributes, depth)
    if method in {"exists", "notExists"}:
        return _exists(method, values, attributes)
    attribute = data.get("attribute")
    if not isinstance(attribute, str) or attribute not in attributes:
        raise _unknown_attribute(attribute, attributes)
    if method in {"isNull", "isNotNull"}:
        return Filter(method, attribute)
    if not values:
        raise query_invalid(f'Method "{method}" needs at least one value')
    if len(values) > MAX_VALUES:
        raise query_invalid(f"Query on attribute has greater than {MAX_VALUES} values: {attribute}")
    if method in _SINGLE_VALUE and len(values) != 1:
        raise query_invalid(f'Method "{method}" takes exactly one value')
    if method in {"between", "notBetween"} and len(values) != 2:
        raise query_invalid(f'Method "{method}" takes exactly two values')
    kind = column_kind(attributes[attribute])
    if method in _TEXT_MATCH and kind != "string":
        raise query_invalid(
            f'Cannot query {method} on attribute "{attribute}" because it is not a string'
        )
    return Filter(method, attribute, tuple(_coerced(v, kind, attribute) for v in values))


def _unknown_attribute(attribute: object, attributes: Columns) -> Exception:
    allowed = ", ".join(sorted(attributes))
    return query_invalid(
        f"Attribute not found in schema: {attribute}. Queryable attributes: {allowed}"
    )


def _exists(method: str, values: list[Any], attributes: Columns) -> Filter:
    """``exists``/``notExists``: the attributes named in ``values`` are all set (not null)."""
    if not values:
        raise query_invalid(f'Method "{method}" needs at least one attribute')
    for name in values:
        if not isinstance(name, str) or name not in attributes:
            raise _unknown_attribute(name, attributes)
    return Filter(method, values=tuple(values))


def _logical(method: str, values: list[Any], attributes: Columns, depth: int) -> Filter:
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


def _int_value(data: Mapping[str, Any], low: int, high: int) -> int:
    values = data.get("values")
    method = data["method"]
    if (
        not isinstance(values, list)
        or len(values) != 1
        or isinstance(values[0], bool)
        or not isinstance(values[0], (int, float))
        or not math.isfinite(values[0])
        or int(values[0]) != values[0]
    ):
        raise query_invalid(f'Method "{method}" takes one integer value')
    number = int(values[0])
    if not low <= number <= high:
        raise query_invalid(f'Value of "{method}" must be between {low} and {high}')
    return number


def parse_list_request(
    raw_queries: Sequence[str],
    attributes: Columns,
    *,
    search: str = "",
    total: bool = True,
) -> ListRequest:
    """Validate ``queries`` against ``attributes`` (the API names a list can filter on)."""
    if len(raw_queries) > MAX_QUERIES:
        raise query_invalid(f"At most {MAX_QUERIES} queries are allowed")
    if _text(search) is None:
        raise argument_invalid("Invalid `search` param: Value must be a valid string")
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
            attribute = data.get("attribute") or "$sequence"
            if not isinstance(attribute, str) or attribute not in attributes:
                raise _unknown_attribute(attribute, attributes)
            request.orders.append((attribute, method == "orderDesc"))
        elif method == "orderRandom":
            request.random = True
        elif method in {"cursorAfter", "cursorBefore"}:
            values = data.get("values")
            if (
                not isinstance(values, list)
                or len(values) != 1
                or not isinstance(values[0], str)
                or _text(values[0]) is None
            ):
                raise query_invalid(f'Method "{method}" takes one document ID')
            request.cursor = values[0]
            request.cursor_direction = "after" if method == "cursorAfter" else "before"
        elif method == "select":
            continue
        elif method == "regex":
            raise query_invalid(
                'Query method not supported: "regex" (regular expressions are not available '
                "on every database this platform runs on); use startsWith, endsWith, contains "
                "or search"
            )
        else:
            raise query_invalid(f'Query method not supported: "{method}"')
    if request.random and (request.cursor is not None or request.orders):
        raise query_invalid('"orderRandom" cannot be combined with a cursor or another order')
    return request
