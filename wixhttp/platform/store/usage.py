"""Usage counts from the records themselves (no separate metrics): executions, deployments,
builds and functions, in total and per period (an hour or a day) since a moment.

Periods are prefixes of the ``created_at`` text (``2025-01-01T13`` is an hour, ``2025-01-01`` a
day): every row's time is written the same way, in UTC, so ``substr`` buckets them alike on SQLite
and PostgreSQL.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Table, and_, case, func, select

from wixhttp.platform.store.base import StoreBase
from wixhttp.platform.store.tables import deployments, executions, functions

__all__ = ["Usage", "UsageQueries"]

#: Per period: the metric's value by period prefix.
Series = dict[str, dict[str, float]]


@dataclass
class Usage:
    """Totals (all time) and per-period values (since the range's start) of every metric."""

    totals: dict[str, float] = field(default_factory=dict)
    series: Series = field(default_factory=dict)


def _metrics(table: Table) -> dict[str, ColumnElement[Any]]:
    if table is executions:
        finished = executions.c.status.in_(("completed", "failed"))
        return {
            "executions": func.sum(case((finished, 1), else_=0)),
            "executionsSeconds": func.sum(case((finished, executions.c.duration), else_=0.0)),
        }
    if table is deployments:
        built = deployments.c.status.in_(("ready", "failed"))
        return {
            "deployments": func.count(),
            "deploymentsStorage": func.sum(deployments.c.source_size),
            "builds": func.sum(case((built, 1), else_=0)),
            "buildsSuccess": func.sum(case((deployments.c.status == "ready", 1), else_=0)),
            "buildsFailed": func.sum(case((deployments.c.status == "failed", 1), else_=0)),
            "buildsStorage": func.sum(deployments.c.build_size),
            "buildsSeconds": func.sum(case((built, deployments.c.build_duration), else_=0)),
        }
    return {"functions": func.count()}


class UsageQueries(StoreBase):
    """Aggregates for the usage routes."""

    async def usage(
        self, project_id: str, function_id: str | None, since: str, width: int
    ) -> Usage:
        """``function_id``'s usage (the project's with None, then counting functions too);
        periods are ``created_at`` prefixes of ``width`` characters from ``since`` on."""
        tables: list[tuple[Table, ColumnElement[bool]]] = []
        for table in (executions, deployments):
            where = table.c.project_id == project_id
            if function_id is not None:
                where = and_(where, table.c.function_id == function_id)
            tables.append((table, where))
        if function_id is None:
            tables.append((functions, functions.c.project_id == project_id))
        usage = Usage()
        async with self.engine.connect() as conn:
            for table, where in tables:
                metrics = _metrics(table)
                labels = [value.label(name) for name, value in metrics.items()]
                total = (await conn.execute(select(*labels).where(where))).mappings().one()
                usage.totals.update({name: float(total[name] or 0) for name in metrics})
                period = func.substr(table.c.created_at, 1, width).label("period")
                rows = await conn.execute(
                    select(period, *labels)
                    .where(where, table.c.created_at >= since)
                    .group_by(period)
                )
                for row in rows.mappings():
                    values = usage.series.setdefault(str(row["period"]), {})
                    values.update({name: float(row[name] or 0) for name in metrics})
        return usage
