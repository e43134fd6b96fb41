"""Every response helper and body kind, chosen by the path (tests/test_responses.py)."""

from wixhttp import (
    WixHttpFunctionResponse,
    badRequest,
    bad_request,
    created,
    forbidden,
    notFound,
    not_found,
    ok,
    response,
    serverError,
    server_error,
)

HELPERS = {
    "ok": ok,
    "created": created,
    "bad_request": bad_request,
    "badRequest": badRequest,
    "forbidden": forbidden,
    "not_found": not_found,
    "notFound": notFound,
    "server_error": server_error,
    "serverError": serverError,
}


def get_helper(request):
    """/helper/<name>/<style>: the helper called bare, with the options dict or with keywords,
    each time given a status (299) that it must ignore."""
    name, style = request.path
    helper = HELPERS[name]
    body = {"helper": name}
    headers = {"X-Style": style}
    if style == "options":
        return helper({"body": body, "headers": headers, "status": 299})
    if style == "keywords":
        return helper(body=body, headers=headers, status=299)
    return helper()


def get_status(request):
    """/status/<style>/<code>: response() with the status in the options dict or as a keyword."""
    style, code = request.path
    if style == "options":
        return response({"status": int(code), "body": {"status": int(code)}})
    return response(status=int(code), body={"status": int(code)})


def get_default(request):
    return response()


def get_invalid_status(request):
    """response() with a status that is not an HTTP status: it raises, so the call is a 500."""
    value = {"zero": 0, "big": 600, "text": "200", "bool": True, "float": 200.0}[request.path[0]]
    return response(status=value)


def get_mutated(request):
    """status, body and headers of a response are read/write."""
    result = ok()
    result.status = 202
    result.body = {"changed": True}
    result.headers["X-Added"] = "yes"
    return result


def get_constructed(request):
    return WixHttpFunctionResponse(status=207, body="direct", headers={"X-Direct": "1"})


def get_broken_status(request):
    """A handler that sets an impossible status on a response object."""
    result = ok(body="x")
    result.status = {"text": "abc", "big": 1000, "none": None}[request.path[0]]
    return result


BODIES = {
    "dict": {"name": "Ada", "tags": ["a", "b"], "nested": {"n": 1}},
    "list": [1, "two", {"three": 3}],
    "str": "plain text",
    "unicode": "héllo wörld ✓",
    "bytes": b"\x00\x01\xffraw",
    "bytearray": bytearray(b"\x10\x20"),
    "int": 42,
    "true": True,
    "none": None,
    "empty_str": "",
}


def get_body(request):
    return ok(body=BODIES[request.path[0]])


def get_typed(request):
    """/typed/<kind>/<header-name>: a body with a Content-Type the user set, in any case."""
    kind, header_name = request.path
    return ok(body=BODIES[kind], headers={header_name: "text/plain; charset=utf-8"})


def get_two_types(request):
    """The same header given twice in different cases: one header goes out, the later one."""
    return ok(body="x", headers={"Content-Type": "text/html", "content-type": "text/plain"})


def get_user_length(request):
    """A wrong Content-Length from the user is replaced by the real one."""
    return ok(body="four", headers={"Content-Length": "999"})


def get_headers(request):
    return ok(
        body="h",
        headers={
            "X-Number": 86400,
            "Set-Cookie": ["a=1; Path=/", "b=2; Path=/"],
            "X-Mixed-Case": "Value",
        },
    )


def get_unserialisable(request):
    return ok(body={"when": object()})


def get_inject(request):
    """/inject/<where>: CR/LF in a header name or value must not split the response."""
    where = request.path[0]
    if where == "value":
        return ok(body="x", headers={"X-Evil": "ok\r\nSet-Cookie: stolen=1"})
    if where == "lf":
        return ok(body="x", headers={"X-Evil": "ok\nX-Injected: 1"})
    if where == "name":
        return ok(body="x", headers={"X-Evil\r\nX-Injected": "1"})
    if where == "nul":
        return ok(body="x", headers={"X-Evil": "a\0b"})
    if where == "list":
        return ok(body="x", headers={"X-Evil": ["fine", "bad\r\nX-Injected: 1"]})
    other = {
        "space": {"X Evil": "v"},
        "colon": {"X-Evil:": "v"},
        "empty": {"": "v"},
        "control": {"X-Evil": "a\x01b"},
        "delete": {"X-Evil": "a\x7fb"},
        "non_latin1": {"X-Evil": "€"},
    }
    return ok(body="x", headers=other[where])


def get_tab(request):
    """A tab and Latin-1 text are fine in a header value."""
    return ok(body="x", headers={"X-Tab": "a\tb", "X-Latin": "café"})


def get_not_options(request):
    """A helper given something that is not an options dict."""
    return ok(["not", "a", "dict"])
