"""Secret variables sealed at rest: never in plain text in the database, given in clear to the
function's workers, sealed at start if stored before sealing existed, and a node with another
key refuses to start rather than serve garbage."""

from __future__ import annotations

import sqlite3
import stat
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from appwrite.enums.runtime import Runtime
from appwrite.input_file import InputFile

from tests.platform._support import (
    BACKEND,
    PlatformProcess,
    make_bundle,
    unique_id,
    wait_for_build,
)

pytestmark = pytest.mark.skipif(BACKEND != "sqlite", reason="reads the SQLite file itself")
Start = Callable[..., PlatformProcess]
SECRET = "s3cr3t-value-that-must-not-be-stored"


def _function_with_variables(platform: PlatformProcess, key: str) -> str:
    functions = platform.functions(key)
    function_id = unique_id("sec")
    functions.create(function_id, function_id, Runtime.PYTHON_3_11, execute=["any"])
    with platform.http(key) as api:
        for name, value, secret in (("SECRET_TOKEN", SECRET, True), ("GREETING", "hi", False)):
            body = {"key": name, "value": value, "secret": secret}
            reply = api.post(f"/v1/functions/{function_id}/variables", json=body)
            assert reply.status_code == 201, reply.text
            assert reply.json()["value"] == ("" if secret else value)
    created = functions.create_deployment(
        function_id, InputFile.from_bytes(make_bundle("hello"), "code.tar.gz"), True
    )
    assert wait_for_build(functions, function_id, created.id).status.value == "ready"
    return function_id


def _stored(platform: PlatformProcess) -> dict[str, str]:
    with sqlite3.connect(platform.data_dir / "platform.db") as db:
        return dict(db.execute("SELECT key, value FROM variables").fetchall())


def _env(platform: PlatformProcess, function_id: str) -> dict[str, Any]:
    with httpx.Client(base_url=platform.url, timeout=30) as web:
        response = web.get(f"/functions/{function_id}/_functions/env")
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def test_a_secret_is_sealed_in_the_database_and_clear_in_the_worker(
    start_platform: Start, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("WIXHTTP_SECRET_KEY", raising=False)
    platform = start_platform()
    function_id = _function_with_variables(platform, platform.create_key())
    stored = _stored(platform)
    assert stored["GREETING"] == "hi"
    assert stored["SECRET_TOKEN"].startswith("wxs1:")
    assert SECRET not in (platform.data_dir / "platform.db").read_bytes().decode("latin-1")
    key_file = platform.data_dir / "secret.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    env = _env(platform, function_id)
    assert (env["SECRET_TOKEN"], env["GREETING"]) == (SECRET, "hi")


def test_a_secret_stored_in_plain_text_is_sealed_at_the_next_start(
    start_platform: Start, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WIXHTTP_SECRET_KEY", "a passphrase shared by every node")
    platform = start_platform()
    function_id = _function_with_variables(platform, platform.create_key())
    platform.stop()
    platform.run_sql("UPDATE variables SET value = :v WHERE key = 'SECRET_TOKEN'", v="old-plain")
    platform.start()
    assert _stored(platform)["SECRET_TOKEN"].startswith("wxs1:")
    assert _env(platform, function_id)["SECRET_TOKEN"] == "old-plain"
    assert not (platform.data_dir / "secret.key").exists()  # the variable's key was used


def test_a_node_with_another_key_refuses_to_start(
    start_platform: Start, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WIXHTTP_SECRET_KEY", "the first key")
    platform = start_platform()
    _function_with_variables(platform, platform.create_key())
    platform.stop()
    monkeypatch.setenv("WIXHTTP_SECRET_KEY", "another key")
    with pytest.raises(AssertionError, match="platform exited"):
        platform.start()
    assert "cannot be decrypted with this node's key (WIXHTTP_SECRET_KEY)" in platform.log()


def test_a_secret_that_looks_sealed_is_sealed_too_and_the_node_restarts(
    start_platform: Start, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("WIXHTTP_SECRET_KEY", raising=False)
    platform = start_platform()
    key = platform.create_key()
    function_id = _function_with_variables(platform, key)
    with platform.http(key) as api:
        path = f"/v1/functions/{function_id}/variables"
        (secret,) = [v for v in api.get(path).json()["variables"] if v["key"] == "SECRET_TOKEN"]
        body = {"key": "SECRET_TOKEN", "value": "wxs1:not-a-token"}
        assert api.put(f"{path}/{secret['$id']}", json=body).status_code == 200
        assert api.get(path).status_code == 200  # every variable still opens
    assert _stored(platform)["SECRET_TOKEN"] != "wxs1:not-a-token"
    platform.stop()
    platform.start()  # the start-up check opens every sealed value
    assert _env(platform, function_id)["SECRET_TOKEN"] == "wxs1:not-a-token"


def test_a_secret_cannot_be_made_plain_so_its_ciphertext_never_shows(
    start_platform: Start, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("WIXHTTP_SECRET_KEY", raising=False)
    platform = start_platform()
    key = platform.create_key()
    function_id = _function_with_variables(platform, key)
    with platform.http(key) as api:
        path = f"/v1/functions/{function_id}/variables"
        (secret,) = [v for v in api.get(path).json()["variables"] if v["key"] == "SECRET_TOKEN"]
        refused = api.put(f"{path}/{secret['$id']}", json={"key": "SECRET_TOKEN", "secret": False})
    assert refused.status_code == 400
    assert refused.json()["type"] == "variable_cannot_unset_secret"
    assert _stored(platform)["SECRET_TOKEN"].startswith("wxs1:")
    assert _env(platform, function_id)["SECRET_TOKEN"] == SECRET
