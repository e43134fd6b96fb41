"""A site's OpenAPI document: ``wixhttp openapi`` as users run it, and ``build_document``.

Every document built here is checked with openapi-spec-validator (OpenAPI 3.1).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from openapi_spec_validator import validate

from tests._servers import run_cli
from tests._sites import SITES, site
from tests.test_cli import one_line_error
from wixhttp.loading import SiteLoadError, load_site
from wixhttp.openapi import build_document, site_document
from wixhttp.routing import RouteTable

EXAMPLE = Path(__file__).resolve().parent.parent / "example_site"
WIX_ERRORS = {"400": "BadRequest", "413": "PayloadTooLarge", "500": "InternalError",
              "504": "Timeout"}  # fmt: skip


def document_of(target: Path | str, *args: str) -> dict[str, Any]:
    """The document ``wixhttp openapi`` prints, checked valid."""
    result = run_cli("openapi", str(target), *args)
    assert result.returncode == 0, result.stderr
    document: dict[str, Any] = json.loads(result.stdout)
    validate(document)
    return document


def fixture_entries() -> list[Path]:
    """Every site entry under tests/sites: each http_functions.py, and the lone .py files of
    folders without one (a site given as a file)."""
    entries = sorted(SITES.rglob("http_functions.py"))
    for folder in sorted(p for p in SITES.iterdir() if p.is_dir()):
        if not (folder / "http_functions.py").exists():
            entries += sorted(folder.glob("*.py"))
    return entries


def operations(document: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        operation
        for item in document["paths"].values()
        for method, operation in item.items()
        if method != "parameters"
    ]


@pytest.fixture(scope="module")
def described() -> dict[str, Any]:
    return document_of(site("described"))


def test_the_example_site_gives_a_valid_document() -> None:
    document = document_of(EXAMPLE)
    assert document["openapi"] == "3.1.0"
    assert document["info"]["title"] == "example_site"
    assert document["info"]["version"] == "0.0.0"
    assert document["servers"] == [{"url": "/"}]
    assert {"/_functions/members", "/_functions/members/{path}"} <= set(document["paths"])


@pytest.mark.parametrize(
    "entry", fixture_entries(), ids=lambda p: str(p.relative_to(SITES).parent / p.stem)
)
def test_every_loadable_fixture_site_gives_a_valid_document(entry: Path) -> None:
    try:
        loaded = load_site(entry)
    except SiteLoadError:
        pytest.skip("a broken fixture site: it does not load")
    document = site_document(loaded)
    validate(document)
    ids = [operation["operationId"] for operation in operations(document)]
    assert len(ids) == len(set(ids))
    for name, route in loaded.routes.functions.items():  # every function, every method
        base = f"/_functions/{name}"
        items = [i for url, i in document["paths"].items() if f"{url}/".startswith(f"{base}/")]
        documented = {method for item in items for method in item if method != "parameters"}
        expected = {method.lower() for method in route.handlers if method != "USE"}
        if route.fallback is not None:
            expected |= {"get", "post", "put", "patch", "delete"}
        assert documented == expected, name


def test_the_same_site_gives_byte_identical_documents() -> None:
    first = run_cli("openapi", str(site("described")))
    second = run_cli("openapi", str(site("described")))
    assert first.returncode == 0, first.stderr
    assert first.stdout == second.stdout
    assert first.stdout.startswith('{\n  "openapi": "3.1.0",\n  "info": {')


def test_an_undescribed_port_gets_paths_methods_docstrings_and_wixhttp_errors() -> None:
    members = document_of(EXAMPLE)["paths"]["/_functions/members"]
    assert list(members) == ["get", "post", "put", "delete", "options"]  # options_members
    get = members["get"]
    assert get["operationId"] == "get_members"
    assert get["summary"].startswith("GET /members -> all members")
    assert get["tags"] == ["members"]
    assert get["responses"]["200"] == {"description": "The handler's answer."}
    assert "default" in get["responses"]
    for status, name in WIX_ERRORS.items():
        assert get["responses"][status] == {"$ref": f"#/components/responses/{name}"}


def test_sub_paths_are_one_path_per_function_with_a_shared_parameter() -> None:
    document = document_of(EXAMPLE)
    item = document["paths"]["/_functions/members/{path}"]
    assert item["parameters"] == [{"$ref": "#/components/parameters/SubPath"}]
    assert item["get"]["operationId"] == "get_members_sub_path"
    sub_path = document["components"]["parameters"]["SubPath"]
    assert sub_path["in"] == "path" and sub_path["required"] is True
    assert "segments" in sub_path["description"]


def test_the_module_docstring_describes_the_api_with_the_prefixes_and_errors() -> None:
    text = document_of(EXAMPLE)["info"]["description"]
    assert text.startswith("The example site: a members API")
    assert "/_functions-dev/" in text and "HEAD" in text and "405" in text


def test_wixhttp_errors_share_the_error_schema_and_405_gives_allow() -> None:
    components = document_of(EXAMPLE)["components"]
    error = components["schemas"]["Error"]
    assert error["required"] == ["error", "message"]
    assert set(error["properties"]) == {"error", "message", "details"}
    responses = components["responses"]
    assert list(responses) == ["BadRequest", "NotFound", "MethodNotAllowed", "PayloadTooLarge",
                               "InternalError", "Timeout"]  # fmt: skip
    for response in responses.values():
        media = response["content"]["application/json"]
        assert media["schema"] == {"$ref": "#/components/schemas/Error"}
        assert set(media["example"]) == {"error", "message"}
    assert "Allow" in responses["MethodNotAllowed"]["headers"]
    assert responses["BadRequest"]["content"]["application/json"]["example"]["error"] == (
        "invalid_json"
    )


def test_use_handler_stands_for_the_methods_without_their_own(described: dict[str, Any]) -> None:
    item = described["paths"]["/_functions/anything"]
    assert list(item) == ["get", "post", "put", "patch", "delete", "options"]
    assert item["get"]["operationId"] == "get_anything"
    assert item["options"]["operationId"] == "options_anything"
    assert item["patch"]["operationId"] == "use_anything_patch"
    assert "Served by `use_anything`" in item["patch"]["description"]
    assert item["patch"]["summary"] == "Echo the method (undescribed: the document still lists it)."


def test_head_is_implied_and_options_only_with_an_options_handler() -> None:
    paths = document_of(site("velo_cors"))["paths"]
    assert all("head" not in item for item in paths.values())
    assert "options" in paths["/_functions/quote"]
    assert "options" not in paths["/_functions/products"]


def test_operation_ids_made_from_names_stay_unique(tmp_path: Path) -> None:
    (tmp_path / "http_functions.py").write_text(
        "from wixhttp import ok\n\n"
        "def get_a(request):\n    return ok()\n\n"
        "def get_a_sub_path(request):\n    return ok()\n"
    )
    ids = [op["operationId"] for op in operations(document_of(tmp_path))]
    assert sorted(ids) == ["get_a", "get_a_sub_path", "get_a_sub_path_2", "get_a_sub_path_sub_path"]


def test_build_document_takes_a_route_table_alone() -> None:
    document = build_document(load_site(EXAMPLE).routes)
    validate(document)
    assert document["info"] == {
        "title": "wixhttp site",
        "version": "0.0.0",
        "description": document["info"]["description"],
    }
    assert build_document(load_site(EXAMPLE).routes) == document


# --- the command --------------------------------------------------------------------------


def test_title_version_and_servers_can_be_given() -> None:
    document = document_of(
        EXAMPLE, "--title", "Members", "--version", "1.2.3",
        "--server", "https://api.example.com", "--server", "http://localhost:8000",
    )  # fmt: skip
    assert document["info"]["title"] == "Members"
    assert document["info"]["version"] == "1.2.3"
    assert document["servers"] == [
        {"url": "https://api.example.com"},
        {"url": "http://localhost:8000"},
    ]


def test_the_version_defaults_to_the_module_version(described: dict[str, Any]) -> None:
    assert described["info"]["title"] == "described"
    assert described["info"]["version"] == "2.1.0"


def test_output_writes_the_file_and_says_so(tmp_path: Path) -> None:
    target = tmp_path / "openapi.json"
    result = run_cli("openapi", str(EXAMPLE), "--output", str(target))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"wrote {target}: 8 paths, ")
    assert target.read_text(encoding="utf-8") == run_cli("openapi", str(EXAMPLE)).stdout
    validate(json.loads(target.read_text(encoding="utf-8")))


def test_an_unwritable_output_is_one_line(tmp_path: Path) -> None:
    result = run_cli("openapi", str(EXAMPLE), "-o", str(tmp_path / "missing" / "openapi.json"))
    assert one_line_error(result).startswith("Error: cannot write ")


@pytest.mark.parametrize("broken", ["broken_syntax", "broken_import", "no_handlers"])
def test_a_site_that_cannot_load_is_one_line_and_exit_1(broken: str) -> None:
    result = run_cli("openapi", str(site(broken)))
    assert result.returncode == 1
    assert one_line_error(result).startswith("Error: ")
    assert result.stdout == ""


def test_a_missing_site_is_one_line(tmp_path: Path) -> None:
    result = run_cli("openapi", str(tmp_path / "nowhere"))
    assert result.returncode == 1
    assert "http_functions.py" in one_line_error(result) or "nowhere" in result.stderr


def test_the_readme_example_gives_the_document_it_describes(tmp_path: Path) -> None:
    readme = (EXAMPLE.parent / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## OpenAPI document\n", 1)[1].split("\n## ", 1)[0]
    (tmp_path / "http_functions.py").write_text(section.split("```python\n", 1)[1].split("```")[0])
    paths = document_of(tmp_path)["paths"]
    assert paths["/_functions/items"]["get"]["parameters"][0]["name"] == "limit"
    assert "/_functions/item/{item_id}" in paths
    assert paths["/_functions/items"]["post"]["tags"] == ["items"]


def test_an_empty_route_table_gives_a_valid_document() -> None:
    # what a console shows while the site does not load
    document = build_document(RouteTable())
    validate(document)
    assert document["paths"] == {}


def test_a_document_changed_by_its_reader_leaves_the_next_one_alone() -> None:
    routes = load_site(site("described")).routes
    first = build_document(routes)
    expected = json.dumps(first)
    for part in first["components"].values():
        for value in part.values():
            value.clear()
    assert json.dumps(build_document(routes)) == expected
