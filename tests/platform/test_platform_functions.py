"""Functions CRUD, list queries and variables, driven by the official SDK (and raw HTTP for
what the SDK checks before sending)."""

from __future__ import annotations

import time

import httpx
import pytest
from appwrite.enums.runtime import Runtime
from appwrite.exception import AppwriteException
from appwrite.id import ID
from appwrite.query import Query
from appwrite.services.functions import Functions

from tests.platform._support import unique_id


def test_create_returns_the_function_with_defaults(functions: Functions) -> None:
    function_id = unique_id()
    created = functions.create(function_id, "Hello", Runtime.PYTHON_3_11)
    assert created.id == function_id
    assert created.name == "Hello"
    assert created.runtime == "python-3.11"
    assert created.timeout == 15
    assert created.enabled is True and created.logging is True and created.live is True
    assert created.execute == [] and created.events == [] and created.schedule == ""
    assert created.deploymentid == "" and created.latestdeploymentid == ""
    assert created.version == "v5"
    fetched = functions.get(function_id)
    assert fetched.createdat == created.createdat
    assert fetched.createdat.endswith("+00:00")


def test_create_with_all_options_round_trips(functions: Functions) -> None:
    function_id = unique_id()
    functions.create(
        function_id,
        "Full",
        Runtime.PYTHON_3_11,
        execute=["any"],
        events=["users.*.create"],
        schedule="*/5 * * * *",
        timeout=30,
        enabled=False,
        logging=False,
        entrypoint="main.py",
        commands="echo hi",
        description="about",
    )
    fetched = functions.get(function_id)
    assert fetched.execute == ["any"]
    assert fetched.events == ["users.*.create"]
    assert fetched.schedule == "*/5 * * * *"
    assert fetched.timeout == 30
    assert fetched.enabled is False and fetched.logging is False
    assert fetched.entrypoint == "main.py" and fetched.commands == "echo hi"
    assert fetched.description == "about"


def test_unique_ids_are_generated_server_side_and_by_the_sdk(
    functions: Functions, api: httpx.Client
) -> None:
    response = api.post(
        "/v1/functions", json={"functionId": "unique()", "name": "u", "runtime": "python-3.11"}
    )
    assert response.status_code == 201
    generated = response.json()["$id"]
    assert len(generated) == 20 and generated != "unique()"
    sdk_id = ID.unique()
    assert functions.create(sdk_id, "u", Runtime.PYTHON_3_11).id == sdk_id


@pytest.mark.parametrize("bad", ["-leading", "a" * 37, "has space", "slash/id", "ü"])
def test_invalid_function_ids_are_rejected(api: httpx.Client, bad: str) -> None:
    response = api.post(
        "/v1/functions", json={"functionId": bad, "name": "x", "runtime": "python-3.11"}
    )
    assert response.status_code == 400
    assert response.json()["type"] == "general_argument_invalid"
    assert "functionId" in response.json()["message"]


def test_duplicate_function_id_is_409(functions: Functions) -> None:
    function_id = unique_id()
    functions.create(function_id, "one", Runtime.PYTHON_3_11)
    with pytest.raises(AppwriteException) as caught:
        functions.create(function_id, "two", Runtime.PYTHON_3_11)
    assert caught.value.code == 409
    assert caught.value.type == "function_already_exists"


def test_runtime_not_on_this_host_is_unsupported(functions: Functions) -> None:
    with pytest.raises(AppwriteException) as caught:
        functions.create(unique_id(), "node", Runtime.NODE_22)
    assert caught.value.code == 404
    assert caught.value.type == "function_runtime_unsupported"
    assert "python-3.11" in caught.value.message


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"runtime": "python-3.11"}, "name"),
        ({"name": "x"}, "runtime"),
        ({"name": "x", "runtime": "python-3.11", "timeout": 0}, "timeout"),
        ({"name": "x", "runtime": "python-3.11", "timeout": 901}, "timeout"),
        ({"name": "x", "runtime": "python-3.11", "schedule": "every day"}, "schedule"),
        ({"name": "x", "runtime": "python-3.11", "execute": "any"}, "execute"),
        ({"name": "x" * 129, "runtime": "python-3.11"}, "name"),
    ],
)
def test_invalid_function_params_name_the_param(
    api: httpx.Client, body: dict[str, object], param: str
) -> None:
    response = api.post("/v1/functions", json={"functionId": unique_id(), **body})
    assert response.status_code == 400, response.text
    assert response.json()["type"] == "general_argument_invalid"
    assert param in response.json()["message"]


def test_update_is_a_full_replace(functions: Functions) -> None:
    function_id = unique_id()
    functions.create(
        function_id,
        "Before",
        Runtime.PYTHON_3_11,
        execute=["any"],
        events=["users.*.create"],
        schedule="* * * * *",
        timeout=60,
        entrypoint="main.py",
    )
    updated = functions.update(function_id, "After")
    assert updated.name == "After"
    # Omitted fields fall back to their defaults (Appwrite semantics) ...
    assert updated.execute == [] and updated.events == [] and updated.schedule == ""
    assert updated.timeout == 15
    # ... except runtime and entrypoint, which keep their stored values.
    assert updated.runtime == "python-3.11" and updated.entrypoint == "main.py"
    assert updated.live is False  # the name changed since the last deployment
    assert functions.get(function_id).name == "After"


def test_update_and_delete_of_a_missing_function_are_404(functions: Functions) -> None:
    for call in (
        lambda: functions.update("missing-fn", "x"),
        lambda: functions.delete("missing-fn"),
        lambda: functions.get("missing-fn"),
    ):
        with pytest.raises(AppwriteException) as caught:
            call()
        assert caught.value.code == 404
        assert caught.value.type == "function_not_found"


# -- list queries ---------------------------------------------------------------------------------


@pytest.fixture
def tagged(functions: Functions) -> tuple[str, list[str]]:
    """Five functions named ``<tag> 0`` ... ``<tag> 4``, created in that order."""
    tag = unique_id("tag").replace("-", "")
    ids = []
    for i in range(5):
        function_id = unique_id()
        functions.create(function_id, f"{tag} {i}", Runtime.PYTHON_3_11, timeout=10 + i)
        ids.append(function_id)
        time.sleep(0.002)  # distinct $createdAt
    return tag, ids


def test_list_equal_and_not_equal(functions: Functions, tagged: tuple[str, list[str]]) -> None:
    tag, ids = tagged
    found = functions.list(queries=[Query.equal("name", [f"{tag} 1", f"{tag} 3"])])
    assert [f.id for f in found.functions] == [ids[1], ids[3]]
    assert found.total == 2
    others = functions.list(
        queries=[Query.starts_with("name", tag), Query.not_equal("name", f"{tag} 0")]
    )
    assert [f.id for f in others.functions] == ids[1:]


def test_list_limit_offset_and_total(functions: Functions, tagged: tuple[str, list[str]]) -> None:
    tag, ids = tagged
    page = functions.list(queries=[Query.starts_with("name", tag), Query.limit(2), Query.offset(1)])
    assert [f.id for f in page.functions] == ids[1:3]
    assert page.total == 5
    no_total = functions.list(queries=[Query.starts_with("name", tag)], total=False)
    assert no_total.total == 0 and len(no_total.functions) == 5


def test_list_order_and_cursors(functions: Functions, tagged: tuple[str, list[str]]) -> None:
    tag, ids = tagged
    base = [Query.starts_with("name", tag)]
    desc = functions.list(queries=[*base, Query.order_desc("$createdAt")])
    assert [f.id for f in desc.functions] == ids[::-1]
    by_timeout = functions.list(queries=[*base, Query.order_asc("timeout")])
    assert [f.id for f in by_timeout.functions] == ids
    after = functions.list(queries=[*base, Query.cursor_after(ids[1]), Query.limit(2)])
    assert [f.id for f in after.functions] == ids[2:4]
    before = functions.list(queries=[*base, Query.cursor_before(ids[3]), Query.limit(2)])
    assert [f.id for f in before.functions] == ids[1:3]
    desc_after = functions.list(
        queries=[*base, Query.order_desc("$createdAt"), Query.cursor_after(ids[3])]
    )
    assert [f.id for f in desc_after.functions] == ids[2::-1]


def test_list_created_before_and_after(functions: Functions, tagged: tuple[str, list[str]]) -> None:
    tag, ids = tagged
    pivot = functions.get(ids[2]).createdat
    base = [Query.starts_with("name", tag)]
    before = functions.list(queries=[*base, Query.created_before(pivot)])
    after = functions.list(queries=[*base, Query.created_after(pivot)])
    assert [f.id for f in before.functions] == ids[:2]
    assert [f.id for f in after.functions] == ids[3:]
    fewer = functions.list(queries=[*base, Query.less_than("timeout", 12)])
    assert [f.id for f in fewer.functions] == ids[:2]
    more = functions.list(queries=[*base, Query.greater_than("timeout", 12)])
    assert [f.id for f in more.functions] == ids[3:]


def test_list_search_matches_id_name_and_runtime(
    functions: Functions, tagged: tuple[str, list[str]]
) -> None:
    tag, ids = tagged
    assert functions.list(search=tag).total == 5
    assert [f.id for f in functions.list(search=f"{tag} python").functions] == ids
    assert [f.id for f in functions.list(search=ids[4]).functions] == [ids[4]]
    assert functions.list(search=f"{tag} nothing-like-this").total == 0


def test_list_default_page_is_25(functions: Functions) -> None:
    for _ in range(26 - int(functions.list().total)):
        functions.create(unique_id(), "filler", Runtime.PYTHON_3_11)
    assert len(functions.list().functions) == 25


@pytest.mark.parametrize(
    "query",
    [
        '{"method":"equal","attribute":"nope","values":["x"]}',
        '{"method":"regex","attribute":"name","values":["x"]}',
        '{"method":"limit","values":[-1]}',
        '{"method":"limit","values":["ten"]}',
        "not json",
        '["method"]',
    ],
)
def test_bad_queries_are_400_query_invalid(api: httpx.Client, query: str) -> None:
    response = api.get("/v1/functions", params={"queries[0]": query})
    assert response.status_code == 400
    assert response.json()["type"] == "general_query_invalid"


def test_cursor_to_a_missing_document_is_cursor_not_found(functions: Functions) -> None:
    with pytest.raises(AppwriteException) as caught:
        functions.list(queries=[Query.cursor_after("does-not-exist")])
    assert caught.value.code == 400
    assert caught.value.type == "general_cursor_not_found"
    assert caught.value.message == 'Document with ID "does-not-exist" could not be found.'


def test_queries_may_come_as_brackets_or_repeated(api: httpx.Client) -> None:
    query = '{"method":"limit","values":[1]}'
    for params in ({"queries[]": query}, {"queries": query}, {"queries[0]": query}):
        response = api.get("/v1/functions", params=params)
        assert response.status_code == 200
        assert len(response.json()["functions"]) <= 1


# -- variables ------------------------------------------------------------------------------------


def test_variables_crud_and_secret_values_are_never_returned(
    functions: Functions, api: httpx.Client
) -> None:
    function_id = unique_id()
    functions.create(function_id, "vars", Runtime.PYTHON_3_11)
    plain = functions.create_variable(function_id, "v1", "GREETING", "hi")
    secret = functions.create_variable(function_id, "v2", "TOKEN", "s3cr3t", secret=True)
    assert plain.value == "hi" and plain.secret is False
    assert secret.value == "" and secret.secret is True
    assert functions.get_variable(function_id, "v2").value == ""
    listed = functions.list_variables(function_id)
    assert listed.total == 2
    assert {v.key: v.value for v in listed.variables} == {"GREETING": "hi", "TOKEN": ""}
    assert "s3cr3t" not in api.get(f"/v1/functions/{function_id}").text
    assert "s3cr3t" not in api.get(f"/v1/functions/{function_id}/variables").text
    vars_in_function = functions.get(function_id).vars
    assert {v.key for v in vars_in_function} == {"GREETING", "TOKEN"}

    updated = functions.update_variable(function_id, "v1", "GREETING", value="hello")
    assert updated.value == "hello"
    with pytest.raises(AppwriteException) as caught:
        functions.update_variable(function_id, "v2", "TOKEN", secret=False)
    assert caught.value.type == "variable_cannot_unset_secret"

    # The SDK types what a 204 gives back as a dict; it is the empty bytes.
    deleted: object = functions.delete_variable(function_id, "v1")
    assert deleted == b""
    with pytest.raises(AppwriteException) as caught:
        functions.get_variable(function_id, "v1")
    assert caught.value.code == 404 and caught.value.type == "variable_not_found"


def test_duplicate_variable_id_or_key_is_409(functions: Functions) -> None:
    function_id = unique_id()
    functions.create(function_id, "vars", Runtime.PYTHON_3_11)
    functions.create_variable(function_id, "v1", "A", "1")
    for variable_id, key in (("v1", "B"), ("v2", "A")):
        with pytest.raises(AppwriteException) as caught:
            functions.create_variable(function_id, variable_id, key, "2")
        assert caught.value.code == 409
        assert caught.value.type == "variable_already_exists"


def test_variable_key_must_be_an_environment_name(functions: Functions) -> None:
    function_id = unique_id()
    functions.create(function_id, "vars", Runtime.PYTHON_3_11)
    with pytest.raises(AppwriteException) as caught:
        functions.create_variable(function_id, "v1", "NOT-VALID", "1")
    assert caught.value.code == 400


def test_variables_of_a_missing_function_are_404(functions: Functions) -> None:
    with pytest.raises(AppwriteException) as caught:
        functions.list_variables("missing-fn")
    assert caught.value.type == "function_not_found"
