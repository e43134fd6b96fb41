"""CORS as a site setting (tests/sites/velo_cors): preflights answered, headers added to every
answer from an allowed origin, the user's own CORS headers left alone."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests._servers import running
from tests._sites import ClientFactory, site
from wixhttp import create_app
from wixhttp.settings import CORS, SettingsError
from wixhttp.testing import TestClient

SHOP = "https://shop.example"
EVIL = "https://evil.example"


def preflight(client: TestClient, url: str, origin: str = SHOP, **headers: str) -> Any:
    return client.options(
        url,
        headers={"Origin": origin, "Access-Control-Request-Method": "POST", **headers},
    )


@pytest.fixture
def client(make_client: ClientFactory) -> TestClient:
    return make_client("velo_cors", cors=[SHOP, "https://admin.shop.example"], debug=False)


# -- off by default --------------------------------------------------------------------------


def test_without_the_setting_there_are_no_cors_headers(make_client: ClientFactory) -> None:
    client = make_client("velo_cors", debug=False)
    reply = client.get("/_functions/products", headers={"Origin": SHOP})
    assert "access-control-allow-origin" not in reply.headers
    assert "vary" not in reply.headers
    assert preflight(client, "/_functions/products").status_code == 405


# -- preflight ---------------------------------------------------------------------------------


def test_a_preflight_to_a_function_without_options_is_answered_204(client: TestClient) -> None:
    reply = preflight(
        client, "/_functions/track", **{"Access-Control-Request-Headers": "content-type, x-id"}
    )
    assert reply.status_code == 204
    assert reply.content == b""
    assert reply.headers["access-control-allow-origin"] == SHOP
    assert reply.headers["access-control-allow-methods"] == "POST"
    assert reply.headers["access-control-allow-headers"] == "content-type, x-id"
    assert reply.headers["access-control-max-age"] == "600"
    assert reply.headers["vary"] == "Origin"
    assert "access-control-allow-credentials" not in reply.headers


def test_a_preflight_lists_every_method_of_the_function(client: TestClient) -> None:
    reply = preflight(client, "/_functions/products")
    assert reply.headers["access-control-allow-methods"] == "GET, HEAD"


def test_a_preflight_answers_the_configured_headers_when_some_are_set(
    make_client: ClientFactory,
) -> None:
    client = make_client(
        "velo_cors", cors=CORS(origins=SHOP, allow_headers="Content-Type, X-Id", max_age=60)
    )
    reply = preflight(client, "/_functions/track", **{"Access-Control-Request-Headers": "x-other"})
    assert reply.headers["access-control-allow-headers"] == "Content-Type, X-Id"
    assert reply.headers["access-control-max-age"] == "60"


def test_a_preflight_from_an_origin_not_allowed_is_a_400_without_cors_headers(
    client: TestClient,
) -> None:
    reply = preflight(client, "/_functions/track", origin=EVIL)
    assert reply.status_code == 400
    assert reply.json()["error"] == "cors_origin_not_allowed"
    assert EVIL in reply.json()["message"]
    assert not [h for h in reply.headers if h.startswith("access-control-")]
    assert reply.headers["vary"] == "Origin"


def test_the_sites_own_options_handler_answers_its_preflights(client: TestClient) -> None:
    reply = preflight(client, "/_functions/quote", origin="https://partner.example")
    assert reply.status_code == 200
    assert reply.headers["access-control-allow-origin"] == "https://partner.example"
    assert reply.headers["access-control-allow-headers"] == "X-Partner-Key"
    assert "access-control-max-age" not in reply.headers


def test_a_use_handler_gets_plain_options_but_not_preflights(client: TestClient) -> None:
    reply = preflight(client, "/_functions/proxy")
    assert reply.status_code == 204
    assert reply.headers["access-control-allow-methods"] == (
        "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"
    )
    plain = client.options("/_functions/proxy", headers={"Origin": SHOP})
    assert plain.json() == {"method": "OPTIONS"}
    assert plain.headers["access-control-allow-origin"] == SHOP


# -- actual requests -----------------------------------------------------------------------


@pytest.mark.parametrize("origin", [SHOP, "https://admin.shop.example"])
def test_an_answer_to_an_allowed_origin_names_that_origin(client: TestClient, origin: str) -> None:
    reply = client.get("/_functions/products", headers={"Origin": origin})
    assert reply.json() == {"items": ["shirt", "mug"]}
    assert reply.headers["access-control-allow-origin"] == origin
    assert reply.headers["vary"] == "Origin"


def test_a_post_with_a_json_body_gets_the_header_too(client: TestClient) -> None:
    reply = client.post("/_functions/track", json={"event": "view"}, headers={"Origin": SHOP})
    assert reply.status_code == 201
    assert reply.json() == {"event": "view"}
    assert reply.headers["access-control-allow-origin"] == SHOP


@pytest.mark.parametrize("headers", [{"Origin": EVIL}, {}])
def test_an_answer_to_another_origin_or_none_has_no_allow_origin_but_varies(
    client: TestClient, headers: dict[str, str]
) -> None:
    reply = client.get("/_functions/products", headers=headers)
    assert reply.status_code == 200
    assert "access-control-allow-origin" not in reply.headers
    assert reply.headers["vary"] == "Origin"


def test_a_handlers_own_allow_origin_wins(client: TestClient) -> None:
    reply = client.get("/_functions/legacy", headers={"Origin": SHOP})
    assert reply.headers["access-control-allow-origin"] == "*"
    assert reply.headers["vary"] == "Accept"


def test_origin_is_added_to_a_handlers_vary_header(client: TestClient) -> None:
    reply = client.get("/_functions/cached", headers={"Origin": SHOP})
    assert reply.headers["vary"] == "Accept-Encoding, Origin"


@pytest.mark.parametrize(
    ("method", "url", "status"),
    [
        ("GET", "/_functions/nope", 404),
        ("GET", "/elsewhere", 404),
        ("DELETE", "/_functions/products", 405),
        ("GET", "/_functions/broken", 500),
    ],
)
def test_wixhttps_own_error_answers_carry_the_header_so_a_browser_can_read_them(
    client: TestClient, method: str, url: str, status: int
) -> None:
    reply = client.request(method, url, headers={"Origin": SHOP})
    assert reply.status_code == status
    assert reply.headers["access-control-allow-origin"] == SHOP
    assert reply.json()["error"]


def test_any_origin_is_answered_with_a_star(make_client: ClientFactory) -> None:
    client = make_client("velo_cors", cors="*")
    reply = client.get("/_functions/products", headers={"Origin": EVIL})
    assert reply.headers["access-control-allow-origin"] == "*"
    assert "vary" not in reply.headers
    assert (
        preflight(client, "/_functions/track", origin=EVIL).headers["access-control-allow-origin"]
        == "*"
    )


def test_with_credentials_any_origin_is_echoed_and_credentials_allowed(
    make_client: ClientFactory,
) -> None:
    cors = CORS(origins="*", allow_credentials=True, expose_headers=["X-Total"])
    client = make_client("velo_cors", cors=cors)
    reply = client.get("/_functions/products", headers={"Origin": EVIL})
    assert reply.headers["access-control-allow-origin"] == EVIL
    assert reply.headers["access-control-allow-credentials"] == "true"
    assert reply.headers["access-control-expose-headers"] == "X-Total"
    assert reply.headers["vary"] == "Origin"
    pre = preflight(client, "/_functions/track", origin=EVIL)
    assert pre.headers["access-control-allow-credentials"] == "true"
    assert "access-control-expose-headers" not in pre.headers


# -- settings -------------------------------------------------------------------------------


def test_origins_come_from_the_environment(
    make_client: ClientFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WIXHTTP_CORS_ORIGINS", f"{SHOP}, https://b.example")
    monkeypatch.setenv("WIXHTTP_CORS_ALLOW_CREDENTIALS", "yes")
    monkeypatch.setenv("WIXHTTP_CORS_EXPOSE_HEADERS", "X-Total")
    monkeypatch.setenv("WIXHTTP_CORS_MAX_AGE", "0")
    client = make_client("velo_cors")
    reply = client.get("/_functions/products", headers={"Origin": "https://b.example"})
    assert reply.headers["access-control-allow-origin"] == "https://b.example"
    assert reply.headers["access-control-allow-credentials"] == "true"
    assert reply.headers["access-control-expose-headers"] == "X-Total"
    assert preflight(client, "/_functions/track").headers["access-control-max-age"] == "0"


def test_an_explicit_argument_replaces_the_environment(
    make_client: ClientFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WIXHTTP_CORS_ORIGINS", "*")
    client = make_client("velo_cors", cors="")
    reply = client.get("/_functions/products", headers={"Origin": SHOP})
    assert "access-control-allow-origin" not in reply.headers


def test_origins_in_the_sites_env_file_apply_to_wixhttp_serve(tmp_path: Path) -> None:
    served = tmp_path / "site"
    shutil.copytree(site("velo_cors"), served)
    (served / ".env").write_text(f"WIXHTTP_CORS_ORIGINS={SHOP}\n")
    with running(["serve", str(served)], log_dir=tmp_path) as server, server.client() as client:
        reply = client.options(
            "/_functions/track",
            headers={"Origin": SHOP, "Access-Control-Request-Method": "POST"},
        )
    assert reply.status_code == 204
    assert reply.headers["access-control-allow-origin"] == SHOP


@pytest.mark.parametrize(
    ("cors", "message"),
    [
        ("https://shop.example/", "CORS origin 'https://shop.example/' is not an origin"),
        ("shop.example", "CORS origin 'shop.example' is not an origin"),
        ("https://shop.example/api", "is not an origin like https://shop.example"),
        (["*", SHOP], "CORS origin '*' allows every origin; give it alone"),
        (True, "cors must be origins or a CORS(...)"),
        ([1], "cors must hold strings"),
        (CORS, "cors must be a comma-separated string or a list"),
    ],
)
def test_a_bad_cors_argument_is_a_settings_error(cors: Any, message: str) -> None:
    with pytest.raises(SettingsError, match=re.escape(message)):
        create_app(site("velo_cors"), cors=cors)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"allow_headers": "X Bad"}, "CORS allow_headers: 'X Bad' is not a header name"),
        ({"expose_headers": ["ok", "b@d"]}, "CORS expose_headers: 'b@d' is not a header name"),
        ({"allow_credentials": "yes"}, "CORS allow_credentials must be True or False"),
        ({"max_age": -1}, "CORS max_age must be an int >= 0"),
        ({"max_age": True}, "CORS max_age must be an int >= 0"),
    ],
)
def test_a_bad_cors_option_is_a_settings_error(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(SettingsError, match=re.escape(message)):
        CORS(origins=SHOP, **kwargs)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("WIXHTTP_CORS_ORIGINS", "shop.example", "WIXHTTP_CORS_ORIGINS='shop.example': CORS orig"),
        ("WIXHTTP_CORS_ALLOW_HEADERS", "a b", "WIXHTTP_CORS_ALLOW_HEADERS='a b': CORS allow_h"),
        ("WIXHTTP_CORS_ALLOW_CREDENTIALS", "sure", "WIXHTTP_CORS_ALLOW_CREDENTIALS='sure' is not"),
        ("WIXHTTP_CORS_MAX_AGE", "-5", "WIXHTTP_CORS_MAX_AGE='-5' is not a number of seconds"),
    ],
)
def test_a_bad_cors_variable_is_a_settings_error_naming_it(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, message: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as info:
        create_app(site("velo_cors"))
    assert str(info.value).startswith(message)
