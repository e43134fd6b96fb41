"""The public API is exactly what wixhttp.__all__ lists (httpx's tests/test_exported_members.py)."""

from __future__ import annotations

from types import ModuleType

import wixhttp

PUBLIC = [
    "AsyncRequest",
    "Request",
    "WixHttpFunctionRequest",
    "WixHttpFunctionResponse",
    "badRequest",
    "bad_request",
    "create_app",
    "created",
    "describe",
    "forbidden",
    "notFound",
    "not_found",
    "ok",
    "response",
    "serverError",
    "server_error",
]


def test_all_is_locked() -> None:
    assert wixhttp.__all__ == PUBLIC


def test_all_lists_every_public_name_and_is_sorted() -> None:
    public = [
        name
        for name, value in vars(wixhttp).items()
        if not name.startswith("_") and not isinstance(value, ModuleType)
    ]
    assert wixhttp.__all__ == sorted(public)


def test_every_exported_member_comes_from_the_package() -> None:
    for name in wixhttp.__all__:
        member = getattr(wixhttp, name)
        assert member.__module__.startswith("wixhttp."), name


def test_star_import_gives_exactly_the_public_names() -> None:
    namespace: dict[str, object] = {}
    exec("from wixhttp import *", namespace)
    assert sorted(name for name in namespace if name != "__builtins__") == PUBLIC


def test_version_is_a_string() -> None:
    assert isinstance(wixhttp.__version__, str) and wixhttp.__version__.count(".") == 2
