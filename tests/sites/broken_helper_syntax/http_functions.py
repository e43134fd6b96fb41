from badly import x

from wixhttp import ok


def get_never(request):
    return ok(body=x)
