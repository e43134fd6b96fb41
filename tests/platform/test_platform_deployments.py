"""Deployments through the official SDK: uploads (single and chunked), builds, activation,
listing, download, cancel and delete; raw HTTP for the error paths."""

from __future__ import annotations

import io
import os
import shutil
import tarfile
from collections.abc import Callable

import httpx
import pytest
from appwrite.enums.runtime import Runtime
from appwrite.exception import AppwriteException
from appwrite.input_file import InputFile
from appwrite.models.deployment import Deployment
from appwrite.query import Query
from appwrite.services.functions import Functions

from tests.platform._support import PlatformProcess, unique_id, wait_for_build

CHUNK = 5 * 1024 * 1024
Bundle = Callable[..., bytes]


def _deploy(
    functions: Functions,
    function_id: str,
    code: bytes,
    *,
    activate: bool = True,
    entrypoint: str | None = None,
    commands: str | None = None,
) -> Deployment:
    created = functions.create_deployment(
        function_id,
        InputFile.from_bytes(code, "code.tar.gz"),
        activate,
        entrypoint=entrypoint,
        commands=commands,
    )
    return wait_for_build(functions, function_id, created.id)


@pytest.fixture
def function_id(functions: Functions) -> str:
    function_id = unique_id()
    functions.create(function_id, "deployments", Runtime.PYTHON_3_11, execute=["any"])
    return function_id


def test_small_upload_builds_to_ready_and_becomes_active(
    functions: Functions, function_id: str, bundle: Bundle
) -> None:
    code = bundle("hello")
    created = functions.create_deployment(
        function_id, InputFile.from_bytes(code, "code.tar.gz"), True
    )
    assert created.status.value in ("waiting", "processing", "building")
    assert created.resourceid == function_id and created.resourcetype == "functions"
    assert created.type == "manual" and created.entrypoint == "http_functions.py"
    assert created.sourcesize == len(code) and created.activate is True
    ready = wait_for_build(functions, function_id, created.id)
    assert ready.status.value == "ready", ready.buildlogs
    assert "/_functions/hello  GET" in ready.buildlogs
    assert ready.buildsize > 0 and ready.totalsize == ready.sourcesize + ready.buildsize
    function = functions.get(function_id)
    assert function.deploymentid == created.id
    assert function.latestdeploymentid == created.id
    assert function.latestdeploymentstatus == "ready"
    assert function.deploymentcreatedat == created.createdat


def test_upload_without_activate_leaves_the_active_deployment_alone(
    functions: Functions, function_id: str, bundle: Bundle
) -> None:
    first = _deploy(functions, function_id, bundle("hello"))
    second = _deploy(functions, function_id, bundle("hello"), activate=False)
    assert second.status.value == "ready"
    function = functions.get(function_id)
    assert function.deploymentid == first.id
    assert function.latestdeploymentid == second.id


def test_chunked_upload_over_5_mib_is_assembled_and_built(
    functions: Functions, function_id: str, bundle: Bundle
) -> None:
    code = bundle("hello", extra={"blob.bin": os.urandom(11 * 1024 * 1024)})
    assert len(code) > 2 * CHUNK  # three chunks, the last two sent concurrently by the SDK
    created = functions.create_deployment(
        function_id, InputFile.from_bytes(code, "code.tar.gz"), True
    )
    ready = wait_for_build(functions, function_id, created.id)
    assert ready.status.value == "ready", ready.buildlogs
    assert ready.sourcesize == len(code)
    assert functions.get_deployment_download(function_id, created.id) == code
    assert functions.get(function_id).deploymentid == created.id


def test_chunks_may_arrive_out_of_order(
    api: httpx.Client, function_id: str, bundle: Bundle
) -> None:
    code = bundle("hello", extra={"blob.bin": os.urandom(11 * 1024 * 1024)})
    size = len(code)
    ranges = [(0, CHUNK), (2 * CHUNK, size), (CHUNK, 2 * CHUNK)]  # first, last, middle
    deployment_id = ""
    bodies = []
    for start, end in ranges:
        headers = {"content-range": f"bytes {start}-{end - 1}/{size}"}
        if deployment_id:
            headers["x-appwrite-id"] = deployment_id
        response = api.post(
            f"/v1/functions/{function_id}/deployments",
            data={"activate": "true"},
            files={"code": ("code.tar.gz", code[start:end])},
            headers=headers,
        )
        assert response.status_code == 202, response.text
        deployment_id = response.json()["$id"]
        bodies.append(response.json())
    assert [b["chunksUploaded"] for b in bodies] == [1, 2, 3]
    assert all(b["chunksTotal"] == 3 for b in bodies)
    download = api.get(f"/v1/functions/{function_id}/deployments/{deployment_id}/download")
    assert download.content == code
    # A repeated chunk of a complete upload just returns the deployment.
    again = api.post(
        f"/v1/functions/{function_id}/deployments",
        data={"activate": "true"},
        files={"code": ("code.tar.gz", code[CHUNK : 2 * CHUNK])},
        headers={
            "content-range": f"bytes {CHUNK}-{2 * CHUNK - 1}/{size}",
            "x-appwrite-id": deployment_id,
        },
    )
    assert again.status_code == 202 and again.json()["chunksUploaded"] == 3


@pytest.mark.parametrize(
    "content_range", ["bytes 0-99", "items 0-9/10", "bytes 5-1/10", "bytes 0-9/5", "bytes 1-5/10"]
)
def test_malformed_content_range_is_rejected(
    api: httpx.Client, function_id: str, content_range: str
) -> None:
    response = api.post(
        f"/v1/functions/{function_id}/deployments",
        data={"activate": "false"},
        files={"code": ("code.tar.gz", b"x" * 10)},
        headers={"content-range": content_range},
    )
    assert response.status_code == 400
    assert response.json()["type"] == "storage_invalid_content_range"


def test_upload_errors_have_appwrite_types(api: httpx.Client, function_id: str) -> None:
    url = f"/v1/functions/{function_id}/deployments"
    no_file = api.post(url, data={"activate": "true"}, files={"other": ("x.txt", b"x")})
    assert no_file.status_code == 400 and no_file.json()["type"] == "storage_file_empty"
    wrong_type = api.post(url, data={"activate": "true"}, files={"code": ("code.zip", b"x")})
    assert wrong_type.json()["type"] == "storage_file_type_unsupported"
    empty = api.post(url, data={"activate": "true"}, files={"code": ("code.tar.gz", b"")})
    assert empty.json()["type"] == "storage_file_empty"
    too_big = api.post(
        url,
        data={"activate": "true"},
        files={"code": ("code.tar.gz", b"x" * 10)},
        headers={"content-range": f"bytes 0-9/{31_000_000}"},
    )
    assert too_big.status_code == 400
    assert too_big.json()["type"] == "deployment_invalid_file_size"
    missing = api.post(
        "/v1/functions/missing-fn/deployments",
        data={"activate": "true"},
        files={"code": ("code.tar.gz", b"x")},
    )
    assert missing.status_code == 404 and missing.json()["type"] == "function_not_found"


def test_an_upload_over_the_size_limit_is_rejected(
    start_platform: Callable[..., PlatformProcess], bundle: Bundle
) -> None:
    platform = start_platform("--max-source-size", "1000")
    functions = platform.functions(platform.create_key())
    function_id = unique_id()
    functions.create(function_id, "small", Runtime.PYTHON_3_11)
    with pytest.raises(AppwriteException) as caught:
        functions.create_deployment(
            function_id, InputFile.from_bytes(os.urandom(5000), "code.tar.gz"), True
        )
    assert caught.value.code == 400
    assert caught.value.type == "deployment_invalid_file_size"


def test_list_get_and_filter_deployments(
    functions: Functions, function_id: str, bundle: Bundle
) -> None:
    good = _deploy(functions, function_id, bundle("hello"))
    bad = _deploy(functions, function_id, bundle("import_error"))
    listed = functions.list_deployments(function_id)
    assert listed.total == 2
    assert [d.id for d in listed.deployments] == [good.id, bad.id]
    ready = functions.list_deployments(function_id, queries=[Query.equal("status", ["ready"])])
    assert [d.id for d in ready.deployments] == [good.id]
    newest = functions.list_deployments(
        function_id, queries=[Query.order_desc("$createdAt"), Query.limit(1)]
    )
    assert [d.id for d in newest.deployments] == [bad.id]
    other = unique_id()
    functions.create(other, "other", Runtime.PYTHON_3_11)
    with pytest.raises(AppwriteException) as caught:
        functions.get_deployment(other, good.id)
    assert caught.value.code == 404 and caught.value.type == "deployment_not_found"


def test_import_error_fails_the_build_with_the_traceback(
    functions: Functions, function_id: str, bundle: Bundle
) -> None:
    failed = _deploy(functions, function_id, bundle("import_error"))
    assert failed.status.value == "failed"
    logs = failed.buildlogs
    assert "ModuleNotFoundError" in logs and "wixhttp_no_such_module" in logs
    assert "http_functions.py:3" in logs
    assert functions.get(function_id).deploymentid == ""
    assert functions.get(function_id).latestdeploymentstatus == "failed"


def test_a_bundle_without_handlers_fails_the_build(
    functions: Functions, function_id: str, bundle: Bundle
) -> None:
    failed = _deploy(functions, function_id, bundle("no_handlers"))
    assert failed.status.value == "failed"
    assert "no HTTP functions found" in failed.buildlogs


def test_a_syntax_error_anywhere_fails_the_build(
    functions: Functions, function_id: str, bundle: Bundle
) -> None:
    code = bundle("hello", extra={"broken.py": b"def broken(:\n"})
    failed = _deploy(functions, function_id, code)
    assert failed.status.value == "failed"
    assert "broken.py" in failed.buildlogs
    assert "SyntaxError" in failed.buildlogs


def test_a_missing_entrypoint_fails_the_build(
    functions: Functions, function_id: str, bundle: Bundle
) -> None:
    failed = _deploy(functions, function_id, bundle("hello"), entrypoint="main.py")
    assert failed.status.value == "failed"
    assert "'main.py' is not a file in the archive" in failed.buildlogs


def test_commands_run_in_the_code_directory_with_output_in_the_logs(
    functions: Functions, function_id: str, bundle: Bundle
) -> None:
    ready = _deploy(
        functions, function_id, bundle("hello"), commands="echo built-it && ls http_functions.py"
    )
    assert ready.status.value == "ready", ready.buildlogs
    assert "built-it" in ready.buildlogs
    failing = _deploy(functions, function_id, bundle("hello"), commands="echo oops; exit 3")
    assert failing.status.value == "failed"
    assert "oops" in failing.buildlogs
    assert "exited with status 3" in failing.buildlogs


def test_commands_that_run_too_long_fail_the_build(
    start_platform: Callable[..., PlatformProcess], bundle: Bundle
) -> None:
    platform = start_platform("--commands-timeout", "1")
    functions = platform.functions(platform.create_key())
    function_id = unique_id()
    functions.create(function_id, "slow", Runtime.PYTHON_3_11)
    failed = _deploy(functions, function_id, bundle("hello"), commands="sleep 30")
    assert failed.status.value == "failed"
    assert "timed out after 1 s" in failed.buildlogs
    assert failed.buildduration < 10


def test_cancel_a_build_in_progress_and_not_a_finished_one(
    functions: Functions, function_id: str, bundle: Bundle
) -> None:
    created = functions.create_deployment(
        function_id, InputFile.from_bytes(bundle("hello"), "code.tar.gz"), True, commands="sleep 30"
    )
    canceled = functions.update_deployment_status(function_id, created.id)
    assert canceled.status.value == "canceled"
    assert wait_for_build(functions, function_id, created.id).status.value == "canceled"
    assert functions.get(function_id).deploymentid == ""
    ready = _deploy(functions, function_id, bundle("hello"))
    with pytest.raises(AppwriteException) as caught:
        functions.update_deployment_status(function_id, ready.id)
    assert caught.value.code == 400 and caught.value.type == "build_already_completed"


def test_activate_a_ready_deployment_and_refuse_a_failed_one(
    functions: Functions, function_id: str, bundle: Bundle
) -> None:
    first = _deploy(functions, function_id, bundle("hello"), activate=False)
    failed = _deploy(functions, function_id, bundle("import_error"), activate=False)
    activated = functions.update_function_deployment(function_id, first.id)
    assert activated.deploymentid == first.id
    with pytest.raises(AppwriteException) as caught:
        functions.update_function_deployment(function_id, failed.id)
    assert caught.value.code == 400 and caught.value.type == "build_not_ready"
    with pytest.raises(AppwriteException) as caught:
        functions.update_function_deployment(function_id, "no-such-deployment")
    assert caught.value.code == 404 and caught.value.type == "deployment_not_found"


def test_delete_the_active_deployment_clears_it(
    functions: Functions, function_id: str, bundle: Bundle, platform: PlatformProcess
) -> None:
    ready = _deploy(functions, function_id, bundle("hello"))
    deployment_id = ready.id
    # The SDK types what a 204 gives back as a dict; it is the empty bytes.
    deleted: object = functions.delete_deployment(function_id, deployment_id)
    assert deleted == b""
    function = functions.get(function_id)
    assert function.deploymentid == "" and function.latestdeploymentid == ""
    assert not (platform.data_dir / "functions" / function_id / deployment_id).exists()
    with pytest.raises(AppwriteException) as caught:
        functions.get_deployment(function_id, deployment_id)
    assert caught.value.code == 404


def test_download_source_is_gzip_bytes_and_output_is_the_build(
    functions: Functions, function_id: str, bundle: Bundle, api: httpx.Client
) -> None:
    code = bundle("hello")
    ready = _deploy(functions, function_id, code)
    deployment_id = ready.id
    assert functions.get_deployment_download(function_id, deployment_id) == code
    response = api.get(f"/v1/functions/{function_id}/deployments/{deployment_id}/download")
    assert response.headers["content-type"] == "application/gzip"
    assert f'{deployment_id}-source.tar.gz"' in response.headers["content-disposition"]
    output = api.get(
        f"/v1/functions/{function_id}/deployments/{deployment_id}/download",
        params={"type": "output"},
    )
    assert output.headers["content-type"] == "application/octet-stream"
    with tarfile.open(fileobj=io.BytesIO(output.content), mode="r:gz") as archive:
        assert "http_functions.py" in archive.getnames()


def test_downloading_a_build_output_missing_from_disk_is_a_404_not_an_empty_archive(
    functions: Functions, function_id: str, bundle: Bundle, api: httpx.Client,
    platform: PlatformProcess,
) -> None:
    ready = _deploy(functions, function_id, bundle("hello"))
    code = platform.data_dir / "functions" / function_id / ready.id / "code"
    shutil.rmtree(code)
    response = api.get(
        f"/v1/functions/{function_id}/deployments/{ready.id}/download",
        params={"type": "output"},
    )
    assert response.status_code == 404, response.text
    assert response.json()["type"] == "build_not_found"
    assert "missing" in response.json()["message"]


def test_duplicate_deployment_rebuilds_the_same_source(
    functions: Functions, function_id: str, bundle: Bundle
) -> None:
    code = bundle("hello")
    first = _deploy(functions, function_id, code, activate=False)
    copy = functions.create_duplicate_deployment(function_id, first.id)
    assert copy.id != first.id
    ready = wait_for_build(functions, function_id, copy.id)
    assert ready.status.value == "ready"
    assert functions.get_deployment_download(function_id, copy.id) == code
    assert functions.get(function_id).deploymentid == copy.id


def test_vcs_deployments_are_not_implemented(api: httpx.Client, function_id: str) -> None:
    response = api.post(
        f"/v1/functions/{function_id}/deployments/vcs", json={"type": "branch", "reference": "main"}
    )
    assert response.status_code == 501
    assert response.json()["type"] == "general_not_implemented"


def test_deleting_a_function_removes_its_files(
    functions: Functions, function_id: str, bundle: Bundle, platform: PlatformProcess
) -> None:
    _deploy(functions, function_id, bundle("hello"))
    assert (platform.data_dir / "functions" / function_id).exists()
    functions.delete(function_id)
    assert not (platform.data_dir / "functions" / function_id).exists()
