"""The store on its own, in process: its rows and its errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from wixhttp.platform.errors import AppwriteError
from wixhttp.platform.queries import ListRequest
from wixhttp.platform.store import CursorNotFound, Store, StoreError, rows, tables


@pytest.mark.parametrize(
    ("row", "table", "left_out"),
    [
        (rows.KeyRow, tables.api_keys, ()),
        (rows.FunctionRow, tables.functions, ()),
        (rows.VariableRow, tables.variables, ()),
        (rows.DeploymentRow, tables.deployments, ()),
        (rows.ActivationRow, tables.activations, ()),
        (
            rows.ExecutionRow,
            tables.executions,
            ("pending_headers", "pending_body", "run_after", "claimed_by"),
        ),
        (rows.PendingExecutionRow, tables.executions, ()),
        (rows.NodeRow, tables.platform_nodes, ()),
    ],
)
def test_each_row_type_has_its_tables_columns(row: Any, table: Any, left_out: tuple[str]) -> None:
    columns = [c.key for c in table.columns if c.key not in left_out]
    assert list(row.__annotations__) == columns


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
