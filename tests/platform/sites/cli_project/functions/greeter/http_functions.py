"""The function the Appwrite CLI test pushes: `appwrite push function` uploads this folder."""

import os

from wixhttp import ok


def get_hello(request):
    return ok(body={"hello": request.query.get("name", "world")})


def get_env(request):
    return ok(body={"GREETING": os.environ.get("GREETING", "")})
