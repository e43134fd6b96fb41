"""Handlers that misbehave, are slow, talk, or leave a trace (tests/test_app.py)."""

import asyncio
import functools
import logging
import os
import sys
import time
from pathlib import Path
from types import SimpleNamespace

from wixhttp import ok

log = logging.getLogger("site.failures")


def get_boom(request):
    raise RuntimeError("secret detail 42")


async def get_aboom(request):
    raise RuntimeError("async secret detail 43")


def get_none(request):
    request.path  # forgot the return


async def get_anone(request):
    pass


def get_plain_dict(request):
    return {"hello": "world"}


def get_plain_str(request):
    return "hello"


def get_plain_list(request):
    return [1, 2]


def get_duck_dict(request):
    return {"status": 202, "body": {"duck": "dict"}, "headers": {"X-Duck": "dict"}}


async def get_duck_object(request):
    return SimpleNamespace(status=203, body="duck object", headers={"X-Duck": "object"})


def get_duck_status_only(request):
    return {"status": 204}


def get_duck_bad_status(request):
    value = {"text": "200", "low": 99, "high": 600, "bool": True}[request.path[0]]
    return {"status": value, "body": "x"}


def get_sleepy(request):
    time.sleep(float(request.query.get("s", "1")))
    return ok(body="woke up")


async def get_asleepy(request):
    await asyncio.sleep(float(request.query.get("s", "5")))
    return ok(body="woke up")


def get_talk(request):
    print(f"printed by {request.function_name}")
    log.warning("logged by %s", request.function_name)
    return ok(body="talked")


async def get_atalk(request):
    await asyncio.sleep(float(request.query.get("s", "0")))
    print(f"printed by {request.function_name} {request.query.get('n', '')}")
    log.warning("logged by %s", request.function_name)
    return ok(body="talked")


def _mark(request):
    """Leave a file behind, so a test can tell the handler ran."""
    marker = Path(os.environ["WIXHTTP_TEST_MARKER"])
    marker.write_text(f"{request.method} {request.function_name}")


def delete_tracked(request):
    _mark(request)
    return ok(body="deleted")


def use_tracked_any(request):
    _mark(request)
    return ok(body="used")


def post_tracked(request):
    _mark(request)
    return ok(body={"size": len(request.body.buffer())})


def get_exit(request):
    sys.exit(3)


async def get_aexit(request):
    raise SystemExit(4)


class _Forgetful:
    def __call__(self, request):
        request.path  # forgot the return, in a callable object


get_none_callable = _Forgetful()


def _forgetful(request, extra):
    request.path  # forgot the return, behind functools.partial


get_none_partial = functools.partial(_forgetful, extra=1)


class _Promise:
    """A JavaScript-style promise: an awaitable that resolves to a response."""

    def __init__(self, value):
        self._value = value

    def __await__(self):
        yield from ()
        return self._value


def get_promise(request):
    return _Promise(ok(body="resolved"))


async def get_apromise(request):
    return _Promise(ok(body="resolved"))


def get_own_timeout(request):
    raise TimeoutError("the upstream API timed out")


async def get_aown_timeout(request):
    raise TimeoutError("the upstream API timed out")


async def get_stubborn(request):
    """Swallows the cancellation its timeout sends, then answers late."""
    import asyncio

    try:
        await asyncio.sleep(5)
    except asyncio.CancelledError:
        pass
    await asyncio.sleep(0.1)
    return ok(body="late")
