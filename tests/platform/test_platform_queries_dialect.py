"""List queries answer alike on SQLite and PostgreSQL: the same rows in the same order, the same
totals and cursors, and a 400 (never a database error) for a value of the wrong type.

Each engine gets one store (``Store(url)``, ``init()``, ``close()``) with the same rows, made
through the store's own methods: mixed-case, non-ASCII and LIKE-special names. PostgreSQL runs
twice: on the server's default database and on one with an ICU ``en-US`` collation, whose order
is not the bytes' (the default here is ``C.UTF-8``, which is). The PostgreSQL cases skip where no
server answers.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

import pytest
import pytest_asyncio

from tests._postgres import ADMIN_URL, drop_database_async, new_database_async
from wixhttp.platform.errors import AppwriteError
from wixhttp.platform.queries import parse_list_request
from wixhttp.platform.store import (
    EXECUTION_ATTRIBUTES,
    FUNCTION_ATTRIBUTES,
    ExecutionOp,
    Store,
)

pytestmark = pytest.mark.asyncio(loop_scope="module")

PROJECT = "default"
STAMP = "2025-01-01T00:00:00.000+00:00"
#: id -> (name, timeout, enabled), created in this order ($sequence 1 ... 10).
FUNCTIONS = {
    "f-a1": ("Alpha", 10, True),
    "f-a2": ("alpha", 20, False),
    "f-a3": ("ALPHABET", 30, True),
    "f-e1": ("Émile", 40, True),
    "f-e2": ("émile", 50, False),
    "f-z1": ("Zoë", 60, True),
    "f-z2": ("zebra", 70, True),
    "f-u": ("_under", 80, False),
    "f-p": ("50%off", 90, True),
    "f-b": ("b", 100, True),
}
ALL = list(FUNCTIONS)
#: The names' order by code point ("5" < "A" < "Z" < "_" < "a" < "z" < "É" < "é").
BY_NAME = ["f-p", "f-a3", "f-a1", "f-z1", "f-u", "f-a2", "f-b", "f-z2", "f-e1", "f-e2"]
DURATIONS = {"x1": 0.5, "x2": 2.0, "x3": 3.25}


def function_row(function_id: str) -> dict[str, Any]:
    name, timeout, enabled = FUNCTIONS[function_id]
    return {
        "project_id": PROJECT,
        "id": function_id,
        "created_at": STAMP,
        "updated_at": STAMP,
        "name": name,
        "runtime": "python-3.11",
        "execute": [],
        "events": [],
        "timeout": timeout,
        "enabled": enabled,
        "logging": True,
        "scopes": [],
        "extra": {},
    }


def execution_row(duration: float) -> dict[str, Any]:
    return {
        "project_id": PROJECT,
        "function_id": "f-a1",
        "created_at": STAMP,
        "updated_at": STAMP,
        "trigger": "http",
        "status": "completed",
        "duration": duration,
    }


async def icu_database() -> str:
    """A fresh database whose default collation is ICU's ``en-US`` (skips where there is none)."""
    import asyncpg

    url = await new_database_async()  # a fresh name on a server that answers ...
    await drop_database_async(url)  # ... made again with another collation
    name = urlsplit(url).path.lstrip("/")
    connection = await asyncpg.connect(ADMIN_URL, timeout=5)
    try:
        await connection.execute(
            f"CREATE DATABASE \"{name}\" TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US'"
        )
    except asyncpg.PostgresError as exc:  # before PostgreSQL 15, or built without ICU
        pytest.skip(f"no ICU collation on this PostgreSQL: {exc}")
    finally:
        await connection.close()
    return url


@pytest_asyncio.fixture(
    scope="module", loop_scope="module", params=["sqlite", "postgresql", "postgresql-icu"]
)
async def store(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Store]:
    """One engine's store holding :data:`FUNCTIONS` and three executions of ``f-a1``."""
    engine = request.param
    if engine == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('sqlite') / 'platform.db'}"
    else:
        url = await icu_database() if engine == "postgresql-icu" else await new_database_async()
    store = Store(url)
    try:
        await store.init()
        for function_id in FUNCTIONS:
            await store.create_function(function_row(function_id))
        await store.write_executions(
            {key: ExecutionOp("insert", execution_row(d)) for key, d in DURATIONS.items()}
        )
        yield store
    finally:
        await store.close()
        if engine != "sqlite":
            await drop_database_async(url)


def q(method: str, attribute: str | None = None, *values: Any) -> str:
    """A query the way the SDK writes it."""
    data: dict[str, Any] = {"method": method}
    if attribute is not None:
        data["attribute"] = attribute
    if values:
        data["values"] = list(values)
    return json.dumps(data, separators=(",", ":"))


async def listed(store: Store, *queries: str, search: str = "") -> tuple[list[str], int]:
    """The ids and total of ``GET /v1/functions`` with these queries."""
    request = parse_list_request(list(queries), FUNCTION_ATTRIBUTES, search=search)
    rows, total = await store.list_functions(PROJECT, request)
    return [row["id"] for row in rows], total


async def listed_ids(store: Store, *queries: str, search: str = "") -> list[str]:
    ids, total = await listed(store, *queries, search=search)
    assert total == len(ids)
    return ids


# -- one case rule -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (q("startsWith", "name", "al"), ["f-a1", "f-a2", "f-a3"]),
        (q("startsWith", "name", "ALPHA"), ["f-a1", "f-a2", "f-a3"]),
        (q("endsWith", "name", "bet"), ["f-a3"]),
        (q("contains", "name", "pH"), ["f-a1", "f-a2", "f-a3"]),
        (q("notStartsWith", "name", "A"), ["f-e1", "f-e2", "f-z1", "f-z2", "f-u", "f-p", "f-b"]),
        (q("notContains", "name", "E"), ["f-a1", "f-a2", "f-z1", "f-p", "f-b"]),
        (q("startsWith", "name", "Z"), ["f-z1", "f-z2"]),
        # Only A-Z fold: other letters match in their own case.
        (q("startsWith", "name", "é"), ["f-e2"]),
        (q("startsWith", "name", "É"), ["f-e1"]),
        (q("endsWith", "name", "ÉMILE"), ["f-e1"]),
        (q("contains", "name", "ë"), ["f-z1"]),
        (q("contains", "name", "Ë"), []),
        (q("startsWith", "name", "e"), []),
        # % and _ are themselves, not wildcards.
        (q("contains", "name", "%"), ["f-p"]),
        (q("startsWith", "name", "_"), ["f-u"]),
        (q("endsWith", "name", "%off"), ["f-p"]),
        (q("search", "name", "MILE"), ["f-e1", "f-e2"]),
    ],
)
async def test_text_matching_folds_a_to_z_only_on_every_engine(
    store: Store, query: str, expected: list[str]
) -> None:
    assert await listed_ids(store, query) == expected


@pytest.mark.parametrize(
    ("search", "expected"),
    [
        ("ALPHA", ["f-a1", "f-a2", "f-a3"]),
        ("alpha PYTHON", ["f-a1", "f-a2", "f-a3"]),
        ("émile", ["f-e2"]),
        ("F-Z", ["f-z1", "f-z2"]),
        ("50%", ["f-p"]),
        ("alpha nothing", []),
    ],
)
async def test_the_search_param_folds_a_to_z_only_on_every_engine(
    store: Store, search: str, expected: list[str]
) -> None:
    assert await listed_ids(store, search=search) == expected


# -- one order -----------------------------------------------------------------------------------


async def test_strings_sort_by_code_point_on_every_engine(store: Store) -> None:
    assert await listed_ids(store, q("orderAsc", "name")) == BY_NAME
    assert await listed_ids(store, q("orderDesc", "name")) == BY_NAME[::-1]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (q("greaterThan", "name", "Zz"), ["f-a2", "f-e1", "f-e2", "f-z2", "f-u", "f-b"]),
        (q("lessThan", "name", "a"), ["f-a1", "f-a3", "f-z1", "f-u", "f-p"]),
        (q("between", "name", "B", "b"), ["f-a2", "f-z1", "f-u", "f-b"]),
        (q("greaterThanEqual", "name", "É"), ["f-e1", "f-e2"]),
        (q("lessThanEqual", "name", "ALPHABET"), ["f-a3", "f-p"]),
    ],
)
async def test_strings_compare_by_code_point_on_every_engine(
    store: Store, query: str, expected: list[str]
) -> None:
    assert await listed_ids(store, query) == expected


@pytest.mark.parametrize("order", ["orderAsc", "orderDesc"])
async def test_cursors_page_through_a_string_order_both_ways(store: Store, order: str) -> None:
    expected = BY_NAME if order == "orderAsc" else BY_NAME[::-1]
    sort, limit = q(order, "name"), q("limit", None, 3)
    forward: list[str] = []
    page, total = await listed(store, sort, limit)
    while page:
        assert total == 10
        forward += page
        page, total = await listed(store, sort, limit, q("cursorAfter", None, page[-1]))
    assert forward == expected
    backward: list[str] = []
    page, total = await listed(store, sort, limit, q("cursorBefore", None, expected[-1]))
    while page:
        assert total == 10
        backward = page + backward
        page, total = await listed(store, sort, limit, q("cursorBefore", None, page[0]))
    assert backward == expected[:-1]


async def test_an_offset_pages_a_string_order_alike(store: Store) -> None:
    ids, total = await listed(
        store, q("orderAsc", "name"), q("limit", None, 4), q("offset", None, 3)
    )
    assert (ids, total) == (BY_NAME[3:7], 10)


# -- typed values --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (q("equal", "enabled", False), ["f-a2", "f-e2", "f-u"]),
        (q("notEqual", "enabled", True), ["f-a2", "f-e2", "f-u"]),
        (q("between", "timeout", 20, 40), ["f-a2", "f-a3", "f-e1"]),
        (q("equal", "timeout", 10, 100), ["f-a1", "f-b"]),
        (q("greaterThan", "timeout", 3_000_000_000), []),  # beyond the 32-bit column
        (q("lessThan", "timeout", -(2**63)), []),
        (q("greaterThanEqual", "timeout", 2**63 - 1), []),
        (q("equal", "$sequence", "2"), ["f-a2"]),  # Appwrite's $sequence takes digits too
        (q("lessThan", "$sequence", 3), ["f-a1", "f-a2"]),
        (q("equal", "name", "Émile", "zebra"), ["f-e1", "f-z2"]),
        (
            q(
                "or",
                None,
                json.loads(q("equal", "timeout", 90)),
                json.loads(q("equal", "enabled", False)),
            ),
            ["f-a2", "f-e2", "f-u", "f-p"],
        ),
    ],
)
async def test_values_of_the_columns_type_are_answered_on_every_engine(
    store: Store, query: str, expected: list[str]
) -> None:
    assert await listed_ids(store, query) == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (q("greaterThan", "duration", 1), ["x2", "x3"]),  # an integer for a float column
        (q("lessThan", "duration", 2.5), ["x1", "x2"]),
        (q("between", "duration", 0, 1e300), ["x1", "x2", "x3"]),
        (q("equal", "duration", 3.25), ["x3"]),
    ],
)
async def test_numbers_for_a_float_column_are_answered_on_every_engine(
    store: Store, query: str, expected: list[str]
) -> None:
    request = parse_list_request([query], EXECUTION_ATTRIBUTES)
    rows, total = await store.list_executions(PROJECT, "f-a1", request)
    assert ([row["id"] for row in rows], total) == (expected, len(expected))


def invalid(attribute: str, expected: str, got: str) -> str:
    return (
        f'Invalid query: Query value is invalid for attribute "{attribute}": '
        f"expected {expected}, got {got}"
    )


INT = "an integer (64-bit)"


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (q("equal", "timeout", "15"), invalid("timeout", INT, '"15"')),
        (q("greaterThan", "timeout", 1.5), invalid("timeout", INT, "1.5")),
        (q("equal", "timeout", 15.0), invalid("timeout", INT, "15.0")),
        (q("lessThan", "timeout", 2**63), invalid("timeout", INT, str(2**63))),
        (q("equal", "timeout", True), invalid("timeout", INT, "true")),
        (q("equal", "$sequence", "2x"), invalid("$sequence", INT, '"2x"')),
        (q("equal", "name", 15), invalid("name", "a string", "15")),
        (q("equal", "name", None), invalid("name", "a string", "null")),
        (q("equal", "name", "ok", ["x"]), invalid("name", "a string", '["x"]')),
        (q("equal", "name", "nul\u0000"), invalid("name", "a string", '"nul\\u0000"')),
        (q("equal", "name", "\ud800"), invalid("name", "a string", '"\\ud800"')),
        (q("equal", "enabled", "true"), invalid("enabled", "a boolean", '"true"')),
        (q("equal", "enabled", 1), invalid("enabled", "a boolean", "1")),
        (q("startsWith", "timeout", "1"), 'Cannot query startsWith on attribute "timeout"'),
        (q("contains", "enabled", "t"), 'Cannot query contains on attribute "enabled"'),
        (q("and", None, json.loads(q("equal", "timeout", "x"))), invalid("timeout", INT, '"x"')),
        (q("equal", "name", *(["x"] * 101)), "greater than 100 values: name"),
        (q("cursorAfter", None, "nul\u0000"), 'Method "cursorAfter" takes one document ID'),
        ('{"method":"limit","values":[Infinity]}', 'Method "limit" takes one integer value'),
        ('{"method":"offset","values":[NaN]}', 'Method "offset" takes one integer value'),
        ("[" * 100_000, "Query must be a JSON object"),
    ],
)
async def test_a_value_the_column_cannot_hold_is_400_on_every_engine(
    store: Store, query: str, message: str
) -> None:
    with pytest.raises(AppwriteError) as caught:
        await listed(store, query)
    error = caught.value
    assert (error.status, error.type) == (400, "general_query_invalid")
    assert message in str(error)


@pytest.mark.parametrize(
    "value", [float("nan"), float("inf"), 10**400, "2.5", True, None], ids=repr
)
async def test_a_float_column_takes_finite_numbers_only(store: Store, value: Any) -> None:
    raw = json.dumps({"method": "lessThan", "attribute": "duration", "values": [value]})
    with pytest.raises(AppwriteError) as caught:
        request = parse_list_request([raw], EXECUTION_ATTRIBUTES)
        await store.list_executions(PROJECT, "f-a1", request)
    assert caught.value.status == 400
    assert 'attribute "duration": expected a number' in str(caught.value)


async def test_a_search_with_a_nul_is_400_argument_invalid(store: Store) -> None:
    with pytest.raises(AppwriteError) as caught:
        await listed(store, search="a\u0000b")
    assert (caught.value.status, caught.value.type) == (400, "general_argument_invalid")


async def test_sqlites_lower_and_like_fold_ascii_only() -> None:
    """The premise of the case rule: SQLite (as Python ships it) folds no letter beyond A-Z."""
    connection = sqlite3.connect(":memory:")
    try:
        row = connection.execute("SELECT lower('ÉA'), 'É' LIKE 'é', 'A' LIKE 'a'").fetchone()
    finally:
        connection.close()
    assert row == ("Éa", 0, 1)
