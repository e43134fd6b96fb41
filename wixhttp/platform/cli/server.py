"""``wixhttp platform``: run the functions platform."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import click

from wixhttp.platform import sandbox
from wixhttp.platform.cli.common import DATA, DATABASE_URL, PROJECT, run, with_store
from wixhttp.platform.config import (
    BuildConfig,
    DatabaseConfig,
    ExecutionConfig,
    NodeConfig,
    PlatformConfig,
)
from wixhttp.platform.sandbox import BWRAP, NONE, Limits, Sandbox
from wixhttp.platform.store import masked

__all__ = ["platform_command"]


@click.command("platform")
@DATA
@DATABASE_URL
@click.option(
    "--database-pool-size",
    default=5,
    show_default=True,
    envvar="WIXHTTP_DATABASE_POOL_SIZE",
    type=click.IntRange(1),
    help="PostgreSQL connections this node keeps open (or set WIXHTTP_DATABASE_POOL_SIZE).",
)
@click.option(
    "--database-max-overflow",
    default=10,
    show_default=True,
    envvar="WIXHTTP_DATABASE_MAX_OVERFLOW",
    type=click.IntRange(0),
    help="PostgreSQL connections it may open beyond those under load "
    "(or set WIXHTTP_DATABASE_MAX_OVERFLOW).",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to bind.")
@click.option("--port", default=8080, show_default=True, type=int, help="TCP port.")
@PROJECT
@click.option(
    "--node-id",
    default="",
    envvar="WIXHTTP_NODE_ID",
    help="This node's name among the nodes sharing a database (default: host name:port; "
    "or set WIXHTTP_NODE_ID). Each node needs its own; a restarted node with the same name "
    "takes up what it left unfinished at once.",
)
@click.option(
    "--heartbeat-interval",
    default=5.0,
    show_default=True,
    type=click.FloatRange(min=0.01),
    help="Seconds between two heartbeats of this node (and two passes of its reaper).",
)
@click.option(
    "--node-timeout",
    default=30.0,
    show_default=True,
    type=click.FloatRange(min=0.01),
    help="Seconds of silence after which a node is taken for dead: its running executions "
    "fail, its builds are queued again. Keep it well above --heartbeat-interval.",
)
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
    help="Seconds of the window --activation-limit counts activations in.",
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
@click.option(
    "--isolation",
    type=click.Choice(["auto", "bwrap", "none"]),
    default="auto",
    show_default=True,
    envvar="WIXHTTP_ISOLATION",
    help="How functions' workers and builds are sandboxed: bwrap (bubblewrap: own mount, PID "
    "and IPC namespaces, an unprivileged user, resource limits) or none (the platform's own "
    "user, unsandboxed). auto: bwrap if it works on this host, else none with a warning "
    "(or set WIXHTTP_ISOLATION).",
)
@click.option(
    "--worker-memory",
    default=512,
    show_default=True,
    type=click.IntRange(0),
    help="Megabytes of memory (RLIMIT_DATA) a sandboxed worker or build step may use "
    "(0: no limit).",
)
@click.option(
    "--worker-cpu-time",
    default=3600,
    show_default=True,
    type=click.IntRange(0),
    help="CPU seconds a sandboxed worker may use over its life, then it is replaced (0: no limit).",
)
@click.option(
    "--worker-processes",
    default=512,
    show_default=True,
    type=click.IntRange(0),
    help="Processes and threads a function's user may have at once, sandboxed (0: no limit).",
)
@click.option(
    "--worker-open-files",
    default=4096,
    show_default=True,
    type=click.IntRange(0),
    help="Open files a sandboxed worker may have (0: no limit).",
)
def platform_command(
    data_dir: str,
    database_url: str,
    database_pool_size: int,
    database_max_overflow: int,
    host: str,
    port: int,
    project: str,
    node_id: str,
    heartbeat_interval: float,
    node_timeout: float,
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
    isolation: str,
    worker_memory: int,
    worker_cpu_time: int,
    worker_processes: int,
    worker_open_files: int,
) -> None:
    """Run the functions platform (Appwrite Functions API at /v1)."""

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    limits = Limits(worker_memory, worker_cpu_time, worker_processes, worker_open_files)
    box, said = _sandbox(isolation, limits)
    sandbox.install(box)
    config = PlatformConfig(
        data_dir=Path(data_dir).resolve(),
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
        database=DatabaseConfig(database_url, database_pool_size, database_max_overflow),
        node_id=node_id,
        nodes=NodeConfig(heartbeat=heartbeat_interval, timeout=node_timeout),
    )
    _announce(config)  # a database that cannot be used ends it here, with its one line
    click.echo(said, err=True)
    _serve(config)


def _sandbox(isolation: str, limits: Limits) -> tuple[Sandbox, str]:
    """The sandbox asked for, after checking once that it works here, and the line saying so."""
    if isolation == NONE:
        said = (
            "wixhttp platform: WARNING: --isolation none: functions run unsandboxed as this "
            "server's user and can read its data directory and database"
        )
        return Sandbox(NONE, limits), said
    problem = sandbox.bwrap_works()
    if not problem:
        return Sandbox(BWRAP, limits), "wixhttp platform: functions run sandboxed by bubblewrap"
    if isolation == BWRAP:
        raise click.ClickException(f"--isolation bwrap: {problem}")
    said = (
        f"wixhttp platform: WARNING: {problem}; functions run UNSANDBOXED as this server's user "
        "(--isolation none)"
    )
    return Sandbox(NONE, limits), said


def _announce(config: PlatformConfig) -> None:
    """Where the data and the API are, and how to make a first key if there is none."""
    data, database = config.data_dir, config.database
    keys: list[Any] = run(with_store(data, database, lambda store: store.list_keys()))
    click.echo(f"wixhttp platform: data in {data}, project {config.project_id!r}", err=True)
    url = masked(database.url) if database.url else "SQLite in the data directory"
    click.echo(f"  database: {url}, node {config.node!r}", err=True)
    click.echo(f"  API endpoint: {config.endpoint}", err=True)
    if not any(not k["revoked_at"] for k in keys):
        same = " --database-url ..." if database.url else ""
        click.echo(
            f"  no API key yet; create one with:\n    wixhttp keys create --data {data}{same} "
            "--scopes functions.read,functions.write,executions.read,executions.write",
            err=True,
        )


def _serve(config: PlatformConfig) -> None:
    import uvicorn

    from wixhttp.platform.app import create_platform_app

    app = create_platform_app(config)
    # Callers' X-Forwarded-* are believed only from the proxies in WIXHTTP_TRUSTED_PROXIES
    # (uvicorn would otherwise trust 127.0.0.1); the workers see the address decided here.
    trusted = os.environ.get("WIXHTTP_TRUSTED_PROXIES", "").strip()
    uvicorn.run(
        app,
        host=config.host,
        port=config.port,
        proxy_headers=bool(trusted),
        forwarded_allow_ips=trusted or None,
        log_config=None,
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=10,
    )
