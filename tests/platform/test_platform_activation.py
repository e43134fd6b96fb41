"""Wix-style publishing: POST /functions/v1/activations/upsert and DELETE .../{functionId}."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from appwrite.enums.runtime import Runtime
from appwrite.input_file import InputFile
from appwrite.models.deployment import Deployment
from appwrite.services.functions import Functions

from tests.platform._support import PlatformProcess, unique_id, wait_for_build

Bundle = Callable[..., bytes]
UPSERT = "/functions/v1/activations/upsert"


@pytest.fixture
def web(platform: PlatformProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=platform.url, timeout=30) as client:
        yield client


def _upsert(web: httpx.Client, key: str, function_id: str, bearer: bool = True) -> httpx.Response:
    return web.post(
        UPSERT,
        json={"functionActivation": {"functionId": function_id}},
        headers={"Authorization": f"Bearer {key}" if bearer else key},
    )


def _application_error(response: httpx.Response) -> dict[str, Any]:
    error: dict[str, Any] = response.json()["details"]["applicationError"]
    return error


def _new_function(functions: Functions) -> str:
    function_id = unique_id()
    functions.create(function_id, "publish", Runtime.PYTHON_3_11, execute=["any"])
    return function_id


def _upload(functions: Functions, function_id: str, code: bytes, commands: str = "") -> Deployment:
    created = functions.create_deployment(
        function_id,
        InputFile.from_bytes(code, "code.tar.gz"),
        False,
        commands=commands or None,
    )
    return created


def test_upsert_activates_the_latest_ready_deployment_and_counts_revisions(
    functions: Functions, bundle: Bundle, web: httpx.Client, key: str
) -> None:
    function_id = _new_function(functions)
    deployment = _upload(functions, function_id, bundle("hello"))
    assert wait_for_build(functions, function_id, deployment.id).status.value == "ready"
    assert web.get(f"/functions/{function_id}/_functions/hello").status_code == 404

    first = _upsert(web, key, function_id)
    assert first.status_code == 200, first.text
    activation = first.json()["functionActivation"]
    assert activation["functionId"] == function_id
    assert activation["revision"] == "1"
    assert activation["deploymentId"] == deployment.id
    assert activation["status"] == "ACTIVE"
    assert activation["createdDate"] and activation["updatedDate"]
    assert functions.get(function_id).deploymentid == deployment.id
    assert web.get(f"/functions/{function_id}/_functions/hello").status_code == 200

    # Nothing changed, but the revision still grows by one; the bare key works too.
    second = _upsert(web, key, function_id, bearer=False).json()["functionActivation"]
    assert second["revision"] == "2"
    assert second["id"] == activation["id"] and second["createdDate"] == activation["createdDate"]
    assert second["deploymentId"] == deployment.id


def test_delete_deactivates_production_but_dev_keeps_serving(
    functions: Functions, bundle: Bundle, web: httpx.Client, key: str
) -> None:
    function_id = _new_function(functions)
    deployment = _upload(functions, function_id, bundle("hello"))
    wait_for_build(functions, function_id, deployment.id)
    assert _upsert(web, key, function_id).status_code == 200
    deleted = web.delete(
        f"/functions/v1/activations/{function_id}", headers={"Authorization": f"Bearer {key}"}
    )
    assert deleted.status_code == 200 and deleted.json() == {}
    assert web.get(f"/functions/{function_id}/_functions/hello").status_code == 404
    assert web.get(f"/functions/{function_id}/_functions-dev/hello").status_code == 200
    assert functions.get(function_id).deploymentid == ""
    again = _upsert(web, key, function_id).json()["functionActivation"]
    assert again["revision"] == "2" and again["status"] == "ACTIVE"
    assert web.get(f"/functions/{function_id}/_functions/hello").status_code == 200


def test_unknown_function_is_404(web: httpx.Client, key: str) -> None:
    response = _upsert(web, key, "no-such-function")
    assert response.status_code == 404
    assert _application_error(response)["code"] == "FUNCTION_NOT_FOUND"
    deleted = web.delete(
        "/functions/v1/activations/no-such-function", headers={"Authorization": key}
    )
    assert deleted.status_code == 404


def test_precondition_no_deployment(functions: Functions, web: httpx.Client, key: str) -> None:
    response = _upsert(web, key, _new_function(functions))
    assert response.status_code == 428
    assert _application_error(response)["code"] == "NO_DEPLOYMENT"


def test_precondition_latest_deployment_still_building(
    functions: Functions, bundle: Bundle, web: httpx.Client, key: str
) -> None:
    function_id = _new_function(functions)
    deployment = _upload(functions, function_id, bundle("hello"), commands="sleep 30")
    response = _upsert(web, key, function_id)
    assert response.status_code == 428
    error = _application_error(response)
    assert error["code"] == "DEPLOYMENT_NOT_READY"
    assert error["data"]["deploymentId"] == deployment.id
    functions.update_deployment_status(function_id, deployment.id)  # cancel the slow build
    canceled = _upsert(web, key, function_id)
    assert canceled.status_code == 428
    assert _application_error(canceled)["code"] == "DEPLOYMENT_CANCELED"


def test_precondition_latest_deployment_failed(
    functions: Functions, bundle: Bundle, web: httpx.Client, key: str
) -> None:
    function_id = _new_function(functions)
    good = _upload(functions, function_id, bundle("hello"))
    wait_for_build(functions, function_id, good.id)
    bad = _upload(functions, function_id, bundle("import_error"))
    assert wait_for_build(functions, function_id, bad.id).status.value == "failed"
    response = _upsert(web, key, function_id)
    assert response.status_code == 428
    assert _application_error(response)["code"] == "DEPLOYMENT_FAILED"
    assert "buildLogs" in response.json()["message"]


def test_precondition_function_disabled(
    functions: Functions, bundle: Bundle, web: httpx.Client, key: str
) -> None:
    function_id = _new_function(functions)
    deployment = _upload(functions, function_id, bundle("hello"))
    wait_for_build(functions, function_id, deployment.id)
    functions.update(function_id, "publish", enabled=False)
    response = _upsert(web, key, function_id)
    assert response.status_code == 428
    assert _application_error(response)["code"] == "FUNCTION_DISABLED"


def test_precondition_runtime_no_longer_available(
    functions: Functions, bundle: Bundle, web: httpx.Client, key: str, platform: PlatformProcess
) -> None:
    function_id = _new_function(functions)
    deployment = _upload(functions, function_id, bundle("hello"))
    wait_for_build(functions, function_id, deployment.id)
    # As if the data directory came from a host with another Python.
    platform.run_sql("UPDATE functions SET runtime = 'python-2.7' WHERE id = :id", id=function_id)
    response = _upsert(web, key, function_id)
    assert response.status_code == 428
    error = _application_error(response)
    assert error["code"] == "RUNTIME_UNAVAILABLE" and error["data"]["runtime"] == "python-2.7"


def test_precondition_deployment_files_missing(
    functions: Functions, bundle: Bundle, web: httpx.Client, key: str, platform: PlatformProcess
) -> None:
    function_id = _new_function(functions)
    deployment = _upload(functions, function_id, bundle("hello"))
    wait_for_build(functions, function_id, deployment.id)
    shutil.rmtree(platform.data_dir / "functions" / function_id / deployment.id / "code")
    response = _upsert(web, key, function_id)
    assert response.status_code == 428
    assert _application_error(response)["code"] == "DEPLOYMENT_FILES_MISSING"


def test_auth_is_required_and_needs_functions_write(
    functions: Functions, web: httpx.Client, platform: PlatformProcess
) -> None:
    function_id = _new_function(functions)
    anonymous = web.post(UPSERT, json={"functionActivation": {"functionId": function_id}})
    assert anonymous.status_code == 401
    assert _application_error(anonymous)["code"] == "UNAUTHENTICATED"
    wrong = _upsert(web, "standard_" + "1" * 64, function_id)
    assert wrong.status_code == 401
    reader = _upsert(web, platform.create_key("functions.read"), function_id)
    assert reader.status_code == 403
    assert _application_error(reader)["code"] == "PERMISSION_DENIED"


@pytest.mark.parametrize(
    "body", [{}, {"functionActivation": {}}, {"functionActivation": {"functionId": 5}}, []]
)
def test_a_missing_function_id_is_a_validation_error(
    web: httpx.Client, key: str, body: object
) -> None:
    response = web.post(UPSERT, json=body, headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 400
    violations = response.json()["details"]["validationError"]["fieldViolations"]
    assert violations[0]["field"] in ("functionActivation.functionId", "body")


def test_too_many_activations_of_one_function_are_429(
    start_platform: Callable[..., PlatformProcess], bundle: Bundle
) -> None:
    platform = start_platform("--activation-limit", "2", "--activation-window", "60")
    key = platform.create_key()
    functions = platform.functions(key)
    function_id = _new_function(functions)
    deployment = _upload(functions, function_id, bundle("hello"))
    wait_for_build(functions, function_id, deployment.id)
    with httpx.Client(base_url=platform.url, timeout=30) as web:
        assert _upsert(web, key, function_id).status_code == 200
        assert _upsert(web, key, function_id).status_code == 200
        limited = _upsert(web, key, function_id)
        assert limited.status_code == 429
        assert _application_error(limited)["code"] == "ACTIVATION_RATE_EXCEEDED"
        assert 1 <= int(limited.headers["retry-after"]) <= 60
        other = _new_function(functions)  # the limit is per function
        assert _upsert(web, key, other).status_code == 428
