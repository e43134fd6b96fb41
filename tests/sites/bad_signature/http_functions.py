"""A port whose handler wants two arguments: a load error naming this line (tests/test_handler_shapes.py)."""

from wixhttp import ok


def get_ping():
    return ok({"body": {"message": "pong"}})


def post_order(request, response):
    return ok({"body": {}})
