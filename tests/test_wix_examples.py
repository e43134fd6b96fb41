"""Every example of the Wix `wix-http-functions` reference, ported to Python, behaves as documented.

Each example is a fixture site under tests/sites/wix_examples/<example>/ whose docstring quotes
the JavaScript it ports; those that use wix-data or wix-secrets-backend get a small in-memory
stand-in module next to them (several sites have a helper of the same name, wix_data.py).
"""

from __future__ import annotations

from typing import Any

import pytest

from tests._sites import ClientFactory, site
from wixhttp.testing import TestClient

METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
JSON = "application/json"
JSON_UTF8 = "application/json; charset=utf-8"


def example(make_client: ClientFactory, name: str) -> TestClient:
    return make_client(site(f"wix_examples/{name}"), debug=False)


# -- the response helpers (each documented with a use_myFunction example) ----------------------


@pytest.mark.parametrize(
    ("name", "status"),
    [
        ("ok_bare", 200),
        ("created_bare", 201),
        ("bad_request_bare", 400),
        ("forbidden_bare", 403),
        ("not_found_bare", 404),
        ("server_error_bare", 500),
        ("response_bare", 200),
    ],
)
@pytest.mark.parametrize("method", METHODS)
def test_helper_without_options(
    make_client: ClientFactory, name: str, status: int, method: str
) -> None:
    reply = example(make_client, name).request(method, "/_functions/myFunction")
    assert reply.status_code == status
    assert reply.content == b""


@pytest.mark.parametrize(
    ("name", "status", "body"),
    [
        ("ok_options", 200, {"key1": "value1", "key2": "value2"}),
        ("created_options", 201, {"key1": "value1", "key2": "value2"}),
        ("bad_request_options", 400, {"error": "The request must contain the 'X' parameter."}),
        ("forbidden_options", 403, {"error": "forbidden"}),
        ("not_found_options", 404, {"error": "not found"}),
        ("server_error_options", 500, {"error": "internal server error"}),
        ("response_418", 418, {"key1": "value1", "key2": "value2"}),
    ],
)
@pytest.mark.parametrize("method", METHODS)
def test_helper_with_options(
    make_client: ClientFactory, name: str, status: int, body: dict[str, Any], method: str
) -> None:
    reply = example(make_client, name).request(method, "/_functions/myFunction")
    assert reply.status_code == status
    assert reply.json() == body
    assert reply.headers.get_list("content-type") == [JSON]


# -- the introduction ------------------------------------------------------------------------


@pytest.mark.parametrize("prefix", ["_functions", "_functions-dev"])
def test_intro_query_finds_matching_items(make_client: ClientFactory, prefix: str) -> None:
    reply = example(make_client, "intro_query").get(f"/{prefix}/myFunction/John/Doe")
    assert reply.status_code == 200
    assert reply.headers["content-type"] == JSON
    assert reply.json() == {
        "items": [{"_id": "p-1", "firstName": "John", "lastName": "Doe", "product": "pen"}]
    }


def test_intro_query_answers_not_found(make_client: ClientFactory) -> None:
    reply = example(make_client, "intro_query").get("/_functions/myFunction/Jane/Roe")
    assert reply.status_code == 404
    assert reply.json() == {"error": "Jane Roe wasn't found"}


def test_intro_query_without_both_names_is_a_caught_server_error(
    make_client: ClientFactory,
) -> None:
    reply = example(make_client, "intro_query").get("/_functions/myFunction/John")
    assert reply.status_code == 500
    assert reply.json() == {"error": "list index out of range"}


@pytest.mark.parametrize(
    ("headers", "status", "body"),
    [
        ({}, 400, {"error": "Not authorized"}),
        ({"auth": "wrong"}, 400, {"error": "Not authorized"}),
        ({"Auth": "My-Secret-Key"}, 200, {"results": ["the", "results"]}),
        ({"AUTH": "My-Secret-Key"}, 200, {"results": ["the", "results"]}),
    ],
)
def test_keep_your_site_secure_checks_the_auth_header(
    make_client: ClientFactory, headers: dict[str, str], status: int, body: dict[str, Any]
) -> None:
    reply = example(make_client, "secure_get").get("/_functions/functionName", headers=headers)
    assert reply.status_code == status
    assert reply.json() == body
    assert reply.headers["content-type"] == JSON


# -- get_ ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "status", "text"),
    [
        ("/_functions/myFunction/findMe", 200, "Found it!"),
        ("/_functions/myFunction/findMe/", 200, "Found it!"),
        ("/_functions-dev/myFunction/findMe", 200, "Found it!"),
        ("/_functions/myFunction/findYou", 404, "Can't find it!"),
        ("/_functions/myFunction", 404, "Can't find it!"),
        ("/_functions/myFunction/findme", 404, "Can't find it!"),
    ],
)
def test_get_find_me(make_client: ClientFactory, url: str, status: int, text: str) -> None:
    reply = example(make_client, "get_find_me").get(url)
    assert (reply.status_code, reply.text) == (status, text)
    assert reply.headers["content-type"] == JSON_UTF8


def test_get_find_me_answers_head_and_refuses_post(make_client: ClientFactory) -> None:
    client = example(make_client, "get_find_me")
    head = client.head("/_functions/myFunction/findMe")
    assert (head.status_code, head.content) == (200, b"")
    post = client.post("/_functions/myFunction/findMe")
    assert post.status_code == 405
    assert post.headers["allow"] == "GET, HEAD"


def test_get_query_users_finds_john_doe(make_client: ClientFactory) -> None:
    reply = example(make_client, "get_query_users").get("/_functions/myFunction/John/Doe")
    assert reply.status_code == 200
    assert reply.json() == {"items": [{"_id": "u-1", "firstName": "John", "lastName": "Doe"}]}


def test_get_query_users_answers_not_found(make_client: ClientFactory) -> None:
    reply = example(make_client, "get_query_users").get("/_functions/myFunction/Jane/Roe")
    assert reply.status_code == 404
    assert reply.json() == {"error": "'Jane Roe' was not found"}


def test_get_query_users_decodes_names_in_the_path(make_client: ClientFactory) -> None:
    reply = example(make_client, "get_query_users").get("/_functions/myFunction/Jo%20hn/D%C3%B6e")
    assert reply.json() == {"error": "'Jo hn Döe' was not found"}


# -- post_ ---------------------------------------------------------------------------------


@pytest.mark.parametrize("content", [b"any text at all", b"", "ünïcode".encode()])
def test_post_text_creates(make_client: ClientFactory, content: bytes) -> None:
    reply = example(make_client, "post_text").post("/_functions/myFunction/", content=content)
    assert (reply.status_code, reply.content) == (201, b"")


def test_post_insert_creates_the_item_from_the_json_body(make_client: ClientFactory) -> None:
    client = example(make_client, "post_insert")
    reply = client.post("/_functions/myFunction/", json={"title": "new item"})
    assert reply.status_code == 201
    assert reply.headers["content-type"] == JSON
    assert reply.json() == {"inserted": {"title": "new item", "_id": "new-1"}}
    again = client.post("/_functions/myFunction/", json={"title": "second"})
    assert again.json()["inserted"]["_id"] == "new-2"


def test_post_insert_catches_malformed_json_as_a_server_error(make_client: ClientFactory) -> None:
    reply = example(make_client, "post_insert").post("/_functions/myFunction/", content=b"{nope")
    assert reply.status_code == 500
    assert reply.json()["error"].startswith("request body is not valid JSON")


def test_post_insert_catches_a_wix_data_error(make_client: ClientFactory) -> None:
    reply = example(make_client, "post_insert").post("/_functions/myFunction/", json=[1, 2])
    assert reply.status_code == 500
    assert reply.json() == {"error": "WDE0004: Failed to insert item: item must be an object."}


# -- put_ ----------------------------------------------------------------------------------


def test_put_text_answers_ok(make_client: ClientFactory) -> None:
    reply = example(make_client, "put_text").put("/_functions/myFunction/", content=b"update")
    assert (reply.status_code, reply.content) == (200, b"")


def test_put_update_updates_the_item(make_client: ClientFactory) -> None:
    item = {"_id": "76bf-8bfa-714", "title": "new title"}
    reply = example(make_client, "put_update").put("/_functions/myFunction/", json=item)
    assert reply.status_code == 200
    assert reply.json() == {"inserted": item}


def test_put_update_of_a_missing_item_is_a_caught_server_error(make_client: ClientFactory) -> None:
    reply = example(make_client, "put_update").put(
        "/_functions/myFunction/", json={"_id": "nope", "title": "x"}
    )
    assert reply.status_code == 500
    assert reply.json() == {
        "error": "WDE0073: Item [nope] does not exist in collection [myCollection]."
    }


# -- delete_ -------------------------------------------------------------------------------


def test_delete_simple_answers_ok(make_client: ClientFactory) -> None:
    reply = example(make_client, "delete_simple").delete("/_functions/myFunction/someId")
    assert (reply.status_code, reply.content) == (200, b"")


@pytest.mark.parametrize(
    ("headers", "content"),
    [({"Content-Type": "application/json"}, b""), ({}, b'{"id": "someId"}')],
)
def test_delete_with_a_body_or_json_type_is_refused_as_on_wix(
    make_client: ClientFactory, headers: dict[str, str], content: bytes
) -> None:
    reply = example(make_client, "delete_simple").request(
        "DELETE", "/_functions/myFunction/someId", headers=headers, content=content
    )
    assert reply.status_code == 400


def test_delete_remove_deletes_the_item_once(make_client: ClientFactory) -> None:
    client = example(make_client, "delete_remove")
    first = client.delete("/_functions/myFunction/76bf-8bfa-714")
    assert first.status_code == 200
    assert first.json() == {"deleted": {"_id": "76bf-8bfa-714", "title": "old title"}}
    second = client.delete("/_functions/myFunction/76bf-8bfa-714")
    assert (second.status_code, second.json()) == (200, {"deleted": None})


def test_delete_remove_without_an_id_is_a_caught_server_error(make_client: ClientFactory) -> None:
    reply = example(make_client, "delete_remove").delete("/_functions/myFunction")
    assert reply.status_code == 500
    assert reply.json() == {"error": "list index out of range"}


# -- options_ (CORS) -----------------------------------------------------------------------


PREFLIGHT = {"Origin": "https://www.example.com", "Access-Control-Request-Method": "POST"}


def test_options_cors_answers_a_preflight_with_204_and_the_cors_headers(
    make_client: ClientFactory,
) -> None:
    reply = example(make_client, "options_cors").options(
        "/_functions/myFunction/", headers=PREFLIGHT
    )
    assert reply.status_code == 204
    assert reply.content == b""
    assert reply.headers["access-control-allow-origin"] == "https://www.example.com"
    assert reply.headers["access-control-allow-methods"] == "POST, GET, OPTIONS"
    assert reply.headers["access-control-max-age"] == "86400"
    assert "content-length" not in reply.headers


def test_options_cors_has_no_other_methods(make_client: ClientFactory) -> None:
    reply = example(make_client, "options_cors").post("/_functions/myFunction/")
    assert reply.status_code == 405
    assert reply.headers["allow"] == "OPTIONS"


@pytest.mark.parametrize("origin", ["https://www.example.com", "https://shop.example.com"])
def test_options_validate_origin_echoes_an_allowed_origin(
    make_client: ClientFactory, origin: str
) -> None:
    reply = example(make_client, "options_validate_origin").options(
        "/_functions/myFunction/", headers={**PREFLIGHT, "Origin": origin}
    )
    assert reply.status_code == 204
    assert reply.headers["access-control-allow-origin"] == origin
    assert reply.headers["access-control-allow-methods"] == "POST, GET, OPTIONS"


@pytest.mark.parametrize("headers", [{"Origin": "https://evil.example"}, {}])
def test_options_validate_origin_leaves_other_origins_out(
    make_client: ClientFactory, headers: dict[str, str]
) -> None:
    reply = example(make_client, "options_validate_origin").options(
        "/_functions/myFunction/", headers=headers
    )
    assert reply.status_code == 204
    assert "access-control-allow-origin" not in reply.headers
    assert reply.headers["access-control-max-age"] == "86400"


# -- use_ ----------------------------------------------------------------------------------


@pytest.mark.parametrize("method", METHODS)
def test_use_catchall_answers_every_method(make_client: ClientFactory, method: str) -> None:
    reply = example(make_client, "use_catchall").request(method, "/_functions/myFunction/a")
    assert reply.status_code == 200
    assert reply.headers["x-method"] == method


@pytest.mark.parametrize(
    ("method", "handler"),
    [
        ("GET", "get_myFunction"),
        ("POST", "use_myFunction"),
        ("PUT", "use_myFunction"),
        ("DELETE", "use_myFunction"),
        ("OPTIONS", "use_myFunction"),
    ],
)
def test_use_with_get_sends_get_to_get_and_the_rest_to_use(
    make_client: ClientFactory, method: str, handler: str
) -> None:
    reply = example(make_client, "use_with_get").request(method, "/_functions/myFunction")
    assert reply.json() == {"handledBy": handler, "method": method}
