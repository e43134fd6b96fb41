"""Ported Velo code answers as the JavaScript original does: missing keys read as ``undefined``
(``None``), and bodies are written as ``JSON.stringify`` writes them."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest

from tests._sites import ClientFactory
from wixhttp.testing import TestClient

# -- the multiply example (tests/sites/velo_multiply is /work/shared's port, unchanged) ---------


@pytest.fixture
def multiply(make_client: ClientFactory) -> TestClient:
    return make_client("velo_multiply")


def test_multiply_answers_the_product_with_the_content_type_it_set(multiply: TestClient) -> None:
    reply = multiply.get("/_functions/multiply?leftOperand=6&rightOperand=7")
    assert reply.status_code == 200
    assert reply.json() == {"product": 42}
    assert reply.headers["content-type"] == "application/json"


@pytest.mark.parametrize(
    "query", ["", "?leftOperand=6", "?leftOperand=six&rightOperand=7"], ids=["none", "one", "nan"]
)
def test_multiply_answers_400_with_the_caught_error_as_an_empty_object(
    multiply: TestClient, query: str
) -> None:
    reply = multiply.get(f"/_functions/multiply{query}")
    assert reply.status_code == 400
    assert reply.content == b'{"error":{}}'


# -- missing query parameters, headers and JSON fields ------------------------------------------


@pytest.fixture
def missing(make_client: ClientFactory) -> TestClient:
    return make_client("velo_missing_keys", debug=False)


def test_a_missing_query_parameter_reaches_the_handlers_own_check(missing: TestClient) -> None:
    reply = missing.get("/_functions/greet")
    assert (reply.status_code, reply.json()) == (400, {"error": "name is required"})
    assert missing.get("/_functions/greet?name=Ada").json() == {"greeting": "Hello Ada"}


def test_a_missing_query_parameter_falls_back_to_the_handlers_default(missing: TestClient) -> None:
    assert missing.get("/_functions/page").json() == {"page": 1, "size": 20}
    assert missing.get("/_functions/page?size=5").json() == {"page": 1, "size": 5}


def test_missing_headers_read_none_and_headers_are_found_in_any_case(missing: TestClient) -> None:
    reply = missing.get("/_functions/whoami")
    assert (reply.status_code, reply.json()) == (403, {"error": "sign in first"})
    reply = missing.get("/_functions/whoami", headers={"x-api-key": "k1"})
    assert (reply.status_code, reply.json()) == (200, {"token": None, "key": "k1"})


@pytest.mark.parametrize(
    ("sent", "status", "answer"),
    [
        ({}, 400, {"error": "email is required"}),
        ({"name": "Ada"}, 400, {"error": "email is required"}),
        ({"email": "a@x.org"}, 200, {"email": "a@x.org", "name": None, "city": "unknown"}),
        (
            {"email": "a@x.org", "profile": {}},
            200,
            {"email": "a@x.org", "name": None, "city": "unknown"},
        ),
        (
            {"email": "a@x.org", "name": "Ada", "profile": {"address": {"city": "Paris"}}},
            200,
            {"email": "a@x.org", "name": "Ada", "city": "Paris"},
        ),
    ],
)
def test_missing_json_fields_nested_too_read_none_inside_the_handlers_try(
    missing: TestClient, sent: dict[str, Any], status: int, answer: dict[str, Any]
) -> None:
    reply = missing.post("/_functions/signup", json=sent)
    assert (reply.status_code, reply.json()) == (status, answer)


def test_a_plain_def_reads_missing_json_fields_in_a_list_of_objects(missing: TestClient) -> None:
    reply = missing.post(
        "/_functions/order", json={"items": [{"price": 2}, {"price": 3, "qty": 2}]}
    )
    assert reply.json() == {"total": 8, "coupon": None}
    reply = missing.post("/_functions/order", json={"coupon": "X"})
    assert (reply.status_code, reply.json()) == (400, {"error": "no items"})


# -- bodies as JSON.stringify writes them ---------------------------------------------------------


@pytest.fixture
def bodies(make_client: ClientFactory) -> TestClient:
    return make_client("velo_bodies")


def test_an_aware_datetime_is_written_as_a_js_date_in_utc_with_milliseconds(
    bodies: TestClient,
) -> None:
    assert bodies.get("/_functions/now").content == b'{"at":"2024-01-02T03:04:05.678Z"}'
    assert bodies.get("/_functions/zoned").json() == {"at": "2024-01-02T03:04:05.000Z"}


@pytest.fixture
def two_hours_east(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("TZ", "XYZ-2")  # POSIX: local time is UTC+2
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.mark.usefixtures("two_hours_east")
def test_a_naive_datetime_is_read_as_local_time(bodies: TestClient) -> None:
    # datetime(2024, 1, 2, 3, 4, 5) at UTC+2, as datetime.timestamp() reads it.
    assert bodies.get("/_functions/naive").json() == {"at": "2024-01-02T01:04:05.000Z"}


def test_a_date_is_its_iso_string(bodies: TestClient) -> None:
    assert bodies.get("/_functions/day").json() == {"day": "2024-01-02"}


@pytest.mark.parametrize("query", ["a=0&b=0", "a=1&b=0", "a=-1&b=0"], ids=["nan", "inf", "-inf"])
def test_nan_and_infinity_are_written_as_null(bodies: TestClient, query: str) -> None:
    reply = bodies.get(f"/_functions/divide?{query}")
    assert reply.status_code == 200
    assert reply.content == b'{"ratio":null}'
    assert bodies.get("/_functions/divide?a=1&b=4").json() == {"ratio": 0.25}


def test_a_caught_exception_is_an_empty_object_as_a_js_error_is(bodies: TestClient) -> None:
    reply = bodies.post("/_functions/fail")
    assert (reply.status_code, reply.json()) == (400, {"error": {}, "message": "boom"})


def test_python_values_are_written_as_their_json_stringify_counterparts(
    bodies: TestClient,
) -> None:
    reply = bodies.get("/_functions/kinds")
    assert reply.status_code == 200, reply.text
    assert reply.json() == {
        "decimal": 12.5,
        "whole": 3,
        "uuid": "00000000-0000-0000-0000-000000000001",
        "enum": "red",
        "set": ["only"],
        "tuple": [1, "two"],
        "item": {"sku": "A-1", "price": 9.99, "added": "2024-01-02"},
        "money": "12.50 EUR",
        "model": {"mode": "json", "id": "00000000-0000-0000-0000-000000000007"},
        "bytes": {"type": "Buffer", "data": [104, 105]},
        "by_day": {"2024-01-02": 3},
    }


def test_an_unencodable_value_is_a_500_whose_log_names_the_handler_and_the_key_path(
    make_client: ClientFactory, caplog: pytest.LogCaptureFixture
) -> None:
    client = make_client("velo_bodies", debug=False)
    with caplog.at_level(logging.ERROR, logger="wixhttp.error"):
        reply = client.get("/_functions/custom")
    assert reply.status_code == 500
    assert reply.json()["message"] == "Internal Server Error"
    [record] = [r for r in caplog.records if r.name == "wixhttp.error"]
    message = record.getMessage()
    assert "velo_bodies/http_functions.py:" in message and "handler get_custom" in message
    assert message.endswith('body["items"][2]["when"]: cannot encode Point')
    assert record.exc_info is None  # no framework traceback: the path says it all


def test_a_circular_body_is_a_500_naming_where_it_loops(
    bodies: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="wixhttp.error"):
        reply = bodies.get("/_functions/circular")
    assert reply.status_code == 500
    assert 'body["self"]: circular reference' in reply.json()["message"]  # debug is on


def _iso_week(value: Any) -> Any:
    if isinstance(value, date):
        return value.strftime("%G-W%V")
    if type(value).__name__ == "Point":
        return {"x": value.x}
    raise TypeError


@pytest.mark.parametrize("debug", [True, False])
def test_json_default_writes_other_types_and_can_override_the_built_in_rules(
    make_client: ClientFactory, debug: bool
) -> None:
    client = make_client("velo_bodies", json_default=_iso_week, debug=debug)
    assert client.get("/_functions/day").json() == {"day": "2024-W01"}
    assert client.get("/_functions/custom").json()["items"][2] == {"when": {"x": 1}}
    assert client.get("/_functions/kinds").json()["uuid"] == "00000000-0000-0000-0000-000000000001"
