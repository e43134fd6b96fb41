"""The platform's settings and where its files live: plain data, read by every layer."""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "DEFAULT_PROJECT",
    "MAX_CALL_BODY",
    "MAX_EXECUTION_BODY",
    "MAX_FORWARDED_BODY",
    "BuildConfig",
    "DatabaseConfig",
    "ExecutionConfig",
    "NodeConfig",
    "Paths",
    "PlatformConfig",
]

#: The largest request body a direct call to a function URL may carry (a larger one is a 400).
MAX_CALL_BODY = 10 * 1024 * 1024
#: The most characters an execution's ``body`` may hold (Appwrite's limit).
MAX_EXECUTION_BODY = 10_485_760
#: The body size limit workers are given: the most the platform forwards (an execution body's
#: characters at up to 4 UTF-8 bytes each). The platform enforces the two limits above itself;
#: the worker's must only not be lower, or a body the platform accepted would get the core
#: app's 413 (its default is 512 KiB).
MAX_FORWARDED_BODY = 4 * max(MAX_CALL_BODY, MAX_EXECUTION_BODY)

#: The project every key and function belongs to unless ``--project`` says otherwise.
DEFAULT_PROJECT = "default"


@dataclass(frozen=True)
class Paths:
    """Where files live under the data directory."""

    root: Path

    def deployment_dir(self, function_id: str, deployment_id: str) -> Path:
        return self.root / "functions" / function_id / deployment_id

    def source(self, function_id: str, deployment_id: str) -> Path:
        return self.deployment_dir(function_id, deployment_id) / "source.tar.gz"

    def code(self, function_id: str, deployment_id: str) -> Path:
        return self.deployment_dir(function_id, deployment_id) / "code"

    def function_dir(self, function_id: str) -> Path:
        return self.root / "functions" / function_id

    def uploads(self, deployment_id: str) -> Path:
        return self.root / "uploads" / deployment_id


@dataclass(frozen=True)
class BuildConfig:
    max_unpacked_size: int = 100 * 1024 * 1024
    max_files: int = 10_000
    commands_timeout: float = 600.0
    check_timeout: float = 60.0
    concurrency: int = 2


@dataclass(frozen=True)
class ExecutionConfig:
    workers: int = 8  # asyncio tasks running asynchronous and scheduled executions
    sync_timeout: float = 30.0  # seconds a synchronous execution may take (then 408)
    min_schedule_lead: float = 60.0  # scheduledAt must be more than this far ahead
    rate_limit: int = 60  # creations per minute per client IP without an API key; 0: none
    write_delay: float = 0.02  # seconds non-urgent writes wait to join a batch
    max_pending_records: int = 100_000  # direct-HTTP records beyond this backlog are dropped
    retention: float = 1_209_600.0  # seconds finished executions are kept; 0: forever


@dataclass(frozen=True)
class DatabaseConfig:
    """Where the state lives: ``url`` "" is SQLite in the data directory; otherwise an SQLAlchemy
    async URL (``postgresql+asyncpg://...``). The pool sizes apply to PostgreSQL only."""

    url: str = ""
    pool_size: int = 5  # connections a node keeps open ...
    max_overflow: int = 10  # ... and may open beyond those under load


@dataclass(frozen=True)
class NodeConfig:
    """How the nodes sharing a database watch each other (seconds)."""

    heartbeat: float = 5.0  # a node stamps its row this often; the reaper looks this often
    timeout: float = 30.0  # a node silent this long is dead: its work is taken up


@dataclass(frozen=True)
class PlatformConfig:
    data_dir: Path
    project_id: str = DEFAULT_PROJECT
    host: str = "127.0.0.1"
    port: int = 8080
    max_source_size: int = 30_000_000
    activation_limit: int = 10  # successful upserts per function ...
    activation_window: float = 60.0  # ... per this many seconds
    build: BuildConfig = field(default_factory=BuildConfig)
    executions: ExecutionConfig = field(default_factory=ExecutionConfig)
    database: DatabaseConfig = field(default_factory=DatabaseConfig)
    node_id: str = ""  # "": this machine's host name and the port
    nodes: NodeConfig = field(default_factory=NodeConfig)

    @property
    def node(self) -> str:
        """This node's name among those sharing the database: what it claims work as, and
        what a restart of it on the same host and port takes up again."""
        return self.node_id or f"{socket.gethostname()}:{self.port}"

    @property
    def endpoint(self) -> str:
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::") else self.host
        return f"http://{host}:{self.port}/v1"
