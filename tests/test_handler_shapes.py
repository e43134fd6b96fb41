"""Every handler shape a port of Velo code produces: called as the JavaScript original was, or
refused when the site loads (tests/sites/velo_shapes, bad_signature, velo_staff_ping)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests._servers import running, wait_until
from tests._sites import ClientFactory, site
from wixhttp import create_app
from wixhttp.loading import SiteLoadError
from wixhttp.testing import TestClient


@pytest.fixture
def client(make_client: ClientFactory) -> TestClient:
    return make_client("velo_shapes", debug=False)


def test_the_staff_ping_port_answers_what_the_original_answers(
    make_client: ClientFactory,
) -> None:
    # SOURCE.txt: the JavaScript original answers 200 {"message": "pong"}.
    reply = make_client("velo_staff_ping", debug=False).get("/_functions/ping")
    assert reply.status_code == 200
    assert reply.json() == {"message": "pong"}
    assert reply.headers["content-type"].startswith("application/json")


@pytest.mark.parametrize(
    ("method", "url", "body"),
    [
        ("GET", "/_functions/ping", {"message": "pong"}),
        ("GET", "/_functions/status", {"up": True}),
        ("GET", "/_functions/arrow", {"arrow": True}),
    ],
)
def test_a_handler_without_parameters_is_called_without_the_request(
    client: TestClient, method: str, url: str, body: object
) -> None:
    reply = client.request(method, url)
    assert reply.status_code == 200, reply.text
    assert reply.json() == body


def test_a_hand_written_options_handler_without_parameters_answers_a_preflight(
    client: TestClient,
) -> None:
    reply = client.options(
        "/_functions/track",
        headers={"Origin": "https://shop.example", "Access-Control-Request-Method": "POST"},
    )
    assert reply.status_code == 200
    assert reply.headers["access-control-allow-origin"] == "https://shop.example"


def test_extra_parameters_with_defaults_keep_their_defaults(client: TestClient) -> None:
    reply = client.get("/_functions/search?q=shoes")
    assert reply.json() == {"q": "shoes", "limit": 10}


def test_a_handler_taking_args_gets_the_request_as_its_only_argument(client: TestClient) -> None:
    assert client.post("/_functions/log").json() == {"args": 1, "method": "POST"}


def test_a_handler_taking_kwargs_gets_no_keyword_arguments(client: TestClient) -> None:
    assert client.get("/_functions/options").json() == {"options": {}}


def test_a_def_returning_an_async_helpers_coroutine_is_awaited(client: TestClient) -> None:
    reply = client.get("/_functions/item/42")
    assert reply.status_code == 200, reply.text
    assert reply.json() == {"id": "42"}


def test_a_coroutine_resolving_to_a_coroutine_is_awaited_to_the_end(client: TestClient) -> None:
    assert client.get("/_functions/nested/7").json() == {"id": "7"}


# -- refused at load time ------------------------------------------------------------------


def test_a_handler_needing_two_arguments_is_a_load_error_naming_its_line() -> None:
    with pytest.raises(SiteLoadError) as info:
        create_app(site("bad_signature"))
    error = info.value
    assert error.file == str(site("bad_signature") / "http_functions.py")
    assert error.line == 10
    assert str(error).startswith(f"{error.file}:10: handler post_order(request, response) ")
    assert "def post_order(request):" in str(error)
    assert "\n" not in str(error)


@pytest.mark.parametrize(
    ("signature", "shown"),
    [
        ("request, user", "(request, user)"),
        ("request, *, user", "(request, *, user)"),
        ("*, request", "(*, request)"),
        ("request, user, limit=10", "(request, user, limit=10)"),
    ],
)
def test_signatures_that_cannot_take_the_request_alone_are_load_errors(
    tmp_path: Path, signature: str, shown: str
) -> None:
    (tmp_path / "http_functions.py").write_text(
        f"from wixhttp import ok\n\n\ndef get_x({signature}):\n    return ok()\n"
    )
    with pytest.raises(SiteLoadError, match=r"http_functions\.py:4: handler get_x") as info:
        create_app(tmp_path)
    assert f"get_x{shown} cannot be called with the request alone" in str(info.value)


def test_a_callable_object_with_a_bad_call_signature_is_a_load_error(tmp_path: Path) -> None:
    (tmp_path / "http_functions.py").write_text(
        "class Handler:\n"
        "    def __call__(self, request, extra):\n"
        "        return None\n\n\n"
        "get_x = Handler()\n"
    )
    with pytest.raises(SiteLoadError) as info:
        create_app(tmp_path)
    assert str(info.value).startswith(
        f"{tmp_path / 'http_functions.py'}:2: handler get_x(request, extra)"
    )


# -- promise style: an async function called without await -----------------------------------


def _line_of(path: Path, text: str) -> int:
    lines = path.read_text().splitlines()
    return next(number for number, line in enumerate(lines, 1) if text in line)


@pytest.mark.parametrize(
    ("url", "handler", "call"),
    [
        ("/_functions/event/signup", "post_event", "_save(request.path[0])"),
        ("/_functions/later", "post_later", 'pending = _save("later")'),
        ("/_functions/async_event", "post_async_event", '_save("async")'),
    ],
)
def test_the_dev_server_logs_an_async_call_without_await_with_its_line(
    tmp_path: Path, url: str, handler: str, call: str
) -> None:
    served = tmp_path / "site"
    shutil.copytree(site("velo_shapes"), served)
    entry = served / "http_functions.py"
    expected = (
        f"[{handler}] {entry}:{_line_of(entry, call)}: handler {handler} called async function "
        "_save() without await, so its code never ran; make the handler async def and write "
        "`await _save(...)`"
    )
    with running(["dev", str(served)], log_dir=tmp_path) as server, server.client() as client:
        reply = client.post(url)
        assert reply.status_code == 200
        wait_until(lambda: expected in server.log(), what="the warning", timeout=5)
    assert "saved" not in server.log()  # the JavaScript original saves; the port never did


def test_serve_leaves_pythons_own_never_awaited_warning_as_it_is(tmp_path: Path) -> None:
    served = tmp_path / "site"
    shutil.copytree(site("velo_shapes"), served)
    with running(["serve", str(served)], log_dir=tmp_path) as server, server.client() as client:
        assert client.post("/_functions/event/signup").status_code == 200
        wait_until(lambda: "was never awaited" in server.log(), what="Python's warning", timeout=5)
    assert "called async function" not in server.log()
