"""Which exports become routes, and which handler answers which request."""

from __future__ import annotations

import json

import pytest

from tests._asgi import AsgiCall, http_scope
from tests._sites import ClientFactory, site
from wixhttp import create_app
from wixhttp.testing import TestClient


@pytest.fixture
def client(make_client: ClientFactory) -> TestClient:
    return make_client("routing", debug=False)


def handler_of(client: TestClient, method: str, url: str) -> str:
    reply = client.request(method, url)
    assert reply.status_code == 200, reply.text
    name: str = reply.json()["handler"]
    return name


# -- prefixes ----------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
@pytest.mark.parametrize("prefix", ["_functions", "_functions-dev"])
def test_each_prefix_routes_its_method_under_both_url_prefixes(
    client: TestClient, method: str, prefix: str
) -> None:
    reply = client.request(method, f"/{prefix}/items/a/b")
    assert reply.json() == {
        "handler": f"{method.lower()}_items",
        "method": method,
        "path": ["a", "b"],
    }


@pytest.mark.parametrize("url", ["/_functions/items", "/_functions/items/", "/_functions/items/x"])
def test_a_function_answers_with_and_without_a_trailing_path(client: TestClient, url: str) -> None:
    assert handler_of(client, "GET", url) == "get_items"


def test_patch_is_supported(client: TestClient) -> None:
    assert handler_of(client, "PATCH", "/_functions/items") == "patch_items"


@pytest.mark.parametrize(
    ("url", "handler"),
    [
        ("/_functions/admin_members", "get_admin_members"),
        ("/_functions/_private", "get__private"),
    ],
)
def test_name_is_split_from_the_prefix_at_the_first_underscore(
    client: TestClient, url: str, handler: str
) -> None:
    assert handler_of(client, "GET", url) == handler
    assert handler_of(client, "POST", "/_functions/auth_register") == "post_auth_register"


def test_function_names_are_case_sensitive(client: TestClient) -> None:
    assert handler_of(client, "GET", "/_functions/myFunction") == "get_myFunction"
    assert client.get("/_functions/myfunction").status_code == 404
    assert client.get("/_functions/MYFUNCTION").status_code == 404


# -- what counts as a handler ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "handler"),
    [
        ("/_functions/callable", "get_callable"),
        ("/_functions/async_callable", "get_async_callable"),
        ("/_functions/partial", "get_partial"),
        ("/_functions/lambda", "get_lambda"),
        ("/_functions/decorated", "get_decorated"),
    ],
)
def test_any_callable_defined_in_the_site_is_a_handler(
    client: TestClient, url: str, handler: str
) -> None:
    assert handler_of(client, "GET", url) == handler


def test_a_handler_decorated_with_functools_wraps_keeps_its_decorator(client: TestClient) -> None:
    assert client.get("/_functions/decorated").headers["x-decorated"] == "yes"


@pytest.mark.parametrize(
    "name",
    [
        "constant",  # get_constant = "a string"
        "number",  # get_number = 42
        "nothing",  # get_nothing = None
        "klass",  # class get_klass
        "imported",  # from helpers import get_imported
        "upper",  # GET_upper
        "title",  # Get_title
        "profile",  # user_profile is not use_ + "profile"
        "r_profile",
        "",
    ],
)
def test_names_that_are_not_handlers_are_not_routes(client: TestClient, name: str) -> None:
    for method in ("GET", "POST", "HEAD"):
        assert client.request(method, f"/_functions/{name}").status_code == 404


def test_unknown_prefixes_do_not_add_methods(client: TestClient) -> None:
    # head_items and trace_items are plain functions, not routes: HEAD comes from get_items and
    # TRACE is not allowed.
    head = client.head("/_functions/items")
    assert head.status_code == 200
    assert client.request("TRACE", "/_functions/items").status_code == 405
    assert client.get("/_functions/getitems").status_code == 404


def test_only_listed_names_are_exported_when_the_site_has_all(make_client: ClientFactory) -> None:
    client = make_client("with_all", debug=False)
    assert handler_of(client, "GET", "/_functions/listed") == "get_listed"
    # imported from a helper module, but listed in __all__: exported
    assert handler_of(client, "GET", "/_functions/shared") == "get_shared"
    # defined in the site, but not listed: not exported
    assert client.get("/_functions/unlisted").status_code == 404
    assert client.get("/_functions/not_listed_either").status_code == 404
    # listed but not defined: ignored rather than an error
    assert client.get("/_functions/declared_but_missing").status_code == 404


# -- use_ ----------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
def test_use_catches_the_methods_without_a_specific_handler(
    client: TestClient, method: str
) -> None:
    assert handler_of(client, "GET", "/_functions/mixed") == "get_mixed"
    assert handler_of(client, method, "/_functions/mixed") == "use_mixed"


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"])
def test_use_alone_answers_every_method(client: TestClient, method: str) -> None:
    reply = client.request(method, "/_functions/anything/x")
    assert reply.json() == {"handler": "use_anything", "method": method, "path": ["x"]}


def test_head_goes_to_use_when_there_is_no_get(client: TestClient) -> None:
    reply = client.head("/_functions/anything")
    assert reply.status_code == 200
    assert reply.content == b""


# -- HEAD ------------------------------------------------------------------------------------


def test_head_is_answered_by_get_with_headers_and_no_body(client: TestClient) -> None:
    get = client.get("/_functions/items")
    head = client.head("/_functions/items")
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-type"] == get.headers["content-type"]
    # the handler saw method HEAD, and the length is that of the body it returned
    body = json.dumps({"handler": "get_items", "method": "HEAD", "path": []}, separators=(",", ":"))
    assert head.headers["content-length"] == str(len(body))
    assert get.json()["method"] == "GET"


async def test_head_sends_no_body_bytes_at_the_asgi_level(asgi_call: AsgiCall) -> None:
    app = create_app(site("routing"))
    try:
        result = await asgi_call(app, http_scope("HEAD", "/_functions/items"))
    finally:
        app.close()
    assert result.status == 200
    assert result.body == b""
    assert int(result.headers["content-length"]) > 0


def test_head_without_get_or_use_is_405(client: TestClient) -> None:
    reply = client.head("/_functions/submit")
    assert reply.status_code == 405
    assert reply.headers["allow"] == "POST"
    assert reply.content == b""


# -- 404 and 405 -----------------------------------------------------------------------------


@pytest.mark.parametrize("prefix", ["_functions", "_functions-dev"])
def test_unknown_function_is_a_404_with_a_short_json_error(client: TestClient, prefix: str) -> None:
    reply = client.get(f"/{prefix}/nope/a")
    assert reply.status_code == 404
    assert reply.headers["content-type"] == "application/json"
    assert reply.json() == {
        "error": "function_not_found",
        "message": "no HTTP function named 'nope'",
    }


@pytest.mark.parametrize(
    "url",
    [
        "/",
        "/favicon.ico",
        "/items",
        "/_functions",
        "/_functions/",
        "/_function/items",
        "/functions/items",
        "/_functions-prod/items",
        "/api/_functions/items",
    ],
)
def test_paths_outside_the_function_prefixes_are_404(client: TestClient, url: str) -> None:
    reply = client.get(url)
    assert reply.status_code == 404
    assert reply.json()["error"] == "not_found"
    assert "/_functions/<name>" in reply.json()["message"]


@pytest.mark.parametrize("method", ["GET", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"])
def test_wrong_method_is_a_405_with_an_allow_header(client: TestClient, method: str) -> None:
    reply = client.request(method, "/_functions/submit")
    assert reply.status_code == 405
    assert reply.headers["allow"] == "POST"
    body = reply.json()
    assert body["error"] == "method_not_allowed"
    assert method in body["message"] and "submit" in body["message"]


def test_allow_lists_every_method_of_the_function_head_included(
    make_client: ClientFactory,
) -> None:
    client = make_client("routing")
    reply = client.request("TRACE", "/_functions/items")
    assert reply.status_code == 405
    assert reply.headers["allow"] == "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"
