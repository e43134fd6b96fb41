"""A site whose __all__ decides its exports (tests/test_routing.py)."""

from shared import get_not_listed_either, get_shared  # noqa: F401

from wixhttp import ok

__all__ = ["get_listed", "get_shared", "get_declared_but_missing", "helper_value"]

helper_value = 1


def get_listed(request):
    return ok(body={"handler": "get_listed"})


def get_unlisted(request):
    return ok(body={"handler": "get_unlisted"})
