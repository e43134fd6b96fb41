"""Handlers that fail in the user's own code, under library frames (tests/test_error_page.py)."""

import json

from pricing import total
from wixhttp import ok


def get_parse(request):
    # The innermost frame is the standard library's json; the user's is this line.
    return ok(body=json.loads(request.query.get("data", "{")))


def get_cart(request):
    return ok(body={"total": total([3, "4"])})


async def post_echo(request):
    text = await request.body.text()
    raise ValueError(f"cannot handle {text[:40]}")


def get_shout(request):
    raise ValueError(request.query["q"])


def get_fine(request):
    return ok(body="fine")
