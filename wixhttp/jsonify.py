"""Response bodies written as JavaScript's ``JSON.stringify`` writes them.

Ported Velo code puts dates, decimals, caught exceptions and ``NaN`` in its bodies; on Wix these
come out as ``JSON.stringify`` makes them. The encoder here does the same for their Python
counterparts. A body of plain ``dict``/``list``/``str``/``int``/``float``/``bool``/``None`` goes
through the standard library's C encoder exactly as before: the conversions run only for the
values it cannot write itself, and the slow walk only when it fails (``NaN``, a key it refuses,
a value nothing converts), to fix the body or to name the key path at fault.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
from collections.abc import Callable, Mapping
from datetime import date, datetime, time, timezone
from decimal import Decimal
from enum import Enum
from typing import Any
from uuid import UUID

__all__ = ["Encoder", "JSONDefault", "UnencodableBody", "encode", "make_encoder", "utf8"]

JSONDefault = Callable[[Any], Any]
"""A ``json_default`` hook: returns a JSON-able stand-in for a value, or raises ``TypeError``."""

Encoder = Callable[[Any], bytes]


class UnencodableBody(TypeError):
    """A response body holds a value that cannot be written as JSON; the message names its
    key path, e.g. ``body["items"][2]["when"]: cannot encode Foo``."""


def make_encoder(json_default: JSONDefault | None = None) -> Encoder:
    """A function writing a body as compact UTF-8 JSON, as ``JSON.stringify`` would.

    ``json_default`` is tried first for every value the ``json`` module cannot write itself (so
    it can also change how dates or bytes are written); raising ``TypeError`` leaves the value
    to the built-in rules.
    """
    convert = _convert if json_default is None else _with_hook(json_default)
    fast = json.JSONEncoder(
        ensure_ascii=False, separators=(",", ":"), allow_nan=False, default=convert
    ).encode

    def encode(body: Any) -> bytes:
        try:
            try:
                text = fast(body)
            except (TypeError, ValueError):
                text = _plain_encode(_plain(body, "body", convert, set()))
        except RecursionError:
            raise UnencodableBody(
                "body: nested too deeply to write as JSON (arrays and objects within each "
                "other past Python's recursion limit; request bodies may nest 512 levels)"
            ) from None
        try:
            return text.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate, e.g. from a body holding "\ud800"
            return _SURROGATE.sub(_escape, text).encode("utf-8")

    return encode


# A str can hold a lone UTF-16 surrogate (JSON's "\ud800" parses to one) that UTF-8 cannot.
_SURROGATE = re.compile("[\ud800-\udfff]")


def _escape(found: re.Match[str]) -> str:
    """A surrogate as JSON.stringify writes it: escaped (surrogates only occur in strings)."""
    return f"\\u{ord(found.group()):04x}"


def utf8(text: str) -> bytes:
    """``text`` as UTF-8, a lone surrogate as U+FFFD (what a JavaScript runtime sends for a
    string body: ``new TextEncoder().encode("\\ud800")``)."""
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return _SURROGATE.sub("\ufffd", text).encode("utf-8")


_plain_encode = json.JSONEncoder(
    ensure_ascii=False, separators=(",", ":"), allow_nan=False, check_circular=False
).encode


def _with_hook(hook: JSONDefault) -> JSONDefault:
    def convert(value: Any) -> Any:
        try:
            return hook(value)
        except TypeError:
            return _convert(value)

    return convert


def _convert(value: Any) -> Any:
    """A JSON-able stand-in for ``value`` (which the ``json`` module cannot write)."""
    if isinstance(value, datetime):
        return _js_date(value)
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        if not value.is_finite():
            return None
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, set | frozenset):
        return list(value)
    if isinstance(value, BaseException):
        return {}  # JSON.stringify(new Error("x")) is {}: message and stack are not enumerable
    if isinstance(value, bytes | bytearray | memoryview):
        return {"type": "Buffer", "data": list(bytes(value))}  # what a Node Buffer gives
    to_json = getattr(value, "toJSON", None)  # JSON.stringify calls toJSON(), so does this
    if callable(to_json):
        return to_json()
    dump = getattr(value, "model_dump", None)  # pydantic 2
    if callable(dump):
        return dump(mode="json")
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {field.name: getattr(value, field.name) for field in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return dict(value)
    raise TypeError(f"cannot encode {type(value).__name__}")


def _js_date(value: datetime) -> str:
    """``Date.prototype.toJSON``: UTC, milliseconds, ``Z``. A naive datetime is local time, as
    Python's own ``datetime.timestamp()`` reads it (on a UTC server, as Wix's, that is UTC)."""
    utc = value.astimezone(timezone.utc).replace(tzinfo=None)
    return utc.isoformat(timespec="milliseconds") + "Z"


def _plain(value: Any, path: str, convert: JSONDefault, active: set[int]) -> Any:
    """``value`` as plain JSON data (non-finite floats as ``None``, as ``JSON.stringify``
    writes ``null``), or :class:`UnencodableBody` naming the path of what cannot be."""
    if value is None or isinstance(value, str | bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict | list | tuple):
        if id(value) in active:
            raise UnencodableBody(f"{path}: circular reference")
        active.add(id(value))
        try:
            if isinstance(value, dict):
                return {
                    _key(key, path, convert): _plain(item, _at(path, key), convert, active)
                    for key, item in value.items()
                }
            return [_plain(item, f"{path}[{i}]", convert, active) for i, item in enumerate(value)]
        finally:
            active.discard(id(value))
    try:
        converted = convert(value)
    except TypeError:
        converted = value
    if converted is value:
        raise UnencodableBody(f"{path}: cannot encode {type(value).__name__}")
    return _plain(converted, path, convert, active)


_FLOAT_KEYS = {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}


def _key(key: Any, path: str, convert: JSONDefault) -> str | int | float | bool | None:
    """A key as JSON can hold it (an object key is always a string in JavaScript)."""
    if key is None or isinstance(key, str | int | bool):
        return key
    if isinstance(key, float):
        return key if math.isfinite(key) else _FLOAT_KEYS[repr(key)]
    try:
        converted = convert(key)
    except TypeError:
        converted = None
    if isinstance(converted, str | int | float | bool):
        return str(converted)
    raise UnencodableBody(f"{path}: cannot use {type(key).__name__} as a key")


def _at(path: str, key: Any) -> str:
    shown = json.dumps(key, ensure_ascii=False) if isinstance(key, str) else repr(key)
    return f"{path}[{shown}]"


encode = make_encoder()
"""The default encoder (no ``json_default`` hook)."""
