"""Persistence: SQLAlchemy 2 Core tables and the queries the platform needs, async.

:class:`Store` is composed of one query class per aggregate (keys, functions with their
variables and activation, deployments, executions with cron ticks, nodes, rate counts), all over
one engine. Callers talk to it in plain dicts keyed by column name (their shapes are typed in
``rows.py``) and never build SQL themselves. It raises :class:`StoreError` (never an HTTP error):
the API decides what each one answers.
"""

from __future__ import annotations

from pathlib import Path

from wixhttp.platform.config import DatabaseConfig
from wixhttp.platform.store.base import (
    CursorNotFound,
    DatabaseUnusable,
    Duplicate,
    StoreError,
    new_id,
    now,
    sqlite_url,
)
from wixhttp.platform.store.database import masked
from wixhttp.platform.store.deployments import DeploymentQueries
from wixhttp.platform.store.executions import ExecutionOp, ExecutionQueries
from wixhttp.platform.store.functions import FunctionQueries
from wixhttp.platform.store.keys import KeyQueries
from wixhttp.platform.store.nodes import NodeQueries, Reaped
from wixhttp.platform.store.rates import RateQueries
from wixhttp.platform.store.rows import (
    ActivationRow,
    DeploymentRow,
    ExecutionRow,
    FunctionRow,
    KeyRow,
    PendingExecutionRow,
    VariableRow,
)
from wixhttp.platform.store.sealing import Sealer, SealError
from wixhttp.platform.store.tables import (
    DEPLOYMENT_ATTRIBUTES,
    EXECUTION_ATTRIBUTES,
    FUNCTION_ATTRIBUTES,
    VARIABLE_ATTRIBUTES,
    metadata,
)
from wixhttp.platform.store.usage import Usage, UsageQueries

__all__ = [
    "DEPLOYMENT_ATTRIBUTES",
    "EXECUTION_ATTRIBUTES",
    "FUNCTION_ATTRIBUTES",
    "VARIABLE_ATTRIBUTES",
    "ActivationRow",
    "CursorNotFound",
    "DatabaseUnusable",
    "DeploymentRow",
    "Duplicate",
    "ExecutionOp",
    "ExecutionRow",
    "FunctionRow",
    "KeyRow",
    "PendingExecutionRow",
    "Reaped",
    "SealError",
    "Sealer",
    "Store",
    "StoreError",
    "Usage",
    "VariableRow",
    "masked",
    "metadata",
    "new_id",
    "now",
    "sqlite_url",
]


class Store(
    KeyQueries,
    FunctionQueries,
    DeploymentQueries,
    ExecutionQueries,
    NodeQueries,
    RateQueries,
    UsageQueries,
):
    """All reads and writes of the platform's state."""

    @classmethod
    def in_directory(cls, data_dir: Path) -> Store:
        data_dir.mkdir(parents=True, exist_ok=True)
        store = cls(sqlite_url(data_dir))
        store.sealer = Sealer.configured(data_dir)
        return store

    @classmethod
    def configured(cls, data_dir: Path, database: DatabaseConfig) -> Store:
        """The store ``database`` names: its URL, or SQLite in ``data_dir`` if it has none;
        secret variables sealed with the key of ``WIXHTTP_SECRET_KEY`` or ``data_dir``."""
        if not database.url:
            return cls.in_directory(data_dir)
        store = cls(database.url, database)
        store.sealer = Sealer.configured(data_dir)
        return store

    async def init(self) -> None:
        """Bring the schema up to date, then seal secret values still in plain text (a
        :class:`SealError` if this node's key does not open those sealed already)."""
        await super().init()
        await self.seal_secret_variables()
