"""Handler shapes a mechanical port of backend/http-functions.js produces
(tests/test_handler_shapes.py). Each answers what the JavaScript original answers on Wix."""

from wixhttp import ok


# export function get_ping() { return ok({body: {message: "pong"}}); }
def get_ping():
    return ok({"body": {"message": "pong"}})


# export async function get_status() { return ok({body: {up: true}}); }
async def get_status():
    return ok({"body": {"up": True}})


# export function options_track() { return ok({headers: {...}}); }  (hand-written CORS)
def options_track():
    return ok(
        {
            "headers": {
                "Access-Control-Allow-Origin": "https://shop.example",
                "Access-Control-Allow-Methods": "POST, OPTIONS",
            }
        }
    )


# export function get_search(request, limit = 10) {...}
def get_search(request, limit=10):
    return ok({"body": {"q": request.query.get("q"), "limit": limit}})


# export function post_log(...args) { return ok({body: {args: args.length}}); }
def post_log(*args):
    return ok({"body": {"args": len(args), "method": args[0].method}})


def get_options(request, **options):
    return ok({"body": {"options": options}})


get_arrow = lambda: ok({"body": {"arrow": True}})  # noqa: E731  const get_arrow = () => ok(...)


async def _lookup(request):
    return ok({"body": {"id": request.path[0] if request.path else None}})


# export function get_item(request) { return lookup(request); }  -- returns the promise
def get_item(request):
    return _lookup(request)


async def _outer(request):
    return _lookup(request)  # a promise resolving to a promise


def get_nested(request):
    return _outer(request)


# Promise style: JavaScript runs a promise it does not await; Python never runs a coroutine it
# does not await. `wixhttp dev` logs these calls (tests/test_handler_shapes.py, dev subprocess).
async def _save(event):
    print(f"saved {event}")


# export function post_event(request) { save(request.path[0]); return ok({body: {saved: true}}); }
def post_event(request):
    _save(request.path[0])  # dropped: never runs
    return ok({"body": {"saved": True}})


def post_later(request):
    pending = _save("later")  # kept in a variable, dropped when the handler returns
    return ok({"body": {"saved": pending is not None}})


async def post_async_event(request):
    _save("async")  # an async def handler that forgot the await
    return ok({"body": {"saved": True}})
