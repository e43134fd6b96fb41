"""A site file that is not called http_functions.py: pass its path."""

from wixhttp import ok


def get_hello(request):
    return ok(body={"hello": request.path[0] if request.path else "world"})
