"""Every way an export name can (or cannot) become a route (tests/test_routing.py)."""

import functools

from helpers import get_imported, logged

from wixhttp import ok


def _answer(request, export):
    return ok(body={"handler": export, "method": request.method, "path": request.path})


# one function, every prefix
def get_items(request):
    return _answer(request, "get_items")


def post_items(request):
    return _answer(request, "post_items")


def put_items(request):
    return _answer(request, "put_items")


def patch_items(request):
    return _answer(request, "patch_items")


def delete_items(request):
    return _answer(request, "delete_items")


def options_items(request):
    return _answer(request, "options_items")


# split at the first underscore
def get_admin_members(request):
    return _answer(request, "get_admin_members")


def post_auth_register(request):
    return _answer(request, "post_auth_register")


def get__private(request):
    return _answer(request, "get__private")


# use_ catches every method that has no specific handler
def get_mixed(request):
    return _answer(request, "get_mixed")


def use_mixed(request):
    return _answer(request, "use_mixed")


def use_anything(request):
    return _answer(request, "use_anything")


# only one method
def post_submit(request):
    return _answer(request, "post_submit")


# case-sensitive names
def get_myFunction(request):
    return _answer(request, "get_myFunction")


# callables that are not plain functions
class _Callable:
    def __call__(self, request):
        return _answer(request, "get_callable")


class _AsyncCallable:
    async def __call__(self, request):
        return _answer(request, "get_async_callable")


get_callable = _Callable()
get_async_callable = _AsyncCallable()
get_partial = functools.partial(_answer, export="get_partial")
get_lambda = lambda request: _answer(request, "get_lambda")  # noqa: E731


@logged
def get_decorated(request):
    return _answer(request, "get_decorated")


# names that must not become routes
get_constant = "a string is not a handler"
get_number = 42
get_nothing = None


class get_klass:  # a class is callable, but not a handler
    def __init__(self, request):
        pass


def GET_upper(request):
    return _answer(request, "GET_upper")


def Get_title(request):
    return _answer(request, "Get_title")


def getitems(request):
    return _answer(request, "getitems")


def get_(request):
    return _answer(request, "get_")


def user_profile(request):  # "use" + "r_...": not a use_ export
    return _answer(request, "user_profile")


def head_items(request):  # no head_ prefix: HEAD is answered by GET
    return _answer(request, "head_items")


def trace_items(request):
    return _answer(request, "trace_items")
