"""The API's rules in process: the platform app behind httpx's ASGI transport, its lifespan run
around each test, keys made in its store. No subprocess, no socket: a fresh data dir per test,
and every test runs twice: on SQLite in that dir and on a fresh PostgreSQL database (skipped
where no server answers).

What is checked here (auth, validation, missing resources, variables, list queries) is also
exercised end to end through the SDK and a real process in the other ``test_platform_*`` files;
these tests pin the exact answers and run in a fraction of the time."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests._asgi import lifespan
from tests.platform._support import ALL_SCOPES, PROJECT
from wixhttp.platform.app import PlatformApp, create_platform_app
from wixhttp.platform.auth import create_key
from wixhttp.platform.config import PlatformConfig

VERSION = "1.9.6"  # the Appwrite version the error bodies name
NO_CACHE = "no-cache, no-store, must-revalidate"
GUEST_CANNOT_READ = 'User (role: guests) missing scopes (["functions.read"])'

ClientFactory = Callable[..., Awaitable[httpx.AsyncClient]]


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[PlatformApp]:
    """The platform app on a fresh data dir, started and stopped by its own lifespan.

    SQLite only: on PostgreSQL these tests crashed the interpreter in a fresh venv (a segfault
    in asyncpg 0.32's Protocol constructor on the second test's first connection, each test
    having its own event loop; not reproduced outside pytest). The same API runs on PostgreSQL
    through real platform processes (``TEST_PLATFORM_DATABASE=postgresql`` in ``.ci/run``) and
    the query dialect in process in ``test_platform_queries_dialect.py``."""
    platform_app = create_platform_app(PlatformConfig(data_dir=tmp_path / "data"))
    async with lifespan(platform_app):
        yield platform_app


@pytest.fixture
async def new_client(app: PlatformApp) -> AsyncIterator[ClientFactory]:
    """``await new_client("functions.read")``: a client with a new key of those scopes (made for
    ``key_project``); ``None`` instead of scopes: no new key, ``secret`` sent as given (none: a
    guest). The clients are closed after the test."""
    clients: list[httpx.AsyncClient] = []

    async def make(
        scopes: str | None = ALL_SCOPES, *, key_project: str = PROJECT, secret: str = ""
    ) -> httpx.AsyncClient:
        headers = {"X-Appwrite-Project": PROJECT}
        if scopes is not None:
            _, secret = await create_key(
                app.platform.store, scopes.split(","), project_id=key_project
            )
        if secret:
            headers["X-Appwrite-Key"] = secret
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app), base_url="http://platform", headers=headers
        )
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.aclose()


@pytest.fixture
async def admin(new_client: ClientFactory) -> httpx.AsyncClient:
    """A client with an all-scopes key."""
    return await new_client()


def assert_error(response: httpx.Response, status: int, type_: str, message: str = "") -> None:
    """An Appwrite error: the status, the JSON body of four fields, never cached; ``message``
    (if given) is part of the body's message."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"message", "code", "type", "version"}
    assert (body["code"], body["type"], body["version"]) == (status, type_, VERSION)
    assert message in body["message"]
    assert response.headers["cache-control"] == NO_CACHE


async def create_function(admin: httpx.AsyncClient, function_id: str, **body: Any) -> Any:
    response = await admin.post(
        "/v1/functions",
        json={"functionId": function_id, "name": "fn", "runtime": "python-3.11", **body},
    )
    assert response.status_code == 201, response.text
    return response.json()


# -- keys and scopes -----------------------------------------------------------------------------


async def test_no_key_is_a_guest_refused_with_appwrites_error_body(
    new_client: ClientFactory,
) -> None:
    guest = await new_client(None)
    response = await guest.get("/v1/functions")
    assert_error(response, 401, "general_unauthorized_scope")
    assert response.json() == {
        "message": GUEST_CANNOT_READ,
        "code": 401,
        "type": "general_unauthorized_scope",
        "version": VERSION,
    }
    assert response.headers["content-type"] == "application/json"


@pytest.mark.parametrize("secret", ["standard_" + "0" * 64, "nonsense"])
async def test_an_unknown_or_malformed_key_is_a_guest(
    new_client: ClientFactory, secret: str
) -> None:
    client = await new_client(None, secret=secret)
    assert_error(await client.get("/v1/functions"), 401, "general_unauthorized_scope")
    assert (await client.get("/v1/functions")).json()["message"] == GUEST_CANNOT_READ


async def test_a_key_of_another_project_is_a_guest(new_client: ClientFactory) -> None:
    client = await new_client(key_project="other")
    response = await client.get("/v1/functions")
    assert_error(response, 401, "general_unauthorized_scope", GUEST_CANNOT_READ)


async def test_a_key_missing_a_scope_is_401_naming_the_scope(new_client: ClientFactory) -> None:
    reader = await new_client("functions.read")
    assert (await reader.get("/v1/functions")).status_code == 200
    response = await reader.post(
        "/v1/functions", json={"functionId": "f1", "name": "x", "runtime": "python-3.11"}
    )
    assert_error(
        response,
        401,
        "general_unauthorized_scope",
        'app.default (role: applications) missing scopes (["functions.write"])',
    )


async def test_a_wrong_project_is_404_project_not_found(app: PlatformApp) -> None:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app),
        base_url="http://platform",
        headers={"X-Appwrite-Project": "other"},
    ) as client:
        response = await client.get("/v1/functions")
    assert_error(
        response, 404, "project_not_found", "Project with the requested ID could not be found."
    )


async def test_runtimes_are_public(new_client: ClientFactory) -> None:
    guest = await new_client(None)
    response = await guest.get("/v1/functions/runtimes")
    assert response.status_code == 200
    assert [r["$id"] for r in response.json()["runtimes"]] == ["python-3.11"]


async def test_an_unknown_route_is_a_json_404(admin: httpx.AsyncClient) -> None:
    assert_error(await admin.get("/v1/nope"), 404, "general_route_not_found")


# -- creating functions --------------------------------------------------------------------------


async def test_create_answers_201_with_the_defaults(admin: httpx.AsyncClient) -> None:
    created = await create_function(admin, "f1")
    assert created["$id"] == "f1" and created["runtime"] == "python-3.11"
    assert created["timeout"] == 15 and created["enabled"] is True and created["live"] is True
    assert created["execute"] == [] and created["schedule"] == ""
    assert created["deploymentId"] == "" and created["latestDeploymentId"] == ""
    fetched = await admin.get("/v1/functions/f1")
    assert fetched.status_code == 200 and fetched.json()["$createdAt"] == created["$createdAt"]


@pytest.mark.parametrize("bad", ["-leading", "a" * 37, "has space", "slash/id", "ü"])
async def test_an_invalid_function_id_is_400_naming_functionId(
    admin: httpx.AsyncClient, bad: str
) -> None:
    response = await admin.post(
        "/v1/functions", json={"functionId": bad, "name": "x", "runtime": "python-3.11"}
    )
    assert_error(response, 400, "general_argument_invalid", "Invalid `functionId` param")


async def test_an_unknown_runtime_is_404_runtime_unsupported(admin: httpx.AsyncClient) -> None:
    response = await admin.post(
        "/v1/functions", json={"functionId": "f1", "name": "x", "runtime": "node-22"}
    )
    assert_error(
        response,
        404,
        "function_runtime_unsupported",
        'Runtime "node-22" is not supported by this host. Available runtimes: python-3.11',
    )


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"runtime": "python-3.11"}, 'Param "name" is not optional.'),
        ({"name": "x"}, 'Param "runtime" is not optional.'),
        ({"name": "x", "runtime": "python-3.11", "timeout": 0}, "Invalid `timeout` param"),
        ({"name": "x", "runtime": "python-3.11", "timeout": 901}, "Invalid `timeout` param"),
        ({"name": "x", "runtime": "python-3.11", "execute": "any"}, "Invalid `execute` param"),
        ({"name": "x" * 129, "runtime": "python-3.11"}, "Invalid `name` param"),
    ],
)
async def test_a_missing_or_invalid_create_param_is_400_naming_it(
    admin: httpx.AsyncClient, body: dict[str, object], message: str
) -> None:
    response = await admin.post("/v1/functions", json={"functionId": "f1", **body})
    assert_error(response, 400, "general_argument_invalid", message)


async def test_a_bad_schedule_says_it_must_be_cron(admin: httpx.AsyncClient) -> None:
    response = await admin.post(
        "/v1/functions",
        json={"functionId": "f1", "name": "x", "runtime": "python-3.11", "schedule": "every day"},
    )
    assert_error(
        response,
        400,
        "general_argument_invalid",
        "Invalid `schedule` param: Value must be a valid CRON: every day",
    )


async def test_a_duplicate_function_id_is_409(admin: httpx.AsyncClient) -> None:
    await create_function(admin, "f1")
    response = await admin.post(
        "/v1/functions", json={"functionId": "f1", "name": "again", "runtime": "python-3.11"}
    )
    assert_error(
        response, 409, "function_already_exists", "Function with the requested ID already exists."
    )


async def test_an_invalid_json_body_is_400_argument_invalid(admin: httpx.AsyncClient) -> None:
    response = await admin.post(
        "/v1/functions", content=b"{nope", headers={"content-type": "application/json"}
    )
    assert_error(response, 400, "general_argument_invalid")


# -- a missing function --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "", None),
        ("PUT", "", {"name": "x"}),
        ("DELETE", "", None),
        ("GET", "/variables", None),
        ("POST", "/variables", {"variableId": "v1", "key": "A", "value": "1"}),
        ("GET", "/deployments", None),
        ("GET", "/executions", None),
    ],
)
async def test_a_missing_function_is_404_function_not_found(
    admin: httpx.AsyncClient, method: str, path: str, body: dict[str, str] | None
) -> None:
    response = await admin.request(method, f"/v1/functions/missing{path}", json=body)
    assert_error(
        response, 404, "function_not_found", "Function with the requested ID could not be found."
    )


async def test_delete_answers_204_with_no_body_then_the_function_is_gone(
    admin: httpx.AsyncClient,
) -> None:
    await create_function(admin, "f1")
    response = await admin.delete("/v1/functions/f1")
    assert response.status_code == 204
    assert response.content == b""
    assert response.headers["content-type"].startswith("text/html")
    assert_error(await admin.get("/v1/functions/f1"), 404, "function_not_found")


async def test_a_new_function_has_no_deployments(admin: httpx.AsyncClient) -> None:
    await create_function(admin, "f1")
    response = await admin.get("/v1/functions/f1/deployments")
    assert response.status_code == 200
    assert response.json() == {"total": 0, "deployments": []}


# -- variables -----------------------------------------------------------------------------------


async def test_variables_crud_never_returns_a_secret_value(admin: httpx.AsyncClient) -> None:
    await create_function(admin, "f1")
    base = "/v1/functions/f1/variables"
    plain = await admin.post(base, json={"variableId": "v1", "key": "GREETING", "value": "hi"})
    assert plain.status_code == 201
    assert plain.json()["value"] == "hi" and plain.json()["secret"] is False
    secret = await admin.post(
        base, json={"variableId": "v2", "key": "TOKEN", "value": "s3cr3t", "secret": True}
    )
    assert secret.status_code == 201
    assert secret.json()["value"] == "" and secret.json()["secret"] is True

    listed = (await admin.get(base)).json()
    assert listed["total"] == 2
    assert {v["key"]: v["value"] for v in listed["variables"]} == {"GREETING": "hi", "TOKEN": ""}
    assert "s3cr3t" not in (await admin.get("/v1/functions/f1")).text
    assert (await admin.get(f"{base}/v2")).json()["value"] == ""

    updated = await admin.put(f"{base}/v1", json={"key": "GREETING", "value": "hello"})
    assert updated.status_code == 200 and updated.json()["value"] == "hello"
    unset = await admin.put(f"{base}/v2", json={"key": "TOKEN", "secret": False})
    assert_error(unset, 400, "variable_cannot_unset_secret")

    deleted = await admin.delete(f"{base}/v1")
    assert deleted.status_code == 204 and deleted.content == b""
    assert_error(
        await admin.get(f"{base}/v1"),
        404,
        "variable_not_found",
        "Variable with the requested ID could not be found.",
    )


@pytest.mark.parametrize(("variable_id", "key"), [("v1", "B"), ("v2", "A")])
async def test_a_duplicate_variable_id_or_key_is_409(
    admin: httpx.AsyncClient, variable_id: str, key: str
) -> None:
    await create_function(admin, "f1")
    base = "/v1/functions/f1/variables"
    first = await admin.post(base, json={"variableId": "v1", "key": "A", "value": "1"})
    assert first.status_code == 201
    response = await admin.post(base, json={"variableId": variable_id, "key": key, "value": "2"})
    assert_error(
        response,
        409,
        "variable_already_exists",
        "Variable with the same ID or key already exists in this function.",
    )


async def test_a_variable_key_must_be_an_environment_name(admin: httpx.AsyncClient) -> None:
    await create_function(admin, "f1")
    response = await admin.post(
        "/v1/functions/f1/variables", json={"variableId": "v1", "key": "NOT-VALID", "value": "1"}
    )
    assert_error(response, 400, "general_argument_invalid", "Invalid `key` param")


# -- list queries --------------------------------------------------------------------------------


@pytest.fixture
async def five(admin: httpx.AsyncClient) -> list[str]:
    """Five functions f0 ... f4 (timeouts 10 ... 14), created in that order."""
    ids = [f"f{i}" for i in range(5)]
    for i, function_id in enumerate(ids):
        await create_function(admin, function_id, timeout=10 + i)
    return ids


async def listed(admin: httpx.AsyncClient, *queries: str, **params: str) -> dict[str, Any]:
    """``GET /v1/functions`` with JSON queries (``queries[]``); the body of a 200."""
    response = await admin.get("/v1/functions", params={"queries[]": list(queries), **params})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def ids_of(body: dict[str, Any]) -> list[str]:
    return [function["$id"] for function in body["functions"]]


async def test_list_limit_and_offset_page_and_total_counts_all(
    admin: httpx.AsyncClient, five: list[str]
) -> None:
    page = await listed(
        admin, '{"method":"limit","values":[2]}', '{"method":"offset","values":[1]}'
    )
    assert ids_of(page) == five[1:3]
    assert page["total"] == 5
    no_total = await listed(admin, total="false")
    assert no_total["total"] == 0 and ids_of(no_total) == five


async def test_list_cursors_page_after_and_before_a_function(
    admin: httpx.AsyncClient, five: list[str]
) -> None:
    limit = '{"method":"limit","values":[2]}'
    after = await listed(admin, '{"method":"cursorAfter","values":["f1"]}', limit)
    assert ids_of(after) == five[2:4]
    before = await listed(admin, '{"method":"cursorBefore","values":["f3"]}', limit)
    assert ids_of(before) == five[1:3]


async def test_list_filters_and_orders_by_attribute(
    admin: httpx.AsyncClient, five: list[str]
) -> None:
    more = await listed(admin, '{"method":"greaterThan","attribute":"timeout","values":[12]}')
    assert ids_of(more) == five[3:]
    desc = await listed(admin, '{"method":"orderDesc","attribute":"timeout"}')
    assert ids_of(desc) == five[::-1]


async def test_a_cursor_to_a_missing_function_is_400_cursor_not_found(
    admin: httpx.AsyncClient,
) -> None:
    response = await admin.get(
        "/v1/functions", params={"queries[0]": '{"method":"cursorAfter","values":["nope"]}'}
    )
    assert_error(
        response, 400, "general_cursor_not_found", 'Document with ID "nope" could not be found.'
    )


@pytest.mark.parametrize(
    "query",
    [
        '{"method":"equal","attribute":"nope","values":["x"]}',
        '{"method":"regex","attribute":"name","values":["x"]}',
        '{"method":"limit","values":[-1]}',
        '{"method":"limit","values":["ten"]}',
        '{"method":"equal","attribute":"timeout","values":["15"]}',
        '{"method":"greaterThan","attribute":"name","values":[1]}',
        '{"method":"equal","attribute":"enabled","values":["true"]}',
        '{"method":"startsWith","attribute":"timeout","values":["1"]}',
        "not json",
        '["method"]',
    ],
)
async def test_a_bad_query_is_400_query_invalid(admin: httpx.AsyncClient, query: str) -> None:
    response = await admin.get("/v1/functions", params={"queries[0]": query})
    assert_error(response, 400, "general_query_invalid", "Invalid query")


# -- function URLs -------------------------------------------------------------------------------


async def test_a_private_function_url_reads_the_first_of_two_key_headers(
    app: PlatformApp, admin: httpx.AsyncClient, new_client: ClientFactory
) -> None:
    await create_function(admin, "private", execute=[])
    _, secret = await create_key(app.platform.store, ["executions.write"], project_id=PROJECT)
    transport = httpx.ASGITransport(app)
    async with httpx.AsyncClient(transport=transport, base_url="http://platform") as caller:
        url = "/functions/private/_functions/hello"
        first_valid = await caller.get(
            url, headers=[("x-appwrite-key", secret), ("x-appwrite-key", "standard_bogus")]
        )
        # Let in (the key is good), then: nothing is deployed yet.
        assert_error(first_valid, 404, "deployment_not_found")
        first_bogus = await caller.get(
            url, headers=[("x-appwrite-key", "standard_bogus"), ("x-appwrite-key", secret)]
        )
        assert_error(first_bogus, 401, "user_unauthorized")
        bearer = await caller.get(url, headers={"authorization": f"Bearer {secret}"})
        assert_error(bearer, 404, "deployment_not_found")
        scopeless_key = (await create_key(app.platform.store, ["functions.read"]))[1]
        scopeless = await caller.get(url, headers={"x-appwrite-key": scopeless_key})
        assert_error(scopeless, 401, "general_unauthorized_scope")


async def test_a_disabled_function_url_is_not_found_for_guests(
    app: PlatformApp, admin: httpx.AsyncClient
) -> None:
    await create_function(admin, "off", execute=["any"], enabled=False)
    transport = httpx.ASGITransport(app)
    async with httpx.AsyncClient(transport=transport, base_url="http://platform") as guest:
        response = await guest.get("/functions/off/_functions/hello")
    assert_error(response, 404, "function_not_found")
