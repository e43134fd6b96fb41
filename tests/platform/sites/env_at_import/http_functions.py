"""A site that reads one of its function's variables when it is imported."""

import os

from wixhttp import ok

GREETING = os.environ["GREETING"]


def get_hello(request):
    return ok(body=GREETING)
