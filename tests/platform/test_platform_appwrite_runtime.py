"""Appwrite functions run unchanged: a ``main(context)`` written as Appwrite's starter template
writes one, deployed through the SDK with ``entrypoint`` and ``commands``, answers executions
and direct calls on any path as the open-runtimes Python runtime would."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest
from appwrite.enums.execution_method import ExecutionMethod
from appwrite.input_file import InputFile
from appwrite.services.functions import Functions

from tests.platform._support import (
    RUNTIME,
    PlatformProcess,
    make_bundle,
    unique_id,
    wait_execution,
    wait_for_build,
)

STARTER_LOG = 'Hello, Logs! 1 {"a":1} [1,"two"]\n'


def _deploy_appwrite(
    functions: Functions, site: str, commands: str | None = None, timeout: int = 5
) -> str:
    function_id = unique_id("aw")
    functions.create(function_id, function_id, RUNTIME, execute=["any"], timeout=timeout)
    created = functions.create_deployment(
        function_id,
        InputFile.from_bytes(make_bundle(site), "code.tar.gz"),
        True,
        entrypoint="src/main.py",
        commands=commands,
    )
    built = wait_for_build(functions, function_id, created.id)
    assert built.status.value == "ready", built.buildlogs
    return function_id


@pytest.fixture(scope="module")
def starter(functions: Functions) -> str:
    return _deploy_appwrite(functions, "appwrite_starter", "pip install -r requirements.txt")


@pytest.fixture(scope="module")
def async_main(functions: Functions) -> str:
    return _deploy_appwrite(functions, "appwrite_async", timeout=1)


@pytest.fixture
def web(platform: PlatformProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=platform.url, timeout=30, follow_redirects=False) as client:
        yield client


def test_the_build_installs_the_requirements_and_names_the_appwrite_style(
    functions: Functions, starter: str
) -> None:
    deployment = functions.list_deployments(starter).deployments[0]
    assert "Appwrite runtime: main(context) in src/main.py" in deployment.buildlogs
    assert "Successfully installed inflection" in deployment.buildlogs
    assert "Wix HTTP functions" not in deployment.buildlogs


def test_an_execution_on_the_default_path_reaches_main_with_its_logs_and_errors(
    functions: Functions, starter: str
) -> None:
    execution = functions.create_execution(starter)
    assert execution.status.value == "completed"
    assert execution.responsestatuscode == 200
    assert json.loads(execution.responsebody)["motto"] == "Build like a team of hundreds_"
    assert execution.logs == STARTER_LOG
    assert execution.errors == "Hello, Errors!\n"
    content_type = {h.name: h.value for h in execution.responseheaders}["content-type"]
    assert content_type == "application/json; charset=utf-8"


def test_an_execution_gives_main_the_request_as_the_runtime_describes_it(
    functions: Functions, starter: str, platform: PlatformProcess
) -> None:
    execution = functions.create_execution(
        starter,
        body='{"n": 1}',
        path="/echo?a=1&b=two%20words&flag",
        method=ExecutionMethod.PATCH,
        headers={"content-type": "application/json", "X-Custom": "Yes"},
    )
    seen = json.loads(execution.responsebody)
    assert seen["method"] == "PATCH" and seen["path"] == "/echo"
    assert seen["query_string"] == "a=1&b=two words&flag"
    assert seen["query"] == {"a": "1", "b": "two words", "flag": ""}
    assert seen["body"] == {"n": 1}  # parsed: the request is application/json
    assert seen["body_text"] == seen["body_raw"] == '{"n": 1}'
    assert seen["body_binary_size"] == 8
    assert seen["headers"]["x-custom"] == "Yes"  # names lower-cased
    assert seen["headers"]["x-appwrite-trigger"] == "http"
    assert seen["headers"]["x-appwrite-execution-id"] == execution.id
    # Host is the API's (the execution's caller's), as the function URL would be.
    assert seen["scheme"] == "http" and seen["host"] == "127.0.0.1"
    assert seen["port"] == platform.port
    assert seen["url"] == f"http://127.0.0.1:{platform.port}/echo?a=1&b=two words&flag"


def test_a_direct_call_on_any_path_and_method_reaches_main(
    web: httpx.Client, platform: PlatformProcess, starter: str
) -> None:
    response = web.put(
        f"/functions/{starter}/_functions/echo?x=1",
        content=b"plain words",
        headers={"content-type": "text/plain"},
    )
    assert response.status_code == 200
    seen = response.json()
    assert seen["method"] == "PUT" and seen["path"] == "/echo"
    assert seen["body"] == "plain words"  # not JSON: the text
    assert seen["host"] == "127.0.0.1" and seen["port"] == platform.port
    assert seen["url"] == f"http://127.0.0.1:{platform.port}/echo?x=1"
    for path in ("", "/", "/deep/er/path"):
        answer = web.delete(f"/functions/{starter}/_functions{path}")
        assert answer.status_code == 200, path
        assert answer.json()["learn"] == "https://appwrite.io/docs"
    assert web.get(f"/functions/{starter}/_functions/ping").text == "Pong"


def test_the_response_helpers_set_status_headers_and_body(web: httpx.Client, starter: str) -> None:
    base = f"/functions/{starter}/_functions"
    redirect = web.get(f"{base}/redirect")
    assert redirect.status_code == 302
    assert redirect.headers["location"] == "https://appwrite.io/docs"
    binary = web.get(f"{base}/binary")
    assert binary.content == bytes([0, 1, 2, 255])
    assert binary.headers["content-type"] == "image/png; charset=utf-8"  # as the runtime says
    empty = web.get(f"{base}/empty")
    assert empty.status_code == 204 and empty.content == b""
    sent = web.post(f"{base}/send")
    assert sent.status_code == 201 and sent.text == "made"
    assert sent.headers["x-made-by"] == "main"
    assert sent.headers["content-type"] == "text/plain; charset=utf-8"


def test_package_relative_imports_static_files_and_installed_requirements_work(
    web: httpx.Client, starter: str
) -> None:
    base = f"/functions/{starter}/_functions"
    static = web.get(f"{base}/static")
    assert static.text == "hello from a static file\n"
    assert static.headers["content-type"] == "text/html; charset=utf-8"
    assert web.get(f"{base}/dependency").text == "MadeByPip"


def test_main_sees_the_variables_appwrite_sets_which_a_function_variable_cannot_override(
    functions: Functions, web: httpx.Client, starter: str
) -> None:
    functions.create_variable(starter, unique_id("var"), "APPWRITE_FUNCTION_ID", "spoofed")
    functions.create_variable(starter, unique_id("var"), "APPWRITE_GREETING", "hi")
    env = web.get(f"/functions/{starter}/_functions/env").json()
    assert env["APPWRITE_GREETING"] == "hi"  # the variable is there, the worker restarted
    assert env["APPWRITE_FUNCTION_ID"] == starter
    assert env["APPWRITE_FUNCTION_PROJECT_ID"] == "default"
    assert env["APPWRITE_FUNCTION_RUNTIME_NAME"] == "Python"
    assert env["APPWRITE_FUNCTION_API_ENDPOINT"].endswith("/v1")
    assert env["APPWRITE_FUNCTION_DEPLOYMENT"]


def test_a_bad_json_body_fails_the_execution_with_the_traceback_in_errors(
    functions: Functions, starter: str
) -> None:
    execution = functions.create_execution(starter, body="{not json", path="/json")
    assert execution.status.value == "failed"
    assert execution.responsestatuscode == 500 and execution.responsebody == ""
    assert execution.logs == STARTER_LOG
    assert execution.errors.startswith("Hello, Errors!\nTraceback (most recent call last):")
    assert "json.decoder.JSONDecodeError" in execution.errors


def test_an_exception_in_main_is_a_500_and_a_missing_return_is_named(
    functions: Functions, starter: str
) -> None:
    raised = functions.create_execution(starter, path="/missing")
    assert raised.responsestatuscode == 500 and raised.status.value == "failed"
    assert "ValueError: Missing required fields: name" in raised.errors
    assert 'File "src/utils.py", line ' in raised.errors  # relative to the deployment
    nothing = functions.create_execution(starter, path="/nothing")
    assert nothing.responsestatuscode == 500
    assert "Return statement missing." in nothing.errors


def test_a_native_print_goes_to_the_logs(functions: Functions, starter: str) -> None:
    execution = functions.create_execution(starter, path="/print")
    assert execution.responsebody == "printed"
    assert execution.logs == STARTER_LOG + "printed natively\n"


def test_an_async_main_is_awaited_in_sync_and_async_executions(
    functions: Functions, web: httpx.Client, async_main: str
) -> None:
    queued = functions.create_execution(
        async_main, xasync=True, path="/queued", method=ExecutionMethod.POST
    )
    done = wait_execution(functions, async_main, queued.id)
    assert done.status.value == "completed" and done.responsestatuscode == 200
    assert done.logs == "async POST /queued\n"
    direct = web.get(f"/functions/{async_main}/_functions/a/b")
    assert direct.json() == {"async": True, "method": "GET", "path": "/a/b"}
    failed = functions.create_execution(async_main, path="/boom")
    assert failed.responsestatuscode == 500
    assert "RuntimeError: async main failed" in failed.errors


def test_an_async_main_past_the_functions_timeout_fails_with_a_500(
    functions: Functions, async_main: str
) -> None:
    execution = functions.create_execution(async_main, path="/slow")
    assert execution.status.value == "failed" and execution.responsestatuscode == 500
    assert execution.errors == "Execution timed out.\n"
