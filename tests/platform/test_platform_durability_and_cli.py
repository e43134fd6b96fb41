"""A restart loses nothing; the deploy, publish and keys commands."""

from __future__ import annotations

import signal
import time
from collections.abc import Callable

import httpx
from appwrite.enums.runtime import Runtime
from appwrite.input_file import InputFile
from click.testing import CliRunner

from tests.platform._support import SITES, PlatformProcess, unique_id, wait_for_build
from wixhttp.platform.cli import deploy_command, keys_group, publish_command

Bundle = Callable[..., bytes]


def _upsert(url: str, key: str, function_id: str) -> httpx.Response:
    return httpx.post(
        url + "/functions/v1/activations/upsert",
        json={"functionActivation": {"functionId": function_id}},
        headers={"Authorization": f"Bearer {key}"},
        timeout=30,
    )


def test_a_restart_keeps_functions_deployments_activation_and_keys(
    start_platform: Callable[..., PlatformProcess], bundle: Bundle
) -> None:
    first = start_platform()
    key = first.create_key()
    functions = first.functions(key)
    function_id = unique_id()
    functions.create(function_id, "durable", Runtime.PYTHON_3_11, execute=["any"], timeout=20)
    functions.create_variable(function_id, "greeting", "GREETING", "kept")
    created = functions.create_deployment(
        function_id, InputFile.from_bytes(bundle("hello"), "code.tar.gz"), False
    )
    wait_for_build(functions, function_id, created.id)
    assert _upsert(first.url, key, function_id).json()["functionActivation"]["revision"] == "1"
    assert _upsert(first.url, key, function_id).json()["functionActivation"]["revision"] == "2"
    before = functions.get(function_id)
    first.stop()

    second = start_platform(data_dir=first.data_dir)
    functions = second.functions(key)
    after = functions.get(function_id)
    assert after.deploymentid == created.id == before.deploymentid
    assert after.timeout == 20 and after.execute == ["any"]
    assert [d.id for d in functions.list_deployments(function_id).deployments] == [created.id]
    assert functions.get_variable(function_id, "greeting").value == "kept"
    response = httpx.get(f"{second.url}/functions/{function_id}/_functions/env", timeout=30)
    assert response.json()["GREETING"] == "kept"
    assert _upsert(second.url, key, function_id).json()["functionActivation"]["revision"] == "3"


def test_a_build_interrupted_by_a_crash_is_rebuilt_after_restart(
    start_platform: Callable[..., PlatformProcess], bundle: Bundle
) -> None:
    first = start_platform()
    key = first.create_key()
    functions = first.functions(key)
    function_id = unique_id()
    functions.create(function_id, "interrupted", Runtime.PYTHON_3_11, execute=["any"])
    created = functions.create_deployment(
        function_id,
        InputFile.from_bytes(bundle("hello"), "code.tar.gz"),
        True,
        commands="sleep 1",
    )
    deadline = time.monotonic() + 20
    while functions.get_deployment(function_id, created.id).status.value != "building":
        assert time.monotonic() < deadline
        time.sleep(0.02)
    first.stop(signal.SIGKILL)

    second = start_platform(data_dir=first.data_dir)
    functions = second.functions(key)
    ready = wait_for_build(functions, function_id, created.id)
    assert ready.status.value == "ready", ready.buildlogs
    assert "The platform restarted; building again" in ready.buildlogs
    assert functions.get(function_id).deploymentid == created.id


def test_deploy_and_publish_commands(platform: PlatformProcess, key: str) -> None:
    function_id = unique_id()
    runner = CliRunner()
    common = ["--endpoint", platform.endpoint, "--key", key]
    deployed = runner.invoke(
        deploy_command, [str(SITES / "hello"), "--function", function_id, *common]
    )
    assert deployed.exit_code == 0, deployed.output
    assert f"created function {function_id}" in deployed.output
    assert "ready" in deployed.output
    url = f"{platform.url}/functions/{function_id}"
    assert httpx.get(f"{url}/_functions-dev/hello", timeout=30).status_code == 200
    assert httpx.get(f"{url}/_functions/hello", timeout=30).status_code == 404

    published = runner.invoke(publish_command, ["--function", function_id, *common])
    assert published.exit_code == 0, published.output
    assert "revision 1" in published.output
    assert httpx.get(f"{url}/_functions/hello", timeout=30).status_code == 200


def test_deploy_of_a_broken_site_fails_with_the_build_logs(
    platform: PlatformProcess, key: str
) -> None:
    result = CliRunner().invoke(
        deploy_command,
        [
            str(SITES / "import_error"),
            "--function",
            unique_id(),
            "--activate",
            "--endpoint",
            platform.url,
            "--key",
            key,
        ],
    )
    assert result.exit_code == 1
    assert "wixhttp_no_such_module" in result.output
    assert "failed" in result.output


def test_publish_reports_the_precondition(platform: PlatformProcess, key: str) -> None:
    functions = platform.functions(key)
    function_id = unique_id()
    functions.create(function_id, "nothing", Runtime.PYTHON_3_11)
    result = CliRunner().invoke(
        publish_command, ["--function", function_id, "--endpoint", platform.url, "--key", key]
    )
    assert result.exit_code == 1
    assert "428 NO_DEPLOYMENT" in result.output


def test_keys_create_rejects_unknown_scopes(tmp_path: object) -> None:
    result = CliRunner().invoke(
        keys_group, ["create", "--data", str(tmp_path), "--scopes", "functions.read,root"]
    )
    assert result.exit_code == 2
    assert "unknown scope(s): root" in result.output


def test_keys_list_never_shows_secrets_and_revoke_is_idempotent_error(tmp_path: object) -> None:
    runner = CliRunner()
    created = runner.invoke(
        keys_group, ["create", "--data", str(tmp_path), "--scopes", "functions.read"]
    )
    secret = created.output.strip().splitlines()[-1]
    assert secret.startswith("standard_") and len(secret) == len("standard_") + 64
    listed = runner.invoke(keys_group, ["list", "--data", str(tmp_path)])
    assert secret not in listed.output and secret[-4:] in listed.output
    key_id = listed.output.split()[0]
    assert runner.invoke(keys_group, ["revoke", "--data", str(tmp_path), key_id]).exit_code == 0
    again = runner.invoke(keys_group, ["revoke", "--data", str(tmp_path), key_id])
    assert again.exit_code == 1 and "no active key" in again.output
    assert "revoked" in runner.invoke(keys_group, ["list", "--data", str(tmp_path)]).output
