"""The platform's commands: ``platform``, ``keys``, ``deploy`` and ``publish``.

Registered into the main ``wixhttp`` group by :mod:`wixhttp.cli` (lazily). Thin: parse, call,
print. Secrets are printed once, by ``keys create``, and never logged.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import os
import sys
import time
from collections.abc import Callable, Coroutine
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar, cast

import click
import httpx

from wixhttp.platform.archive import pack
from wixhttp.platform.auth import DEFAULT_PROJECT, SCOPES, create_key, validate_scopes
from wixhttp.platform.builds import BuildConfig
from wixhttp.platform.executions import ExecutionConfig
from wixhttp.platform.store import Store

__all__ = [
    "deploy_command",
    "executions_command",
    "keys_group",
    "logs_command",
    "platform_command",
    "publish_command",
]

T = TypeVar("T")

DATA = click.option(
    "--data",
    "data_dir",
    default="wixhttp-data",
    show_default=True,
    envvar="WIXHTTP_PLATFORM_DATA",
    type=click.Path(file_okay=False),
    help="The platform's data directory (database and deployments).",
)
PROJECT = click.option(
    "--project", default=DEFAULT_PROJECT, show_default=True, help="The project id clients send."
)


def _run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


async def _with_store(data_dir: str, action: Any) -> Any:
    store = Store.in_directory(Path(data_dir))
    try:
        await store.init()
        return await action(store)
    finally:
        await store.close()


@click.command("platform")
@DATA
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to bind.")
@click.option("--port", default=8080, show_default=True, type=int, help="TCP port.")
@PROJECT
@click.option(
    "--activation-limit",
    default=10,
    show_default=True,
    type=click.IntRange(1),
    help="Activations (publishes) allowed per function per --activation-window.",
)
@click.option(
    "--activation-window",
    default=60.0,
    show_default=True,
    type=click.FloatRange(min=0.001),
    help="Seconds.",
)
@click.option(
    "--max-unpacked-size",
    default=100 * 1024 * 1024,
    show_default=True,
    type=click.IntRange(1),
    help="Bytes a deployment archive may unpack to.",
)
@click.option(
    "--max-source-size",
    default=30_000_000,
    show_default=True,
    type=click.IntRange(1),
    help="Bytes a deployment archive may have (Appwrite's _APP_COMPUTE_SIZE_LIMIT).",
)
@click.option(
    "--commands-timeout",
    default=600.0,
    show_default=True,
    type=click.FloatRange(min=0.1),
    help="Seconds a deployment's build commands may run.",
)
@click.option(
    "--sync-timeout",
    default=30.0,
    show_default=True,
    type=click.FloatRange(min=0.001),
    help="Seconds a synchronous execution may run before the caller gets 408.",
)
@click.option(
    "--min-schedule-lead",
    default=60.0,
    show_default=True,
    type=click.FloatRange(min=0),
    help="Seconds ahead scheduledAt must be at least (below 60, any precision is accepted).",
)
@click.option(
    "--execution-rate-limit",
    default=60,
    show_default=True,
    type=click.IntRange(0),
    help="Executions a client IP without an API key may create per minute (0: no limit).",
)
@click.option(
    "--execution-retention",
    default=1_209_600.0,
    show_default=True,
    type=click.FloatRange(min=0),
    help="Seconds finished executions are kept (Appwrite's 14 days; 0: forever).",
)
@click.option(
    "--execution-workers",
    default=8,
    show_default=True,
    type=click.IntRange(1),
    help="Asynchronous executions run at the same time.",
)
def platform_command(
    data_dir: str,
    host: str,
    port: int,
    project: str,
    activation_limit: int,
    activation_window: float,
    max_unpacked_size: int,
    max_source_size: int,
    commands_timeout: float,
    sync_timeout: float,
    min_schedule_lead: float,
    execution_rate_limit: int,
    execution_retention: float,
    execution_workers: int,
) -> None:
    """Run the functions platform (Appwrite Functions API at /v1)."""
    import uvicorn

    from wixhttp.platform.api import create_platform_app
    from wixhttp.platform.service import PlatformConfig

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    data = Path(data_dir).resolve()
    config = PlatformConfig(
        data_dir=data,
        project_id=project,
        host=host,
        port=port,
        activation_limit=activation_limit,
        activation_window=activation_window,
        max_source_size=max_source_size,
        build=BuildConfig(max_unpacked_size=max_unpacked_size, commands_timeout=commands_timeout),
        executions=ExecutionConfig(
            workers=execution_workers,
            sync_timeout=sync_timeout,
            min_schedule_lead=min_schedule_lead,
            rate_limit=execution_rate_limit,
            retention=execution_retention,
        ),
    )
    keys = _run(_with_store(str(data), lambda store: store.list_keys()))
    click.echo(f"wixhttp platform: data in {data}, project {project!r}", err=True)
    click.echo(f"  API endpoint: {config.endpoint}", err=True)
    if not any(not k["revoked_at"] for k in keys):
        click.echo(
            f"  no API key yet; create one with:\n    wixhttp keys create --data {data} "
            "--scopes functions.read,functions.write,executions.read,executions.write",
            err=True,
        )
    app = create_platform_app(config)
    # Callers' X-Forwarded-* are believed only from the proxies in WIXHTTP_TRUSTED_PROXIES
    # (uvicorn would otherwise trust 127.0.0.1); the workers see the address decided here.
    trusted = os.environ.get("WIXHTTP_TRUSTED_PROXIES", "").strip()
    uvicorn.run(
        app,
        host=host,
        port=port,
        proxy_headers=bool(trusted),
        forwarded_allow_ips=trusted or None,
        log_config=None,
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=10,
    )


@click.group("keys")
def keys_group() -> None:
    """Manage the platform's API keys (stored hashed; a key is shown only when created)."""


@keys_group.command("create")
@DATA
@PROJECT
@click.option(
    "--scopes",
    required=True,
    multiple=True,
    help=f"Comma-separated scopes: {', '.join(SCOPES)}.",
)
@click.option("--name", default="", help="A label for `keys list`.")
def keys_create(data_dir: str, project: str, scopes: tuple[str, ...], name: str) -> None:
    """Create a key. The last line of output is the key itself."""
    try:
        chosen = validate_scopes(s for group in scopes for s in group.split(","))
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--scopes") from None

    async def action(store: Store) -> tuple[str, str]:
        return await create_key(store, chosen, name=name, project_id=project)

    key_id, secret = _run(_with_store(data_dir, action))
    click.echo(f"created key {key_id} (project {project!r}, scopes {','.join(chosen)})", err=True)
    click.echo("store it now: it is not shown again", err=True)
    click.echo(secret)


@keys_group.command("list")
@DATA
def keys_list(data_dir: str) -> None:
    """List keys: id, project, scopes, created, status (never the secret)."""
    rows = _run(_with_store(data_dir, lambda store: store.list_keys()))
    if not rows:
        click.echo("no keys")
        return
    for row in rows:
        status = f"revoked {row['revoked_at']}" if row["revoked_at"] else "active"
        click.echo(
            f"{row['id']}  {row['project_id']}  …{row['hint']}  {','.join(row['scopes'])}  "
            f"{row['created_at']}  {status}" + (f"  {row['name']}" if row["name"] else "")
        )


@keys_group.command("revoke")
@DATA
@click.argument("key_id")
def keys_revoke(data_dir: str, key_id: str) -> None:
    """Revoke a key by id (see `keys list`); it stops working within a second."""
    revoked = _run(_with_store(data_dir, lambda store: store.revoke_key(key_id)))
    if not revoked:
        raise click.ClickException(f"no active key with id {key_id!r}")
    click.echo(f"revoked {key_id}")


# -- deploy & publish ----------------------------------------------------------------------------

ENDPOINT = click.option(
    "--endpoint",
    default="http://127.0.0.1:8080/v1",
    show_default=True,
    envvar="WIXHTTP_ENDPOINT",
    help="The platform's API endpoint.",
)
KEY = click.option(
    "--key", envvar="WIXHTTP_KEY", required=True, help="API key (or set WIXHTTP_KEY)."
)


def _base(endpoint: str) -> str:
    endpoint = endpoint.rstrip("/")
    return endpoint[: -len("/v1")] if endpoint.endswith("/v1") else endpoint


def _fail(response: httpx.Response) -> click.ClickException:
    try:
        message = response.json().get("message", response.text)
    except ValueError:
        message = response.text
    if response.status_code == 401:
        message += " (check the key and its scopes: wixhttp keys list)"
    return click.ClickException(f"{response.status_code}: {message}")


_Command = TypeVar("_Command", bound=Callable[..., None])


def _talks_to_platform(command: _Command) -> _Command:
    """A command that calls the platform's API: a connection failure is one clear line."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        try:
            command(*args, **kwargs)
        except httpx.TransportError as exc:
            endpoint = kwargs.get("endpoint", "")
            raise click.ClickException(
                f"cannot reach the platform at {endpoint}: {exc or type(exc).__name__} "
                "(is `wixhttp platform` running there? see --endpoint)"
            ) from None

    return cast(_Command, wrapper)


@click.command("deploy")
@click.argument("site", type=click.Path(exists=True, file_okay=False))
@click.option("--function", "function_id", required=True, help="The function id.")
@click.option("--activate", is_flag=True, help="Serve it at /_functions once it is ready.")
@click.option("--entrypoint", default="http_functions.py", show_default=True)
@click.option(
    "--commands", default="", help="Build commands, e.g. 'pip install -r requirements.txt'."
)
@click.option("--wait", "wait_seconds", default=300.0, show_default=True, help="Seconds to wait.")
@ENDPOINT
@KEY
@PROJECT
@_talks_to_platform
def deploy_command(
    site: str,
    function_id: str,
    activate: bool,
    entrypoint: str,
    commands: str,
    wait_seconds: float,
    endpoint: str,
    key: str,
    project: str,
) -> None:
    """Pack SITE, upload it as a deployment of FUNCTION (created if missing), wait for the build."""
    api = _base(endpoint) + "/v1"
    headers = {"X-Appwrite-Project": project, "X-Appwrite-Key": key}
    with httpx.Client(base_url=api, headers=headers, timeout=120) as client:
        found = client.get(f"/functions/{function_id}")
        if found.status_code == 404 and found.json().get("type") == "function_not_found":
            runtimes = client.get("/functions/runtimes").json()["runtimes"]
            created = client.post(
                "/functions",
                json={
                    "functionId": function_id,
                    "name": function_id,
                    "runtime": runtimes[0]["$id"],
                    "execute": ["any"],
                    "entrypoint": entrypoint,
                },
            )
            if created.status_code >= 400:
                raise _fail(created)
            click.echo(f"created function {function_id} ({runtimes[0]['$id']}, execute: any)")
        elif found.status_code >= 400:
            raise _fail(found)
        archive = pack(site, source_only=True)
        response = client.post(
            f"/functions/{function_id}/deployments",
            data={
                "entrypoint": entrypoint,
                "commands": commands,
                "activate": "true" if activate else "false",
            },
            files={"code": ("code.tar.gz", archive)},
        )
        if response.status_code >= 400:
            raise _fail(response)
        deployment = response.json()
        click.echo(f"uploaded deployment {deployment['$id']} ({len(archive)} bytes); building…")
        deadline = time.monotonic() + wait_seconds
        while deployment["status"] not in ("ready", "failed", "canceled"):
            if time.monotonic() > deadline:
                raise click.ClickException(f"still {deployment['status']} after {wait_seconds:g} s")
            time.sleep(0.2)
            polled = client.get(f"/functions/{function_id}/deployments/{deployment['$id']}")
            if polled.status_code >= 400:
                raise _fail(polled)
            deployment = polled.json()
        if deployment["status"] != "ready":
            click.echo(deployment["buildLogs"], err=True)
            raise click.ClickException(f"deployment {deployment['$id']} {deployment['status']}")
        click.echo(
            f"deployment {deployment['$id']} ready in {deployment['buildDuration']} s"
            + (
                " and active"
                if activate
                else f"; publish it with: wixhttp publish --function {function_id}"
            )
        )
        click.echo(f"dev URL: {_base(endpoint)}/functions/{function_id}/_functions-dev/<name>")


@click.command("publish")
@click.option("--function", "function_id", required=True, help="The function id.")
@ENDPOINT
@KEY
@_talks_to_platform
def publish_command(function_id: str, endpoint: str, key: str) -> None:
    """Activate FUNCTION's latest ready deployment (Wix's upsertFunctionActivation)."""
    url = _base(endpoint) + "/functions/v1/activations/upsert"
    response = httpx.post(
        url,
        json={"functionActivation": {"functionId": function_id}},
        headers={"Authorization": f"Bearer {key}"},
        timeout=60,
    )
    if response.status_code >= 400:
        try:
            body = response.json()
            code = body.get("details", {}).get("applicationError", {}).get("code", "")
            message = f"{code}: {body.get('message', '')}" if code else body.get("message", "")
        except ValueError:
            message = response.text
        raise click.ClickException(f"{response.status_code} {message}")
    activation = response.json()["functionActivation"]
    click.echo(
        f"published {function_id}: deployment {activation['deploymentId']}, "
        f"revision {activation['revision']}"
    )
    click.echo(f"URL: {_base(endpoint)}/functions/{function_id}/_functions/<name>")


# -- executions & logs ---------------------------------------------------------------------------

READ_KEY = click.option(
    "--key",
    envvar="WIXHTTP_KEY",
    required=True,
    help="API key with executions.read (or set WIXHTTP_KEY).",
)
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
        raise _fail(response)
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
@click.option("--limit", default=25, show_default=True, type=click.IntRange(1, 5000))
@ENDPOINT
@READ_KEY
@PROJECT
@_talks_to_platform
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
    headers = {"X-Appwrite-Project": project, "X-Appwrite-Key": key}
    with httpx.Client(base_url=_base(endpoint) + "/v1", headers=headers, timeout=60) as client:
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
@_talks_to_platform
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
    headers = {"X-Appwrite-Project": project, "X-Appwrite-Key": key}
    seen: dict[str, str] = {}
    with httpx.Client(base_url=_base(endpoint) + "/v1", headers=headers, timeout=60) as client:
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


if __name__ == "__main__":  # pragma: no cover
    sys.exit(platform_command())
