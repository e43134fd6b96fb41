"""Handlers for the request-path hardening tests: what the handler received, and large bodies."""

import json

from wixhttp import ok

PATTERN = "0123456789abcdef"


def use_seen(request):
    """The headers and the body's size, as the handler sees them."""
    body = request.body.text() if request.method not in ("GET", "HEAD") else ""
    seen = {"headers": request.headers, "size": len(body), "tail": body[-8:]}
    if "file" in request.query:  # for runs whose response nobody reads (asynchronous ones)
        with open(request.query["file"], "w", encoding="utf-8") as kept:
            json.dump(seen, kept)
    return ok(body=seen)


def get_large(request):
    """``?mib=N`` mebibytes of a repeating pattern."""
    mib = int(request.query.get("mib", 1))
    return ok(body=PATTERN * (mib * 1024 * 1024 // len(PATTERN)))
