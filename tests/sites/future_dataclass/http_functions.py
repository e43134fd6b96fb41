"""Postponed annotations and @dataclass need a real module registered while the code runs."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from wixhttp import ok


@dataclass
class Item:
    name: str
    price: float = 0.0


def get_item(request):
    return ok(body=asdict(Item(request.path[0], 9.5)))
