"""What a handler sees of its request, echoed back as JSON (tests/test_request.py)."""

import inspect

from wixhttp import bad_request, ok


def _describe(request):
    return {
        "method": request.method,
        "url": request.url,
        "base_url": request.base_url,
        "baseUrl": request.baseUrl,
        "function_name": request.function_name,
        "functionName": request.functionName,
        "path": request.path,
        "query": request.query,
        "headers": request.headers,
        "ip": request.ip,
    }


def use_echo(request):
    return ok({"body": _describe(request)})


async def use_aecho(request):
    return ok(body=_describe(request))


def get_admin_members(request):
    return ok(body=_describe(request))


# -- the body, from a plain def: text()/json()/buffer() return the value directly --------------


def post_body(request):
    text = request.body.text()
    again = request.body.text()
    data = request.body.buffer()
    return ok(
        body={
            "text": text,
            "again": again,
            "buffer_hex": data.hex(),
            "types": [type(text).__name__, type(data).__name__],
        }
    )


def post_json(request):
    first = request.body.json()
    second = request.body.json()
    return ok(body={"json": first, "same": first == second, "text": request.body.text()})


def post_catch(request):
    try:
        request.body.json()
    except ValueError as exc:
        return bad_request(body={"caught": type(exc).__name__, "message": str(exc)})
    return ok(body="parsed")


def post_uncaught(request):
    request.body.json()
    return ok(body="unreachable")


# -- the same from an async def: the three are awaited -----------------------------------------


async def post_abody(request):
    pending = request.body.text()
    awaitable = inspect.isawaitable(pending)
    text = await pending
    again = await request.body.text()
    data = await request.body.buffer()
    return ok(
        body={
            "awaitable": awaitable,
            "text": text,
            "again": again,
            "buffer_hex": data.hex(),
            "types": [type(text).__name__, type(data).__name__],
        }
    )


async def post_ajson(request):
    first = await request.body.json()
    second = await request.body.json()
    return ok(body={"json": first, "same": first == second, "text": await request.body.text()})


async def post_acatch(request):
    try:
        await request.body.json()
    except ValueError as exc:
        return bad_request(body={"caught": type(exc).__name__, "message": str(exc)})
    return ok(body="parsed")


async def post_auncaught(request):
    await request.body.json()
    return ok(body="unreachable")
