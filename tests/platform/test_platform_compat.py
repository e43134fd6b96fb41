"""What older Appwrite clients, the CLI and the seed API call: variables without ``variableId``,
order queries without an attribute, the other query methods, ``?project=``, templates, usage,
the deployment's ``type``, ``vars``, and the seed's update-deployment and retry-build routes."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path

import httpx
from appwrite.input_file import InputFile
from appwrite.query import Query
from appwrite.services.functions import Functions

from tests.platform._support import (
    PROJECT,
    RUNTIME,
    PlatformProcess,
    deploy,
    make_bundle,
    new_function,
    unique_id,
    wait_for_build,
)

Bundle = Callable[..., bytes]


def _function(api: httpx.Client, **fields: object) -> str:
    function_id = unique_id("compat")
    body = {"functionId": function_id, "name": "compat", "runtime": RUNTIME.value, **fields}
    response = api.post("/v1/functions", json=body)
    assert response.status_code == 201, response.text
    return function_id


def _upload(api: httpx.Client, function_id: str, code: bytes, **headers: str) -> dict[str, str]:
    response = api.post(
        f"/v1/functions/{function_id}/deployments",
        files={"code": ("code.tar.gz", code, "application/gzip")},
        data={"activate": "true"},
        headers=headers,
    )
    assert response.status_code == 202, response.text
    return dict(response.json())


def _query(method: str, attribute: str | None = None, values: Sequence[object] = ()) -> str:
    query: dict[str, object] = {"method": method}
    if attribute is not None:
        query["attribute"] = attribute
    if values:
        query["values"] = list(values)
    return json.dumps(query)


# -- variables and vars --------------------------------------------------------------------------


def test_a_variable_created_without_variable_id_gets_a_generated_one(api: httpx.Client) -> None:
    function_id = _function(api)
    response = api.post(
        f"/v1/functions/{function_id}/variables", json={"key": "GREETING", "value": "hi"}
    )
    assert response.status_code == 201, response.text
    variable = response.json()
    assert len(variable["$id"]) == 20 and variable["key"] == "GREETING"
    fetched = api.get(f"/v1/functions/{function_id}/variables/{variable['$id']}")
    assert fetched.json()["value"] == "hi"


def test_the_sdk_27_still_chooses_its_variable_id(functions: Functions, api: httpx.Client) -> None:
    function_id = _function(api)
    variable = functions.create_variable(function_id, "my-var", "KEY", "value")
    assert variable.id == "my-var"


def test_vars_on_create_and_update_become_the_functions_variables(api: httpx.Client) -> None:
    function_id = _function(api, vars={"A": "1", "B": "2"})
    variables = api.get(f"/v1/functions/{function_id}/variables").json()["variables"]
    assert sorted((v["key"], v["value"]) for v in variables) == [("A", "1"), ("B", "2")]
    body = {"name": "compat", "runtime": RUNTIME.value, "vars": {"B": "two", "C": "3"}}
    updated = api.put(f"/v1/functions/{function_id}", json=body)
    assert updated.status_code == 200, updated.text
    assert sorted((v["key"], v["value"]) for v in updated.json()["vars"]) == [
        ("B", "two"),
        ("C", "3"),
    ]
    kept = api.put(f"/v1/functions/{function_id}", json={"name": "renamed"})
    assert len(kept.json()["vars"]) == 2  # without vars, the variables stay


def test_vars_that_are_not_an_object_of_names_are_refused(api: httpx.Client) -> None:
    body = {"functionId": unique_id(), "name": "x", "runtime": RUNTIME.value}
    for bad in (["A=1"], {"1A": "x"}, {"A": {"nested": 1}}):
        response = api.post("/v1/functions", json={**body, "vars": bad})
        assert response.status_code == 400, bad
        assert response.json()["type"] == "general_argument_invalid"
    assert api.get(f"/v1/functions/{body['functionId']}").status_code == 404


# -- queries -------------------------------------------------------------------------------------


def test_order_queries_without_an_attribute_order_by_insertion(api: httpx.Client) -> None:
    function_id = _function(api)
    url = f"/v1/functions/{function_id}/variables"
    created = []
    for key in ("B", "A", "C"):
        created.append(api.post(url, json={"key": key, "value": key}).json()["$id"])
    newest = api.get(url, params={"queries[0]": _query("orderDesc", "")}).json()
    assert [v["$id"] for v in newest["variables"]] == created[::-1]
    oldest = api.get(url, params={"queries[0]": _query("orderAsc")}).json()
    assert [v["$id"] for v in oldest["variables"]] == created


def test_not_search_exists_and_order_random_filter_and_order(api: httpx.Client) -> None:
    names = [unique_id("alpha"), unique_id("beta")]
    for name in names:
        body = {"functionId": name, "name": name, "runtime": RUNTIME.value}
        assert api.post("/v1/functions", json=body).status_code == 201
    mine = _query("equal", "$id", names)

    def listed(*queries: str) -> list[str]:
        params = {f"queries[{i}]": q for i, q in enumerate([mine, *queries])}
        response = api.get("/v1/functions", params=params)
        assert response.status_code == 200, response.text
        return sorted(f["$id"] for f in response.json()["functions"])

    assert listed(_query("notSearch", "name", ["alpha"])) == [names[1]]
    assert listed(_query("exists", None, ["name", "schedule"])) == sorted(names)
    assert listed(_query("notExists", None, ["name"])) == []
    assert listed(_query("orderRandom")) == sorted(names)


def test_unsupported_or_invalid_queries_are_a_400_naming_them(api: httpx.Client) -> None:
    for query, words in (
        (_query("regex", "name", ["^a"]), '"regex"'),
        (_query("orderRandom") + "\n", "orderRandom"),
        (_query("exists", None, ["nope"]), "nope"),
        (_query("notSearch", "timeout", ["1"]), "notSearch"),
    ):
        params = {"queries[0]": query}
        if words == "orderRandom":
            params = {"queries[0]": _query("orderRandom"), "queries[1]": _query("orderAsc")}
        response = api.get("/v1/functions", params=params)
        assert response.status_code == 400, query
        assert response.json()["type"] == "general_query_invalid"
        assert words in response.json()["message"]


# -- project, templates, usage -------------------------------------------------------------------


def test_the_project_may_come_as_a_query_parameter(platform: PlatformProcess, key: str) -> None:
    with httpx.Client(base_url=platform.url, headers={"X-Appwrite-Key": key}) as client:
        assert client.get("/v1/functions", params={"project": PROJECT}).status_code == 200
        other = client.get("/v1/functions", params={"project": "elsewhere"})
        assert other.status_code == 404 and other.json()["type"] == "project_not_found"
        assert client.get("/v1/functions").json()["type"] == "project_not_found"


def test_templates_are_an_honest_empty_list(api: httpx.Client) -> None:
    listed = api.get("/v1/functions/templates", params={"limit": 5})
    assert listed.status_code == 200 and listed.json() == {"total": 0, "templates": []}
    one = api.get("/v1/functions/templates/starter")
    assert one.status_code == 404 and one.json()["type"] == "function_template_not_found"


def test_usage_counts_the_functions_executions_and_builds(
    functions: Functions, api: httpx.Client
) -> None:
    function_id = new_function(functions)
    for _ in range(2):
        functions.create_execution(function_id, path="/_functions/echo")
    usage = api.get(f"/v1/functions/{function_id}/usage", params={"range": "24h"})
    assert usage.status_code == 200, usage.text
    data = usage.json()
    assert data["range"] == "24h" and len(data["executions"]) == 24
    assert data["executionsTotal"] == 2 and sum(p["value"] for p in data["executions"]) == 2
    assert data["executions"][-1]["value"] == 2  # this hour's
    seconds = sum(e.duration for e in functions.list_executions(function_id).executions)
    assert abs(data["executionsTimeTotal"] - seconds * 1000) <= 1
    assert abs(data["executionsMbSecondsTotal"] - seconds * 512) <= 1
    [built] = functions.list_deployments(function_id).deployments
    assert data["buildsTimeTotal"] == built.buildduration * 1000
    assert (data["deploymentsTotal"], data["buildsTotal"], data["buildsSuccessTotal"]) == (1, 1, 1)
    assert data["deploymentsStorageTotal"] > 0 and data["buildsFailedTotal"] == 0
    assert all(set(p) == {"value", "date"} for p in data["buildsTime"])
    project = api.get("/v1/functions/usage").json()
    assert project["range"] == "30d" and len(project["functions"]) == 30
    assert project["functionsTotal"] >= 1 and project["executionsTotal"] >= 2


def test_usage_refuses_an_unknown_range_and_function(api: httpx.Client) -> None:
    bad = api.get("/v1/functions/usage", params={"range": "7y"})
    assert bad.status_code == 400 and "24h, 30d, 90d" in bad.json()["message"]
    missing = api.get("/v1/functions/nope/usage")
    assert missing.status_code == 404 and missing.json()["type"] == "function_not_found"


def test_usage_needs_the_read_scope(platform: PlatformProcess) -> None:
    with platform.http(platform.create_key("executions.read")) as client:
        denied = client.get("/v1/functions/usage")
    assert denied.status_code == 401
    assert denied.json()["type"] == "general_unauthorized_scope"


# -- deployments ---------------------------------------------------------------------------------


def test_a_cli_upload_is_typed_cli_and_others_manual(api: httpx.Client, bundle: Bundle) -> None:
    function_id = _function(api)
    cli = _upload(api, function_id, bundle("hello"), **{"x-sdk-language": "cli"})
    manual = _upload(api, function_id, bundle("hello"))
    assert (cli["type"], manual["type"]) == ("cli", "manual")
    typed = api.get(
        f"/v1/functions/{function_id}/deployments",
        params={"queries[0]": _query("equal", "type", ["cli"])},
    ).json()
    assert [d["$id"] for d in typed["deployments"]] == [cli["$id"]]


def test_patching_a_deployment_activates_it(functions: Functions, api: httpx.Client) -> None:
    function_id = new_function(functions)
    first = functions.get(function_id).deploymentid
    second = deploy(functions, function_id)
    assert functions.get(function_id).deploymentid == second
    response = api.patch(f"/v1/functions/{function_id}/deployments/{first}")
    assert response.status_code == 200, response.text
    assert response.json()["deploymentId"] == first
    missing = api.patch(f"/v1/functions/{function_id}/deployments/nope")
    assert missing.status_code == 404 and missing.json()["type"] == "deployment_not_found"


def test_retry_build_rebuilds_a_failed_deployment(
    functions: Functions, api: httpx.Client, tmp_path: Path
) -> None:
    marker = tmp_path / "allowed"
    function_id = unique_id("retry")
    functions.create(function_id, "retry", RUNTIME, execute=["any"])
    created = functions.create_deployment(
        function_id,
        InputFile.from_bytes(make_bundle("hello"), "code.tar.gz"),
        True,
        commands=f"test -f {marker}",
    )
    assert wait_for_build(functions, function_id, created.id).status.value == "failed"
    url = f"/v1/functions/{function_id}/deployments/{created.id}/builds/{created.id}"
    marker.write_text("yes")
    response = api.post(url)
    assert response.status_code == 204, response.text
    rebuilt = wait_for_build(functions, function_id, created.id)
    assert rebuilt.status.value == "ready", rebuilt.buildlogs
    assert "Retrying the build" in rebuilt.buildlogs
    assert functions.get(function_id).deploymentid == created.id
    again = api.post(url)
    assert again.status_code == 400 and again.json()["type"] == "build_in_progress"
    wrong = api.post(f"/v1/functions/{function_id}/deployments/{created.id}/builds/other")
    assert wrong.status_code == 404 and wrong.json()["type"] == "build_not_found"


def test_the_sdk_lists_deployments_newest_first_with_a_bare_order_desc(
    functions: Functions, api: httpx.Client
) -> None:
    function_id = new_function(functions)
    latest = deploy(functions, function_id)
    listed = api.get(
        f"/v1/functions/{function_id}/deployments",
        params={"queries[0]": Query.order_desc(""), "queries[1]": Query.limit(1)},
    )
    assert listed.status_code == 200, listed.text
    assert [d["$id"] for d in listed.json()["deployments"]] == [latest]
