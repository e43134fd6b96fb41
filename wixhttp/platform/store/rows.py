"""The rows the store returns, one ``TypedDict`` per table, keyed by column name (so mypy checks
the field names callers read). Each has exactly its table's columns (see ``tables.py``), but
:class:`ExecutionRow`, which leaves out the request still to be sent: only
:class:`PendingExecutionRow` (what recovery reads) carries it."""

from __future__ import annotations

from typing import Any, TypedDict

__all__ = [
    "ActivationRow",
    "DeploymentRow",
    "ExecutionRow",
    "FunctionRow",
    "KeyRow",
    "NodeRow",
    "PendingExecutionRow",
    "VariableRow",
]


class KeyRow(TypedDict):
    seq: int
    id: str
    project_id: str
    name: str
    secret_hash: str
    hint: str
    scopes: list[str]
    created_at: str
    revoked_at: str  # "" while the key is valid


class FunctionRow(TypedDict):
    seq: int
    project_id: str
    id: str
    created_at: str
    updated_at: str
    name: str
    runtime: str
    execute: list[str]
    events: list[str]
    schedule: str
    timeout: int
    enabled: bool
    logging: bool
    entrypoint: str
    commands: str
    scopes: list[str]
    live: bool
    deployment_id: str
    deployment_created_at: str
    latest_deployment_id: str
    latest_deployment_created_at: str
    latest_deployment_status: str
    extra: dict[str, Any]  # provider*, specifications, retention, description


class VariableRow(TypedDict):
    seq: int
    project_id: str
    function_id: str
    id: str
    created_at: str
    updated_at: str
    key: str
    value: str
    secret: bool
    description: str


class DeploymentRow(TypedDict):
    seq: int
    id: str
    project_id: str
    function_id: str
    created_at: str
    updated_at: str
    type: str
    entrypoint: str
    commands: str
    source_size: int
    build_size: int
    total_size: int
    activate: bool
    status: str
    build_logs: str
    build_duration: int
    chunks_total: int
    chunks_uploaded: int
    routes: list[dict[str, Any]]  # [{"name": ..., "methods": [...]}] once built
    claimed_by: str | None  # the node building it


class ActivationRow(TypedDict):
    seq: int
    id: str
    project_id: str
    function_id: str
    revision: int
    status: str  # ACTIVE | INACTIVE
    deployment_id: str
    created_at: str
    updated_at: str


class ExecutionRow(TypedDict):
    seq: int
    id: str
    project_id: str
    function_id: str
    deployment_id: str
    created_at: str
    updated_at: str  # also: when the status last changed
    trigger: str  # http | schedule | event
    status: str  # waiting | processing | completed | failed | scheduled
    request_method: str
    request_path: str
    request_headers: list[dict[str, str]]  # [{"name", "value"}], filtered
    response_status_code: int
    response_headers: list[dict[str, str]]  # [{"name", "value"}], filtered
    logs: str
    errors: str
    duration: float
    scheduled_at: str | None


class PendingExecutionRow(ExecutionRow):
    """An execution with the request still to be sent (None once it has run)."""

    pending_headers: list[list[str]] | None  # [[name, value], ...] as the worker gets them
    pending_body: str | None
    run_after: float | None  # claimable once the database's clock reaches it
    claimed_by: str | None  # the node that claimed it


class NodeRow(TypedDict):
    id: str
    project_id: str
    started_at: float
    heartbeat_at: float
