"""Changes its own function's variables through the API while it runs (with the execution's
dynamic key), then answers: the change must not kill the worker serving this very call."""

import os

from appwrite.client import Client
from appwrite.exception import AppwriteException
from appwrite.id import ID
from appwrite.services.functions import Functions

from wixhttp import ok


def use_selfvar(request):
    client = Client()
    client.set_endpoint(os.environ["APPWRITE_FUNCTION_API_ENDPOINT"])
    client.set_project(os.environ["APPWRITE_FUNCTION_PROJECT_ID"])
    client.set_key(request.headers["x-appwrite-key"])
    me = os.environ["APPWRITE_FUNCTION_ID"]
    try:
        Functions(client).create_variable(me, ID.unique(), "COLOUR", request.query["colour"] or "blue")
        created = True
    except AppwriteException as exc:
        created = f"{exc.code} {exc.type}"
    return ok(body={"created": created, "seen": os.environ.get("COLOUR")})
