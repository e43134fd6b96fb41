"""Reading a request: typed parameters with Appwrite's messages, the JSON body, list queries."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from starlette.requests import Request

from wixhttp.platform import errors
from wixhttp.platform.queries import ListRequest, parse_list_request
from wixhttp.platform.store import new_id

__all__ = ["MAX_JSON_BODY", "Params", "list_params", "query_list", "read_json"]

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,35}$")

#: The largest JSON body the API reads: an execution's 10 MiB ``body`` JSON-escaped, with room.
MAX_JSON_BODY = 64 * 1024 * 1024


class Params:
    """Typed access to a request's parameters, with Appwrite's error messages."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.data = data

    def has(self, name: str) -> bool:
        return self.data.get(name) is not None

    def string(
        self, name: str, *, required: bool = False, default: str = "", max_length: int = 0
    ) -> str:
        value = self.data.get(name)
        if value is None:
            if required:
                raise errors.argument_invalid(f'Param "{name}" is not optional.')
            return default
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise errors.argument_invalid(f"Invalid `{name}` param: Value must be a valid string")
        text = str(value)
        if required and not text:
            raise errors.argument_invalid(f'Param "{name}" is not optional.')
        if max_length and len(text) > max_length:
            raise errors.argument_invalid(
                f"Invalid `{name}` param: Value must be a valid string and at most "
                f"{max_length} chars"
            )
        return text

    def boolean(self, name: str, default: bool) -> bool:
        value = self.data.get(name)
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "1", "false", "0", ""):
            return value.lower() in ("true", "1")
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        raise errors.argument_invalid(f"Invalid `{name}` param: Value must be a valid boolean")

    def integer(self, name: str, default: int, low: int, high: int) -> int:
        value = self.data.get(name)
        if value is None:
            return default
        number: int | None = None
        if isinstance(value, int) and not isinstance(value, bool):
            number = value
        elif isinstance(value, float) and value.is_integer():
            number = int(value)
        elif isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
            number = int(value)
        if number is None or not low <= number <= high:
            raise errors.argument_invalid(
                f"Invalid `{name}` param: Value must be a valid range between {low} and {high}"
            )
        return number

    def strings(
        self, name: str, *, max_items: int = 100, max_length: int = 256
    ) -> list[str] | None:
        value = self.data.get(name)
        if value is None:
            return None
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise errors.argument_invalid(
                f"Invalid `{name}` param: Value must be an array of strings"
            )
        if len(value) > max_items:
            raise errors.argument_invalid(
                f"Invalid `{name}` param: Value must be an array of at most {max_items} items"
            )
        if any(len(v) > max_length for v in value):
            raise errors.argument_invalid(
                f"Invalid `{name}` param: Each value must be at most {max_length} chars"
            )
        return list(value)

    def identifier(self, name: str) -> str:
        value = self.string(name, required=True)
        if value == "unique()":
            return new_id()
        if not _ID.match(value):
            raise errors.argument_invalid(
                f"Invalid `{name}` param: Parameter must contain at most 36 chars. Valid chars "
                "are a-z, A-Z, 0-9, period, hyphen, and underscore. Can't start with a special "
                "char"
            )
        return value


async def read_json(request: Request) -> Params:
    """The request's JSON object body (an empty body is ``{}``), at most ``MAX_JSON_BODY``."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_JSON_BODY:
        raise errors.body_too_large(MAX_JSON_BODY)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_JSON_BODY:
            raise errors.body_too_large(MAX_JSON_BODY)
        chunks.append(chunk)
    raw = b"".join(chunks)
    if not raw.strip():
        return Params({})
    try:
        data = json.loads(raw)
    except ValueError:
        raise errors.argument_invalid("The request body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise errors.argument_invalid("The request body must be a JSON object.")
    return Params(data)


def query_params(request: Request) -> Params:
    return Params(dict(request.query_params))


def query_list(request: Request, name: str) -> list[str]:
    """``name[0]=..&name[1]=..`` (the SDK), ``name[]=..`` or repeated ``name=..``."""
    indexed: list[tuple[int, int, str]] = []
    for order, (key, value) in enumerate(request.query_params.multi_items()):
        if key == name or key == f"{name}[]":
            indexed.append((order, order, value))
        elif key.startswith(f"{name}[") and key.endswith("]"):
            inner = key[len(name) + 1 : -1]
            if inner.isdigit():
                indexed.append((int(inner), order, value))
    indexed.sort()
    return [value for _, _, value in indexed]


def list_params(request: Request, attributes: Mapping[str, Any]) -> ListRequest:
    """A list route's ``queries[]``, ``search`` and ``total`` parameters."""
    query = query_params(request)
    return parse_list_request(
        query_list(request, "queries"),
        attributes,
        search=query.string("search", max_length=256),
        total=query.boolean("total", True),
    )
