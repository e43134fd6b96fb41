"""A site file that happens to share its name with a standard-library module."""

from wixhttp import ok


def get_colour(request):
    return ok(body={"colour": "teal"})
