"""What a caller reads of an execution (its errors and logs) names the user's files relative to
the deployment, never the server's disk: not the data directory, not where the server or Python
is installed. Both styles (Wix HTTP functions and Appwrite's ``main``), and a worker that fails
to start (its output's tail is the execution's error)."""

from __future__ import annotations

import io
import sys
import tarfile
from pathlib import Path

from appwrite.input_file import InputFile
from appwrite.models.execution import Execution
from appwrite.services.functions import Functions

import wixhttp
from tests.platform._support import (
    FAST,
    RUNTIME,
    PlatformProcess,
    new_function,
    unique_id,
    wait_for_build,
)

PLATFORM_ARGS = FAST


def _tar(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _deploy(functions: Functions, files: dict[str, bytes], **options: str) -> str:
    function_id = unique_id("paths")
    functions.create(function_id, function_id, RUNTIME, execute=["any"])
    created = functions.create_deployment(
        function_id, InputFile.from_bytes(_tar(files), "code.tar.gz"), True, **options
    )
    ready = wait_for_build(functions, function_id, created.id)
    assert ready.status.value == "ready", ready.buildlogs
    return function_id


def _server_paths(platform: PlatformProcess) -> set[str]:
    paths = {
        str(platform.data_dir),
        str(platform.data_dir.resolve()),
        str(Path(wixhttp.__file__).resolve().parents[1]),  # where the server is installed
        sys.prefix,
        sys.base_prefix,
    }
    return {path for path in paths if len(path) > 1}


def _assert_no_server_paths(execution: Execution, platform: PlatformProcess) -> None:
    for path in _server_paths(platform):
        assert path not in execution.errors, (path, execution.errors)
        assert path not in execution.logs, (path, execution.logs)


def test_a_wix_handlers_traceback_names_its_file_relative_to_the_deployment(
    functions: Functions, platform: PlatformProcess
) -> None:
    function_id = new_function(functions)
    execution = functions.create_execution(function_id, path="/_functions/fail")
    assert execution.status.value == "failed"
    assert 'File "http_functions.py", line' in execution.errors
    assert "ValueError: boom from the handler" in execution.errors
    _assert_no_server_paths(execution, platform)


_APPWRITE_MAIN = b"""import os
from .helpers import explode


def main(context):
    context.log("running in " + os.getcwd())
    explode()
"""


def test_an_appwrite_mains_traceback_and_logs_name_no_server_path(
    functions: Functions, platform: PlatformProcess
) -> None:
    function_id = _deploy(
        functions,
        {
            "src/main.py": _APPWRITE_MAIN,
            "src/helpers.py": b"def explode():\n    raise KeyError('boom from main')\n",
        },
        entrypoint="src/main.py",
    )
    execution = functions.create_execution(function_id)
    assert execution.status.value == "failed"
    assert 'File "src/helpers.py", line 2' in execution.errors
    assert "KeyError: 'boom from main'" in execution.errors
    assert "running in src" in execution.logs
    _assert_no_server_paths(execution, platform)


_FAILS_IN_WORKER = b"""import sys

# The build's import check passes; the worker (started with --uds) does not.
if "--uds" in sys.argv:
    raise RuntimeError("only in the worker")


def get_hello(request):
    return "hello"
"""


def test_a_worker_that_fails_to_start_reports_no_server_path(
    functions: Functions, platform: PlatformProcess
) -> None:
    function_id = _deploy(functions, {"http_functions.py": _FAILS_IN_WORKER})
    execution = functions.create_execution(function_id, path="/_functions/hello")
    assert execution.status.value == "failed"
    assert "only in the worker" in execution.errors
    _assert_no_server_paths(execution, platform)
