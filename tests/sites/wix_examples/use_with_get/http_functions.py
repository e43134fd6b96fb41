"""The `use()` reference's rule: "if you create functions named get_myFunction and
use_myFunction, GET calls to myFunction will be handled by get_myFunction, while POST, PUT,
DELETE, and OPTIONS calls will be handled by use_myFunction"."""

from wixhttp import ok


def get_myFunction(request):
    return ok({"body": {"handledBy": "get_myFunction", "method": request.method}})


async def use_myFunction(request):
    return ok({"body": {"handledBy": "use_myFunction", "method": request.method}})
