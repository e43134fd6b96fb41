"""A validated list request (``queries.ListRequest``) as SQL, the same answers on every engine.

:func:`select_page` and :func:`count` build SQLAlchemy Core statements for a table whose API
attribute names map to columns. The rules that make SQLite and PostgreSQL agree (see
``queries.py``) are two SQL functions compiled per dialect: :class:`ascii_lower` (SQLite's
``lower()``; ``translate()`` of A-Z on PostgreSQL, whose ``lower()`` follows the server's locale)
and :class:`bytewise` (the column as is on SQLite, whose default collation is ``BINARY``;
``COLLATE "C"`` on PostgreSQL). Integer values are bound as 64-bit integers, so a large one is no
error on a 32-bit column.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Select,
    String,
    and_,
    false,
    func,
    literal,
    not_,
    or_,
    select,
    true,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import KeyedColumnElement
from sqlalchemy.sql.functions import FunctionElement

from wixhttp.platform.queries import COUNT_LIMIT, Columns, Filter, ListRequest, column_kind

__all__ = ["ascii_lower", "bytewise", "count", "select_page"]

_UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_FOLD = str.maketrans(_UPPER, _UPPER.lower())
_PATTERNS = {"startsWith": "{}%", "endsWith": "%{}", "contains": "%{}%"}
_NEGATED = {"notStartsWith": "startsWith", "notEndsWith": "endsWith", "notContains": "contains"}


class ascii_lower(FunctionElement[str]):  # noqa: N801 - an SQL function
    """Its argument with A-Z lowered and nothing else, on every engine."""

    type = String()
    name = "ascii_lower"
    inherit_cache = True


@compiles(ascii_lower)
def _ascii_lower(element: ascii_lower, compiler: SQLCompiler, **kw: Any) -> str:
    return f"lower({compiler.process(element.clauses, **kw)})"  # SQLite's: ASCII only


@compiles(ascii_lower, "postgresql")
def _ascii_lower_pg(element: ascii_lower, compiler: SQLCompiler, **kw: Any) -> str:
    return f"translate({compiler.process(element.clauses, **kw)}, '{_UPPER}', '{_UPPER.lower()}')"


class bytewise(FunctionElement[Any]):  # noqa: N801 - an SQL function
    """Its (string) argument, compared and sorted by code point on every engine."""

    name = "bytewise"
    inherit_cache = True

    def __init__(self, column: ColumnElement[Any]) -> None:
        super().__init__(column)
        self.type = column.type


@compiles(bytewise)
def _bytewise(element: bytewise, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.clauses, **kw)  # SQLite's BINARY collation


@compiles(bytewise, "postgresql")
def _bytewise_pg(element: bytewise, compiler: SQLCompiler, **kw: Any) -> str:
    return f'{compiler.process(element.clauses, **kw)} COLLATE "C"'


def _operand(column: KeyedColumnElement[Any]) -> ColumnElement[Any]:
    """``column`` as comparisons and orders use it: strings by code point."""
    return bytewise(column) if column_kind(column) == "string" else column


def _bound(column: KeyedColumnElement[Any], value: Any) -> ColumnElement[Any]:
    """``value`` bound as the column's type; integers as 64-bit ones (the columns may be 32)."""
    return literal(value, BigInteger() if column_kind(column) == "integer" else column.type)


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _like(target: ColumnElement[Any], method: str, value: str) -> ColumnElement[bool]:
    """``target`` starts with, ends with or contains ``value``, folding A-Z only."""
    pattern = _PATTERNS[method].format(_like_escape(value.translate(_FOLD)))
    return ascii_lower(target).like(pattern, escape="\\")


def _clause(item: Filter, columns: Columns) -> ColumnElement[bool]:
    if item.method in ("and", "or"):
        join = and_ if item.method == "and" else or_
        return join(*(_clause(child, columns) for child in item.children))
    if item.method in ("exists", "notExists"):
        present = item.method == "exists"
        return and_(*(columns[n].is_not(None) if present else columns[n].is_(None)
                      for n in item.values))  # fmt: skip
    column = columns[item.attribute]
    operand = _operand(column)
    values = [_bound(column, v) for v in item.values]
    match item.method:
        case "equal":
            return column.in_(values)
        case "notEqual":
            return column.not_in(values)
        case "lessThan":
            return operand < values[0]
        case "lessThanEqual":
            return operand <= values[0]
        case "greaterThan":
            return operand > values[0]
        case "greaterThanEqual":
            return operand >= values[0]
        case "between":
            return operand.between(values[0], values[1])
        case "notBetween":
            return not_(operand.between(values[0], values[1]))
        case "isNull":
            return column.is_(None)
        case "isNotNull":
            return column.is_not(None)
        case "startsWith" | "endsWith" | "contains":
            return or_(*(_like(column, item.method, v) for v in item.values))
        case "notStartsWith" | "notEndsWith" | "notContains":
            return and_(*(not_(_like(column, _NEGATED[item.method], v)) for v in item.values))
        case "search":
            return _search_clause([column], " ".join(item.values))
        case "notSearch":
            return not_(_search_clause([column], " ".join(item.values)))
    raise AssertionError(item.method)  # pragma: no cover - parse_list_request rejects it


def _search_clause(targets: Sequence[ColumnElement[Any]], text: str) -> ColumnElement[bool]:
    """Every whitespace-separated term must occur (A-Z folded) in one of ``targets``."""
    terms = [t for t in text.split() if t]
    if not terms:
        return true()
    return and_(*(or_(*(_like(t, "contains", term) for t in targets)) for term in terms))


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
    if request.random:  # parse_list_request allows no cursor with it
        return stmt.order_by(func.random()).limit(request.limit).offset(request.offset), False
    orders: list[tuple[ColumnElement[Any], bool, str]] = [
        (_operand(columns[name]), desc, name) for name, desc in request.orders
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
