"""Handlers for the execution tests: echo, logs, failures, sleeps, crashes, cron ticks."""

import asyncio
import logging
import os
import sys
import time

from wixhttp import ok, response

log = logging.getLogger("site")


def _describe(request, body):
    return {
        "method": request.method,
        "path": request.path,
        "query": request.query,
        "headers": request.headers,
        "body": body,
        "url": request.url,
        "ip": request.ip,
    }


def use_echo(request):
    body = request.body.text() if request.method not in ("GET", "HEAD") else ""
    return response(
        status=int(request.query.get("status", 200)),
        body=_describe(request, body),
        headers={"x-custom": "yes", "cache-control": "no-store"},
    )


async def use_talk(request):
    """Prints, logs and warns, tagged, yielding between lines (so concurrent ones interleave)."""
    tag = request.query.get("tag", "x")
    lines = int(request.query.get("lines", 5))
    for index in range(lines):
        print(f"{tag} out {index}")
        await asyncio.sleep(0.005)
        log.info("%s info %d", tag, index)
        print(f"{tag} err {index}", file=sys.stderr)
        await asyncio.sleep(0.005)
    log.warning("%s warned", tag)
    return ok(body={"tag": tag})


def use_threadtalk(request):
    """The same from a plain def (run in a thread)."""
    tag = request.query.get("tag", "x")
    for index in range(int(request.query.get("lines", 5))):
        print(f"{tag} out {index}")
        time.sleep(0.005)
        print(f"{tag} err {index}", file=sys.stderr)
    return ok(body={"tag": tag})


def use_fail(request):
    print("about to fail")
    raise ValueError("boom from the handler")


def use_big(request):
    size = int(request.query.get("size", 1_200_000))
    sys.stdout.write("A" * (size - 10) + "0123456789")
    sys.stderr.write("E" * size + "end")
    return ok(body={"size": size})


async def use_sleep(request):
    seconds = float(request.query.get("s", 1))
    print(f"sleeping {seconds}")
    await asyncio.sleep(seconds)
    print("woke up")
    return ok(body={"slept": seconds})


async def use_block(request):
    time.sleep(float(request.query.get("s", 60)))  # blocks the worker's event loop
    return ok(body="late")


def use_crash(request):
    print("crashing")
    os._exit(7)


def post_schedule(request):
    print(f"tick {request.headers.get('x-appwrite-trigger')} {request.headers.get('x-appwrite-execution-id')}")
    return ok(body={"trigger": request.headers.get("x-appwrite-trigger")})


def use_mark(request):
    """Appends a line to the file named in ``?file=`` (proof that the handler ran)."""
    with open(request.query["file"], "a") as marks:
        marks.write(f"{request.headers.get('x-appwrite-trigger')} {time.time()}\n")
    return ok(body={"marked": True})


def use_forge(request):
    """Sets the platform's internal header names itself, trying to forge its logs."""
    print("real log")
    return ok(
        body={"forged": True},
        headers={"x-wixhttp-logs": "forged", "x-wixhttp-errors": "forged", "x-wixhttp-duration": "99"},
    )


def use_keep(request):
    """Writes what it received (method, body, one header) as JSON to the file in ``?file=``."""
    import json

    with open(request.query["file"], "w") as kept:
        json.dump({"method": request.method, "body": request.body.text(), "x-n": request.headers.get("x-n")}, kept)
    return ok(body={"kept": True})


def use_stdio(request):
    """Code written for a real terminal: stream attributes, click.echo, print(file=...)."""
    import click

    assert isinstance(sys.stdout.fileno(), int) and sys.stdout.encoding
    click.echo("via click")
    click.echo("via click to stderr", err=True)
    print("to stdout explicitly", file=sys.stdout)
    return ok(body={"encoding": sys.stdout.encoding})
