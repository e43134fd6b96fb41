"""The platform's request path keeps its promises (issue 15): the caller's key never reaches the
function, one body limit for executions and direct calls, header values arrive as sent,
responses stream through the proxy in bounded memory, a build's import check sees the
function's variables, and a database file deleted under a running platform is answered 503."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from appwrite.enums.execution_method import ExecutionMethod
from appwrite.exception import AppwriteException
from appwrite.input_file import InputFile
from appwrite.services.functions import Functions

from tests._servers import wait_until
from tests.platform._support import (
    BACKEND,
    FAST,
    RUNTIME,
    PlatformProcess,
    make_bundle,
    unique_id,
    wait_execution,
    wait_for_build,
)
from wixhttp.platform.config import MAX_CALL_BODY, MAX_EXECUTION_BODY

PLATFORM_ARGS = (*FAST, "--sync-timeout", "20")
PATTERN = b"0123456789abcdef"


def _deploy(functions: Functions, site: str, **options: object) -> str:
    function_id = unique_id("hd")
    options.setdefault("execute", ["any"])
    functions.create(function_id, function_id, RUNTIME, **options)  # type: ignore[arg-type]
    created = functions.create_deployment(
        function_id, InputFile.from_bytes(make_bundle(site), "code.tar.gz"), True
    )
    ready = wait_for_build(functions, function_id, created.id)
    assert ready.status.value == "ready", ready.buildlogs
    return function_id


@pytest.fixture(scope="module")
def public(functions: Functions) -> str:
    return _deploy(functions, "hardening")


@pytest.fixture(scope="module")
def private(functions: Functions) -> str:
    return _deploy(functions, "hardening", execute=[])


def _peak_rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AssertionError("no VmHWM in /proc/<pid>/status")


# -- the key never reaches user code ---------------------------------------------------------


def test_a_key_sent_in_both_headers_reaches_the_handler_in_neither(
    platform: PlatformProcess, private: str, key: str
) -> None:
    response = httpx.get(
        f"{platform.url}/functions/{private}/_functions/seen",
        headers={"x-appwrite-key": key, "authorization": f"Bearer {key}"},
        timeout=30,
    )
    assert response.status_code == 200
    seen = response.json()["headers"]
    assert "authorization" not in seen
    assert key not in json.dumps(seen)
    assert seen["x-appwrite-key"].startswith("dynamic_")  # the platform's own, per execution


def test_a_key_in_authorization_is_dropped_even_on_a_public_function(
    platform: PlatformProcess, public: str, key: str
) -> None:
    url = f"{platform.url}/functions/{public}/_functions/seen"
    seen = httpx.get(url, headers={"authorization": f"Bearer {key}"}, timeout=30).json()
    assert "authorization" not in seen["headers"]
    own = httpx.get(url, headers={"authorization": "Bearer the-site-s-token"}, timeout=30).json()
    assert own["headers"]["authorization"] == "Bearer the-site-s-token"


def test_a_private_function_keeps_its_own_bearer_token_beside_the_key(
    platform: PlatformProcess, private: str, key: str
) -> None:
    response = httpx.get(
        f"{platform.url}/functions/{private}/_functions/seen",
        headers={"x-appwrite-key": key, "authorization": "Bearer the-site-s-token"},
        timeout=30,
    )
    assert response.json()["headers"]["authorization"] == "Bearer the-site-s-token"


# -- one body limit --------------------------------------------------------------------------


def test_an_execution_body_at_the_limit_reaches_the_handler_whole(
    functions: Functions, public: str
) -> None:
    body = "é" * (MAX_EXECUTION_BODY - 3) + "end"  # ~20 MiB of UTF-8: over any 512 KiB limit
    execution = functions.create_execution(public, body=body, path="/_functions/seen")
    assert execution.status.value == "completed", execution.errors
    seen = json.loads(execution.responsebody)
    assert (seen["size"], seen["tail"]) == (MAX_EXECUTION_BODY, "é" * 5 + "end")


def test_an_execution_body_over_the_limit_is_refused_up_front(
    functions: Functions, public: str
) -> None:
    with pytest.raises(AppwriteException) as refused:
        functions.create_execution(public, body="x" * (MAX_EXECUTION_BODY + 1))
    assert refused.value.code == 400 and refused.value.type == "general_argument_invalid"


def test_a_direct_call_body_at_the_limit_reaches_the_handler_and_over_it_is_refused(
    platform: PlatformProcess, public: str
) -> None:
    url = f"{platform.url}/functions/{public}/_functions/seen"
    at_limit = httpx.post(url, content=b"x" * (MAX_CALL_BODY - 3) + b"end", timeout=60)
    assert at_limit.status_code == 200
    assert (at_limit.json()["size"], at_limit.json()["tail"]) == (MAX_CALL_BODY, "x" * 5 + "end")
    over = httpx.post(url, content=b"x" * (MAX_CALL_BODY + 1), timeout=60)
    assert over.status_code == 400 and over.json()["type"] == "general_argument_invalid"


# -- header values as sent -------------------------------------------------------------------


def test_latin_1_execution_header_values_reach_the_handler_as_sent(
    functions: Functions, public: str
) -> None:
    value = "Grüße, café, ¡olé! ±½"
    execution = functions.create_execution(
        public, path="/_functions/seen", method=ExecutionMethod.GET, headers={"x-text": value}
    )
    assert json.loads(execution.responsebody)["headers"]["x-text"] == value


def test_an_execution_header_beyond_latin_1_is_refused_with_the_reason(
    functions: Functions, public: str
) -> None:
    with pytest.raises(AppwriteException) as refused:
        functions.create_execution(public, path="/_functions/seen", headers={"x-text": "☃ ok"})
    assert refused.value.code == 400 and refused.value.type == "general_bad_request"
    assert "x-text" in refused.value.message and "Latin-1" in refused.value.message


def test_a_delayed_execution_keeps_its_latin_1_header_values(
    functions: Functions, public: str, tmp_path: Path
) -> None:
    value = "naïve façade"
    kept = tmp_path / "seen.json"
    created = functions.create_execution(
        public,
        path=f"/_functions/seen?file={kept}",
        method=ExecutionMethod.GET,
        headers={"x-text": value},
        xasync=True,
    )
    assert wait_execution(functions, public, created.id).status.value == "completed"
    assert json.loads(kept.read_text(encoding="utf-8"))["headers"]["x-text"] == value


# -- responses streamed through the proxy ----------------------------------------------------


def test_a_large_response_streams_through_the_proxy_in_bounded_memory(
    platform: PlatformProcess, public: str
) -> None:
    assert platform.process is not None
    url = f"{platform.url}/functions/{public}/_functions/large"
    httpx.get(url, params={"mib": 1}, timeout=60).raise_for_status()  # the worker is warm
    before = _peak_rss_kib(platform.process.pid)
    mib = 128
    digest = hashlib.sha256()
    size = 0
    with httpx.stream("GET", url, params={"mib": mib}, timeout=120) as response:
        assert response.status_code == 200
        for piece in response.iter_bytes():
            digest.update(piece)
            size += len(piece)
    assert size == mib * 1024 * 1024
    assert digest.hexdigest() == hashlib.sha256(PATTERN * (size // len(PATTERN))).hexdigest()
    grown = _peak_rss_kib(platform.process.pid) - before
    assert grown < 32 * 1024, f"the platform's peak memory grew by {grown} KiB"


def test_an_execution_keeps_a_bounded_copy_of_a_large_response(
    functions: Functions, public: str
) -> None:
    from wixhttp.platform.executions import MAX_RESPONSE_BODY

    execution = functions.create_execution(
        public, path="/_functions/large?mib=12", method=ExecutionMethod.GET
    )
    assert execution.responsestatuscode == 200
    assert len(execution.responsebody) == MAX_RESPONSE_BODY
    assert execution.responsebody.startswith(PATTERN.decode())
    assert f"cut to its first {MAX_RESPONSE_BODY} bytes" in execution.errors


# -- the build's import check ----------------------------------------------------------------


def test_a_site_reading_its_variables_at_import_builds_and_serves(
    platform: PlatformProcess, functions: Functions
) -> None:
    function_id = unique_id("hd")
    functions.create(function_id, function_id, RUNTIME, execute=["any"])
    functions.create_variable(function_id, unique_id("var"), "GREETING", "hello from a variable")
    created = functions.create_deployment(
        function_id, InputFile.from_bytes(make_bundle("env_at_import"), "code.tar.gz"), True
    )
    ready = wait_for_build(functions, function_id, created.id)
    assert ready.status.value == "ready", ready.buildlogs
    response = httpx.get(f"{platform.url}/functions/{function_id}/_functions/hello", timeout=30)
    assert response.text == "hello from a variable"


# -- the database going away -----------------------------------------------------------------


@pytest.mark.skipif(BACKEND != "sqlite", reason="an SQLite file deleted under the platform")
def test_a_database_file_deleted_while_running_is_answered_503_and_logged(
    start_platform: Callable[..., PlatformProcess],
) -> None:
    process = start_platform(*FAST)
    functions = process.functions(process.create_key())
    functions.create(unique_id("hd"), "before", RUNTIME)
    (process.data_dir / "platform.db").unlink()

    def refused() -> httpx.Response | None:
        with process.http() as web:
            response = web.get("/v1/functions/runtimes")
        return response if response.status_code == 503 else None

    response = wait_until(refused, 10, what="the platform to notice its database is gone")
    assert response.json()["type"] == "general_server_error"
    assert "database file was deleted" in response.json()["message"]
    direct = httpx.get(f"{process.url}/functions/any/_functions/hello", timeout=10)
    assert direct.status_code == 503
    assert "database lost" in process.log()
