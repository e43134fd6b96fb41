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
