"""Response helpers and body serialisation, as a caller of the HTTP function sees them."""

from __future__ import annotations

import json
import logging

import httpx
import pytest

import wixhttp
from tests._servers import ServerFactory, raw_request
from tests._sites import ClientFactory
from wixhttp import WixHttpFunctionResponse, ok, response
from wixhttp.testing import TestClient

FIXED = [
    ("ok", 200),
    ("created", 201),
    ("bad_request", 400),
    ("badRequest", 400),
    ("forbidden", 403),
    ("not_found", 404),
    ("notFound", 404),
    ("server_error", 500),
    ("serverError", 500),
]


@pytest.fixture
def client(make_client: ClientFactory) -> TestClient:
    return make_client("responses", debug=False)


# -- the fixed-status helpers ------------------------------------------------------------------


@pytest.mark.parametrize(("helper", "status"), FIXED)
@pytest.mark.parametrize("style", ["options", "keywords"])
def test_helper_sets_its_status_body_and_headers_and_ignores_a_given_status(
    client: TestClient, helper: str, status: int, style: str
) -> None:
    reply = client.get(f"/_functions/helper/{helper}/{style}")
    assert reply.status_code == status  # the 299 passed in was ignored
    assert reply.json() == {"helper": helper}
    assert reply.headers["x-style"] == style
    assert reply.headers["content-type"] == "application/json; charset=utf-8"


@pytest.mark.parametrize(("helper", "status"), FIXED)
def test_helper_without_arguments_sends_its_status_and_an_empty_body(
    client: TestClient, helper: str, status: int
) -> None:
    reply = client.get(f"/_functions/helper/{helper}/bare")
    assert reply.status_code == status
    assert reply.content == b""
    assert reply.headers["content-length"] == "0"
    assert "content-type" not in reply.headers


def test_camelcase_aliases_are_the_snake_case_helpers() -> None:
    assert wixhttp.badRequest is wixhttp.bad_request
    assert wixhttp.notFound is wixhttp.not_found
    assert wixhttp.serverError is wixhttp.server_error


def test_options_dict_and_keywords_build_equal_responses() -> None:
    from_options = ok({"body": {"a": 1}, "headers": {"X-A": "1"}})
    from_keywords = ok(body={"a": 1}, headers={"X-A": "1"})
    assert from_options == from_keywords
    assert from_options.status == 200


def test_helper_reads_only_body_and_headers_from_the_options() -> None:
    # Wix's getting-started pitfall: ok(item) passes an item where options belong.
    result = ok({"title": "an item", "body": "b", "status": 418})
    assert (result.status, result.body, result.headers) == (200, "b", {})


def test_helper_given_something_other_than_an_options_dict_is_a_500(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    with pytest.raises(TypeError, match="options must be a dict"):
        ok(["not", "a", "dict"])  # type: ignore[arg-type]
    with caplog.at_level(logging.ERROR, logger="wixhttp.error"):
        assert client.get("/_functions/not_options").status_code == 500
    assert "options must be a dict" in caplog.text


# -- response() --------------------------------------------------------------------------------


def test_response_without_a_status_is_200_with_an_empty_body(client: TestClient) -> None:
    reply = client.get("/_functions/default")
    assert reply.status_code == 200
    assert reply.content == b""


@pytest.mark.parametrize("style", ["options", "keywords"])
@pytest.mark.parametrize("code", [201, 202, 299, 301, 418, 422, 451, 503, 599])
def test_response_sends_any_valid_status(client: TestClient, style: str, code: int) -> None:
    reply = client.get(f"/_functions/status/{style}/{code}")
    assert reply.status_code == code
    assert reply.json() == {"status": code}


@pytest.mark.parametrize("code", [204, 304])
def test_a_body_given_with_a_status_that_cannot_have_one_is_dropped(
    client: TestClient, code: int
) -> None:
    reply = client.get(f"/_functions/status/options/{code}")
    assert reply.status_code == code
    assert reply.content == b""
    assert "content-type" not in reply.headers


@pytest.mark.parametrize("http", ["httptools", "h11"])
def test_a_dropped_204_body_does_not_corrupt_a_kept_alive_connection(
    make_client: ClientFactory, live_server: ServerFactory, http: str
) -> None:
    server = live_server(make_client("responses", debug=False).app, http=http)
    with httpx.Client(base_url=server.url, timeout=5) as http_client:
        first = http_client.get("/_functions/status/options/204")
        second = http_client.get("/_functions/body/str")
    assert (first.status_code, first.content) == (204, b"")
    assert "content-length" not in first.headers
    assert (second.status_code, second.text) == (200, "plain text")


@pytest.mark.parametrize("value", [0, 99, 100, 101, 199, 600, -1, "200", True, 200.0])
def test_response_rejects_an_invalid_status(value: object) -> None:
    with pytest.raises(ValueError, match="status must be an int from 200 to 599"):
        response(status=value)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="status must be an int from 200 to 599"):
        response({"status": value})


@pytest.mark.parametrize("kind", ["zero", "big", "text", "bool", "float"])
def test_handler_calling_response_with_an_invalid_status_gets_a_500(
    client: TestClient, kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="wixhttp.error"):
        reply = client.get(f"/_functions/invalid_status/{kind}")
    assert reply.status_code == 500
    assert "status must be an int" in caplog.text


def test_keyword_status_wins_over_the_options_status() -> None:
    assert response({"status": 201}, status=202).status == 202


# -- the response object -----------------------------------------------------------------------


def test_status_body_and_headers_are_read_write(client: TestClient) -> None:
    reply = client.get("/_functions/mutated")
    assert reply.status_code == 202
    assert reply.json() == {"changed": True}
    assert reply.headers["x-added"] == "yes"


def test_a_response_object_built_directly_is_sent(client: TestClient) -> None:
    reply = client.get("/_functions/constructed")
    assert (reply.status_code, reply.text, reply.headers["x-direct"]) == (207, "direct", "1")


def test_response_object_defaults_and_equality() -> None:
    blank = WixHttpFunctionResponse()
    assert (blank.status, blank.body, blank.headers) == (200, None, {})
    assert WixHttpFunctionResponse(201, "x") == WixHttpFunctionResponse(201, "x")
    assert WixHttpFunctionResponse(201, "x") != WixHttpFunctionResponse(201, "y")
    assert "201" in repr(WixHttpFunctionResponse(201, "x"))


def test_helper_copies_the_headers_it_is_given() -> None:
    headers = {"X-A": "1"}
    result = ok(headers=headers)
    result.headers["X-B"] = "2"
    assert headers == {"X-A": "1"}


@pytest.mark.parametrize("kind", ["text", "big", "none"])
def test_handler_setting_an_impossible_status_on_a_response_gets_a_500(
    client: TestClient, kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="wixhttp.error"):
        reply = client.get(f"/_functions/broken_status/{kind}")
    assert reply.status_code == 500
    assert "get_broken_status" in caplog.text


# -- body serialisation ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("dict", {"name": "Ada", "tags": ["a", "b"], "nested": {"n": 1}}),
        ("list", [1, "two", {"three": 3}]),
        ("int", 42),
        ("true", True),
    ],
)
def test_json_values_are_sent_as_json(client: TestClient, kind: str, expected: object) -> None:
    reply = client.get(f"/_functions/body/{kind}")
    assert reply.headers["content-type"] == "application/json; charset=utf-8"
    assert json.loads(reply.content) == expected
    assert reply.headers["content-length"] == str(len(reply.content))


def test_json_keeps_non_ascii_text_as_utf8(make_client: ClientFactory) -> None:
    client = make_client("request_echo")
    reply = client.post("/_functions/json", json={"name": "Zoë ✓"})
    assert "Zoë ✓".encode() in reply.content


@pytest.mark.parametrize(
    ("kind", "text"), [("str", "plain text"), ("unicode", "héllo wörld ✓"), ("empty_str", "")]
)
def test_str_body_is_sent_as_utf8_text(client: TestClient, kind: str, text: str) -> None:
    reply = client.get(f"/_functions/body/{kind}")
    assert reply.content == text.encode("utf-8")
    assert reply.headers["content-length"] == str(len(text.encode("utf-8")))
    if text:
        # The Wix default for a string body, documented in WixHttpFunctionResponse.
        assert reply.headers["content-type"] == "application/json; charset=utf-8"


@pytest.mark.parametrize(("kind", "raw"), [("bytes", b"\x00\x01\xffraw"), ("bytearray", b"\x10 ")])
def test_bytes_body_is_sent_raw_as_octet_stream(client: TestClient, kind: str, raw: bytes) -> None:
    reply = client.get(f"/_functions/body/{kind}")
    assert reply.content == raw
    assert reply.headers["content-type"] == "application/octet-stream"


def test_none_body_is_empty_without_a_content_type(client: TestClient) -> None:
    reply = client.get("/_functions/body/none")
    assert reply.content == b""
    assert "content-type" not in reply.headers


@pytest.mark.parametrize("header", ["Content-Type", "content-type", "CONTENT-TYPE", "cOnTeNt-TyPe"])
@pytest.mark.parametrize("kind", ["dict", "str", "bytes"])
def test_user_content_type_wins_whatever_its_case(
    client: TestClient, header: str, kind: str
) -> None:
    reply = client.get(f"/_functions/typed/{kind}/{header}")
    assert reply.headers.get_list("content-type") == ["text/plain; charset=utf-8"]


def test_a_header_given_twice_in_different_cases_is_sent_once(client: TestClient) -> None:
    reply = client.get("/_functions/two_types")
    assert reply.headers.get_list("content-type") == ["text/plain"]


def test_content_length_is_always_computed_from_the_body(client: TestClient) -> None:
    reply = client.get("/_functions/user_length")
    assert reply.headers.get_list("content-length") == ["4"]
    assert reply.text == "four"


def test_header_values_are_strings_and_lists_give_repeated_headers(client: TestClient) -> None:
    reply = client.get("/_functions/headers")
    assert reply.headers["x-number"] == "86400"
    assert reply.headers.get_list("set-cookie") == ["a=1; Path=/", "b=2; Path=/"]
    assert reply.cookies["a"] == "1" and reply.cookies["b"] == "2"
    assert reply.headers["x-mixed-case"] == "Value"


def test_a_body_that_cannot_be_serialised_is_a_500(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="wixhttp.error"):
        reply = client.get("/_functions/unserialisable")
    assert reply.status_code == 500
    assert 'handler get_unserialisable returned a body that is not JSON: body["when"]: ' in (
        caplog.text
    )
    assert "cannot encode object" in caplog.text and "http_functions.py:127" in caplog.text


# -- header injection --------------------------------------------------------------------------


INVALID_HEADERS = [
    "value",
    "lf",
    "name",
    "nul",
    "list",
    "space",
    "colon",
    "empty",
    "control",
    "delete",
    "non_latin1",
]


@pytest.mark.parametrize("where", INVALID_HEADERS)
def test_an_invalid_header_is_a_500_not_a_split_response(
    client: TestClient, where: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="wixhttp.error"):
        reply = client.get(f"/_functions/inject/{where}")
    assert reply.status_code == 500
    assert "x-evil" not in reply.headers
    assert "x-injected" not in reply.headers
    assert "set-cookie" not in reply.headers
    assert "invalid response header" in caplog.text


def test_an_invalid_header_is_a_500_on_the_wire_not_a_dropped_connection(
    make_client: ClientFactory, live_server: ServerFactory
) -> None:
    server = live_server(make_client("responses", debug=False).app)
    for where in INVALID_HEADERS:
        head = f"GET /_functions/inject/{where} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        reply = raw_request(server.port, head.encode())
        assert reply.status == 500, where
        assert "set-cookie" not in reply.headers and "x-injected" not in reply.headers
        assert b"stolen" not in reply.body


def test_tabs_and_latin1_text_are_valid_in_header_values(client: TestClient) -> None:
    reply = client.get("/_functions/tab")
    assert reply.headers["x-tab"] == "a\tb"
    assert (b"x-latin", "café".encode("latin-1")) in reply.headers.raw
