"""Velo handlers ported by the mechanical rule (tests/test_velo_data.py) whose bodies hold values
JavaScript's JSON.stringify writes its own way: a Date, a caught Error, NaN, and the Python
values a port puts in their place (datetime, Decimal, UUID, set, dataclass...)."""

import dataclasses
import decimal
import enum
import math
import uuid
from datetime import date, datetime, timedelta, timezone

from wixhttp import badRequest, ok

STAMP = datetime(2024, 1, 2, 3, 4, 5, 678901, tzinfo=timezone.utc)


# export function get_now(request) { return ok({ body: { at: new Date(STAMP) } }); }
def get_now(request):
    return ok({"body": {"at": STAMP}})


def get_zoned(request):
    paris = timezone(timedelta(hours=1))
    return ok({"body": {"at": datetime(2024, 1, 2, 4, 4, 5, tzinfo=paris)}})


def get_naive(request):
    # new Date() ported as datetime.now(): naive local time
    return ok({"body": {"at": datetime(2024, 1, 2, 3, 4, 5)}})


def get_day(request):
    return ok({"body": {"day": date(2024, 1, 2)}})


# export function get_divide(request) {
def get_divide(request):
    # const ratio = Number(request.query.a) / Number(request.query.b);   (0/0 is NaN)
    a, b = float(request.query["a"] or 0), float(request.query["b"] or 0)
    ratio = a / b if b else (math.nan if a == 0 else math.copysign(math.inf, a))
    # return ok({ body: { ratio } });   -> {"ratio":null} for NaN and Infinity
    return ok({"body": {"ratio": ratio}})


# export function post_fail(request) {
def post_fail(request):
    # try { JSON.parse(...) } catch (err) { return badRequest({ body: { error: err } }); }
    try:
        raise ValueError("boom")
    except Exception as err:
        return badRequest({"body": {"error": err, "message": str(err)}})


class Color(enum.Enum):
    RED = "red"


@dataclasses.dataclass
class Item:
    sku: str
    price: decimal.Decimal
    added: date


class Money:
    """A class with a toJSON() method, which JSON.stringify calls."""

    def __init__(self, cents):
        self.cents = cents

    def toJSON(self):  # noqa: N802
        return f"{self.cents / 100:.2f} EUR"


class Model:
    """Shaped like a pydantic model (model_dump), without importing pydantic."""

    def model_dump(self, mode="python"):
        return {"mode": mode, "id": uuid.UUID(int=7)}


def get_kinds(request):
    return ok(
        {
            "body": {
                "decimal": decimal.Decimal("12.50"),
                "whole": decimal.Decimal("3"),
                "uuid": uuid.UUID(int=1),
                "enum": Color.RED,
                "set": {"only"},
                "tuple": (1, "two"),
                "item": Item("A-1", decimal.Decimal("9.99"), date(2024, 1, 2)),
                "money": Money(1250),
                "model": Model(),
                "bytes": b"hi",
                "by_day": {date(2024, 1, 2): 3},
            }
        }
    )


class Point:
    def __init__(self, x):
        self.x = x


def get_custom(request):
    return ok({"body": {"items": [{"when": STAMP}, {"when": STAMP}, {"when": Point(1)}]}})


def get_circular(request):
    node = {"name": "loop"}
    node["self"] = node
    return ok({"body": node})
