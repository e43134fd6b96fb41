"""A helper module of the routing site. Its handler-looking functions are not the site's exports."""

import functools

from wixhttp import ok


def get_imported(request):
    return ok(body={"handler": "get_imported"})


def logged(func):
    """A decorator (with functools.wraps) applied in http_functions.py."""

    @functools.wraps(func)
    def wrapper(request):
        result = func(request)
        result.headers["X-Decorated"] = "yes"
        return result

    return wrapper
