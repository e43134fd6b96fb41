"""What a handler sees of its request: the nine Velo properties and the body."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests._asgi import AsgiCall, http_scope
from tests._servers import ServerFactory, raw_request
from tests._sites import ClientFactory, site
from wixhttp import create_app
from wixhttp.testing import TestClient

ECHOES = ["echo", "aecho"]  # the same echo as a plain def and as an async def


@pytest.fixture
def client(make_client: ClientFactory) -> TestClient:
    return make_client("request_echo")


def echo(client: TestClient, url: str, method: str = "GET", **kwargs: Any) -> dict[str, Any]:
    reply = client.request(method, url, **kwargs)
    assert reply.status_code == 200, reply.text
    result: dict[str, Any] = reply.json()
    return result


# -- method, url, base_url, function_name ------------------------------------------------------


@pytest.mark.parametrize("name", ECHOES)
@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
def test_method_is_the_upper_case_http_method(client: TestClient, name: str, method: str) -> None:
    assert echo(client, f"/_functions/{name}", method)["method"] == method


@pytest.mark.parametrize("name", ECHOES)
def test_the_documented_example_url_is_broken_into_its_parts(client: TestClient, name: str) -> None:
    seen = echo(client, f"/_functions/{name}/sub/x?q=value")
    assert seen["url"] == f"http://testserver/_functions/{name}/sub/x?q=value"
    assert seen["base_url"] == seen["baseUrl"] == "http://testserver/_functions"
    assert seen["function_name"] == seen["functionName"] == name
    assert seen["path"] == ["sub", "x"]
    assert seen["query"] == {"q": "value"}


@pytest.mark.parametrize("prefix", ["_functions", "_functions-dev"])
def test_base_url_ends_with_the_prefix_actually_used(client: TestClient, prefix: str) -> None:
    seen = echo(client, f"/{prefix}/echo/a")
    assert seen["base_url"] == seen["baseUrl"] == f"http://testserver/{prefix}"
    assert seen["url"] == f"http://testserver/{prefix}/echo/a"


def test_function_name_has_no_prefix_and_keeps_later_underscores(client: TestClient) -> None:
    seen = echo(client, "/_functions/admin_members")
    assert seen["function_name"] == seen["functionName"] == "admin_members"


def test_url_uses_the_host_the_caller_asked_for(client: TestClient) -> None:
    seen = echo(client, "/_functions/echo", headers={"Host": "api.example.org:8080"})
    assert seen["url"] == "http://api.example.org:8080/_functions/echo"
    assert seen["base_url"] == "http://api.example.org:8080/_functions"


def test_url_keeps_the_path_and_query_as_sent(client: TestClient) -> None:
    seen = echo(client, "/_functions/echo/a%2Fb/caf%C3%A9?x=a%20b&y=1")
    assert seen["url"] == "http://testserver/_functions/echo/a%2Fb/caf%C3%A9?x=a%20b&y=1"


# -- path --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("/_functions/echo", []),
        ("/_functions/echo/", []),
        ("/_functions/echo/a", ["a"]),
        ("/_functions/echo/a/", ["a"]),
        ("/_functions/echo/John/Doe", ["John", "Doe"]),
        ("/_functions/echo//a//b", ["a", "b"]),
        ("/_functions/echo/caf%C3%A9", ["café"]),
        ("/_functions/echo/a%20b", ["a b"]),
        ("/_functions/echo/a+b", ["a+b"]),
        ("/_functions/echo/a%2Fb/c", ["a/b", "c"]),
        ("/_functions/echo/%2F", ["/"]),
        ("/_functions/echo/100%25", ["100%"]),
        ("/_functions/echo/%E2%9C%93/x%3Fy", ["✓", "x?y"]),
    ],
)
@pytest.mark.parametrize("name", ECHOES)
def test_path_is_the_percent_decoded_segments_after_the_function_name(
    client: TestClient, name: str, url: str, path: list[str]
) -> None:
    assert echo(client, url.replace("/echo", f"/{name}", 1))["path"] == path


# -- query -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", {}),
        ("?", {}),
        ("?q=value", {"q": "value"}),
        ("?a=1&b=2", {"a": "1", "b": "2"}),
        ("?a=1&a=2", {"a": ["1", "2"]}),
        ("?a=1&b=x&a=2&a=3", {"a": ["1", "2", "3"], "b": "x"}),
        ("?a=", {"a": ""}),
        ("?a", {"a": ""}),
        ("?a=&a=1", {"a": ["", "1"]}),
        ("?q=a%20b&c=%E2%9C%93", {"q": "a b", "c": "✓"}),
        ("?q=a+b", {"q": "a b"}),
        ("?eq=a%3Db%26c", {"eq": "a=b&c"}),
    ],
)
@pytest.mark.parametrize("name", ECHOES)
def test_query_maps_keys_to_a_value_or_a_list_for_repeated_keys(
    client: TestClient, name: str, query: str, expected: dict[str, Any]
) -> None:
    assert echo(client, f"/_functions/{name}{query}")["query"] == expected


# -- headers and ip ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ECHOES)
def test_header_names_are_lower_case(client: TestClient, name: str) -> None:
    headers = {"X-Custom-Header": "Mixed Value", "AUTH": "k"}
    seen = echo(client, f"/_functions/{name}", headers=headers)
    assert seen["headers"]["x-custom-header"] == "Mixed Value"
    assert seen["headers"]["auth"] == "k"
    assert all(key == key.lower() for key in seen["headers"])


def test_repeated_headers_are_joined_with_a_comma(client: TestClient) -> None:
    headers = [("X-Multi", "one"), ("x-multi", "two"), ("X-MULTI", "three")]
    seen = echo(client, "/_functions/echo", headers=headers)
    assert seen["headers"]["x-multi"] == "one, two, three"


def test_ip_is_the_peer_address(make_client: ClientFactory) -> None:
    assert echo(make_client("request_echo"), "/_functions/echo")["ip"] == "127.0.0.1"
    other = make_client("request_echo", client=("203.0.113.9", 4321))
    assert echo(other, "/_functions/aecho")["ip"] == "203.0.113.9"


FORWARDED = {
    "X-Forwarded-For": "198.51.100.7",
    "X-Forwarded-Proto": "https",
    "X-Forwarded-Host": "www.example.com",
}


@pytest.mark.parametrize("trusted", [["127.0.0.1"], ["127.0.0.0/8"], ["*"], "10.0.0.1, 127.0.0.1"])
@pytest.mark.parametrize("name", ECHOES)
def test_forwarded_headers_from_a_trusted_proxy_shape_ip_and_url(
    make_client: ClientFactory, name: str, trusted: list[str] | str
) -> None:
    client = make_client("request_echo", trusted_proxies=trusted)
    seen = echo(client, f"/_functions/{name}/a?q=1", headers=FORWARDED)
    assert seen["ip"] == "198.51.100.7"
    assert seen["url"] == f"https://www.example.com/_functions/{name}/a?q=1"
    assert seen["base_url"] == "https://www.example.com/_functions"


@pytest.mark.parametrize("trusted", [None, [], ["10.0.0.0/8"], ["127.0.0.2"]])
@pytest.mark.parametrize("name", ECHOES)
def test_forwarded_headers_from_an_untrusted_peer_are_ignored(
    make_client: ClientFactory, name: str, trusted: list[str] | None
) -> None:
    client = make_client("request_echo", trusted_proxies=trusted)
    seen = echo(client, f"/_functions/{name}/a?q=1", headers=FORWARDED)
    assert seen["ip"] == "127.0.0.1"
    assert seen["url"] == f"http://testserver/_functions/{name}/a?q=1"
    assert seen["base_url"] == "http://testserver/_functions"
    assert seen["headers"]["x-forwarded-for"] == "198.51.100.7"  # still visible as a header


@pytest.mark.parametrize("name", ECHOES)
def test_a_trusted_proxys_forwarded_prefix_is_the_public_mount_point(
    make_client: ClientFactory, name: str
) -> None:
    client = make_client("request_echo", trusted_proxies=["127.0.0.1"])
    headers = {**FORWARDED, "X-Forwarded-Prefix": "/functions/fn1/"}
    seen = echo(client, f"/_functions/{name}/a?q=1", headers=headers)
    assert seen["url"] == f"https://www.example.com/functions/fn1/_functions/{name}/a?q=1"
    assert seen["base_url"] == "https://www.example.com/functions/fn1/_functions"


@pytest.mark.parametrize("prefix", ["/functions/fn1", "no-leading-slash"])
def test_a_forwarded_prefix_is_ignored_from_an_untrusted_peer_or_when_not_a_path(
    make_client: ClientFactory, prefix: str
) -> None:
    trusted = ["127.0.0.1"] if prefix == "no-leading-slash" else None
    client = make_client("request_echo", trusted_proxies=trusted)
    seen = echo(client, "/_functions/echo/a", headers={"X-Forwarded-Prefix": prefix})
    assert seen["base_url"] == "http://testserver/_functions"


@pytest.mark.parametrize(
    ("chain", "trusted", "ip"),
    [
        # a client-supplied (spoofed) left-most entry is not believed
        ("6.6.6.6, 198.51.100.7", ["127.0.0.1"], "198.51.100.7"),
        # proxies in front of proxies: the right-most address that is not a trusted proxy
        ("198.51.100.7, 10.0.0.2, 10.0.0.3", ["127.0.0.1", "10.0.0.0/8"], "198.51.100.7"),
        # every hop trusted: the left-most
        ("10.0.0.9, 10.0.0.2", ["127.0.0.1", "10.0.0.0/8"], "10.0.0.9"),
        (" 198.51.100.7 ,, ", ["127.0.0.1"], "198.51.100.7"),
        ("2001:db8::1", ["127.0.0.1"], "2001:db8::1"),
    ],
)
def test_ip_is_the_right_most_untrusted_address_of_the_forwarded_chain(
    make_client: ClientFactory, chain: str, trusted: list[str], ip: str
) -> None:
    client = make_client("request_echo", trusted_proxies=trusted)
    assert echo(client, "/_functions/echo", headers={"X-Forwarded-For": chain})["ip"] == ip


@pytest.mark.parametrize(
    ("headers", "url"),
    [
        (
            {"X-Forwarded-Proto": "https, http", "X-Forwarded-Host": "a.example, b.example"},
            "https://a.example/_functions/echo",
        ),
        ({"X-Forwarded-Proto": "", "X-Forwarded-Host": " "}, "http://testserver/_functions/echo"),
        ({"X-Forwarded-Host": "shop.example:8443"}, "http://shop.example:8443/_functions/echo"),
    ],
)
def test_forwarded_proto_and_host_use_the_first_non_blank_value(
    make_client: ClientFactory, headers: dict[str, str], url: str
) -> None:
    client = make_client("request_echo", trusted_proxies=["127.0.0.1"])
    assert echo(client, "/_functions/echo", headers=headers)["url"] == url


def test_a_peer_that_is_not_an_ip_is_trusted_only_by_a_wildcard(
    make_client: ClientFactory,
) -> None:
    # e.g. a Unix-socket peer, or a test client named by host
    named = make_client("request_echo", client=("testclient", 1), trusted_proxies=["0.0.0.0/0"])
    assert echo(named, "/_functions/echo", headers=FORWARDED)["ip"] == "testclient"
    wildcard = make_client("request_echo", client=("testclient", 1), trusted_proxies="*")
    assert echo(wildcard, "/_functions/echo", headers=FORWARDED)["ip"] == "198.51.100.7"


def test_trusted_ipv6_proxy(make_client: ClientFactory) -> None:
    client = make_client("request_echo", client=("::1", 5000), trusted_proxies=["::1"])
    assert echo(client, "/_functions/echo", headers=FORWARDED)["ip"] == "198.51.100.7"


def test_trusted_proxy_without_forwarded_headers_leaves_ip_and_url_alone(
    make_client: ClientFactory,
) -> None:
    client = make_client("request_echo", trusted_proxies=["127.0.0.1"])
    seen = echo(client, "/_functions/echo")
    assert (seen["ip"], seen["url"]) == ("127.0.0.1", "http://testserver/_functions/echo")


def test_on_a_real_server_ip_is_the_socket_peer_and_url_the_host_asked_for(
    live_server: ServerFactory,
) -> None:
    server = live_server(create_app(_site()))
    reply = httpx.get(f"{server.url}/_functions/echo/a?b=c", headers=FORWARDED, timeout=5)
    seen = reply.json()
    assert seen["ip"] == "127.0.0.1"
    assert seen["url"] == f"{server.url}/_functions/echo/a?b=c"
    assert seen["base_url"] == f"{server.url}/_functions"


def test_without_a_host_header_url_uses_the_server_address(live_server: ServerFactory) -> None:
    server = live_server(create_app(_site()))
    reply = raw_request(server.port, b"GET /_functions/echo/a HTTP/1.0\r\n\r\n")
    seen = json.loads(reply.body)
    assert seen["url"] == f"http://127.0.0.1:{server.port}/_functions/echo/a"
    assert seen["base_url"] == f"http://127.0.0.1:{server.port}/_functions"


def test_on_a_real_server_forwarded_headers_from_a_trusted_proxy_are_used(
    live_server: ServerFactory,
) -> None:
    server = live_server(create_app(_site(), trusted_proxies=["127.0.0.1"]))
    seen = httpx.get(f"{server.url}/_functions/aecho/a", headers=FORWARDED, timeout=5).json()
    assert seen["ip"] == "198.51.100.7"
    assert seen["url"] == "https://www.example.com/_functions/aecho/a"


def test_behind_a_root_path_base_url_includes_it_like_a_free_site(
    live_server: ServerFactory,
) -> None:
    # Free Wix sites: https://user.wixsite.com/mysite/_functions/...
    server = live_server(create_app(_site()), root_path="/mysite")
    seen = httpx.get(f"{server.url}/_functions/echo/sub?q=value", timeout=5).json()
    assert seen["base_url"] == f"{server.url}/mysite/_functions"
    assert seen["url"] == f"{server.url}/mysite/_functions/echo/sub?q=value"
    assert seen["path"] == ["sub"]
    assert seen["function_name"] == "echo"


def _site() -> Any:
    return site("request_echo")


async def test_a_server_without_raw_path_still_gives_the_segments(asgi_call: AsgiCall) -> None:
    app = create_app(_site())
    scope = http_scope("GET", "/_functions/echo/a b/c", query=b"q=1", headers=[("host", "h")])
    del scope["raw_path"]
    result = await asgi_call(app, scope)
    app.close()
    seen = json.loads(result.body)
    assert seen["path"] == ["a b", "c"]
    assert seen["url"] == "http://h/_functions/echo/a%20b/c?q=1"


# -- body --------------------------------------------------------------------------------------


def test_plain_def_handler_gets_the_body_values_directly(client: TestClient) -> None:
    reply = client.post("/_functions/body", content="héllo".encode())
    assert reply.json() == {
        "text": "héllo",
        "again": "héllo",
        "buffer_hex": "héllo".encode().hex(),
        "types": ["str", "bytes"],
    }


def test_async_handler_awaits_the_body_methods(client: TestClient) -> None:
    reply = client.post("/_functions/abody", content="héllo".encode())
    assert reply.json() == {
        "awaitable": True,
        "text": "héllo",
        "again": "héllo",
        "buffer_hex": "héllo".encode().hex(),
        "types": ["str", "bytes"],
    }


@pytest.mark.parametrize("name", ["body", "abody"])
def test_an_empty_body_is_empty_text_and_bytes(client: TestClient, name: str) -> None:
    seen = client.post(f"/_functions/{name}").json()
    assert (seen["text"], seen["buffer_hex"]) == ("", "")


@pytest.mark.parametrize("name", ["body", "abody"])
def test_binary_body_is_kept_raw_and_text_replaces_invalid_utf8(
    client: TestClient, name: str
) -> None:
    raw = b"\xff\x00ok\xfe"
    seen = client.post(f"/_functions/{name}", content=raw).json()
    assert bytes.fromhex(seen["buffer_hex"]) == raw
    assert seen["text"] == "\ufffd\x00ok\ufffd"


@pytest.mark.parametrize("name", ["json", "ajson"])
def test_json_body_is_parsed_and_can_be_read_again(client: TestClient, name: str) -> None:
    payload = {"name": "Ada", "tags": [1, 2.5, None, True], "nested": {"x": "✓"}}
    seen = client.post(f"/_functions/{name}", json=payload).json()
    assert seen["json"] == payload
    assert seen["same"] is True
    assert '"Ada"' in seen["text"]


@pytest.mark.parametrize("name", ["json", "ajson"])
@pytest.mark.parametrize("value", [[1, 2], "text", 3, None])
def test_any_json_value_is_parsed(client: TestClient, name: str, value: Any) -> None:
    reply = client.post(f"/_functions/{name}", content=json.dumps(value).encode())
    assert reply.json()["json"] == value


@pytest.mark.parametrize("name", ["catch", "acatch"])
@pytest.mark.parametrize(
    ("content", "says"),
    [
        (b"{not json", "not valid JSON"),
        (b'{"a": 1', "not valid JSON"),
        (b"", "empty"),
        (b"   \n", "empty"),
        (b"\xff\xfe", "not valid JSON"),
        (b"NaN", "NaN is not a JSON value"),
        (b'{"a": -Infinity}', "-Infinity is not a JSON value"),
        (b"[" * 100_000, "nested too deeply"),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
    ],
)
def test_malformed_json_raises_a_value_error_the_handler_can_catch(
    client: TestClient, name: str, content: bytes, says: str
) -> None:
    reply = client.post(f"/_functions/{name}", content=content)
    assert reply.status_code == 400
    assert reply.json()["caught"] == "InvalidJSONBody"
    assert says in reply.json()["message"]


@pytest.mark.parametrize("name", ["uncaught", "auncaught"])
@pytest.mark.parametrize("debug", [True, False])
@pytest.mark.parametrize("content", [b"{oops", b"[" * 100_000, b"NaN"])
def test_malformed_json_left_uncaught_is_a_400_saying_why(
    make_client: ClientFactory, name: str, debug: bool, content: bytes
) -> None:
    client = make_client("request_echo", debug=debug)
    reply = client.post(f"/_functions/{name}", content=content)
    assert reply.status_code == 400
    assert reply.json()["error"] == "invalid_json"
    assert "not valid JSON" in reply.json()["message"]


def test_body_is_the_same_for_chunked_and_content_length_requests(
    live_server: ServerFactory,
) -> None:
    server = live_server(create_app(_site()))
    payload = b"0123456789" * 1000

    def chunks() -> Any:
        for start in range(0, len(payload), 777):
            yield payload[start : start + 777]

    with httpx.Client(base_url=server.url, timeout=5) as http:
        sized = http.post("/_functions/body", content=payload).json()
        chunked = http.post("/_functions/abody", content=chunks()).json()
    assert sized["buffer_hex"] == chunked["buffer_hex"] == payload.hex()


def test_a_def_handler_returning_an_async_helper_awaits_the_body_in_it(client: TestClient) -> None:
    # Ported promise style: `export function post_x(request) { return handle(request) }`.
    reply = client.post("/_functions/wrapped", json={"a": 1})
    assert reply.status_code == 200, reply.text
    assert reply.json() == {"json": {"a": 1}, "text": '{"a":1}'}


def test_an_async_handler_can_read_the_body_from_a_sync_helper_in_a_thread(
    client: TestClient,
) -> None:
    reply = client.post("/_functions/threaded", json=[1, 2])
    assert reply.status_code == 200, reply.text
    assert reply.json() == {"json": [1, 2], "size": 5}


def test_json_objects_query_and_headers_are_dicts_whose_missing_keys_read_none(
    client: TestClient,
) -> None:
    reply = client.post(
        "/_functions/dictlike?tag=a&tag=b&one=1",
        content=b'{"a":1,"nested":{"a":2}}',
        headers={"x-token": "t"},
    )
    assert reply.status_code == 200, reply.text
    seen = reply.json()
    assert seen["missing"] == [None, None, None, None]
    assert seen["isinstance"] == [True, True, True, True]
    assert seen["in"] == [False, True, True]
    assert seen["get"] == ["default", 1]
    assert seen["equal"] == [True, True]
    assert seen["keys"] == ["a", "nested"]
    assert json.loads(seen["dumps"]) == {"a": 1, "nested": {"a": 2}}
    assert seen["copied"] == [None, None]
    assert seen["header_case"] == ["t", "t", True, False]
    assert seen["get_all"] == [["a", "b"], ["1"], []]
