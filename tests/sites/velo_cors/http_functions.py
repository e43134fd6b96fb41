"""A browser-facing port (tests/test_cors.py): the functions a shop front-end calls with fetch,
written the way a mechanical port of backend/http-functions.js reads."""

from wixhttp import created, ok


# export function get_products(request) { return ok({body: {items: [...]}}); }
def get_products(request):
    return ok({"body": {"items": ["shirt", "mug"]}})


# export async function post_track(request) { const body = await request.body.json(); ... }
async def post_track(request):
    body = await request.body.json()
    return created({"body": {"event": body.get("event")}})


# export function options_quote(request) {...}  hand-written preflight, kept as the site wrote it
def options_quote(request):
    return ok(
        {
            "headers": {
                "Access-Control-Allow-Origin": "https://partner.example",
                "Access-Control-Allow-Methods": "POST",
                "Access-Control-Allow-Headers": "X-Partner-Key",
            }
        }
    )


def post_quote(request):
    return ok({"body": {"quote": 42}})


# export function get_legacy(request) { return ok({headers: {"Access-Control-Allow-Origin": "*"}}) }
def get_legacy(request):
    return ok({"headers": {"Access-Control-Allow-Origin": "*", "Vary": "Accept"}, "body": "legacy"})


def get_cached(request):
    return ok({"headers": {"Vary": "Accept-Encoding"}, "body": {"cached": True}})


# export function use_proxy(request) { return ok({body: {method: request.method}}); }
def use_proxy(request):
    return ok({"body": {"method": request.method}})


def get_broken(request):
    raise RuntimeError("the database is down")
