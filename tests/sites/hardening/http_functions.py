"""Handlers that misbehave or echo hostile input (tests/test_hardening.py)."""

import asyncio
import os
import threading
import time

from wixhttp import ok

released = threading.Event()


def post_echo(request):
    return ok(body=request.body.json())


async def post_echo_async(request):
    return ok(body=await request.body.json())


def post_echo_text(request):
    # A str body holding what JSON gave: a lone surrogate cannot be UTF-8.
    return ok(body=request.body.json()["name"])


def get_deep(request):
    body = []
    inner = body
    for _ in range(int(request.query["depth"])):
        inner.append([])
        inner = inner[0]
    return ok(body=body)


def get_framing(request):
    return ok(
        body="framed",
        headers={"Transfer-Encoding": "chunked", "Connection": "upgrade", "Upgrade": "h2c",
                 "X-Kept": "yes"},
    )


def get_headers(request):
    return ok(body={"size": sum(len(k) + len(v) for k, v in request.headers.items())})


async def get_stubborn(request):
    # Swallows every cancellation: only leaving the handler behind answers its caller.
    while True:
        try:
            await asyncio.sleep(0.05)
        except asyncio.CancelledError:
            pass
        if released.is_set():
            return ok(body="late")


def get_blocked(request):
    released.wait()
    return ok(body="released")


def get_quick(request):
    return ok(body="quick")


async def post_release(request):
    released.set()
    return ok(body="set")


async def post_block(request):
    released.clear()
    return ok(body="cleared")


def get_exit(request):
    os._exit(int(request.query.get("code", "3")))


async def get_sleepy(request):
    time.sleep(float(request.query.get("seconds", "0.5")))  # blocks the event loop
    return ok(body="slept")


async def get_quick_async(request):
    return ok(body="quick")
