"""The platform's schema: the ten tables, the API attribute each list query may filter or sort
on (``*_ATTRIBUTES``), and the defaults a new execution row gets.

Every row has a ``seq`` (Appwrite's ``$sequence``: insertion order, the default sort and
tie-break). The schema is created and changed by the migrations under ``migrations/versions/``:
a change here needs a new revision there (a test compares the two on both engines).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.sql.elements import KeyedColumnElement

__all__ = [
    "DEPLOYMENT_ATTRIBUTES",
    "EXECUTION_ATTRIBUTES",
    "EXECUTION_DEFAULTS",
    "EXECUTION_PUBLIC",
    "FUNCTION_ATTRIBUTES",
    "VARIABLE_ATTRIBUTES",
    "activations",
    "api_keys",
    "cron_ticks",
    "deployments",
    "executions",
    "functions",
    "metadata",
    "platform_nodes",
    "platform_secrets",
    "rate_counters",
    "variables",
]

metadata = MetaData()
#: ``seq``: 64-bit on PostgreSQL; on SQLite an INTEGER primary key, its (64-bit) rowid.
SEQ = BigInteger().with_variant(Integer(), "sqlite")

api_keys = Table(
    "api_keys",
    metadata,
    Column("seq", SEQ, primary_key=True, autoincrement=True),
    Column("id", String(36), nullable=False, unique=True),
    Column("project_id", String(36), nullable=False),
    Column("name", String(128), nullable=False, default=""),
    Column("secret_hash", String(64), nullable=False, unique=True),
    Column("hint", String(16), nullable=False),
    Column("scopes", JSON, nullable=False),
    Column("created_at", String(32), nullable=False),
    Column("revoked_at", String(32), nullable=False, default=""),
)

functions = Table(
    "functions",
    metadata,
    Column("seq", SEQ, primary_key=True, autoincrement=True),
    Column("project_id", String(36), nullable=False),
    Column("id", String(36), nullable=False),
    Column("created_at", String(32), nullable=False),
    Column("updated_at", String(32), nullable=False),
    Column("name", String(128), nullable=False),
    Column("runtime", String(64), nullable=False),
    Column("execute", JSON, nullable=False),
    Column("events", JSON, nullable=False),
    Column("schedule", String(256), nullable=False, default=""),
    Column("timeout", Integer, nullable=False),
    Column("enabled", Boolean, nullable=False),
    Column("logging", Boolean, nullable=False),
    Column("entrypoint", Text, nullable=False, default=""),
    Column("commands", Text, nullable=False, default=""),
    Column("scopes", JSON, nullable=False),
    Column("live", Boolean, nullable=False, default=True),
    Column("deployment_id", String(36), nullable=False, default=""),
    Column("deployment_created_at", String(32), nullable=False, default=""),
    Column("latest_deployment_id", String(36), nullable=False, default=""),
    Column("latest_deployment_created_at", String(32), nullable=False, default=""),
    Column("latest_deployment_status", String(16), nullable=False, default=""),
    Column("extra", JSON, nullable=False),  # provider*, specifications, retention, description
    UniqueConstraint("project_id", "id", name="uq_functions_project_id"),
)

variables = Table(
    "variables",
    metadata,
    Column("seq", SEQ, primary_key=True, autoincrement=True),
    Column("project_id", String(36), nullable=False),
    Column("function_id", String(36), nullable=False),
    Column("id", String(36), nullable=False),
    Column("created_at", String(32), nullable=False),
    Column("updated_at", String(32), nullable=False),
    Column("key", String(255), nullable=False),
    Column("value", Text, nullable=False),
    Column("secret", Boolean, nullable=False),
    Column("description", Text, nullable=False, default=""),
    UniqueConstraint("project_id", "function_id", "id", name="uq_variables_id"),
    UniqueConstraint("project_id", "function_id", "key", name="uq_variables_key"),
)

deployments = Table(
    "deployments",
    metadata,
    Column("seq", SEQ, primary_key=True, autoincrement=True),
    Column("id", String(36), nullable=False, unique=True),
    Column("project_id", String(36), nullable=False),
    Column("function_id", String(36), nullable=False),
    Column("created_at", String(32), nullable=False),
    Column("updated_at", String(32), nullable=False),
    Column("type", String(16), nullable=False),
    Column("entrypoint", Text, nullable=False),
    Column("commands", Text, nullable=False, default=""),
    Column("source_size", Integer, nullable=False, default=0),
    Column("build_size", Integer, nullable=False, default=0),
    Column("total_size", Integer, nullable=False, default=0),
    Column("activate", Boolean, nullable=False, default=False),
    Column("status", String(16), nullable=False),
    Column("build_logs", Text, nullable=False, default=""),
    Column("build_duration", Integer, nullable=False, default=0),
    Column("chunks_total", Integer, nullable=False, default=1),
    Column("chunks_uploaded", Integer, nullable=False, default=0),
    Column("routes", JSON, nullable=False),  # [{"name":..., "methods": [...]}] once built
    Column("claimed_by", String(128), nullable=True),  # the node building it (r0002)
    Index("ix_deployments_function", "project_id", "function_id", "seq"),
)

activations = Table(
    "activations",
    metadata,
    Column("seq", SEQ, primary_key=True, autoincrement=True),
    Column("id", String(36), nullable=False, unique=True),
    Column("project_id", String(36), nullable=False),
    Column("function_id", String(36), nullable=False),
    Column("revision", Integer, nullable=False),
    Column("status", String(16), nullable=False),  # ACTIVE | INACTIVE
    Column("deployment_id", String(36), nullable=False, default=""),
    Column("created_at", String(32), nullable=False),
    Column("updated_at", String(32), nullable=False),
    UniqueConstraint("project_id", "function_id", name="uq_activations_function"),
)

executions = Table(
    "executions",
    metadata,
    Column("seq", SEQ, primary_key=True, autoincrement=True),
    Column("id", String(36), nullable=False, unique=True),
    Column("project_id", String(36), nullable=False),
    Column("function_id", String(36), nullable=False),
    Column("deployment_id", String(36), nullable=False, default=""),
    Column("created_at", String(32), nullable=False),
    Column("updated_at", String(32), nullable=False),  # also: when the status last changed
    Column("trigger", String(16), nullable=False),  # http | schedule | event
    Column("status", String(16), nullable=False),  # waiting|processing|completed|failed|scheduled
    Column("request_method", String(16), nullable=False),
    Column("request_path", Text, nullable=False),
    Column("request_headers", JSON, nullable=False),  # [{"name", "value"}], filtered
    Column("response_status_code", Integer, nullable=False, default=0),
    Column("response_headers", JSON, nullable=False),  # [{"name", "value"}], filtered
    Column("logs", Text, nullable=False, default=""),
    Column("errors", Text, nullable=False, default=""),
    Column("duration", Float, nullable=False, default=0.0),
    Column("scheduled_at", String(32), nullable=True),
    # The request still to be sent (waiting and scheduled executions); cleared once it runs.
    Column("pending_headers", JSON, nullable=True),  # [[name, value], ...] as the worker gets them
    Column("pending_body", Text, nullable=True),
    # The queue (r0002): a waiting or scheduled row may be claimed once the database's clock
    # (epoch seconds) reaches ``run_after``; ``claimed_by`` is the node that claimed it.
    Column("run_after", Float, nullable=True),
    Column("claimed_by", String(128), nullable=True),
    Index("ix_executions_function", "project_id", "function_id", "seq"),
    Index("ix_executions_status", "status"),
    Index("ix_executions_queue", "project_id", "status", "run_after"),
)

cron_ticks = Table(
    "cron_ticks",
    metadata,
    Column("seq", SEQ, primary_key=True, autoincrement=True),
    Column("project_id", String(36), nullable=False),
    Column("function_id", String(36), nullable=False),
    Column("last_tick", Float, nullable=False),  # epoch seconds of the last tick fired
    UniqueConstraint("project_id", "function_id", name="uq_cron_ticks_function"),
)

platform_nodes = Table(
    "platform_nodes",
    metadata,
    Column("id", String(128), primary_key=True),  # --node-id: host:port unless given
    Column("project_id", String(36), nullable=False),
    Column("started_at", Float, nullable=False),  # the database's clock, epoch seconds
    Column("heartbeat_at", Float, nullable=False),
)

rate_counters = Table(
    "rate_counters",
    metadata,
    Column("key", String(255), primary_key=True),  # what is counted, e.g. guest:<project>:<ip>
    Column("window", BigInteger, primary_key=True),  # the window's start, epoch seconds
    Column("count", Integer, nullable=False),
)

platform_secrets = Table(  # r0003
    "platform_secrets",
    metadata,
    Column("name", String(64), primary_key=True),  # e.g. dynamic-keys
    Column("value", String(256), nullable=False),
    Column("created_at", String(32), nullable=False),
)

FUNCTION_ATTRIBUTES: dict[str, KeyedColumnElement[Any]] = {
    "$id": functions.c.id,
    "$createdAt": functions.c.created_at,
    "$updatedAt": functions.c.updated_at,
    "$sequence": functions.c.seq,
    "name": functions.c.name,
    "enabled": functions.c.enabled,
    "runtime": functions.c.runtime,
    "deploymentId": functions.c.deployment_id,
    "schedule": functions.c.schedule,
    "timeout": functions.c.timeout,
    "entrypoint": functions.c.entrypoint,
    "commands": functions.c.commands,
}
DEPLOYMENT_ATTRIBUTES: dict[str, KeyedColumnElement[Any]] = {
    "$id": deployments.c.id,
    "$createdAt": deployments.c.created_at,
    "$updatedAt": deployments.c.updated_at,
    "$sequence": deployments.c.seq,
    "buildSize": deployments.c.build_size,
    "sourceSize": deployments.c.source_size,
    "totalSize": deployments.c.total_size,
    "buildDuration": deployments.c.build_duration,
    "status": deployments.c.status,
    "activate": deployments.c.activate,
    "type": deployments.c.type,
}
VARIABLE_ATTRIBUTES: dict[str, KeyedColumnElement[Any]] = {
    "$id": variables.c.id,
    "$createdAt": variables.c.created_at,
    "$updatedAt": variables.c.updated_at,
    "$sequence": variables.c.seq,
    "key": variables.c.key,
    "secret": variables.c.secret,
}
EXECUTION_ATTRIBUTES: dict[str, KeyedColumnElement[Any]] = {
    "$id": executions.c.id,
    "$createdAt": executions.c.created_at,
    "$updatedAt": executions.c.updated_at,
    "$sequence": executions.c.seq,
    "trigger": executions.c.trigger,
    "status": executions.c.status,
    "responseStatusCode": executions.c.response_status_code,
    "duration": executions.c.duration,
    "requestMethod": executions.c.request_method,
    "requestPath": executions.c.request_path,
    "deploymentId": executions.c.deployment_id,
}
#: Every column of an execution row but ``seq``, with the value a new row gets if not given.
EXECUTION_DEFAULTS: dict[str, Any] = {
    "deployment_id": "",
    "request_method": "POST",
    "request_path": "/",
    "request_headers": [],
    "response_status_code": 0,
    "response_headers": [],
    "logs": "",
    "errors": "",
    "duration": 0.0,
    "scheduled_at": None,
    "pending_headers": None,
    "pending_body": None,
    "run_after": None,
    "claimed_by": None,
}

#: An execution's columns as the API reads them: all but the request still to be sent.
EXECUTION_PUBLIC = [
    c
    for c in executions.columns
    if c.key not in ("pending_headers", "pending_body", "run_after", "claimed_by")
]
