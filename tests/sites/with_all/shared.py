from wixhttp import ok


def get_shared(request):
    return ok(body={"handler": "get_shared"})


def get_not_listed_either(request):
    return ok(body={"handler": "get_not_listed_either"})
