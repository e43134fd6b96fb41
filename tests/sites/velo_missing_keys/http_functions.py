"""Velo handlers ported by the mechanical rule (tests/test_velo_data.py): each reads a query
parameter, header or JSON field that may be missing and relies on JavaScript's ``undefined`` to
reach its own check. The JavaScript line is in the comment above its port."""

from wixhttp import badRequest, forbidden, ok, serverError


# export function get_greet(request) {
def get_greet(request):
    # const name = request.query.name;
    name = request.query["name"]
    # if (!name) { return badRequest({ body: { error: "name is required" } }); }
    if not name:
        return badRequest({"body": {"error": "name is required"}})
    # return ok({ body: { greeting: `Hello ${name}` } });
    return ok({"body": {"greeting": f"Hello {name}"}})


# export function get_page(request) {
def get_page(request):
    # const page = request.query.page || "1";
    page = request.query["page"] or "1"
    # const size = request.query["size"] || "20";
    size = request.query["size"] or "20"
    return ok({"body": {"page": int(page), "size": int(size)}})


# export function get_whoami(request) {
def get_whoami(request):
    # const token = request.headers["authorization"];
    token = request.headers["authorization"]
    # const key = request.headers["X-Api-Key"];   (Velo users write both spellings)
    key = request.headers["X-Api-Key"]
    # if (!token && !key) { return forbidden({ body: { error: "sign in first" } }); }
    if not token and not key:
        return forbidden({"body": {"error": "sign in first"}})
    return ok({"body": {"token": token, "key": key}})


# export async function post_signup(request) {
async def post_signup(request):
    # try {
    try:
        # const body = await request.body.json();
        body = await request.body.json()
        # const { email, name, profile } = body;
        email, name, profile = body["email"], body["name"], body["profile"]
        # if (!email) { return badRequest({ body: { error: "email is required" } }); }
        if not email:
            return badRequest({"body": {"error": "email is required"}})
        # const city = profile && profile.address && profile.address.city;
        city = profile and profile["address"] and profile["address"]["city"]
        # return ok({ body: { email, name: name || null, city: city || "unknown" } });
        return ok({"body": {"email": email, "name": name or None, "city": city or "unknown"}})
    # } catch (err) { return serverError({ body: {} }); }
    except Exception:
        return serverError({"body": {}})


# export function post_order(request) {   (a plain def: the body methods return the value)
def post_order(request):
    try:
        # const { items, coupon } = await request.body.json();
        order = request.body.json()
        items, coupon = order["items"], order["coupon"]
        # if (!items || items.length === 0) { return badRequest(...) }
        if not items or len(items) == 0:
            return badRequest({"body": {"error": "no items"}})
        # const total = items.reduce((sum, item) => sum + item.price * (item.qty || 1), 0);
        total = sum(item["price"] * (item["qty"] or 1) for item in items)
        return ok({"body": {"total": total, "coupon": coupon}})
    except Exception:
        return serverError({"body": {}})
