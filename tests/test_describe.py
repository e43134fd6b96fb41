"""``@describe``: what a handler adds to its site's OpenAPI document, and that it changes
nothing else (fixture site ``tests/sites/described``)."""

from __future__ import annotations

import functools
from typing import Any

import pytest
from openapi_spec_validator import validate

from tests._sites import ClientFactory, site
from wixhttp import describe, ok
from wixhttp.description import description_of
from wixhttp.loading import load_site
from wixhttp.openapi import site_document

REF = "#/components/schemas/"


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    built = site_document(load_site(site("described")))
    validate(built)
    return built


def test_query_and_header_parameters_are_typed_and_optional_with_none(
    document: dict[str, Any],
) -> None:
    parameters = document["paths"]["/_functions/items"]["get"]["parameters"]
    by_name = {p["name"]: p for p in parameters}
    assert [p["in"] for p in parameters] == ["query", "query", "header"]
    assert by_name["colour"]["schema"] == {"$ref": REF + "Colour"}
    assert by_name["limit"] == {
        "name": "limit",
        "in": "query",
        "required": False,
        "description": "at most this many",
        "schema": {"type": "integer"},
    }
    assert by_name["x-shop"]["required"] is False


def test_a_path_template_replaces_the_generic_sub_path(document: dict[str, Any]) -> None:
    paths = document["paths"]
    assert "/_functions/item" not in paths and "/_functions/item/{path}" not in paths
    item = paths["/_functions/item/{item_id}"]
    assert "parameters" not in item
    assert item["get"]["parameters"] == [
        {"name": "item_id", "in": "path", "required": True, "schema": {"type": "integer"}}
    ]
    assert item["get"]["operationId"] == "get_item"
    # path="" : the function's own URL only
    assert "/_functions/items/{path}" not in paths


def test_body_and_responses_are_documented(document: dict[str, Any]) -> None:
    post = document["paths"]["/_functions/items"]["post"]
    assert post["requestBody"] == {
        "required": True,
        "content": {"application/json": {"schema": {"$ref": REF + "ItemIn"}}},
    }
    responses = post["responses"]
    assert responses["201"]["description"] == "the item, created"
    assert responses["201"]["content"]["application/json"]["schema"] == {"$ref": REF + "Item"}
    assert responses["400"] == {"description": "the body is not an item"}  # the handler's wins
    assert responses["413"] == {"$ref": "#/components/responses/PayloadTooLarge"}
    assert "200" not in responses and "default" not in responses
    listing = document["paths"]["/_functions/items"]["get"]["responses"]["200"]
    assert listing["description"] == "OK"
    assert listing["content"]["application/json"]["schema"] == {
        "type": "array",
        "items": {"$ref": REF + "Item"},
    }


def test_python_types_become_component_schemas(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    item = schemas["Item"]
    assert item["description"] == "An item as the API answers it."
    props = item["properties"]
    assert props["id"] == {"type": "string", "format": "uuid"}
    assert props["price"] == {"type": "number"}
    assert props["created"] == {"type": "string", "format": "date-time"}
    assert props["sold_out_on"] == {"anyOf": [{"type": "string", "format": "date"},
                                              {"type": "null"}]}  # fmt: skip
    assert props["status"] == {"type": "string", "enum": ["draft", "live"]}
    assert props["extra"] == {"type": "object", "additionalProperties": {"type": "integer"}}
    assert props["dimensions"]["prefixItems"] == [{"type": "number"}, {"type": "number"}]
    assert item["required"] == ["id", "name", "price", "created", "sold_out_on", "category"]
    assert schemas["Colour"]["enum"] == ["red", "blue"]
    assert schemas["ItemIn"]["required"] == ["name", "price", "colour", "tags"]
    category = schemas["Category"]["properties"]["parent"]
    assert category == {"anyOf": [{"$ref": REF + "Category"}, {"type": "null"}]}
    # the site's own Error does not replace wixhttp's
    assert schemas["Error2"]["title"] == "Error"
    assert set(schemas["Error"]["properties"]) == {"error", "message", "details"}
    not_found = document["paths"]["/_functions/item/{item_id}"]["get"]["responses"]["404"]
    assert not_found["content"]["application/json"]["schema"] == {"$ref": REF + "Error2"}


def test_summary_deprecated_operation_id_and_a_text_body(document: dict[str, Any]) -> None:
    put = document["paths"]["/_functions/note"]["put"]
    assert put["summary"] == "Replace a note"
    assert put["deprecated"] is True
    assert put["operationId"] == "replaceNote"
    assert put["requestBody"] == {
        "required": False,
        "content": {"text/plain": {"schema": {"type": "string"}}},
    }
    assert put["responses"]["204"] == {"description": "No Content"}
    sub = document["paths"]["/_functions/note/{path}"]["put"]
    assert sub["operationId"] == "replaceNote_sub_path"


def test_tags_replace_the_function_name(document: dict[str, Any]) -> None:
    assert document["paths"]["/_functions/items"]["get"]["tags"] == ["items"]
    assert document["paths"]["/_functions/note"]["put"]["tags"] == ["note"]
    assert [t["name"] for t in document["tags"]] == sorted(t["name"] for t in document["tags"])


def test_a_description_is_read_through_a_wrapping_decorator(document: dict[str, Any]) -> None:
    get = document["paths"]["/_functions/categories"]["get"]
    assert get["summary"].startswith("Categories by name")
    schema = get["responses"]["200"]["content"]["application/json"]["schema"]
    assert schema == {"type": "object", "additionalProperties": {"$ref": REF + "Category"}}


def test_described_handlers_answer_as_before(make_client: ClientFactory) -> None:
    client = make_client("described")
    assert client.get("/_functions/items").json()[0]["name"] == "mug"
    assert client.get("/_functions/item/2").status_code == 404
    assert client.get("/_functions/item/1").json()["price"] == 7.5
    created = client.post("/_functions/items", json={"name": "cup"})
    assert created.status_code == 201 and created.json()["name"] == "cup"
    assert client.get("/_functions/categories").json()["kitchen"]["name"] == "kitchen"


def test_describe_returns_the_function_itself() -> None:
    def get_x(request: object) -> object:
        return ok()

    described = describe(summary="x")(get_x)
    assert described is get_x
    info = description_of(functools.partial(functools.wraps(get_x)(lambda r: r)))
    assert info is not None and info.summary == "x"
    assert description_of(ok) is None


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"responses": {99: str}}, "is not an HTTP status"),
        ({"responses": {"200": str}}, "is not an HTTP status"),
        ({"path": "{id}", "path_params": {"slug": str}}, "are not in path"),
        ({"path_params": {"id": int}}, "needs a path template"),
        ({"path": []}, "at least one template"),
    ],
)
def test_describe_refuses_what_it_cannot_document(arguments: dict[str, Any], message: str) -> None:
    with pytest.raises(TypeError, match=message):
        describe(**arguments)


def test_describe_refuses_what_it_cannot_annotate() -> None:
    with pytest.raises(TypeError, match="put it on a function"):
        describe(summary="x")(ok.__call__)


def test_pydantic_models_give_their_own_schemas() -> None:
    pytest.importorskip("pydantic")
    built = site_document(load_site(site("described_pydantic")))
    validate(built)
    schemas = built["components"]["schemas"]
    assert schemas["Person"]["properties"]["address"] == {"$ref": REF + "Address"}
    assert schemas["Address"]["required"] == ["street", "city"]
    post = built["paths"]["/_functions/people"]["post"]
    assert post["requestBody"]["content"]["application/json"]["schema"] == {"$ref": REF + "Person"}
