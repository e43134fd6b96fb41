"""Exports nothing that looks like a handler."""


def helper(request):
    return {"not": "a handler"}
