"""An Appwrite function written as Appwrite's Python starter template writes one."""

import os

import inflection

from .utils import get_static_file, throw_if_missing


def describe(req):
    return {
        "method": req.method,
        "scheme": req.scheme,
        "host": req.host,
        "port": req.port,
        "path": req.path,
        "query": req.query,
        "query_string": req.query_string,
        "url": req.url,
        "headers": req.headers,
        "body": req.body,
        "body_text": req.body_text,
        "body_raw": req.body_raw,
        "body_binary_size": len(req.body_binary),
    }


# This Appwrite function will be executed every time your function is triggered
def main(context):
    # You can use the Appwrite SDK to interact with other services
    # For this example, we're using the Users service
    context.log("Hello, Logs!", 1, {"a": 1}, [1, "two"])
    context.error("Hello, Errors!")

    path = context.req.path
    if path == "/ping":
        # Use res object to respond with text(), json(), or binary()
        # Don't forget to return a response!
        return context.res.text("Pong")
    if path == "/echo":
        return context.res.json(describe(context.req))
    if path == "/json":
        return context.res.json({"received": context.req.body_json})
    if path == "/redirect":
        return context.res.redirect("https://appwrite.io/docs", 302)
    if path == "/binary":
        return context.res.binary(bytes([0, 1, 2, 255]), 200, {"content-type": "image/png"})
    if path == "/empty":
        return context.res.empty()
    if path == "/send":
        return context.res.send("made", 201, {"X-Made-By": "main"})
    if path == "/static":
        return context.res.text(get_static_file("hello.txt"), 200, {"content-type": "text/html"})
    if path == "/dependency":
        return context.res.text(inflection.camelize("made_by_pip"))
    if path == "/env":
        names = sorted(n for n in os.environ if n.startswith("APPWRITE_"))
        return context.res.json({name: os.environ[name] for name in names})
    if path == "/missing":
        throw_if_missing(context.req.query, ["name"])
        return context.res.text("not missing")
    if path == "/nothing":
        return None
    if path == "/print":
        print("printed natively")
        return context.res.text("printed")

    return context.res.json(
        {
            "motto": "Build like a team of hundreds_",
            "learn": "https://appwrite.io/docs",
            "connect": "https://appwrite.io/discord",
            "getInspired": "https://builtwith.appwrite.io",
        }
    )
