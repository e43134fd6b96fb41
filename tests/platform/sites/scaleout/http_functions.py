"""The multi-node tests' function: every run appends a line to the file named by the function
variable ``MARKS`` (``kind execution-id pid parent-pid epoch-time``), so runs are counted from
side effects. The parent pid is the platform node that started the worker."""

import asyncio
import os
import time

from wixhttp import ok


def _mark(request, kind):
    line = " ".join(
        [kind, request.headers.get("x-appwrite-execution-id") or "-", str(os.getpid()),
         str(os.getppid()), repr(time.time())]
    )
    with open(os.environ["MARKS"], "a") as marks:  # one short append: not interleaved
        marks.write(line + "\n")


def use_run(request):
    _mark(request, "run")
    return ok(body={"ran": True})


async def use_slow(request):
    """``start``, sleeps ``?s=`` seconds (default: the variable ``SLOW``, else 1), ``end``."""
    _mark(request, "start")
    await asyncio.sleep(float(request.query.get("s") or os.environ.get("SLOW") or 1))
    _mark(request, "end")
    return ok(body={"slept": True})


def post_schedule(request):
    _mark(request, "tick")
    return ok(body={"tick": True})


def get_whoami(request):
    """What this worker serves: its deployment and the variable ``VALUE``."""
    return ok(
        body={"deployment": os.environ.get("APPWRITE_FUNCTION_DEPLOYMENT"),
              "value": os.environ.get("VALUE"), "pid": os.getpid()}
    )
