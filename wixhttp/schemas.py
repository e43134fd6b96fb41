"""Python types as JSON Schema (draft 2020-12, the dialect of OpenAPI 3.1).

Values are described as wixhttp writes them in a response (see :mod:`wixhttp.jsonify`): a
``datetime`` is a string (``date-time``), a ``Decimal`` a number, an enum its value, ``bytes`` a
Node ``Buffer`` object. Classes with a name of their own (dataclasses, ``TypedDict``\\ s, enums,
pydantic models) become shared schemas under ``components/schemas``, referenced by ``$ref``; so
recursive types work. pydantic is never imported here: a class with ``model_json_schema`` is
asked for its own schema.
"""

from __future__ import annotations

import collections.abc as abc
import copy
import dataclasses
import enum
import inspect
import types
import typing
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any
from uuid import UUID

__all__ = ["SchemaSet", "is_optional"]

Schema = dict[str, Any]
_REF = "#/components/schemas/"

#: Scalar types in the order they are tested (a ``bool`` is an ``int``, a ``datetime`` a
#: ``date``: the narrower first).
_SCALARS: tuple[tuple[type, Schema], ...] = (
    (bool, {"type": "boolean"}),
    (int, {"type": "integer"}),
    (float, {"type": "number"}),
    (Decimal, {"type": "number"}),
    (str, {"type": "string"}),
    (datetime, {"type": "string", "format": "date-time"}),
    (date, {"type": "string", "format": "date"}),
    (time, {"type": "string", "format": "time"}),
    (UUID, {"type": "string", "format": "uuid"}),
)
_BUFFER: Schema = {
    "type": "object",
    "description": "bytes, written as a Node Buffer is",
    "properties": {
        "type": {"const": "Buffer"},
        "data": {"type": "array", "items": {"type": "integer", "minimum": 0, "maximum": 255}},
    },
}
_ARRAYS = (list, set, frozenset, abc.Sequence, abc.MutableSequence, abc.Set, abc.MutableSet,
           abc.Iterable, abc.Collection)  # fmt: skip
_OBJECTS = (dict, abc.Mapping, abc.MutableMapping)
_UNIONS = (typing.Union, types.UnionType)
# Required/NotRequired are new in Python 3.11 (typing_extensions' own are found by name below).
_WRAPPERS = tuple(
    wrapper
    for wrapper in (
        getattr(typing, "Required", None),
        getattr(typing, "NotRequired", None),
        typing.ClassVar,
        typing.Final,
    )
    if wrapper is not None
)
_WRAPPER_NAMES = frozenset({"Required", "NotRequired", "ReadOnly"})


def is_optional(annotation: Any) -> bool:
    """Whether ``annotation`` admits ``None`` (``X | None``, ``Optional[X]``, ``None``)."""
    if annotation is None or annotation is type(None):
        return True
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return is_optional(typing.get_args(annotation)[0])
    if origin in _UNIONS:
        return any(is_optional(arg) for arg in typing.get_args(annotation))
    return False


class SchemaSet:
    """Converts types to schemas and keeps the named ones, for ``components/schemas``."""

    def __init__(self) -> None:
        self.components: dict[str, Schema] = {}
        self._names: dict[Any, str] = {}

    def of(self, annotation: Any) -> Schema:
        """The schema of values of ``annotation``; ``{}`` (anything) for what it cannot read."""
        if annotation is Any or annotation is object:
            return {}
        if annotation is None or annotation is type(None):
            return {"type": "null"}
        origin = typing.get_origin(annotation)
        if origin is not None:
            return self._generic(annotation, origin, typing.get_args(annotation))
        supertype = getattr(annotation, "__supertype__", None)  # typing.NewType
        if supertype is not None:
            return self.of(supertype)
        if isinstance(annotation, type):
            return self._class(annotation)
        return {}

    def _generic(self, annotation: Any, origin: Any, args: tuple[Any, ...]) -> Schema:
        if origin is typing.Annotated:
            schema = self.of(args[0])
            notes = [note for note in args[1:] if isinstance(note, str)]
            return {**schema, "description": notes[0]} if notes else schema
        if origin in _WRAPPERS or getattr(origin, "_name", None) in _WRAPPER_NAMES:
            return self.of(args[0])
        if origin in _UNIONS:
            return _union([self.of(arg) for arg in args])
        if origin is typing.Literal:
            return _literal(args)
        if origin is tuple:
            return self._tuple(args)
        if origin in _ARRAYS:
            array: Schema = {"type": "array", "items": self.of(args[0]) if args else {}}
            if origin in (set, frozenset, abc.Set, abc.MutableSet):
                array["uniqueItems"] = True
            return array
        if origin in _OBJECTS:
            values = self.of(args[1]) if len(args) == 2 else {}
            return {"type": "object", "additionalProperties": values} if values else dict(_OBJECT)
        if isinstance(origin, type):  # a generic class of the user's: its plain schema
            return self._class(origin)
        return {}

    def _tuple(self, args: tuple[Any, ...]) -> Schema:
        if not args:
            return {"type": "array"}
        if len(args) == 2 and args[1] is Ellipsis:
            return {"type": "array", "items": self.of(args[0])}
        if args == ((),):  # tuple[()]
            return {"type": "array", "maxItems": 0}
        items = [self.of(arg) for arg in args]
        return {
            "type": "array",
            "prefixItems": items,
            "items": False,
            "minItems": len(items),
            "maxItems": len(items),
        }

    def _class(self, cls: type) -> Schema:
        if issubclass(cls, enum.Enum):
            return self._named(cls, _enum)
        if typing.is_typeddict(cls):
            return self._named(cls, self._typeddict)
        if dataclasses.is_dataclass(cls):
            return self._named(cls, self._dataclass)
        if callable(getattr(cls, "model_json_schema", None)):
            return self._pydantic(cls)
        for scalar, schema in _SCALARS:
            if issubclass(cls, scalar):
                return dict(schema)
        if issubclass(cls, bytes | bytearray | memoryview):
            return copy.deepcopy(_BUFFER)
        if issubclass(cls, dict | abc.Mapping):
            return dict(_OBJECT)
        if issubclass(cls, list | tuple | set | frozenset):
            return {"type": "array"}
        return {}

    def _named(self, cls: type, build: typing.Callable[[type], Schema]) -> Schema:
        name = self._names.get(cls)
        if name is None:
            name = self._free_name(cls.__name__)
            self._names[cls] = name
            self.components[name] = {}  # taken while it is built: a recursive type refers to it
            doc = _own_doc(cls)
            head = {"title": cls.__name__, "description": doc} if doc else {"title": cls.__name__}
            self.components[name] = {**head, **build(cls)}
        return {"$ref": _REF + name}

    def _free_name(self, wanted: str) -> str:
        """``wanted``, or ``wanted2``, ``wanted3``...: two classes of one name stay apart."""
        name, n = wanted, 1
        while name in self.components:
            n += 1
            name = f"{wanted}{n}"
        return name

    def _typeddict(self, cls: type) -> Schema:
        hints = _hints(cls)
        required: frozenset[str] = getattr(cls, "__required_keys__", frozenset())
        schema: Schema = {
            "type": "object",
            "properties": {key: self.of(value) for key, value in hints.items()},
        }
        keys = [key for key in hints if key in required]
        if keys:
            schema["required"] = keys
        return schema

    def _dataclass(self, cls: type) -> Schema:
        hints = _hints(cls)
        fields = dataclasses.fields(cls)  # all of them: a response writes every field
        properties = {f.name: self.of(hints.get(f.name, f.type)) for f in fields}
        schema: Schema = {"type": "object", "properties": properties}
        required = [
            f.name
            for f in fields
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        ]
        if required:
            schema["required"] = required
        return schema

    def _pydantic(self, cls: type) -> Schema:
        """A pydantic model's own schema; the models it uses join ``components/schemas``."""
        name = self._names.get(cls)
        if name is None:
            make = getattr(cls, "model_json_schema")  # noqa: B009 - pydantic is not imported
            schema: Schema = make(ref_template=_REF + "{model}")
            for def_name, definition in schema.pop("$defs", {}).items():
                self.components.setdefault(def_name, definition)
            # A model met first inside another one is already there, under its own name.
            same = self.components.get(cls.__name__) == schema
            name = cls.__name__ if same else self._free_name(cls.__name__)
            self._names[cls] = name
            self.components[name] = schema
        return {"$ref": _REF + name}


_OBJECT: Schema = {"type": "object"}


def _union(members: list[Schema]) -> Schema:
    """``anyOf`` the members; plain types (``int | None``) as one ``type`` list."""
    if not members or any(member == {} for member in members):
        return {}
    if all(set(member) == {"type"} and isinstance(member["type"], str) for member in members):
        kinds = list(dict.fromkeys(member["type"] for member in members))
        return {"type": kinds[0] if len(kinds) == 1 else kinds}
    return {"anyOf": members}


def _json_value(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        value = value.value
    if value is None or isinstance(value, str | bool | int | float):
        return value
    return str(value)


_KINDS = ((bool, "boolean"), (int, "integer"), (float, "number"), (str, "string"))


def _kind(value: Any) -> str | None:
    if value is None:
        return "null"
    return next((name for kind, name in _KINDS if isinstance(value, kind)), None)


def _literal(args: tuple[Any, ...]) -> Schema:
    values = [_json_value(arg) for arg in args]
    schema: Schema = {"const": values[0]} if len(values) == 1 else {"enum": values}
    kinds = list(dict.fromkeys(_kind(value) for value in values))
    if None not in kinds:
        schema = {"type": kinds[0] if len(kinds) == 1 else kinds, **schema}
    return schema


def _enum(cls: type) -> Schema:
    members = typing.cast(type[enum.Enum], cls)
    return _literal(tuple(member.value for member in members))


def _hints(cls: type) -> dict[str, Any]:
    """A class's annotations, resolved (postponed ones too) when they can be; raw otherwise."""
    try:
        return typing.get_type_hints(cls, include_extras=True)
    except Exception:  # a name the class's module cannot resolve: keep what can be read
        return dict(getattr(cls, "__annotations__", {}))


def _own_doc(cls: type) -> str:
    """The class's own docstring; not an inherited one, nor the one @dataclass makes up."""
    doc = cls.__dict__.get("__doc__")
    if not isinstance(doc, str) or not doc.strip():
        return ""
    doc = inspect.cleandoc(doc)
    generated = dataclasses.is_dataclass(cls) and doc.startswith(f"{cls.__name__}(")
    if generated or doc == "An enumeration.":
        return ""
    return doc
