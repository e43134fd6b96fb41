"""A site that imports a helper module and a helper package next to it."""

import store
from lib.text import shout

from wixhttp import created, ok


async def post_items(request):
    item = await request.body.json()
    return created(body=store.add(item))


def get_items(request):
    return ok(body={"items": store.all_items(), "store": store.__name__})


def get_shout(request):
    return ok(body=shout(request.path[0]))
