"""Executions through the official SDK: synchronous, asynchronous and scheduled runs of a
function's handler, their records (get, list with queries, delete), the logs each one captured,
timeouts and crashes, and direct HTTP calls recorded as executions."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from appwrite.enums.execution_method import ExecutionMethod
from appwrite.exception import AppwriteException
from appwrite.models.execution import Execution
from appwrite.models.headers import Headers
from appwrite.query import Query
from appwrite.services.functions import Functions

from tests._servers import wait_until
from tests.platform._support import (
    FAST,
    RUNTIME,
    PlatformProcess,
    at,
    epoch,
    marks,
    new_function,
    wait_execution,
)
from wixhttp.platform.capture import ERRORS_TRUNCATED, TRUNCATED

PLATFORM_ARGS = FAST


@pytest.fixture(scope="module")
def function_id(functions: Functions) -> str:
    """One deployed function shared by the tests that only run handlers."""
    return new_function(functions, timeout=10)


def _headers(items: Sequence[Headers]) -> dict[str, str]:
    return {item.name: item.value for item in items}


# -- synchronous ---------------------------------------------------------------------------------


def test_a_synchronous_execution_sends_body_headers_path_and_query_to_the_handler(
    functions: Functions, function_id: str, platform: PlatformProcess
) -> None:
    started = time.monotonic()
    execution = functions.create_execution(
        function_id,
        body='{"a": 1}',
        path="/_functions/echo/x/y z?q=1&q=2&r=3",
        method=ExecutionMethod.PUT,
        headers={"content-type": "application/json", "x-n": 1, "X-Forwarded-For": "6.6.6.6"},
    )
    assert time.monotonic() - started < 10
    assert execution.status.value == "completed"
    assert execution.trigger.value == "http"
    assert execution.responsestatuscode == 200
    assert execution.requestmethod == "PUT"
    assert execution.requestpath == "/_functions/echo/x/y z?q=1&q=2&r=3"
    assert execution.resourceid == function_id and execution.resourcetype.value == "functions"
    assert execution.deploymentid == functions.get(function_id).deploymentid
    assert execution.duration > 0 and execution.scheduledat is None
    seen = json.loads(execution.responsebody)
    assert seen["method"] == "PUT"
    assert seen["path"] == ["x", "y z"]
    assert seen["query"] == {"q": ["1", "2"], "r": "3"}
    assert seen["body"] == '{"a": 1}'
    headers = seen["headers"]
    assert headers["content-type"] == "application/json" and headers["x-n"] == "1"
    # What Appwrite injects; a caller cannot set these, nor spoof its address.
    assert headers["x-appwrite-execution-id"] == execution.id
    assert headers["x-appwrite-trigger"] == "http"
    assert headers["x-appwrite-client-ip"] == "127.0.0.1"
    assert headers["x-appwrite-user-id"] == "" and headers["x-appwrite-continent-eu"] == "false"
    assert seen["ip"] == "127.0.0.1"
    assert not [name for name in headers if name.startswith("x-wixhttp-")]
    # The handler sees the URL a direct call would have used.
    assert (
        seen["url"] == f"{platform.url}/functions/{function_id}/_functions/echo/x/y%20z?q=1&q=2&r=3"
    )
    # The reply has every response header, plus the execution id ...
    returned = _headers(execution.responseheaders)
    assert returned["x-custom"] == "yes" and returned["cache-control"] == "no-store"
    assert returned["x-appwrite-execution-id"] == execution.id
    assert returned["content-type"].startswith("application/json")
    assert not [name for name in returned if name.startswith("x-wixhttp-")]
    # ... and the request headers kept are the allowed ones only.
    assert _headers(execution.requestheaders) == {
        "content-type": "application/json",
        "x-appwrite-client-ip": "127.0.0.1",
    }

    stored = functions.get_execution(function_id, execution.id)
    assert stored.responsebody == ""  # stored executions never keep the body
    assert set(_headers(stored.responseheaders)) == {"content-type", "content-length"}
    assert stored.status.value == "completed" and stored.responsestatuscode == 200
    assert stored.requestheaders == execution.requestheaders


def test_the_handler_status_decides_completed_or_failed(
    functions: Functions, function_id: str
) -> None:
    not_found = functions.create_execution(function_id, path="/_functions/echo?status=404")
    assert (not_found.status.value, not_found.responsestatuscode) == ("completed", 404)
    unavailable = functions.create_execution(function_id, path="/_functions/echo?status=503")
    assert (unavailable.status.value, unavailable.responsestatuscode) == ("failed", 503)
    missing = functions.create_execution(function_id)  # path "/" matches no handler
    assert (missing.status.value, missing.responsestatuscode) == ("completed", 404)
    assert missing.requestpath == "/" and missing.requestmethod == "POST"


def test_an_uncaught_exception_fails_with_its_traceback_in_errors(
    functions: Functions, function_id: str
) -> None:
    execution = functions.create_execution(function_id, path="/_functions/fail")
    assert execution.status.value == "failed" and execution.responsestatuscode == 500
    assert execution.logs == "about to fail\n"
    assert "Traceback (most recent call last)" in execution.errors
    assert "ValueError: boom from the handler" in execution.errors
    assert functions.get_execution(function_id, execution.id).errors == execution.errors


def test_stdout_logging_and_stderr_are_split_into_logs_and_errors(
    functions: Functions, function_id: str
) -> None:
    execution = functions.create_execution(function_id, path="/_functions/talk?tag=T&lines=2")
    assert execution.logs == "T out 0\nINFO site: T info 0\nT out 1\nINFO site: T info 1\n"
    assert execution.errors == "T err 0\nT err 1\nWARNING site: T warned\n"


def test_code_written_for_a_terminal_is_captured_too(
    functions: Functions, function_id: str
) -> None:
    execution = functions.create_execution(function_id, path="/_functions/stdio")
    assert execution.status.value == "completed", (execution.responsebody, execution.errors)
    assert execution.logs == "via click\nto stdout explicitly\n"
    assert execution.errors == "via click to stderr\n"


def test_logs_and_errors_keep_their_last_million_characters_with_a_warning(
    functions: Functions, function_id: str
) -> None:
    execution = functions.create_execution(function_id, path="/_functions/big?size=1200000")
    assert execution.status.value == "completed"
    assert len(execution.logs) == 1_000_000
    assert execution.logs.startswith(TRUNCATED) and execution.logs.endswith("0123456789")
    assert len(execution.errors) == 1_000_000
    assert execution.errors.startswith(ERRORS_TRUNCATED) and execution.errors.endswith("Eend")
    stored = functions.get_execution(function_id, execution.id)
    assert stored.logs == execution.logs and stored.errors == execution.errors


def test_concurrent_executions_never_mix_their_logs(functions: Functions, function_id: str) -> None:
    tags = [f"c{i}" for i in range(16)]

    def run(tag: str) -> tuple[str, str, str]:
        handler = "talk" if int(tag[1:]) % 2 else "threadtalk"
        execution = functions.create_execution(
            function_id, path=f"/_functions/{handler}?tag={tag}&lines=6"
        )
        return tag, execution.logs, execution.errors

    def run_async(tag: str) -> str:
        return str(
            functions.create_execution(
                function_id, xasync=True, path=f"/_functions/talk?tag={tag}&lines=6"
            ).id
        )

    with ThreadPoolExecutor(16) as pool:
        queued = list(pool.map(run_async, [f"a{i}" for i in range(8)]))
        results = list(pool.map(run, tags))
    for tag, logs, errors in results:
        if int(tag[1:]) % 2:  # async talk: print + logging.info to logs, stderr + warning to errors
            assert logs == "".join(f"{tag} out {i}\nINFO site: {tag} info {i}\n" for i in range(6))
            assert errors == "".join(f"{tag} err {i}\n" for i in range(6)) + (
                f"WARNING site: {tag} warned\n"
            )
        else:  # threadtalk, a plain def in a thread: prints only
            assert logs == "".join(f"{tag} out {i}\n" for i in range(6))
            assert errors == "".join(f"{tag} err {i}\n" for i in range(6))
    for index, execution_id in enumerate(queued):
        done = wait_execution(functions, function_id, execution_id)
        tag = f"a{index}"
        assert done.status.value == "completed"
        assert all(tag in line for line in done.logs.splitlines()), done.logs
        assert all(tag in line for line in done.errors.splitlines()), done.errors
        assert done.logs.count(f"{tag} out") == 6 and done.errors.count(f"{tag} err") == 6


# -- asynchronous --------------------------------------------------------------------------------


def test_an_asynchronous_execution_is_waiting_then_runs_to_completion(
    functions: Functions, function_id: str, api: httpx.Client
) -> None:
    response = api.post(
        f"/v1/functions/{function_id}/executions",
        json={"async": True, "path": "/_functions/sleep?s=0.5", "body": "x"},
    )
    assert response.status_code == 202
    created = response.json()
    assert created["status"] == "waiting" and created["trigger"] == "http"
    assert created["responseStatusCode"] == 0 and created["logs"] == ""
    # Persisted before the reply: readable at once.
    first = functions.get_execution(function_id, created["$id"])
    assert first.status.value in ("waiting", "processing", "completed")
    wait_execution(functions, function_id, created["$id"], ("processing", *("completed",)))
    done = wait_execution(functions, function_id, created["$id"])
    assert done.status.value == "completed" and done.responsestatuscode == 200
    assert done.logs == "sleeping 0.5\nwoke up\n"
    assert 0.45 <= done.duration < 5  # asyncio.sleep may wake a hair early
    assert done.responsebody == ""


def test_many_asynchronous_executions_all_complete(functions: Functions, function_id: str) -> None:
    with ThreadPoolExecutor(8) as pool:
        ids = list(
            pool.map(
                lambda i: (
                    functions.create_execution(
                        function_id, xasync=True, path=f"/_functions/echo?n={i}"
                    ).id
                ),
                range(60),
            )
        )
    for execution_id in ids:
        assert wait_execution(functions, function_id, execution_id).status.value == "completed"


# -- timeouts and crashes ------------------------------------------------------------------------


def test_a_handler_past_the_function_timeout_fails(functions: Functions) -> None:
    function_id = new_function(functions, timeout=1)
    started = time.monotonic()
    execution = functions.create_execution(function_id, path="/_functions/sleep?s=3")
    assert time.monotonic() - started < 2.8
    assert execution.status.value == "failed" and execution.responsestatuscode == 504
    assert "timeout" in execution.errors
    assert execution.logs == "sleeping 3.0\n"
    queued = functions.create_execution(function_id, xasync=True, path="/_functions/sleep?s=3")
    done = wait_execution(functions, function_id, queued.id, timeout=10)
    assert done.status.value == "failed" and done.responsestatuscode == 504


def test_a_synchronous_execution_past_the_sync_cap_gets_408_and_is_recorded_failed(
    functions: Functions, api: httpx.Client
) -> None:
    function_id = new_function(functions, timeout=10)
    started = time.monotonic()
    response = api.post(
        f"/v1/functions/{function_id}/executions", json={"path": "/_functions/sleep?s=3.5"}
    )
    elapsed = time.monotonic() - started
    assert response.status_code == 408, response.text
    assert response.json()["type"] == "function_synchronous_timeout"
    assert 1.9 < elapsed < 3.4  # the platform runs with --sync-timeout 2
    [execution] = functions.list_executions(function_id).executions
    assert execution.status.value == "failed" and execution.responsestatuscode == 500
    assert "timed out after 2 seconds" in execution.errors

    # The handler ran on; its logs join the record when it finishes.
    def with_logs() -> Execution | None:
        record = functions.get_execution(function_id, execution.id)
        return record if record.logs else None

    later = wait_until(with_logs, timeout=10, what="the late logs")
    assert later.logs == "sleeping 3.5\nwoke up\n" and later.status.value == "failed"


def test_a_handler_that_crashes_its_worker_fails_and_the_next_execution_runs(
    functions: Functions,
) -> None:
    function_id = new_function(functions)
    crashed = functions.create_execution(function_id, path="/_functions/crash")
    assert crashed.status.value == "failed" and crashed.responsestatuscode == 500
    assert "exit code 7" in crashed.errors
    after = functions.create_execution(function_id, path="/_functions/echo")
    assert after.status.value == "completed"
    queued = functions.create_execution(function_id, xasync=True, path="/_functions/crash")
    done = wait_execution(functions, function_id, queued.id)
    assert done.status.value == "failed" and "exit code 7" in done.errors
    assert functions.create_execution(function_id, path="/_functions/echo").status.value == (
        "completed"
    )


def test_a_blocked_worker_reads_processing_until_the_platform_gives_up_on_it(
    functions: Functions, api: httpx.Client
) -> None:
    function_id = new_function(functions, timeout=1)
    # The handler blocks its worker's event loop, so the worker cannot answer 504 itself.
    queued = functions.create_execution(function_id, xasync=True, path="/_functions/block?s=8")
    wait_execution(functions, function_id, queued.id, ("processing",), timeout=5)
    time.sleep(1.5)  # past the function's timeout, before the platform's grace runs out
    assert functions.get_execution(function_id, queued.id).status.value == "processing"
    running = functions.list_executions(function_id, [Query.equal("status", ["failed"])])
    assert running.total == 0  # not reported failed while the platform is still stopping it
    done = wait_execution(functions, function_id, queued.id, timeout=10)
    assert done.status.value == "failed" and done.responsestatuscode == 500
    assert "did not answer within 6 s; its worker was restarted" in done.errors
    assert done.duration < 7.5  # the hung worker is killed, not waited for
    failed = functions.list_executions(function_id, [Query.equal("status", ["failed"])])
    assert [e.id for e in failed.executions] == [queued.id]
    assert api.delete(f"/v1/functions/{function_id}/executions/{queued.id}").status_code == 204
    with pytest.raises(AppwriteException) as info:
        functions.get_execution(function_id, queued.id)
    assert info.value.type == "execution_not_found"


# -- scheduled -----------------------------------------------------------------------------------


def test_a_scheduled_execution_runs_at_its_time(functions: Functions, tmp_path: Path) -> None:
    function_id = new_function(functions)
    marker = tmp_path / "marks"
    due = at(2.0)
    execution = functions.create_execution(
        function_id, xasync=True, path=f"/_functions/mark?file={marker}", scheduled_at=due
    )
    assert execution.status.value == "scheduled" and execution.trigger.value == "schedule"
    assert execution.scheduledat is not None and epoch(execution.scheduledat) == epoch(due)
    assert functions.get_execution(function_id, execution.id).status.value == "scheduled"
    done = wait_execution(functions, function_id, execution.id, timeout=10)
    assert done.status.value == "completed"
    [line] = marks(marker)
    trigger, ran_at = line.split()
    assert trigger == "schedule"
    assert epoch(due) <= float(ran_at) < epoch(due) + 2.0


def test_a_scheduled_execution_sends_its_method_headers_and_body_when_due(
    functions: Functions, function_id: str, tmp_path: Path
) -> None:
    kept = tmp_path / "kept.json"
    execution = functions.create_execution(
        function_id,
        body="x" * 100_000,
        xasync=True,
        path=f"/_functions/keep?file={kept}",
        method=ExecutionMethod.PUT,
        headers={"x-n": "7"},
        scheduled_at=at(1.5),
    )
    done = wait_execution(functions, function_id, execution.id, timeout=10)
    assert done.status.value == "completed"
    assert json.loads(kept.read_text()) == {"method": "PUT", "body": "x" * 100_000, "x-n": "7"}


def test_deleting_a_scheduled_execution_cancels_it(
    functions: Functions, api: httpx.Client, tmp_path: Path
) -> None:
    function_id = new_function(functions)
    marker = tmp_path / "marks"
    execution = functions.create_execution(
        function_id, xasync=True, path=f"/_functions/mark?file={marker}", scheduled_at=at(1.5)
    )
    response = api.delete(f"/v1/functions/{function_id}/executions/{execution.id}")
    assert response.status_code == 204
    time.sleep(2.5)
    assert marks(marker) == []
    assert functions.list_executions(function_id).total == 0


# -- records -------------------------------------------------------------------------------------


def test_list_filters_pages_and_orders_executions(functions: Functions, api: httpx.Client) -> None:
    function_id = new_function(functions)
    deployment_id = functions.get(function_id).deploymentid
    first = functions.create_execution(
        function_id, path="/_functions/echo", method=ExecutionMethod.GET
    )
    missing = functions.create_execution(function_id, path="/_functions/echo?status=404")
    failing = functions.create_execution(function_id, path="/_functions/fail")
    queued = functions.create_execution(function_id, xasync=True, path="/_functions/echo?q")
    wait_execution(functions, function_id, queued.id)
    ids = [first.id, missing.id, failing.id, queued.id]

    def listed(*queries: str) -> list[str]:
        return [e.id for e in functions.list_executions(function_id, list(queries)).executions]

    assert listed() == ids
    assert functions.list_executions(function_id).total == 4
    assert listed(Query.equal("status", ["failed"])) == [failing.id]
    assert listed(Query.equal("status", ["completed", "failed"])) == ids
    assert listed(Query.equal("responseStatusCode", [404])) == [missing.id]
    assert listed(Query.equal("requestMethod", ["GET"])) == [first.id]
    assert listed(Query.starts_with("requestPath", "/_functions/echo?")) == [missing.id, queued.id]
    assert listed(Query.equal("trigger", ["http"])) == ids
    assert listed(Query.equal("trigger", ["schedule"])) == []
    assert listed(Query.equal("deploymentId", [deployment_id])) == ids
    assert listed(Query.greater_than("duration", 0)) == ids
    assert listed(Query.created_after(first.createdat)) == ids[1:]
    assert listed(Query.order_desc("$createdAt")) == ids[::-1]
    assert listed(Query.limit(2)) == ids[:2]
    assert listed(Query.limit(2), Query.offset(1)) == ids[1:3]
    assert listed(Query.cursor_after(missing.id)) == ids[2:]
    assert listed(Query.cursor_before(failing.id)) == ids[:2]
    page = functions.list_executions(function_id, [Query.limit(1)], total=False)
    assert page.total == 0 and len(page.executions) == 1
    assert all(e.responsebody == "" for e in functions.list_executions(function_id).executions)

    bad = api.get(
        f"/v1/functions/{function_id}/executions",
        params={"queries[0]": Query.equal("logs", ["x"])},
    )
    assert bad.status_code == 400 and bad.json()["type"] == "general_query_invalid"
    cursor = api.get(
        f"/v1/functions/{function_id}/executions",
        params={"queries[0]": Query.cursor_after("nope")},
    )
    assert cursor.status_code == 400 and cursor.json()["type"] == "general_cursor_not_found"


def test_delete_removes_finished_executions_and_refuses_running_ones(
    functions: Functions, api: httpx.Client
) -> None:
    function_id = new_function(functions, timeout=10)
    done = functions.create_execution(function_id, path="/_functions/echo")
    running = functions.create_execution(function_id, xasync=True, path="/_functions/sleep?s=2")
    refused = api.delete(f"/v1/functions/{function_id}/executions/{running.id}")
    assert refused.status_code == 400 and refused.json()["type"] == "execution_in_progress"
    assert api.delete(f"/v1/functions/{function_id}/executions/{done.id}").status_code == 204
    again = api.delete(f"/v1/functions/{function_id}/executions/{done.id}")
    assert again.status_code == 404 and again.json()["type"] == "execution_not_found"
    wait_execution(functions, function_id, running.id)
    assert api.delete(f"/v1/functions/{function_id}/executions/{running.id}").status_code == 204
    assert functions.list_executions(function_id).total == 0


def test_an_execution_belongs_to_its_function(functions: Functions, function_id: str) -> None:
    execution = functions.create_execution(function_id, path="/_functions/echo")
    other = new_function(functions, deployed=False)
    with pytest.raises(AppwriteException) as info:
        functions.get_execution(other, execution.id)
    assert info.value.code == 404 and info.value.type == "execution_not_found"


def test_deleting_a_function_deletes_its_executions(
    functions: Functions, api: httpx.Client
) -> None:
    function_id = new_function(functions)
    functions.create_execution(function_id, path="/_functions/echo")
    functions.delete(function_id)
    functions.create(function_id, "again", RUNTIME, execute=["any"])
    assert functions.list_executions(function_id).total == 0


# -- direct HTTP calls ---------------------------------------------------------------------------


def test_direct_http_calls_are_recorded_when_logging_is_on(
    functions: Functions, platform: PlatformProcess
) -> None:
    function_id = new_function(functions)
    url = f"{platform.url}/functions/{function_id}/_functions"
    response = httpx.get(f"{url}/talk?tag=direct&lines=1", timeout=30)
    assert response.status_code == 200
    assert not [name for name in response.headers if name.startswith("x-wixhttp-")]
    echoed = httpx.post(
        f"{url}/echo/p?x=1",
        content="hi",
        headers={"x-appwrite-trigger": "spoofed", "x-appwrite-execution-id": "spoofed"},
        timeout=30,
    ).json()
    assert echoed["headers"]["x-appwrite-trigger"] == "http"
    assert echoed["headers"]["x-appwrite-execution-id"] != "spoofed"
    assert "x-wixhttp-capture" not in echoed["headers"]
    head = httpx.head(f"{url}/echo", timeout=30)
    assert not [name for name in head.headers if name.startswith("x-wixhttp-")]
    crashed = httpx.get(f"{url}/crash", timeout=30)
    assert crashed.status_code == 502

    records = functions.list_executions(function_id).executions
    assert [(e.requestmethod, e.requestpath) for e in records] == [
        ("GET", "/_functions/talk?tag=direct&lines=1"),
        ("POST", "/_functions/echo/p?x=1"),
        ("HEAD", "/_functions/echo"),
        ("GET", "/_functions/crash"),
    ]
    talk, echo, _head, crash = records
    assert talk.trigger.value == "http" and talk.status.value == "completed"
    assert talk.logs == "direct out 0\nINFO site: direct info 0\n"
    assert talk.errors == "direct err 0\nWARNING site: direct warned\n"
    assert talk.responsestatuscode == 200 and talk.duration > 0
    assert echo.id == echoed["headers"]["x-appwrite-execution-id"]
    assert _headers(echo.requestheaders) == {
        "host": f"127.0.0.1:{platform.port}",
        "content-length": "2",
        "x-appwrite-client-ip": "127.0.0.1",
    }
    assert crash.status.value == "failed" and crash.responsestatuscode == 500
    assert "exit code 7" in crash.errors


def test_with_logging_off_nothing_is_captured_or_recorded(
    functions: Functions, platform: PlatformProcess
) -> None:
    function_id = new_function(functions, logging=False)
    execution = functions.create_execution(function_id, path="/_functions/talk?tag=quiet")
    assert execution.status.value == "completed"
    assert execution.logs == "" and execution.errors == ""
    response = httpx.get(f"{platform.url}/functions/{function_id}/_functions/echo", timeout=30)
    assert response.status_code == 200
    assert [e.id for e in functions.list_executions(function_id).executions] == [execution.id]


# -- what callers and handlers cannot reach ------------------------------------------------------


def test_callers_api_keys_and_appwrite_headers_never_reach_the_handler(
    functions: Functions, function_id: str, platform: PlatformProcess, key: str
) -> None:
    url = f"{platform.url}/functions/{function_id}/_functions/echo"
    sent = {
        "x-appwrite-key": key,
        "x-appwrite-anything": "spoofed",
        "x-appwrite-client-ip": "6.6.6.6",
        "authorization": "Bearer the-site-s-own-token",
    }
    seen = httpx.get(url, headers=sent, timeout=30).json()["headers"]
    assert "x-appwrite-anything" not in seen
    # The caller's key is replaced by the execution's own dynamic key.
    assert seen["x-appwrite-key"] != key and seen["x-appwrite-key"].startswith("dynamic_")
    assert seen["x-appwrite-client-ip"] == "127.0.0.1"
    # A public function's own Authorization scheme is left alone.
    assert seen["authorization"] == "Bearer the-site-s-own-token"
    [record] = [
        e
        for e in functions.list_executions(function_id, [Query.order_desc("$createdAt")]).executions
        if e.requestpath == "/_functions/echo" and e.requestmethod == "GET"
    ][:1]
    assert [h for h in _headers(record.requestheaders).items() if "client-ip" in h[0]] == [
        ("x-appwrite-client-ip", "127.0.0.1")
    ]

    private = new_function(functions, execute=[])
    response = httpx.get(
        f"{platform.url}/functions/{private}/_functions/echo",
        headers={"authorization": f"Bearer {key}"},
        timeout=30,
    )
    assert response.status_code == 200
    assert "authorization" not in response.json()["headers"]  # the key was the platform's


def test_a_handler_cannot_forge_its_logs_or_read_parked_ones(
    functions: Functions, function_id: str
) -> None:
    forged = functions.create_execution(function_id, path="/_functions/forge")
    assert forged.status.value == "completed"
    assert forged.logs == "real log\n" and forged.errors == ""
    assert forged.duration < 99
    assert not [h for h in _headers(forged.responseheaders) if h.startswith("x-wixhttp-")]
    quiet = new_function(functions, logging=False)
    assert functions.create_execution(quiet, path="/_functions/forge").logs == ""
    # The worker's internal endpoint for large logs is not reachable through an execution.
    probe = functions.create_execution(function_id, path="/__wixhttp/logs/anything")
    assert probe.responsestatuscode == 404
    assert "logs" not in json.loads(probe.responsebody)


def test_an_execution_request_over_64_mib_is_refused_before_it_is_read(
    function_id: str, api: httpx.Client
) -> None:
    response = api.post(
        f"/v1/functions/{function_id}/executions",
        content=b"{" + b" " * (64 * 1024 * 1024 + 1) + b"}",
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json()["type"] == "general_argument_invalid"
    assert "exceeds 67108864 bytes" in response.json()["message"]
