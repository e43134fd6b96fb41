"""A shop API whose handlers say more about themselves with @describe.

Items have a name, a price and a colour.
"""

import functools
from typing import Annotated

from models import Category, Colour, Error, Item, ItemIn

from wixhttp import created, describe, not_found, ok

__version__ = "2.1.0"

ITEM = {"id": "0b4e8a52-7d7e-4c43-9a43-0ad0f5b1e2a1", "name": "mug", "price": 7.5}


@describe(
    query={"colour": Colour | None, "limit": Annotated[int | None, "at most this many"]},
    headers={"x-shop": str | None},
    path="",
    responses={200: list[Item]},
    tags=["items"],
)
def get_items(request):
    """List the items.

    Filtered by colour when ?colour= is given.
    """
    return ok({"body": [ITEM]})


@describe(path="{item_id}", path_params={"item_id": int}, responses={200: Item, 404: (Error, "no such item")})
def get_item(request):
    """One item by its number."""
    if request.path[0] != "1":
        return not_found({"body": {"reason": "no such item"}})
    return ok({"body": ITEM})


@describe(body=ItemIn, responses={201: (Item, "the item, created"), 400: "the body is not an item"}, path="")
async def post_items(request):
    """Create an item."""
    data = await request.body.json()
    return created({"body": {**ITEM, "name": data["name"]}})


@describe(body=str | None, responses={204: None}, deprecated=True, summary="Replace a note",
          operation_id="replaceNote")
def put_note(request):
    return ok({"status": 204})


def _logged(func):
    @functools.wraps(func)
    def wrapper(request):
        return func(request)
    return wrapper


@_logged
@describe(responses={200: dict[str, Category]})
def get_categories(request):
    """Categories by name (a plain decorator wraps this described handler)."""
    return ok({"body": {"kitchen": {"name": "kitchen", "parent": None}}})


def use_anything(request):
    """Echo the method (undescribed: the document still lists it)."""
    return ok({"body": {"method": request.method}})


def get_anything(request):
    """GET has its own handler."""
    return ok({"body": {"method": "GET"}})


def options_anything(request):
    """A hand-written preflight."""
    return ok({"headers": {"Access-Control-Allow-Origin": "*"}})
