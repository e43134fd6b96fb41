"""Serving deployed code: worker processes behind /functions/{id}/_functions[-dev]/...,
execute permissions, variables as environment, and isolation of crashes and hangs."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from appwrite.enums.execution_method import ExecutionMethod
from appwrite.enums.runtime import Runtime
from appwrite.input_file import InputFile
from appwrite.services.functions import Functions

from tests.platform._support import PlatformProcess, unique_id, wait_for_build

Bundle = Callable[..., bytes]


def _deploy(functions: Functions, function_id: str, code: bytes, activate: bool = True) -> str:
    created = functions.create_deployment(
        function_id, InputFile.from_bytes(code, "code.tar.gz"), activate
    )
    ready = wait_for_build(functions, function_id, created.id)
    assert ready.status.value == "ready", ready.buildlogs
    return str(created.id)


@pytest.fixture
def web(platform: PlatformProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=platform.url, timeout=30) as client:
        yield client


@pytest.fixture
def public_function(functions: Functions, bundle: Bundle) -> str:
    function_id = unique_id()
    functions.create(function_id, "public", Runtime.PYTHON_3_11, execute=["any"])
    _deploy(functions, function_id, bundle("hello"))
    return function_id


def test_the_active_deployment_answers_at_functions(
    web: httpx.Client, public_function: str
) -> None:
    response = web.get(f"/functions/{public_function}/_functions/hello", params={"name": "bob"})
    assert response.status_code == 200
    assert response.json() == {"hello": "hello, bob"}
    assert response.headers["content-type"].startswith("application/json")


def test_method_path_and_query_reach_the_handler(web: httpx.Client, public_function: str) -> None:
    response = web.post(f"/functions/{public_function}/_functions/echo/a/b%20c?x=1&y=2", json={})
    assert response.status_code == 200
    body = response.json()
    assert body["query"] == {"x": "1", "y": "2"}
    assert "b c" in str(body["path"])
    unknown = web.get(f"/functions/{public_function}/_functions/nope")
    assert unknown.status_code == 404


def test_the_handler_sees_the_real_caller_and_forwarded_headers_cannot_be_spoofed(
    web: httpx.Client, public_function: str
) -> None:
    spoof = {
        "X-Forwarded-For": "6.6.6.6",
        "X-Forwarded-Proto": "https",
        "X-Forwarded-Host": "evil.example",
        "x-wixhttp-capture": "not-yours",
    }
    response = web.get(f"/functions/{public_function}/_functions/caller/x?q=1", headers=spoof)
    assert response.status_code == 200
    body = response.json()
    assert body["ip"] == "127.0.0.1"
    # url and base_url are the public ones, as the caller used them
    assert body["url"] == f"{web.base_url}/functions/{public_function}/_functions/caller/x?q=1"
    assert body["base"] == f"{web.base_url}/functions/{public_function}/_functions"
    assert not [name for name in response.headers if name.startswith("x-wixhttp-")]


def test_dev_serves_the_latest_ready_deployment_and_prod_the_active_one(
    functions: Functions, bundle: Bundle, web: httpx.Client
) -> None:
    function_id = unique_id()
    functions.create(function_id, "versions", Runtime.PYTHON_3_11, execute=["any"])
    _deploy(functions, function_id, bundle("hello", extra={"VERSION": b"1"}))
    _deploy(functions, function_id, bundle("hello", extra={"VERSION": b"2"}), activate=False)
    prod = web.get(f"/functions/{function_id}/_functions/version").json()
    dev = web.get(f"/functions/{function_id}/_functions-dev/version").json()
    assert prod["version"] == "1" and dev["version"] == "2"
    assert prod["pid"] != dev["pid"]  # one worker per deployment


def test_a_function_without_deployment_answers_404(functions: Functions, web: httpx.Client) -> None:
    function_id = unique_id()
    functions.create(function_id, "empty", Runtime.PYTHON_3_11, execute=["any"])
    for prefix in ("_functions", "_functions-dev"):
        response = web.get(f"/functions/{function_id}/{prefix}/hello")
        assert response.status_code == 404
        assert response.json()["type"] == "deployment_not_found"
    missing = web.get("/functions/no-such-function/_functions/hello")
    assert missing.status_code == 404 and missing.json()["type"] == "function_not_found"


def test_private_functions_need_a_key_with_executions_write(
    functions: Functions, bundle: Bundle, web: httpx.Client, platform: PlatformProcess, key: str
) -> None:
    function_id = unique_id()
    functions.create(function_id, "private", Runtime.PYTHON_3_11, execute=["users"])
    _deploy(functions, function_id, bundle("hello"))
    url = f"/functions/{function_id}/_functions/hello"
    guest = web.get(url)
    assert guest.status_code == 401 and guest.json()["type"] == "user_unauthorized"
    reader = web.get(url, headers={"X-Appwrite-Key": platform.create_key("functions.read")})
    assert reader.status_code == 401 and reader.json()["type"] == "general_unauthorized_scope"
    assert web.get(url, headers={"X-Appwrite-Key": key}).status_code == 200
    assert web.get(url, headers={"Authorization": f"Bearer {key}"}).status_code == 200


def test_a_disabled_function_is_hidden_from_guests(
    functions: Functions, web: httpx.Client, public_function: str, key: str
) -> None:
    functions.update(public_function, "public", enabled=False, execute=["any"])
    guest = web.get(f"/functions/{public_function}/_functions/hello")
    assert guest.status_code == 404 and guest.json()["type"] == "function_not_found"
    with_key = web.get(
        f"/functions/{public_function}/_functions/hello", headers={"X-Appwrite-Key": key}
    )
    assert with_key.status_code == 200


def test_variables_are_environment_variables_and_changes_apply(
    functions: Functions, web: httpx.Client, public_function: str
) -> None:
    functions.create_variable(public_function, "greeting", "GREETING", "hi")
    functions.create_variable(public_function, "token", "SECRET_TOKEN", "s3cr3t", secret=True)
    env = web.get(f"/functions/{public_function}/_functions/env").json()
    assert env["GREETING"] == "hi" and env["SECRET_TOKEN"] == "s3cr3t"
    assert env["APPWRITE_FUNCTION_ID"] == public_function
    assert env["APPWRITE_FUNCTION_DEPLOYMENT"] == functions.get(public_function).deploymentid
    functions.update_variable(public_function, "greeting", "GREETING", value="hello")
    assert web.get(f"/functions/{public_function}/_functions/env").json()["GREETING"] == "hello"


def test_platform_secrets_do_not_leak_into_workers(
    web: httpx.Client, public_function: str, platform: PlatformProcess
) -> None:
    env = web.get(f"/functions/{public_function}/_functions/env").json()
    assert set(env) == {
        "GREETING",
        "SECRET_TOKEN",
        "APPWRITE_FUNCTION_ID",
        "APPWRITE_FUNCTION_DEPLOYMENT",
    }
    assert env["GREETING"] == ""


def test_a_handler_that_kills_its_worker_gets_502_and_the_next_request_works(
    functions: Functions, bundle: Bundle, web: httpx.Client, public_function: str
) -> None:
    function_id = unique_id()
    functions.create(function_id, "crashy", Runtime.PYTHON_3_11, execute=["any"])
    _deploy(functions, function_id, bundle("crash"))
    before = web.get(f"/functions/{function_id}/_functions/ok").json()["pid"]
    crashed = web.get(f"/functions/{function_id}/_functions/crash")
    assert crashed.status_code == 502
    assert crashed.json()["type"] == "function_worker_crashed"
    assert "exit code 7" in crashed.json()["message"]
    after = web.get(f"/functions/{function_id}/_functions/ok")
    assert after.status_code == 200 and after.json()["pid"] != before
    # Other functions and the API never noticed.
    assert web.get(f"/functions/{public_function}/_functions/hello").status_code == 200


def test_a_handler_that_blocks_its_worker_gets_504_and_the_worker_is_replaced(
    functions: Functions, bundle: Bundle, web: httpx.Client, public_function: str
) -> None:
    function_id = unique_id()
    functions.create(function_id, "stuck", Runtime.PYTHON_3_11, execute=["any"], timeout=1)
    _deploy(functions, function_id, bundle("crash"))
    before = web.get(f"/functions/{function_id}/_functions/ok").json()["pid"]
    with httpx.Client(base_url=web.base_url, timeout=30) as other:
        blocked = web.get(f"/functions/{function_id}/_functions/block")
        assert other.get(f"/functions/{public_function}/_functions/hello").status_code == 200
    assert blocked.status_code == 504
    assert blocked.json()["type"] == "function_worker_timeout"
    after = web.get(f"/functions/{function_id}/_functions/ok")
    assert after.status_code == 200 and after.json()["pid"] != before


_SIZE_SITE = """\
import hashlib

from wixhttp import ok


def post_size(request):
    data = request.body.buffer()
    return ok(body={"size": len(data), "sha256": hashlib.sha256(data).hexdigest()})
"""


def test_a_body_the_platform_accepts_reaches_the_handler_whole(
    functions: Functions, bundle: Bundle, web: httpx.Client, tmp_path: Path
) -> None:
    # Far above the core app's 512 KiB default and below the platform's 10 MiB limits: the
    # worker must not refuse (413) what the platform let through.
    site = tmp_path / "size"
    site.mkdir()
    (site / "http_functions.py").write_text(_SIZE_SITE)
    function_id = unique_id()
    functions.create(function_id, "sizes", Runtime.PYTHON_3_11, execute=["any"])
    _deploy(functions, function_id, bundle(site))

    raw = bytes(range(256)) * 8192  # 2 MiB, every byte value
    direct = web.post(f"/functions/{function_id}/_functions/size", content=raw)
    assert direct.status_code == 200, direct.text
    assert direct.json() == {"size": len(raw), "sha256": hashlib.sha256(raw).hexdigest()}

    text = "wixhttp-\u00e9\u20ac\n" * 180_000  # 2.16 MB of UTF-8 in 1.98 M characters
    encoded = text.encode("utf-8")
    execution = functions.create_execution(
        function_id, body=text, path="/_functions/size", method=ExecutionMethod.POST
    )
    assert execution.responsestatuscode == 200, execution.responsebody
    assert json.loads(execution.responsebody) == {
        "size": len(encoded),
        "sha256": hashlib.sha256(encoded).hexdigest(),
    }
