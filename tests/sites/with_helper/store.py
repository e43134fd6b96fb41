"""An in-memory store: the helper module the site imports."""

_items: dict[int, dict] = {}


def add(item: dict) -> dict:
    item_id = len(_items) + 1
    _items[item_id] = {"id": item_id, **item}
    return _items[item_id]


def all_items() -> list[dict]:
    return list(_items.values())
