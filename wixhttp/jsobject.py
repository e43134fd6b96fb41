"""Dicts that read a missing key as ``None``, as JavaScript reads ``undefined``.

Ported Velo code reads ``request.query["page"]`` or ``body["email"]`` and then tests the value
itself (``if not email: return bad_request(...)``); in JavaScript a missing key is
``undefined``, so the code goes on to its own check. These are plain ``dict`` subclasses with a
``__missing__``: every other dict behaviour (``in``, ``get``, iteration, ``==`` with a dict,
``json.dumps``, ``isinstance(x, dict)``) is unchanged, and a key that is present costs the same
to read.
"""

from __future__ import annotations

from typing import Any

__all__ = ["Headers", "JSObject", "Query"]


class JSObject(dict[str, Any]):
    """A ``dict`` whose missing keys read as ``None`` (``obj["nope"] is None``)."""

    __slots__ = ()

    def __missing__(self, key: str) -> None:
        return None


class Query(JSObject):
    """``request.query``: one string per key, a list of strings for a repeated key."""

    __slots__ = ()

    def get_all(self, key: str) -> list[str]:
        """Every value given for ``key``, as a list (``[]`` when it is absent)."""
        value = dict.get(self, key)
        if value is None:
            return []
        return list(value) if isinstance(value, list) else [value]


class Headers(JSObject):
    """``request.headers``: lower-case names; a lookup in any case finds the header
    (``headers["Content-Type"]``, ``"X-Token" in headers``, ``headers.get("Accept")``)."""

    __slots__ = ()

    def __missing__(self, key: str) -> Any:
        lowered = key.lower() if isinstance(key, str) else key
        return dict.get(self, lowered) if lowered != key else None

    def __contains__(self, key: object) -> bool:
        return dict.__contains__(self, key) or (
            isinstance(key, str) and dict.__contains__(self, key.lower())
        )

    def get(self, key: str, default: Any = None) -> Any:
        value = dict.get(self, key, _ABSENT)
        if value is _ABSENT and isinstance(key, str):
            value = dict.get(self, key.lower(), _ABSENT)
        return default if value is _ABSENT else value


_ABSENT: Any = object()
