"""Calls the platform back with the execution's dynamic key (the x-appwrite-key header), through
the official SDK, and says what it got."""

import os

from appwrite.client import Client
from appwrite.exception import AppwriteException
from appwrite.services.functions import Functions

from wixhttp import ok


def _functions(key):
    client = Client()
    client.set_endpoint(os.environ["APPWRITE_FUNCTION_API_ENDPOINT"])
    client.set_project(os.environ["APPWRITE_FUNCTION_PROJECT_ID"])
    client.set_key(key)
    return Functions(client)


def _attempt(call):
    try:
        return {"ok": True, "value": call()}
    except AppwriteException as exc:
        return {"ok": False, "code": exc.code, "type": exc.type}


def use_callback(request):
    key = request.headers.get("x-appwrite-key", "")
    functions = _functions(key)
    me = os.environ["APPWRITE_FUNCTION_ID"]
    return ok(
        body={
            "key": key,
            "function": _attempt(lambda: functions.get(me).name),
            "executions": _attempt(lambda: functions.list_executions(me).total),
            "write": _attempt(
                lambda: functions.create_execution(me, xasync=True, path="/_functions/none").id
            ),
        }
    )
