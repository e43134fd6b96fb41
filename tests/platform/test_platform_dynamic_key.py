"""Each execution and direct call carries a dynamic key (``x-appwrite-key``) holding the
function's scopes: the function's code calls the platform back with it through the SDK."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import httpx
from appwrite.enums.project_key_scopes import ProjectKeyScopes
from appwrite.services.functions import Functions

from tests.platform._support import PROJECT, RUNTIME, PlatformProcess, deploy, unique_id
from wixhttp.platform.dynamic_keys import DynamicKeys
from wixhttp.platform.store import Store


def _callback_function(functions: Functions, scopes: list[str]) -> str:
    function_id = unique_id("dyn")
    chosen = [ProjectKeyScopes(scope) for scope in scopes]
    functions.create(function_id, "dynamic", RUNTIME, execute=["any"], scopes=chosen)
    deploy(functions, function_id, "callback")
    return function_id


def _run(functions: Functions, function_id: str) -> dict[str, Any]:
    execution = functions.create_execution(function_id, path="/_functions/callback")
    assert execution.responsestatuscode == 200, execution.errors
    return dict(json.loads(execution.responsebody))


def test_the_key_grants_the_functions_scopes_and_no_more(functions: Functions) -> None:
    function_id = _callback_function(functions, ["functions.read", "executions.read"])
    seen = _run(functions, function_id)
    assert seen["key"].startswith("dynamic_")
    assert seen["function"] == {"ok": True, "value": "dynamic"}
    assert seen["executions"]["ok"] and seen["executions"]["value"] >= 0
    assert seen["write"] == {"ok": False, "code": 401, "type": "general_unauthorized_scope"}


def test_a_function_without_scopes_gets_a_key_that_reads_nothing(functions: Functions) -> None:
    seen = _run(functions, _callback_function(functions, []))
    assert seen["function"]["code"] == 401 and seen["executions"]["code"] == 401


def test_a_function_with_the_write_scope_may_write(functions: Functions) -> None:
    function_id = _callback_function(functions, ["functions.read", "executions.write"])
    seen = _run(functions, function_id)
    assert seen["write"]["ok"], seen["write"]
    assert seen["executions"]["code"] == 401  # executions.write does not read them
    created = functions.get_execution(function_id, seen["write"]["value"])
    assert created.requestpath == "/_functions/none"


def test_a_direct_call_gets_a_key_too_and_it_is_kept_nowhere(
    platform: PlatformProcess, functions: Functions, api: httpx.Client
) -> None:
    function_id = _callback_function(functions, ["functions.read", "executions.read"])
    response = httpx.get(f"{platform.url}/functions/{function_id}/_functions/callback")
    assert response.status_code == 200, response.text
    seen = response.json()
    assert seen["function"] == {"ok": True, "value": "dynamic"}
    executions = functions.list_executions(function_id).executions
    assert executions and all(
        h.name != "x-appwrite-key" for e in executions for h in e.requestheaders
    )
    stored = api.get(f"/v1/functions/{function_id}/executions").text
    assert seen["key"] not in stored and seen["key"] not in platform.log()


def test_an_expired_or_altered_key_is_refused(
    platform: PlatformProcess, functions: Functions
) -> None:
    function_id = _callback_function(functions, ["functions.read"])
    live = _run(functions, function_id)["key"]

    async def mint_expired() -> str:
        store = Store(platform.database_url)
        try:  # the platform's own secret, an hour ago: expired
            keys = DynamicKeys(store, clock=lambda: time.time() - 3600)
            return await keys.mint(PROJECT, function_id, ["functions.read"], 15)
        finally:
            await store.close()

    expired = asyncio.run(mint_expired())
    body, _, signature = live.partition(".")
    altered = body[:-2] + ("A" if body[-2] != "A" else "B") + body[-1] + "." + signature
    with platform.http() as client:
        url = f"/v1/functions/{function_id}"
        assert client.get(url, headers={"X-Appwrite-Key": live}).status_code == 200
        for key in (expired, altered, live + "x"):
            refused = client.get(url, headers={"X-Appwrite-Key": key})
            assert refused.status_code == 401, key
            assert refused.json()["type"] == "general_unauthorized_scope"


def test_every_node_on_the_database_accepts_the_keys_of_the_others(
    platform: PlatformProcess, functions: Functions
) -> None:
    function_id = _callback_function(functions, ["functions.read"])
    key = _run(functions, function_id)["key"]
    other = PlatformProcess(
        platform.data_dir, "--node-id", "second", database=platform.database_url, name="second"
    ).start()
    try:
        with other.http(key) as client:
            response = client.get(f"/v1/functions/{function_id}")
        assert response.status_code == 200, response.text
    finally:
        other.stop()


def test_a_function_changing_its_own_variables_finishes_its_call_and_then_sees_them(
    functions: Functions,
) -> None:
    function_id = unique_id("dyn")
    scopes = [ProjectKeyScopes("functions.read"), ProjectKeyScopes("functions.write")]
    functions.create(function_id, "self", RUNTIME, execute=["any"], scopes=scopes, timeout=30)
    deploy(functions, function_id, "self_variable")
    first = functions.create_execution(function_id, path="/_functions/selfvar?colour=green")
    # The variable change retires the worker serving this call: it finishes the call first.
    assert first.responsestatuscode == 200, first.errors
    assert json.loads(first.responsebody) == {"created": True, "seen": None}
    second = functions.create_execution(function_id, path="/_functions/selfvar?colour=red")
    assert second.responsestatuscode == 200, second.errors
    assert json.loads(second.responsebody)["seen"] == "green"  # a new worker, the new variable
