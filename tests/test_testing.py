"""wixhttp.testing.TestClient: the httpx-style client users write their site's tests with."""

from __future__ import annotations

import importlib.util
import os
import shutil
from pathlib import Path
from typing import Any

import httpx
import pytest

import wixhttp
from tests._servers import ServerFactory
from tests._sites import ClientFactory, site
from wixhttp.app import WixHttpApp
from wixhttp.loading import SiteLoadError
from wixhttp.testing import TestClient

TEMPLATES = Path(wixhttp.__file__).parent / "templates"


def test_it_is_an_httpx_client_bound_to_the_site() -> None:
    with TestClient(site("request_echo")) as client:
        assert isinstance(client, httpx.Client)
        assert isinstance(client.app, WixHttpApp)
        reply = client.get("/_functions/echo/a", params={"q": "1"})
    assert reply.status_code == 200
    assert reply.json()["url"] == "http://testserver/_functions/echo/a?q=1"
    assert reply.request.url == "http://testserver/_functions/echo/a?q=1"


def test_base_url_sets_the_scheme_and_host_handlers_see() -> None:
    with TestClient(site("request_echo"), base_url="https://api.example.com") as client:
        seen = client.get("/_functions-dev/echo").json()
    assert seen["url"] == "https://api.example.com/_functions-dev/echo"
    assert seen["base_url"] == "https://api.example.com/_functions-dev"


def test_ip_is_127_0_0_1_unless_a_client_address_is_given() -> None:
    with TestClient(site("request_echo")) as client:
        assert client.get("/_functions/echo").json()["ip"] == "127.0.0.1"
    with TestClient(site("request_echo"), client=("198.51.100.4", 1234)) as client:
        assert client.get("/_functions/echo").json()["ip"] == "198.51.100.4"


def test_debug_is_on_by_default_so_a_500_carries_the_traceback() -> None:
    with TestClient(site("failures")) as client:
        body = client.get("/_functions/boom").json()
    assert "Traceback" in body["details"] and "secret detail 42" in body["details"]


def test_debug_can_be_turned_off() -> None:
    with TestClient(site("failures"), debug=False) as client:
        body = client.get("/_functions/boom").json()
    assert body == {"error": "internal_error", "message": "Internal Server Error"}


def test_settings_are_those_of_create_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WIXHTTP_TEST_MARKER", str(tmp_path / "ran"))
    with TestClient(site("failures"), max_body_size=10, timeout=0.2) as client:
        assert client.post("/_functions/tracked", content=b"x" * 11).status_code == 413
        assert client.get("/_functions/asleepy").status_code == 504
    with TestClient(site("request_echo"), trusted_proxies=["127.0.0.1"]) as client:
        reply = client.get("/_functions/echo", headers={"X-Forwarded-For": "192.0.2.1"})
        assert reply.json()["ip"] == "192.0.2.1"


def test_httpx_client_options_pass_through() -> None:
    with TestClient(site("request_echo"), headers={"X-Team": "blue"}) as client:
        assert client.get("/_functions/echo").json()["headers"]["x-team"] == "blue"


def test_state_lasts_for_the_client_and_each_client_loads_the_site_afresh() -> None:
    with TestClient(site("with_helper")) as client:
        client.post("/_functions/items", json={"name": "pen"})
        assert len(client.get("/_functions/items").json()["items"]) == 1
    with TestClient(site("with_helper")) as client:
        assert client.get("/_functions/items").json()["items"] == []


def test_it_takes_a_folder_a_file_or_a_module(make_client: ClientFactory) -> None:
    by_path = make_client(site("named_file") / "api.py")
    assert by_path.get("/_functions/hello").json() == {"hello": "world"}
    spec = importlib.util.spec_from_file_location(
        "testing_site_module", site("named_file") / "api.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert make_client(module).get("/_functions/hello/mod").json() == {"hello": "mod"}


def test_closing_twice_is_harmless() -> None:
    client = TestClient(site("request_echo"))
    assert client.get("/_functions/echo").status_code == 200
    client.close()
    client.close()
    assert client.is_closed


async def test_it_works_inside_an_async_test() -> None:
    with TestClient(site("request_echo")) as client:
        assert client.get("/_functions/aecho").status_code == 200


def test_its_app_can_also_be_served_for_real(
    make_client: ClientFactory, live_server: ServerFactory
) -> None:
    client = make_client("request_echo")
    server = live_server(client.app)
    assert httpx.get(f"{server.url}/_functions/echo", timeout=5).json()["ip"] == "127.0.0.1"
    assert client.get("/_functions/echo").status_code == 200


def test_a_streamed_body_arrives_as_a_real_server_would_present_it(
    make_client: ClientFactory,
) -> None:
    def chunks() -> Any:
        yield b"abc"
        yield b"def"

    client = make_client("request_echo")
    seen = client.post("/_functions/echo", content=chunks()).json()
    headers = seen["headers"]
    assert not ("transfer-encoding" in headers and "content-length" in headers), headers


def test_the_starter_test_file_passes_against_the_starter_site(tmp_path: Path) -> None:
    shutil.copy(TEMPLATES / "http_functions.py.example", tmp_path / "http_functions.py")
    shutil.copy(TEMPLATES / "test_http_functions.py.example", tmp_path / "test_starter.py")
    spec = importlib.util.spec_from_file_location("test_starter", tmp_path / "test_starter.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    tests = [value for name, value in vars(module).items() if name.startswith("test_")]
    assert len(tests) >= 3
    for test in tests:
        test()


# -- the site's .env -----------------------------------------------------------------------------

ENV_SITE = """\
import os

from wixhttp import ok

AT_IMPORT = os.environ.get("GREETING")

def get_env(request):
    return ok(body={"at_import": AT_IMPORT, "now": os.environ.get("GREETING")})

def post_size(request):
    return ok(body={"size": len(request.body.buffer())})
"""


@pytest.fixture
def env_site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("GREETING", raising=False)
    (tmp_path / "http_functions.py").write_text(ENV_SITE)
    (tmp_path / ".env").write_text("GREETING=from the file\nWIXHTTP_MAX_BODY_SIZE=10\n")
    return tmp_path


def test_the_site_env_file_is_loaded_for_the_clients_lifetime(env_site: Path) -> None:
    with TestClient(env_site) as client:
        seen = client.get("/_functions/env").json()
        assert seen == {"at_import": "from the file", "now": "from the file"}
        assert client.post("/_functions/size", content=b"x" * 11).status_code == 413
    assert "GREETING" not in os.environ
    assert "WIXHTTP_MAX_BODY_SIZE" not in os.environ


def test_the_environment_and_arguments_win_over_the_site_env_file(
    env_site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GREETING", "from the shell")
    with TestClient(env_site, max_body_size=1000) as client:
        assert client.get("/_functions/env").json()["now"] == "from the shell"
        assert client.post("/_functions/size", content=b"x" * 500).json() == {"size": 500}
    assert os.environ["GREETING"] == "from the shell"


def test_a_variable_changed_while_the_client_was_open_is_left_as_it_is(env_site: Path) -> None:
    with TestClient(env_site):
        os.environ["GREETING"] = "changed by the test"
    assert os.environ.pop("GREETING") == "changed by the test"


def test_a_site_that_fails_to_load_leaves_no_env_behind(env_site: Path) -> None:
    (env_site / "http_functions.py").write_text("import not_a_module\n")
    with pytest.raises(SiteLoadError):
        TestClient(env_site)
    assert "GREETING" not in os.environ
