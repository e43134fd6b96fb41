"""Auth, projects, the error shape and 204s, through raw HTTP and the official SDK."""

from __future__ import annotations

import httpx
import pytest
from appwrite.client import Client
from appwrite.enums.runtime import Runtime
from appwrite.exception import AppwriteException
from appwrite.services.functions import Functions

from tests.platform._support import PlatformProcess, unique_id


def test_runtimes_are_public_and_list_this_python(platform: PlatformProcess) -> None:
    client = Client().set_endpoint(platform.endpoint).set_project("default")
    runtimes = Functions(client).list_runtimes()
    assert [r.id for r in runtimes.runtimes] == ["python-3.11"]
    assert runtimes.total == 1
    assert runtimes.runtimes[0].key == "python"
    assert runtimes.runtimes[0].version == "3.11"


def test_wrong_project_is_404_project_not_found(platform: PlatformProcess, key: str) -> None:
    with platform.http(key, project="other") as http:
        response = http.get("/v1/functions")
    assert response.status_code == 404
    assert response.json() == {
        "message": "Project with the requested ID could not be found.",
        "code": 404,
        "type": "project_not_found",
        "version": "1.9.6",
    }
    assert response.headers["cache-control"] == "no-cache, no-store, must-revalidate"


def test_sdk_without_project_gets_project_not_found(platform: PlatformProcess, key: str) -> None:
    functions = Functions(Client().set_endpoint(platform.endpoint).set_key(key))
    with pytest.raises(AppwriteException) as caught:
        functions.list()
    assert caught.value.code == 404
    assert caught.value.type == "project_not_found"


def test_missing_key_is_401_with_the_scope_in_the_message(platform: PlatformProcess) -> None:
    with platform.http() as http:
        response = http.get("/v1/functions", headers={"content-type": ""})
    assert response.status_code == 401
    body = response.json()
    assert body["type"] == "general_unauthorized_scope"
    assert body["message"] == 'User (role: guests) missing scopes (["functions.read"])'


def test_unknown_or_malformed_key_is_treated_as_a_guest(platform: PlatformProcess) -> None:
    with platform.http("standard_" + "0" * 64) as http:
        assert http.get("/v1/functions").status_code == 401
    with platform.http("nonsense") as http:
        assert http.get("/v1/functions").json()["type"] == "general_unauthorized_scope"


def test_read_only_key_cannot_write(platform: PlatformProcess) -> None:
    reader = platform.functions(platform.create_key("functions.read"))
    assert reader.list().total >= 0
    with pytest.raises(AppwriteException) as caught:
        reader.create(unique_id(), "x", Runtime.PYTHON_3_11)
    assert caught.value.code == 401
    assert caught.value.type == "general_unauthorized_scope"
    assert "functions.write" in caught.value.message


def test_legacy_execution_scope_satisfies_executions_write(platform: PlatformProcess) -> None:
    """A key with only the legacy ``execution.write`` may call a non-public function."""
    admin = platform.create_key()
    legacy = platform.create_key("execution.write")
    function_id = unique_id()
    platform.functions(admin).create(function_id, "private", Runtime.PYTHON_3_11, execute=[])
    with platform.http() as http:
        guest = http.get(f"/functions/{function_id}/_functions-dev/hello")
        assert guest.status_code == 401
        assert guest.json()["type"] == "user_unauthorized"
        with_legacy = http.get(
            f"/functions/{function_id}/_functions-dev/hello", headers={"X-Appwrite-Key": legacy}
        )
    # Authorised, so the answer is about the missing deployment, not about permissions.
    assert with_legacy.status_code == 404
    assert with_legacy.json()["type"] == "deployment_not_found"


def test_revoked_key_stops_working(platform: PlatformProcess) -> None:
    from click.testing import CliRunner

    from wixhttp.platform.cli import keys_group

    secret = platform.create_key("functions.read")
    functions = platform.functions(secret)
    functions.list()
    listing = CliRunner().invoke(keys_group, ["list", *platform.store_args])
    assert secret not in listing.output
    line = next(ln for ln in listing.output.splitlines() if secret[-4:] in ln)
    key_id = line.split()[0]
    result = CliRunner().invoke(keys_group, ["revoke", *platform.store_args, key_id])
    assert result.exit_code == 0, result.output
    import time

    time.sleep(1.1)  # the key cache remembers for one second
    with pytest.raises(AppwriteException) as caught:
        functions.list()
    assert caught.value.code == 401


def test_unknown_route_is_appwrite_json_404(api: httpx.Client) -> None:
    response = api.get("/v1/nope")
    assert response.status_code == 404
    assert response.json()["type"] == "general_route_not_found"
    assert response.headers["content-type"].startswith("application/json")


def test_get_with_empty_content_type_header_is_accepted(api: httpx.Client) -> None:
    response = api.get("/v1/functions", headers={"content-type": ""})
    assert response.status_code == 200


def test_invalid_json_body_is_argument_invalid(api: httpx.Client) -> None:
    response = api.post(
        "/v1/functions", content=b"{nope", headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["type"] == "general_argument_invalid"


def test_delete_answers_204_with_a_non_json_content_type(api: httpx.Client) -> None:
    function_id = unique_id()
    created = api.post(
        "/v1/functions", json={"functionId": function_id, "name": "x", "runtime": "python-3.11"}
    )
    assert created.status_code == 201
    response = api.request("DELETE", f"/v1/functions/{function_id}", json={})
    assert response.status_code == 204
    assert response.content == b""
    assert response.headers["content-type"].startswith("text/html")


def test_sdk_delete_returns_empty_bytes(functions: Functions) -> None:
    function_id = unique_id()
    functions.create(function_id, "x", Runtime.PYTHON_3_11)
    # The SDK types what a 204 gives back as a dict; it is the empty bytes.
    deleted: object = functions.delete(function_id)
    assert deleted == b""
    with pytest.raises(AppwriteException) as caught:
        functions.get(function_id)
    assert caught.value.code == 404
    assert caught.value.type == "function_not_found"
