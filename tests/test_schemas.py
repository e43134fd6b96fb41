"""Python types as JSON Schema, as ``@describe`` documents them (``wixhttp.schemas``)."""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal, NewType, Optional, TypedDict, Union

import pytest

from wixhttp.schemas import SchemaSet, is_optional

UserId = NewType("UserId", int)


class Level(enum.IntEnum):
    LOW = 1
    HIGH = 2


class Patch(TypedDict, total=False):
    name: str


class Query(TypedDict):
    text: str


class PagedQuery(Query, total=False):
    page: int


@dataclass
class Pair:
    left: Pair | None
    right: Unknown  # type: ignore[name-defined]  # noqa: F821 - a name nothing resolves


class Opaque:
    """A class wixhttp knows nothing about."""


@pytest.mark.parametrize(
    ("annotation", "schema"),
    [
        (bool, {"type": "boolean"}),
        (int, {"type": "integer"}),
        (UserId, {"type": "integer"}),
        (Any, {}),
        (Opaque, {}),
        (None, {"type": "null"}),
        (list, {"type": "array"}),
        (dict, {"type": "object"}),
        (dict[str, Any], {"type": "object"}),
        (Mapping[str, float], {"type": "object", "additionalProperties": {"type": "number"}}),
        (Sequence[str], {"type": "array", "items": {"type": "string"}}),
        (set[int], {"type": "array", "items": {"type": "integer"}, "uniqueItems": True}),
        (tuple[int, ...], {"type": "array", "items": {"type": "integer"}}),
        (Optional[int], {"type": ["integer", "null"]}),  # noqa: UP045 - the old spelling too
        (Union[int, str], {"type": ["integer", "string"]}),  # noqa: UP007
        (Literal["a"], {"type": "string", "const": "a"}),
        (Literal[1, "a", None], {"type": ["integer", "string", "null"], "enum": [1, "a", None]}),
        (Annotated[str, "a name"], {"type": "string", "description": "a name"}),
        (bytes, SchemaSet().of(bytearray)),
    ],
)
def test_types_give_these_schemas(annotation: Any, schema: dict[str, Any]) -> None:
    assert SchemaSet().of(annotation) == schema


def test_bytes_are_a_node_buffer() -> None:
    schema = SchemaSet().of(bytes)
    assert schema["properties"]["type"] == {"const": "Buffer"}


def test_an_int_enum_is_its_values() -> None:
    schemas = SchemaSet()
    assert schemas.of(Level) == {"$ref": "#/components/schemas/Level"}
    assert schemas.components["Level"] == {"title": "Level", "type": "integer", "enum": [1, 2]}


def test_typeddict_required_keys() -> None:
    schemas = SchemaSet()
    schemas.of(Patch)
    schemas.of(PagedQuery)
    assert "required" not in schemas.components["Patch"]
    assert schemas.components["PagedQuery"]["required"] == ["text"]
    assert schemas.components["PagedQuery"]["properties"]["page"] == {"type": "integer"}


def test_a_name_the_class_cannot_resolve_is_left_open() -> None:
    schemas = SchemaSet()
    schemas.of(Pair)
    assert schemas.components["Pair"]["properties"]["right"] == {}
    assert schemas.components["Pair"]["required"] == ["left", "right"]


def test_optional_is_read_through_annotated() -> None:
    assert is_optional(Annotated[int | None, "x"])
    assert is_optional(None)
    assert not is_optional(int)
