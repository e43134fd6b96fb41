"""``wixhttp executions`` and ``wixhttp logs``: read a function's executions through the API."""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta
from typing import Any

import click
import httpx

from wixhttp.platform.cli.common import (
    ENDPOINT,
    PROJECT,
    READ_KEY,
    api_client,
    failure,
    talks_to_platform,
)

__all__ = ["executions_command", "logs_command"]

_STATUSES = ("waiting", "processing", "completed", "failed", "scheduled")


def _query(method: str, attribute: str | None = None, values: list[Any] | None = None) -> str:
    data: dict[str, Any] = {"method": method}
    if attribute is not None:
        data["attribute"] = attribute
    if values is not None:
        data["values"] = values
    return json.dumps(data, separators=(",", ":"))


def _list_executions(
    client: httpx.Client, function_id: str, queries: list[str]
) -> list[dict[str, Any]]:
    params: list[tuple[str, str | int | float | bool | None]] = [
        (f"queries[{i}]", q) for i, q in enumerate(queries)
    ]
    params.append(("total", "false"))
    response = client.get(f"/functions/{function_id}/executions", params=params)
    if response.status_code >= 400:
        raise failure(response)
    executions: list[dict[str, Any]] = response.json()["executions"]
    return executions


def _execution_line(execution: dict[str, Any]) -> str:
    code = execution["responseStatusCode"] or "-"
    when = execution["scheduledAt"] if execution["status"] == "scheduled" else ""
    return (
        f"{execution['$id']}  {execution['$createdAt']}  {execution['trigger']:<8}  "
        f"{execution['status']:<10}  {code!s:>3}  {execution['duration']:8.3f}s  "
        f"{execution['requestMethod']} {execution['requestPath']}"
        + (f"  at {when}" if when else "")
    )


@click.command("executions")
@click.option("--function", "function_id", required=True, help="The function id.")
@click.option(
    "--status",
    "statuses",
    multiple=True,
    type=click.Choice(_STATUSES),
    help="Only executions with this status (repeatable).",
)
@click.option(
    "--trigger",
    "triggers",
    multiple=True,
    type=click.Choice(("http", "schedule", "event")),
    help="Only executions with this trigger (repeatable).",
)
@click.option(
    "--limit",
    default=25,
    show_default=True,
    type=click.IntRange(1, 5000),
    help="Executions to list, newest first.",
)
@ENDPOINT
@READ_KEY
@PROJECT
@talks_to_platform
def executions_command(
    function_id: str,
    statuses: tuple[str, ...],
    triggers: tuple[str, ...],
    limit: int,
    endpoint: str,
    key: str,
    project: str,
) -> None:
    """List FUNCTION's latest executions, newest first: id, created, trigger, status,
    response code, duration, request."""
    queries = [_query("orderDesc", "$createdAt"), _query("limit", values=[limit])]
    if statuses:
        queries.append(_query("equal", "status", list(statuses)))
    if triggers:
        queries.append(_query("equal", "trigger", list(triggers)))
    with api_client(endpoint, key, project) as client:
        executions = _list_executions(client, function_id, queries)
    if not executions:
        click.echo("no executions")
        return
    for execution in executions:
        click.echo(_execution_line(execution))


def _print_logs(execution: dict[str, Any]) -> None:
    click.echo(
        f"--- {execution['$id']} {execution['trigger']} {execution['requestMethod']} "
        f"{execution['requestPath']} -> {execution['status']} "
        f"{execution['responseStatusCode']} ({execution['duration']:.3f}s) "
        f"{execution['$updatedAt']}"
    )
    if execution["logs"]:
        click.echo(execution["logs"].rstrip("\n"))
    if execution["errors"]:
        click.echo(execution["errors"].rstrip("\n"), err=True)


@click.command("logs")
@click.option("--function", "function_id", required=True, help="The function id.")
@click.option("-f", "--follow", is_flag=True, help="Keep printing new executions' logs.")
@click.option(
    "--limit",
    default=10,
    show_default=True,
    type=click.IntRange(0, 5000),
    help="Finished executions to show first.",
)
@click.option(
    "--interval",
    default=1.0,
    show_default=True,
    type=click.FloatRange(min=0.05),
    help="Seconds between polls with --follow.",
)
@click.option(
    "--for",
    "follow_for",
    default=None,
    type=click.FloatRange(min=0),
    help="With --follow: stop after this many seconds (default: until interrupted).",
)
@ENDPOINT
@READ_KEY
@PROJECT
@talks_to_platform
def logs_command(
    function_id: str,
    follow: bool,
    limit: int,
    interval: float,
    follow_for: float | None,
    endpoint: str,
    key: str,
    project: str,
) -> None:
    """Print the logs (stdout) and errors (stderr) of FUNCTION's latest finished executions;
    with -f, keep printing those of executions as they finish."""
    finished = _query("equal", "status", ["completed", "failed"])
    seen: dict[str, str] = {}
    with api_client(endpoint, key, project) as client:
        latest = _list_executions(
            client,
            function_id,
            [finished, _query("orderDesc", "$updatedAt"), _query("limit", values=[max(limit, 1)])],
        )
        for execution in reversed(latest[:limit]):
            _print_logs(execution)
        for execution in latest:
            seen[execution["$id"]] = execution["$updatedAt"]
        since = max(seen.values(), default="")
        deadline = None if follow_for is None else time.monotonic() + follow_for
        while follow and (deadline is None or time.monotonic() < deadline):
            time.sleep(interval)
            queries = [finished, _query("orderAsc", "$updatedAt"), _query("limit", values=[500])]
            if since:
                # A few seconds of overlap: records written in batches may land slightly late.
                queries.append(_query("greaterThan", "$updatedAt", [_earlier(since, 5.0)]))
            for execution in _list_executions(client, function_id, queries):
                if seen.get(execution["$id"]) == execution["$updatedAt"]:
                    continue
                seen[execution["$id"]] = execution["$updatedAt"]
                _print_logs(execution)
                since = max(since, execution["$updatedAt"])
            if len(seen) > 10_000:
                seen = dict(sorted(seen.items(), key=lambda item: item[1])[-5_000:])


def _earlier(stamp: str, seconds: float) -> str:
    moment = datetime.fromisoformat(stamp) - timedelta(seconds=seconds)
    return moment.isoformat(timespec="milliseconds")
