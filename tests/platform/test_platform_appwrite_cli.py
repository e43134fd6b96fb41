"""The Appwrite CLI (``appwrite-cli`` 12 from npm) drives the platform through its whole flow.

One platform for the module; the CLI runs as a subprocess with ``HOME`` in a temporary folder (its
``~/.appwrite/prefs.json`` is private) in a copy of ``sites/cli_project`` (an ``appwrite.json``
with one function, ``greeter``, whose code is in ``functions/greeter``). The tests run in file
order, as a user would: configure, push (create, deploy), execute, variables, pull, delete.

The health and proxy-rule routes are checked over raw HTTP too, so without npm they still run.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.platform._npm import require
from tests.platform._support import SITES, PlatformProcess

FUNCTION = "greeter"


@dataclass
class Cli:
    """The ``appwrite`` command with a private ``HOME``, run in a project folder."""

    binary: Path
    home: Path
    project: Path

    def run(self, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "HOME": str(self.home), "NO_COLOR": "1", "FORCE_COLOR": "0"}
        return subprocess.run(
            [str(self.binary), *args],
            cwd=cwd or self.project,
            env=env,
            stdin=subprocess.DEVNULL,  # a prompt fails instead of waiting
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )

    def ok(self, *args: str, cwd: Path | None = None) -> str:
        """Run; assert it succeeded; its output (progress lines are on standard error)."""
        result = self.run(*args, cwd=cwd)
        assert result.returncode == 0, f"appwrite {' '.join(args)}: {_output(result)}"
        assert "✗ Error" not in _output(result), _output(result)
        return _output(result)

    def json(self, *args: str) -> Any:
        result = self.run(*args, "--json")
        assert result.returncode == 0, f"appwrite {' '.join(args)}: {_output(result)}"
        return json.loads(result.stdout)


def _output(result: subprocess.CompletedProcess[str]) -> str:
    return result.stdout + result.stderr


@pytest.fixture(scope="module")
def cli_setup(
    platform: PlatformProcess, key: str, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Cli, subprocess.CompletedProcess[str]]:
    """The CLI, and the result of pointing it at the platform with ``appwrite client``."""
    binary = require("appwrite-cli", "12") / ".bin" / "appwrite"
    root = tmp_path_factory.mktemp("appwrite-cli")
    (root / "home").mkdir()
    shutil.copytree(SITES / "cli_project", root / "project")
    cli = Cli(binary, root / "home", root / "project")
    configured = cli.run(
        "client", "--endpoint", platform.endpoint, "--project-id", "default", "--key", key
    )
    return cli, configured


@pytest.fixture(scope="module")
def cli(cli_setup: tuple[Cli, subprocess.CompletedProcess[str]]) -> Cli:
    cli, configured = cli_setup
    assert configured.returncode == 0, _output(configured)
    return cli


def _execute(cli: Cli, path: str, *extra: str) -> dict[str, Any]:
    execution: dict[str, Any] = cli.json(
        "functions", "create-execution", "--function-id", FUNCTION, "--xpath", path,
        "--method", "GET", *extra,
    )  # fmt: skip
    return execution


# -- the routes the CLI needs, over raw HTTP (no npm needed) -------------------------------------


def test_health_version_is_public_and_names_an_appwrite_release(platform: PlatformProcess) -> None:
    url = platform.endpoint + "/health/version"
    response = httpx.get(url, headers={"x-appwrite-project": "console"})  # as the CLI asks
    assert response.status_code == 200
    assert response.json() == {"version": "1.9.6"}
    assert httpx.get(url).json() == {"version": "1.9.6"}


def test_health_answers_appwrite_status_to_a_key_and_401_to_a_guest(
    platform: PlatformProcess, api: httpx.Client
) -> None:
    assert api.get("/v1/health").json() == {"name": "http", "ping": 0, "status": "pass"}
    with platform.http() as guest:
        response = guest.get("/v1/health")
    assert response.status_code == 401
    assert response.json()["message"] == 'User (role: guests) missing scopes (["health.read"])'


def test_proxy_rules_are_an_empty_list_with_queries_validated(api: httpx.Client) -> None:
    queries = [
        json.dumps({"method": "limit", "values": [1]}),
        json.dumps({"method": "equal", "attribute": "deploymentResourceId", "values": ["x"]}),
        json.dumps({"method": "equal", "attribute": "trigger", "values": ["manual"]}),
    ]
    response = api.get("/v1/proxy/rules", params={"queries[]": queries})
    assert response.status_code == 200
    assert response.json() == {"total": 0, "rules": []}
    bad = json.dumps({"method": "equal", "attribute": "nope", "values": ["x"]})
    response = api.get("/v1/proxy/rules", params={"queries[]": [bad]})
    assert response.status_code == 400
    assert response.json()["type"] == "general_query_invalid"


def test_proxy_rule_lookup_is_404_and_creating_one_a_clear_501(api: httpx.Client) -> None:
    response = api.get("/v1/proxy/rules/some-rule")
    assert (response.status_code, response.json()["type"]) == (404, "rule_not_found")
    response = api.post("/v1/proxy/rules/function", json={"domain": "a.example", "functionId": "f"})
    assert response.status_code == 501
    assert "/functions/{functionId}/_functions/" in response.json()["message"]


# -- the CLI's flow ------------------------------------------------------------------------------


def test_client_accepts_the_platform_as_its_endpoint(
    cli_setup: tuple[Cli, subprocess.CompletedProcess[str]], platform: PlatformProcess
) -> None:
    cli, configured = cli_setup
    assert configured.returncode == 0, _output(configured)
    assert "Setting client" in configured.stdout
    prefs = json.loads((cli.home / ".appwrite" / "prefs.json").read_text())
    assert platform.endpoint in json.dumps(prefs)
    runtimes = cli.json("functions", "list-runtimes")
    assert [r["$id"] for r in runtimes["runtimes"]] == ["python-3.11"]


def test_push_of_a_new_function_creates_it(cli: Cli) -> None:
    """The CLI then asks the console for a domain, which needs a console session (``appwrite
    login``), not a key: with a key it stops there, against Appwrite too."""
    result = cli.run("push", "function", "--function-id", FUNCTION, "--force")
    assert "Session not found" in _output(result), _output(result)
    function = cli.json("functions", "get", "--function-id", FUNCTION)
    assert (function["name"], function["runtime"]) == (FUNCTION, "python-3.11")
    assert function["execute"] == ["any"]
    assert function["entrypoint"] == "http_functions.py"


def test_push_deploys_the_folder_as_a_cli_deployment(cli: Cli) -> None:
    output = cli.ok("push", "function", "--function-id", FUNCTION, "--force")
    assert "Successfully pushed 1 functions" in output
    assert "Deployed" in output
    listed = cli.json("functions", "list-deployments", "--function-id", FUNCTION)
    assert listed["total"] == 1
    deployment = listed["deployments"][0]
    assert (deployment["status"], deployment["type"]) == ("ready", "cli")
    assert "/_functions/hello" in deployment["buildLogs"]
    function = cli.json("functions", "get", "--function-id", FUNCTION)
    assert function["deploymentId"] == deployment["$id"]


def test_executions_run_the_pushed_code(cli: Cli) -> None:
    execution = _execute(cli, "/_functions/hello?name=cli")
    assert (execution["status"], execution["responseStatusCode"]) == ("completed", 200)
    assert json.loads(execution["responseBody"]) == {"hello": "cli"}
    queued = _execute(cli, "/_functions/hello?name=later", "--async", "true")
    assert queued["status"] in ("waiting", "processing", "completed")
    listed = cli.json("functions", "list-executions", "--function-id", FUNCTION)
    assert listed["total"] == 2
    assert {e["$id"] for e in listed["executions"]} == {execution["$id"], queued["$id"]}


def test_push_with_variables_sets_them_from_the_env_file(cli: Cli) -> None:
    (cli.project / "functions" / FUNCTION / ".env").write_text("GREETING=hello from .env\n")
    pushed = cli.run("push", "function", "--function-id", FUNCTION, "--force", "--with-variables")
    assert pushed.returncode == 0, _output(pushed)
    variables = cli.json("functions", "list-variables", "--function-id", FUNCTION)
    assert [(v["key"], v["value"]) for v in variables["variables"]] == [
        ("GREETING", "hello from .env")
    ]
    execution = _execute(cli, "/_functions/env")
    assert json.loads(execution["responseBody"]) == {"GREETING": "hello from .env"}
    listed = cli.json("functions", "list-deployments", "--function-id", FUNCTION)
    assert listed["total"] == 2  # .gitignore kept .env out of the upload; the variable did it


def test_variables_are_created_updated_and_deleted(cli: Cli) -> None:
    args = ("functions", "create-variable", "--function-id", FUNCTION)
    created = cli.run(*args, "--key", "EXTRA", "--value", "one", "--json")
    assert created.returncode == 0, _output(created)
    variable_id = json.loads(created.stdout)["$id"]
    common = ("--function-id", FUNCTION, "--variable-id", variable_id)
    updated = cli.json("functions", "update-variable", *common, "--key", "EXTRA", "--value", "two")
    assert (updated["key"], updated["value"]) == ("EXTRA", "two")
    cli.ok("functions", "delete-variable", *common)
    variables = cli.json("functions", "list-variables", "--function-id", FUNCTION)
    assert [v["key"] for v in variables["variables"]] == ["GREETING"]


def test_pull_downloads_the_deployed_code(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "appwrite.json").write_text(json.dumps({"projectId": "default"}))
    output = cli.ok("pull", "functions", "--all", "--force", cwd=tmp_path)
    assert "Successfully pulled 1 functions" in output
    pulled = tmp_path / "functions" / FUNCTION / "http_functions.py"
    original = cli.project / "functions" / FUNCTION / "http_functions.py"
    assert pulled.read_text() == original.read_text()
    config = json.loads((tmp_path / "appwrite.json").read_text())
    assert [f["$id"] for f in config["functions"]] == [FUNCTION]


def test_templates_and_usage_are_answered(cli: Cli) -> None:
    templates = cli.run("functions", "list-templates", "--json")
    assert templates.returncode == 0, _output(templates)
    assert "templates" in json.loads(templates.stdout)
    usage = cli.json("functions", "list-usage")
    assert usage["functionsTotal"] == 1
    usage = cli.json("functions", "get-usage", "--function-id", FUNCTION)
    assert usage["executionsTotal"] >= 2


def test_delete_removes_the_function(cli: Cli) -> None:
    cli.ok("functions", "delete", "--function-id", FUNCTION)
    gone = cli.run("functions", "get", "--function-id", FUNCTION)
    assert gone.returncode == 1
    assert "Function with the requested ID could not be found" in _output(gone)
    assert cli.json("functions", "list")["total"] == 0
