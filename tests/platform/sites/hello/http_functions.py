"""A good site: plain handlers, a helper module, environment variables."""

import os

from greeting import greet

from wixhttp import ok


def get_hello(request):
    return ok(body={"hello": greet(request.query.get("name", "world"))})


def post_echo(request):
    return ok(body={"path": request.path, "query": dict(request.query)})


def get_env(request):
    names = ["GREETING", "SECRET_TOKEN", "APPWRITE_FUNCTION_ID", "APPWRITE_FUNCTION_DEPLOYMENT"]
    return ok(body={name: os.environ.get(name, "") for name in names})


def get_version(request):
    path = os.path.join(os.path.dirname(__file__), "VERSION")
    version = open(path).read().strip() if os.path.exists(path) else "1"
    return ok(body={"version": version, "pid": os.getpid()})


def get_caller(request):
    return ok(body={"ip": request.ip, "url": request.url, "base": request.base_url})
