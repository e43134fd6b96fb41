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


# -- a plain def that returns an async def's coroutine (a ported promise chain) ----------------


async def _handle(request):
    data = await request.body.json()
    text = await request.body.text()
    return ok(body={"json": data, "text": text})


def post_wrapped(request):
    return _handle(request)


# -- an async def handing the body to a sync helper in a thread --------------------------------


def _read(request):
    return {"json": request.body.json(), "size": len(request.body.buffer())}


async def post_threaded(request):
    import asyncio

    return ok(body=await asyncio.to_thread(_read, request))


# -- JSON objects, query and headers stay dicts; a missing key reads None ----------------------


def post_dictlike(request):
    import copy
    import json
    import pickle

    body = request.body.json()
    nested = body["nested"]
    return ok(
        body={
            "missing": [body["nope"], nested["nope"], request.query["nope"], request.headers["nope"]],
            "isinstance": [isinstance(x, dict) for x in (body, nested, request.query, request.headers)],
            "in": ["nope" in body, "a" in body, "a" in nested],
            "get": [body.get("nope", "default"), body.get("a")],
            "equal": [body == json.loads(request.body.text()), nested == {"a": 2}],
            "keys": list(body),
            "dumps": json.dumps(body, sort_keys=True),
            "copied": [copy.deepcopy(body)["nope"], pickle.loads(pickle.dumps(body))["nope"]],
            "header_case": [
                request.headers["X-Token"],
                request.headers.get("X-TOKEN"),
                "X-Token" in request.headers,
                "X-Other" in request.headers,
            ],
            "get_all": [request.query.get_all("tag"), request.query.get_all("one"),
                        request.query.get_all("nope")],
        }
    )
