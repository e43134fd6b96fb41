"""The benchmark site: one async and one sync handler answering the same small JSON body."""

from wixhttp import ok


async def get_hello(request):
    return ok({"body": {"message": "hello"}})


def get_hello_sync(request):
    return ok({"body": {"message": "hello"}})
