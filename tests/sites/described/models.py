"""The shapes the described site's API takes and gives (a helper module, as a site would have)."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Literal, TypedDict
from uuid import UUID


class Colour(enum.Enum):
    """A product's colour."""

    RED = "red"
    BLUE = "blue"


class ItemIn(TypedDict):
    """What a caller sends to create an item."""

    name: str
    price: Decimal
    colour: Colour
    tags: list[str]


@dataclass
class Category:
    name: str
    parent: Category | None = None  # recursive: a $ref to itself


@dataclass
class Item:
    """An item as the API answers it."""

    id: UUID
    name: str
    price: Decimal
    created: datetime
    sold_out_on: date | None
    category: Category
    status: Literal["draft", "live"] = "draft"
    extra: dict[str, int] = field(default_factory=dict)
    dimensions: tuple[float, float] = (0.0, 0.0)


class Error(TypedDict):
    """The site's own error body (a name wixhttp's Error schema already has)."""

    reason: str
