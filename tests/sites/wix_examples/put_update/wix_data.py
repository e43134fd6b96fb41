"""A stand-in for Velo's wix-data: in-memory collections, enough for the documentation examples."""

import copy
import itertools

_ids = itertools.count(1)
_collections = {
    "myProductInventory": [
        {"_id": "p-1", "firstName": "John", "lastName": "Doe", "product": "pen"},
    ],
    "myUsersCollection": [
        {"_id": "u-1", "firstName": "John", "lastName": "Doe"},
    ],
    "myCollection": [
        {"_id": "76bf-8bfa-714", "title": "old title"},
    ],
}


class WixDataError(Exception):
    pass


class _Results:
    def __init__(self, items):
        self.items = items


class _Query:
    def __init__(self, name, conditions=()):
        self._name = name
        self._conditions = list(conditions)

    def eq(self, field, value):
        return _Query(self._name, [*self._conditions, (field, value)])

    def find(self):
        items = _collection(self._name)
        found = [i for i in items if all(i.get(f) == v for f, v in self._conditions)]
        return _Results(copy.deepcopy(found))


def _collection(name):
    if name not in _collections:
        raise WixDataError(f"WDE0025: The {name} collection does not exist.")
    return _collections[name]


def query(name):
    return _Query(name)


def insert(name, item):
    if not isinstance(item, dict):
        raise WixDataError("WDE0004: Failed to insert item: item must be an object.")
    stored = {**item, "_id": item.get("_id") or f"new-{next(_ids)}"}
    _collection(name).append(stored)
    return copy.deepcopy(stored)


def update(name, item):
    items = _collection(name)
    for index, existing in enumerate(items):
        if isinstance(item, dict) and existing["_id"] == item.get("_id"):
            items[index] = dict(item)
            return copy.deepcopy(items[index])
    item_id = item.get("_id") if isinstance(item, dict) else item
    raise WixDataError(f"WDE0073: Item [{item_id}] does not exist in collection [{name}].")


def remove(name, item_id):
    items = _collection(name)
    for index, existing in enumerate(items):
        if existing["_id"] == item_id:
            return items.pop(index)
    return None
