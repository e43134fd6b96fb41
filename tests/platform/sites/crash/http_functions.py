"""A handler that kills its own worker process, and one that blocks its event loop."""

import os
import time

from wixhttp import ok


def get_ok(request):
    return ok(body={"pid": os.getpid()})


def get_crash(request):
    os._exit(7)


async def get_block(request):
    time.sleep(60)  # blocks the worker's event loop: only the proxy's timeout can end it
    return ok(body="late")
