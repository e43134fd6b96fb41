"""The example site: a members API, ported the way a Velo backend would be.

Try it:  wixhttp dev example_site   then
  curl localhost:8000/_functions/members
  curl -X POST localhost:8000/_functions/members -d '{"name": "Grace", "email": "g@x.io"}'
  curl localhost:8000/_functions/members/1
  curl -X PUT localhost:8000/_functions/members/1 -d '{"name": "Ada", "email": "ada@x.io"}'
  curl -X DELETE localhost:8000/_functions/members/1
  curl localhost:8000/_functions/echo/any/path?x=1
"""

import os
from dataclasses import asdict

from store import members

from wixhttp import badRequest, created, forbidden, notFound, ok, response, serverError

CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, POST, PUT, DELETE, OPTIONS",
    "Access-Control-Allow-Headers": "Content-Type, Authorization",
}


def _member_id(request):
    if not request.path or not request.path[0].isdigit():
        return None
    return int(request.path[0])


def get_members(request):
    """GET /members -> all members (?tag=admin filters); GET /members/<id> -> one."""
    member_id = _member_id(request)
    if member_id is None:
        rows = members.all()
        tag = request.query.get("tag")
        if tag:
            rows = [m for m in rows if tag in m["tags"]]
        return ok({"body": {"items": rows, "total": len(rows)}, "headers": CORS})
    member = members.get(member_id)
    if member is None:
        return notFound({"body": {"error": f"member {member_id} not found"}, "headers": CORS})
    return ok({"body": asdict(member), "headers": CORS})


async def post_members(request):
    """POST /members {"name", "email"} -> 201 with the new member."""
    try:
        data = await request.body.json()
    except ValueError as exc:
        return badRequest({"body": {"error": str(exc)}, "headers": CORS})
    if not isinstance(data, dict) or not data.get("name") or "@" not in str(data.get("email")):
        return badRequest({"body": {"error": "name and a valid email are required"}})
    member = members.add(data["name"], data["email"], data.get("tags"))
    location = f"/_functions/members/{member.id}"
    return created({"body": asdict(member), "headers": {**CORS, "Location": location}})


def put_members(request):
    """PUT /members/<id> {"name", "email"} -> the replaced member (sync handler: no await)."""
    member_id = _member_id(request)
    try:
        data = request.body.json()
    except ValueError as exc:
        return badRequest({"body": {"error": str(exc)}})
    if member_id is None or not isinstance(data, dict):
        return badRequest({"body": {"error": "PUT /_functions/members/<id> with a JSON object"}})
    member = members.replace(member_id, data.get("name", ""), data.get("email", ""))
    if member is None:
        return notFound({"body": {"error": f"member {member_id} not found"}})
    return ok({"body": asdict(member), "headers": CORS})


def delete_members(request):
    """DELETE /members/<id>; needs the header x-admin-token when ADMIN_TOKEN is set."""
    token = os.environ.get("ADMIN_TOKEN")
    if token and request.headers.get("x-admin-token") != token:
        return forbidden({"body": {"error": "missing or wrong x-admin-token"}})
    member_id = _member_id(request)
    if member_id is None or not members.remove(member_id):
        return notFound({"body": {"error": "no such member"}})
    return response({"status": 204, "headers": CORS})


def options_members(request):
    """CORS preflight."""
    return response({"status": 204, "headers": {**CORS, "Access-Control-Max-Age": "86400"}})


async def use_echo(request):
    """Any method on /echo/...: reflects what the handler sees."""
    return ok(
        {
            "body": {
                "method": request.method,
                "url": request.url,
                "baseUrl": request.baseUrl,
                "functionName": request.functionName,
                "path": request.path,
                "query": request.query,
                "ip": request.ip,
                "body": await request.body.text(),
            }
        }
    )


def get_health(request):
    """GET /health -> a plain-text body (Content-Type set explicitly)."""
    return ok(body="ok", headers={"Content-Type": "text/plain; charset=utf-8"})


def get_boom(request):
    """GET /boom -> serverError, the way Velo code reports its own failures."""
    return serverError({"body": {"error": "something went wrong on purpose"}})
