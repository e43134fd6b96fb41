"""Looks like a site, exports no handler."""
from wixhttp import ok

get_value = 3


def helper(request):
    return ok()


def fetch_items(request):
    return ok()
