from wixhttp import ok

import faulty


def get_never(request):
    return ok(body=faulty.VALUE)
