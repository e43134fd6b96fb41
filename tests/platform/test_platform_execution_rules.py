"""The rules of ``POST /v1/functions/{id}/executions`` (issue 5), against a real platform: what
must exist (function, active ready deployment), how each parameter is validated (scheduledAt,
method, headers, body), who may execute (keys' scopes, the function's ``execute`` roles,
disabled functions), the per-IP rate limit for guests, and the scopes reading needs.

Every refusal is checked for its HTTP status and Appwrite error ``type`` (see the spec, §2 and
§4.3). Bad input the SDK would not send goes through raw httpx; the rest through the SDK."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from functools import partial
from typing import Any

import httpx
import pytest
from appwrite.client import Client
from appwrite.enums.execution_method import ExecutionMethod
from appwrite.exception import AppwriteException
from appwrite.input_file import InputFile
from appwrite.query import Query
from appwrite.services.functions import Functions

from tests.platform._support import (
    FAST,
    PROJECT,
    PlatformProcess,
    at,
    epoch,
    make_bundle,
    module_process,
    new_function,
    wait_execution,
    wait_for_build,
)

#: Default execution settings: scheduledAt at least 60 s ahead with minute precision, and 60
#: guest creations per minute per IP (the guest tests here stay well under that).
PLATFORM_ARGS = ("--activation-limit", "1000")

MAX_BODY = 10_485_760  # Appwrite's limit on `body`, in characters
HEADERS_INVALID = "Invalid headers"


@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PlatformProcess]:
    """Fast settings (scheduledAt 1 s ahead is enough, any precision) and 3 guest creations a
    minute."""
    yield from module_process(tmp_path_factory, *FAST, "--execution-rate-limit", "3")


@pytest.fixture(scope="module")
def function_id(functions: Functions) -> str:
    """A deployed function anyone may execute, shared by the validation tests."""
    return new_function(functions)


@pytest.fixture
def guest(platform: PlatformProcess) -> Iterator[httpx.Client]:
    with platform.http() as client:
        yield client


def guest_functions(process: PlatformProcess) -> Functions:
    """The SDK without a key: a guest."""
    return Functions(Client().set_endpoint(process.endpoint).set_project(PROJECT))


def refused(response: httpx.Response, status: int, error_type: str) -> str:
    """Asserts an Appwrite error response; returns its message."""
    assert response.status_code == status, response.text
    data = response.json()
    assert data["type"] == error_type and data["code"] == status, data
    assert data["message"] and data["version"], data
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers["cache-control"] == "no-cache, no-store, must-revalidate"
    return str(data["message"])


def sdk_refused(call: Callable[[], object], status: int, error_type: str) -> str:
    """Asserts the SDK call raises an AppwriteException; returns its message."""
    with pytest.raises(AppwriteException) as info:
        call()
    error = info.value
    assert (error.code, error.type) == (status, error_type), (error.code, error.type, error.message)
    assert error.message
    return str(error.message)


def executions_url(function_id: str) -> str:
    return f"/v1/functions/{function_id}/executions"


# -- what must exist -----------------------------------------------------------------------------


def test_executing_a_missing_function_is_404_function_not_found(
    platform: PlatformProcess,
    key: str,
    functions: Functions,
    function_id: str,
    guest: httpx.Client,
) -> None:
    message = sdk_refused(
        lambda: functions.create_execution("no-such-function"), 404, "function_not_found"
    )
    assert "could not be found" in message
    refused(guest.post(executions_url("no-such-function"), json={}), 404, "function_not_found")
    # In another project, even an existing function is out of reach.
    with platform.http(key, project="other") as elsewhere:
        response = elsewhere.post(executions_url(function_id), json={})
        refused(response, 404, "project_not_found")


def test_a_function_needs_an_active_ready_deployment(functions: Functions) -> None:
    function_id = new_function(functions, deployed=False)

    def execute() -> object:
        return functions.create_execution(function_id, path="/_functions/echo")

    # No deployment at all.
    message = sdk_refused(execute, 404, "deployment_not_found")
    assert "Create a deployment before trying to execute a function" in message
    # A ready deployment that was not activated.
    inactive = functions.create_deployment(
        function_id, InputFile.from_bytes(make_bundle("executions"), "code.tar.gz"), False
    )
    assert wait_for_build(functions, function_id, inactive.id).status.value == "ready"
    assert functions.get(function_id).deploymentid == ""
    sdk_refused(execute, 404, "deployment_not_found")
    # An activated deployment still building is not active yet (the function's deploymentId is
    # set only when the build is ready, so `build_not_ready` cannot be reached this way).
    building = functions.create_deployment(
        function_id,
        InputFile.from_bytes(make_bundle("executions"), "code.tar.gz"),
        True,
        commands="sleep 1",
    )
    sdk_refused(execute, 404, "deployment_not_found")
    assert functions.get_deployment(function_id, building.id).status.value != "ready"
    assert wait_for_build(functions, function_id, building.id).status.value == "ready"
    execution = functions.create_execution(function_id, path="/_functions/echo")
    assert execution.status.value == "completed" and execution.deploymentid == building.id


# -- scheduledAt ---------------------------------------------------------------------------------


def _minute_aligned(seconds_ahead_at_least: float) -> datetime:
    """The first whole minute after ``seconds_ahead_at_least`` from now (UTC): between that and
    a minute more ahead."""
    soon = datetime.now(timezone.utc) + timedelta(seconds=seconds_ahead_at_least)
    return soon.replace(second=0, microsecond=0) + timedelta(minutes=1)


def test_scheduled_at_requires_async(functions: Functions, function_id: str) -> None:
    due = _minute_aligned(120).isoformat()
    for xasync in (None, False):
        message = sdk_refused(
            partial(functions.create_execution, function_id, xasync=xasync, scheduled_at=due),
            400,
            "general_bad_request",
        )
        assert "Scheduled executions must run asynchronously" in message
    # Checked before the function is looked up.
    sdk_refused(
        partial(functions.create_execution, "no-such-function", scheduled_at=due),
        400,
        "general_bad_request",
    )
    scheduled = functions.list_executions(function_id, [Query.equal("trigger", ["schedule"])])
    assert scheduled.total == 0


@pytest.mark.parametrize(
    "when",
    [
        pytest.param(lambda: at(-120), id="in-the-past"),
        pytest.param(lambda: "tomorrow", id="not-a-date"),
        pytest.param(lambda: "2031-02-30T00:00:00.000+00:00", id="no-such-day"),
        pytest.param(lambda: at(30), id="30s-ahead"),
        # Minute precision, but at most 60 s ahead: refused for the lead alone.
        pytest.param(lambda: _minute_aligned(0).isoformat(), id="next-whole-minute"),
        pytest.param(lambda: "", id="empty"),
    ],
)
def test_scheduled_at_must_be_a_date_at_least_a_minute_ahead(
    functions: Functions, function_id: str, when: Callable[[], str]
) -> None:
    message = sdk_refused(
        lambda: functions.create_execution(function_id, xasync=True, scheduled_at=when()),
        400,
        "general_bad_request",
    )
    assert message == "Execution schedule must be a valid date, and at least 1 minute from now"


def test_with_a_one_minute_lead_scheduled_at_needs_minute_precision(
    functions: Functions, function_id: str, api: httpx.Client
) -> None:
    aligned = _minute_aligned(120)  # 2 to 3 minutes ahead, seconds == 0
    for imprecise in (aligned.replace(second=30), aligned.replace(microsecond=500_000)):
        sdk_refused(
            partial(
                functions.create_execution,
                function_id,
                xasync=True,
                scheduled_at=imprecise.isoformat(),
            ),
            400,
            "general_bad_request",
        )
    for text in (aligned.isoformat(), aligned.strftime("%Y-%m-%dT%H:%M:%S.000Z")):
        execution = functions.create_execution(function_id, xasync=True, scheduled_at=text)
        assert execution.status.value == "scheduled" and execution.trigger.value == "schedule"
        assert execution.scheduledat is not None
        assert epoch(execution.scheduledat) == aligned.timestamp()
        # Cancel it: the module's platform stops long before it is due anyway.
        assert api.delete(f"{executions_url(function_id)}/{execution.id}").status_code == 204


# -- parameters ----------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["TRACE", "CONNECT", "get", "Post", "", 5])
def test_method_must_be_one_of_the_uppercase_http_methods(
    api: httpx.Client, function_id: str, method: object
) -> None:
    message = refused(
        api.post(executions_url(function_id), json={"method": method}),
        400,
        "general_argument_invalid",
    )
    assert "method" in message


def test_every_allowed_method_reaches_the_handler(functions: Functions, function_id: str) -> None:
    for method in ExecutionMethod:
        execution = functions.create_execution(function_id, path="/_functions/echo", method=method)
        assert execution.requestmethod == method.value
        assert execution.responsestatuscode == 200, (method, execution.errors)
        if method.value not in ("HEAD",):
            assert json.loads(execution.responsebody)["method"] == method.value


@pytest.mark.parametrize(
    ("headers", "error_type"),
    [
        (5, "general_argument_invalid"),
        (["x-a"], "general_argument_invalid"),
        (True, "general_argument_invalid"),
        ("not json", "general_bad_request"),
        ('["x-a"]', "general_bad_request"),
        ({"x-a": {"nested": "1"}}, "general_bad_request"),
        ({"x-a": ["1"]}, "general_bad_request"),
        ({"x-a": "one\r\nx-b: two"}, "general_bad_request"),
    ],
    ids=[
        "number",
        "list",
        "bool",
        "string-not-json",
        "string-json-list",
        "object-value",
        "list-value",
        "line-break-in-value",
    ],
)
def test_headers_must_be_an_object_of_scalar_values(
    api: httpx.Client, function_id: str, headers: object, error_type: str
) -> None:
    refused(api.post(executions_url(function_id), json={"headers": headers}), 400, error_type)


def test_header_values_are_coerced_to_strings_and_a_json_string_is_accepted(
    api: httpx.Client, function_id: str
) -> None:
    for headers in (
        {"x-n": 1, "x-f": 1.5, "x-t": True, "x-s": "s"},
        json.dumps({"x-n": 1, "x-f": 1.5, "x-t": True, "x-s": "s"}),
    ):
        response = api.post(
            executions_url(function_id), json={"path": "/_functions/echo", "headers": headers}
        )
        assert response.status_code == 201, response.text
        seen = json.loads(response.json()["responseBody"])["headers"]
        assert (seen["x-n"], seen["x-f"], seen["x-t"], seen["x-s"]) == ("1", "1.5", "true", "s")


@pytest.mark.parametrize(
    "name",
    [
        "x-appwrite-user-id",
        "X-Appwrite-Key",
        "x-appwrite-trigger",
        "X-APPWRITE-EXECUTION-ID",
        "x-appwrite-anything",
    ],
)
def test_headers_with_the_x_appwrite_prefix_are_refused(
    functions: Functions, function_id: str, name: str
) -> None:
    message = sdk_refused(
        lambda: functions.create_execution(function_id, headers={name: "spoofed"}),
        400,
        "general_bad_request",
    )
    assert message.startswith(HEADERS_INVALID) and "x-appwrite" in message


@pytest.mark.parametrize(
    "name",
    ["bad name", "-lead", "trail-", "under_score", "dot.ted", "colon:", "caf\u00e9", "", "a\nb"],
)
def test_header_names_must_be_letters_digits_and_inner_hyphens(
    api: httpx.Client, function_id: str, name: str
) -> None:
    message = refused(
        api.post(executions_url(function_id), json={"headers": {name: "v"}}),
        400,
        "general_bad_request",
    )
    assert message.startswith(HEADERS_INVALID)


def test_headers_are_limited_to_100_keys_and_16_kib_in_total(
    api: httpx.Client, function_id: str
) -> None:
    def create(headers: dict[str, str]) -> httpx.Response:
        return api.post(
            executions_url(function_id), json={"path": "/_functions/echo", "headers": headers}
        )

    def seen(response: httpx.Response) -> dict[str, str]:
        assert response.status_code == 201, response.text
        headers: dict[str, str] = json.loads(response.json()["responseBody"])["headers"]
        return headers

    hundred = {f"x-h{i}": "v" for i in range(100)}
    assert hundred.items() <= seen(create(hundred)).items()
    refused(create({**hundred, "x-one-more": "v"}), 400, "general_bad_request")
    # Names plus values must stay under 16384 characters.
    big = "a" * (16383 - len("x-big"))
    assert seen(create({"x-big": big}))["x-big"] == big
    refused(create({"x-big": big + "a"}), 400, "general_bad_request")


def test_the_body_may_be_10_mib_and_no_more(functions: Functions, function_id: str) -> None:
    message = sdk_refused(
        lambda: functions.create_execution(function_id, body="a" * (MAX_BODY + 1)),
        400,
        "general_argument_invalid",
    )
    assert "body" in message and str(MAX_BODY) in message
    execution = functions.create_execution(function_id, body="a" * MAX_BODY, xasync=True)
    assert execution.status.value == "waiting"
    done = wait_execution(functions, function_id, execution.id)
    assert done.status.value == "completed", done.errors


@pytest.mark.parametrize(
    ("content", "what"),
    [(b"{not json", "valid JSON"), (b'["a"]', "object"), (b'"text"', "object")],
    ids=["invalid-json", "json-list", "json-string"],
)
def test_a_request_body_that_is_not_a_json_object_is_refused(
    api: httpx.Client, function_id: str, content: bytes, what: str
) -> None:
    response = api.post(
        executions_url(function_id),
        content=content,
        headers={"content-type": "application/json"},
    )
    assert what in refused(response, 400, "general_argument_invalid")


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("body", {"a": 1}),
        ("body", ["a"]),
        ("async", "maybe"),
        ("async", 2),
        ("path", "/" + "p" * 2048),
        ("path", ["/"]),
        ("scheduledAt", {"at": "now"}),
    ],
)
def test_parameters_of_the_wrong_type_are_400_argument_invalid(
    api: httpx.Client, function_id: str, name: str, value: object
) -> None:
    params: dict[str, Any] = {"async": True, name: value}
    message = refused(
        api.post(executions_url(function_id), json=params), 400, "general_argument_invalid"
    )
    assert f"`{name}`" in message


def test_unknown_parameters_are_ignored(api: httpx.Client, function_id: str) -> None:
    response = api.post(
        executions_url(function_id),
        json={"path": "/_functions/echo", "functionId": "other", "data": "old", "xyz": [1]},
    )
    assert response.status_code == 201, response.text
    assert response.json()["resourceId"] == function_id
    assert json.loads(response.json()["responseBody"])["body"] == ""


# -- who may execute -----------------------------------------------------------------------------


def test_a_disabled_function_is_not_found_for_guests_but_runs_for_keys(
    platform: PlatformProcess, functions: Functions, guest: httpx.Client
) -> None:
    # Appwrite: "function missing, or disabled and the caller is not key/console".
    function_id = new_function(functions, enabled=False)
    assert functions.get(function_id).enabled is False
    missing = refused(guest.post(executions_url(function_id), json={}), 404, "function_not_found")
    assert missing == refused(
        guest.post(executions_url("no-such-function"), json={}), 404, "function_not_found"
    )
    sdk_refused(
        lambda: guest_functions(platform).create_execution(function_id, xasync=True),
        404,
        "function_not_found",
    )
    execution = functions.create_execution(function_id, path="/_functions/echo")
    assert execution.status.value == "completed" and execution.responsestatuscode == 200


@pytest.mark.parametrize("execute", [[], ["users"], ["user:someone"], ["team:staff"]])
def test_a_guest_without_execute_permission_gets_401_user_unauthorized(
    functions: Functions, guest: httpx.Client, execute: list[str]
) -> None:
    function_id = new_function(functions, execute=execute)
    message = refused(
        guest.post(executions_url(function_id), json={"path": "/_functions/echo"}),
        401,
        "user_unauthorized",
    )
    assert "execute" in message
    # An API key with executions.write is not bound by the function's roles.
    execution = functions.create_execution(function_id, path="/_functions/echo")
    assert execution.status.value == "completed"


def test_the_deployment_is_checked_before_the_execute_permission(
    functions: Functions, guest: httpx.Client
) -> None:
    # Appwrite's order: function, active deployment, ready build, then the caller's roles.
    function_id = new_function(functions, deployed=False, execute=[])
    refused(guest.post(executions_url(function_id), json={}), 404, "deployment_not_found")


def test_a_key_needs_executions_write_to_execute(
    platform: PlatformProcess, functions: Functions
) -> None:
    function_id = new_function(functions, execute=[])
    for scopes in ("functions.read,functions.write", "executions.read", "execution.read"):
        caller = platform.functions(platform.create_key(scopes))
        message = sdk_refused(
            partial(caller.create_execution, function_id),
            401,
            "general_unauthorized_scope",
        )
        assert "executions.write" in message, scopes
    for scopes in ("executions.write", "execution.write"):  # the legacy alias works too
        writer = platform.functions(platform.create_key(scopes))
        execution = writer.create_execution(function_id, path="/_functions/echo")
        assert execution.status.value == "completed", scopes


@pytest.mark.parametrize("execute", [["any"], ["guests"]])
def test_a_guest_may_execute_a_public_function_sync_and_async(
    platform: PlatformProcess, functions: Functions, execute: list[str]
) -> None:
    function_id = new_function(functions, execute=execute)
    anonymous = guest_functions(platform)
    execution = anonymous.create_execution(function_id, path="/_functions/echo?who=guest")
    assert execution.status.value == "completed" and execution.responsestatuscode == 200
    assert json.loads(execution.responsebody)["query"] == {"who": "guest"}
    queued = anonymous.create_execution(function_id, xasync=True, path="/_functions/echo")
    assert queued.status.value == "waiting" and queued.trigger.value == "http"
    done = wait_execution(functions, function_id, queued.id)
    assert done.status.value == "completed" and done.responsestatuscode == 200


# -- reading and deleting ------------------------------------------------------------------------


def test_reading_and_deleting_executions_needs_the_execution_scopes(
    platform: PlatformProcess, functions: Functions, function_id: str, guest: httpx.Client
) -> None:
    execution = functions.create_execution(function_id, path="/_functions/echo")
    other = functions.create_execution(function_id, path="/_functions/echo")
    url = f"{executions_url(function_id)}/{execution.id}"

    def client(scopes: str) -> httpx.Client:
        return platform.http(platform.create_key(scopes))

    with (
        client("functions.read,functions.write") as no_execution_scopes,
        client("executions.write") as write_only,
        client("execution.read") as legacy_read_only,
    ):
        for caller in (no_execution_scopes, write_only, guest):
            assert "executions.read" in refused(caller.get(url), 401, "general_unauthorized_scope")
            assert "executions.read" in refused(
                caller.get(executions_url(function_id)), 401, "general_unauthorized_scope"
            )
        for caller in (no_execution_scopes, legacy_read_only):
            assert "executions.write" in refused(
                caller.delete(url), 401, "general_unauthorized_scope"
            )
        # Reading needs executions.read (or the legacy execution.read) ...
        assert legacy_read_only.get(url).json()["$id"] == execution.id
        listed = legacy_read_only.get(executions_url(function_id)).json()["executions"]
        assert {execution.id, other.id} <= {e["$id"] for e in listed}
        # ... and deleting executions.write, without executions.read.
        assert write_only.delete(url).status_code == 204
    assert other.id in {e.id for e in functions.list_executions(function_id).executions}
    assert execution.id not in {e.id for e in functions.list_executions(function_id).executions}


# -- a lead under a minute, and the rate limit (the `limited` platform) -------------------------


@pytest.fixture(scope="module")
def limited_key(limited: PlatformProcess) -> str:
    return limited.create_key()


@pytest.fixture(scope="module")
def limited_functions(limited: PlatformProcess, limited_key: str) -> Functions:
    return limited.functions(limited_key)


@pytest.fixture(scope="module")
def limited_function_id(limited_functions: Functions) -> str:
    return new_function(limited_functions)


def test_with_a_lead_under_a_minute_any_precision_is_accepted(
    limited: PlatformProcess,
    limited_key: str,
    limited_functions: Functions,
    limited_function_id: str,
) -> None:
    message = sdk_refused(
        lambda: limited_functions.create_execution(
            limited_function_id, xasync=True, scheduled_at=at(0.5)
        ),
        400,
        "general_bad_request",
    )
    assert message.startswith("Execution schedule must be a valid date, and at least 1 seconds")
    due = at(3.5)  # milliseconds, seconds != 0
    execution = limited_functions.create_execution(
        limited_function_id, xasync=True, scheduled_at=due
    )
    assert execution.status.value == "scheduled" and execution.scheduledat is not None
    assert epoch(execution.scheduledat) == epoch(due)
    with limited.http(limited_key) as api:
        response = api.delete(f"{executions_url(limited_function_id)}/{execution.id}")
        assert response.status_code == 204


def _in_one_window(needed: float = 3.0) -> None:
    """The limiter counts in clock-aligned minutes: start a burst where it fits in one."""
    left = 60 - time.time() % 60
    if left < needed:
        time.sleep(left + 0.05)


def _guest_from(process: PlatformProcess, address: str) -> httpx.Client:
    """A guest client whose connections come from ``address`` (any of 127.0.0.0/8)."""
    return httpx.Client(
        base_url=process.url,
        headers={"X-Appwrite-Project": PROJECT},
        timeout=30,
        transport=httpx.HTTPTransport(local_address=address),
    )


def _limit_headers(response: httpx.Response) -> tuple[int, int, int]:
    return (
        int(response.headers["X-RateLimit-Limit"]),
        int(response.headers["X-RateLimit-Remaining"]),
        int(response.headers["X-RateLimit-Reset"]),
    )


def test_a_guest_gets_429_after_the_rate_limit_but_a_key_does_not(
    limited: PlatformProcess, limited_functions: Functions
) -> None:
    function_id = new_function(limited_functions)
    url = executions_url(function_id)
    _in_one_window()
    with _guest_from(limited, "127.0.0.1") as guest:
        started = time.time()
        allowed = [
            guest.post(url, json={"path": "/_functions/echo"}),
            guest.post(url, json={"path": "/_functions/echo", "async": True}),
            guest.post(url, json={"path": "/_functions/echo"}),
        ]
        assert [r.status_code for r in allowed] == [201, 202, 201], [r.text for r in allowed]
        limits = [_limit_headers(r) for r in allowed]
        assert [(lim, rem) for lim, rem, _ in limits] == [(3, 2), (3, 1), (3, 0)]
        reset = limits[0][2]
        assert {r for _, _, r in limits} == {reset}
        assert started < reset <= started + 60 and reset % 60 == 0
        for _ in range(2):
            over = guest.post(url, json={"path": "/_functions/echo"})
            message = refused(over, 429, "general_rate_limit_exceeded")
            assert "Rate limit" in message
            assert _limit_headers(over) == (3, 0, reset)
        # Refused before anything else: even a missing function counts as over the limit.
        refused(
            guest.post(executions_url("no-such-function"), json={}),
            429,
            "general_rate_limit_exceeded",
        )
    # An API key is not limited.
    for _ in range(5):
        execution = limited_functions.create_execution(function_id, path="/_functions/echo")
        assert execution.status.value == "completed"
    # The refused attempts ran nothing: 3 guest executions plus the key's 5.
    assert limited_functions.list_executions(function_id).total == 8


def test_each_client_ip_has_its_own_rate_limit_count(
    limited: PlatformProcess, limited_function_id: str
) -> None:
    # The platform binds 127.0.0.1; clients can still connect *from* 127.0.0.2 and 127.0.0.3.
    url = executions_url(limited_function_id)
    _in_one_window()
    with _guest_from(limited, "127.0.0.3") as busy, _guest_from(limited, "127.0.0.2") as quiet:
        for _ in range(3):
            assert busy.post(url, json={"async": True}).status_code == 202
        refused(busy.post(url, json={"async": True}), 429, "general_rate_limit_exceeded")
        response = quiet.post(url, json={"path": "/_functions/echo"})
        assert response.status_code == 201, response.text
        assert _limit_headers(response)[:2] == (3, 2)
        seen = json.loads(response.json()["responseBody"])
        assert seen["ip"] == "127.0.0.2"
        assert seen["headers"]["x-appwrite-client-ip"] == "127.0.0.2"
