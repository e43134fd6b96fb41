"""The store on its own, in process."""

from __future__ import annotations

from pathlib import Path

import pytest

from wixhttp.platform.errors import AppwriteError
from wixhttp.platform.queries import ListRequest
from wixhttp.platform.store import CursorNotFound, Store, StoreError


async def test_an_unknown_cursor_is_the_stores_own_error(tmp_path: Path) -> None:
    store = Store.in_directory(tmp_path)
    await store.init()
    try:
        with pytest.raises(CursorNotFound) as caught:
            await store.list_functions("default", ListRequest(cursor="does-not-exist"))
    finally:
        await store.close()
    assert caught.value.cursor == "does-not-exist"
    assert isinstance(caught.value, StoreError)
    assert not isinstance(caught.value, AppwriteError)  # the API decides the answer
