"""Imports a module that does not exist: the build must fail with the traceback."""

import wixhttp_no_such_module  # noqa: F401

from wixhttp import ok


def get_hello(request):
    return ok(body="unreachable")
