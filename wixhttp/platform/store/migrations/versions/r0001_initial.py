"""The schema of the release before versioned migrations (its SQLite files are stamped with this
revision as they are), with ``seq`` 64-bit on PostgreSQL (SQLite's is its 64-bit rowid).

Revision ID: r0001
Revises: (none)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "r0001"
down_revision: str | None = None
branch_labels = None
depends_on = None

SEQ = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _seq() -> sa.Column[int]:
    return sa.Column("seq", SEQ, primary_key=True, autoincrement=True)


def _text(
    name: str, length: int | None = None, *, unique: bool = False, nullable: bool = False
) -> sa.Column[str]:
    kind = sa.String(length) if length else sa.Text()
    return sa.Column(name, kind, nullable=nullable, unique=unique)


def _upgrade_keys_and_functions() -> None:
    op.create_table(
        "api_keys",
        _seq(),
        _text("id", 36, unique=True),
        _text("project_id", 36),
        _text("name", 128),
        _text("secret_hash", 64, unique=True),
        _text("hint", 16),
        sa.Column("scopes", sa.JSON(), nullable=False),
        _text("created_at", 32),
        _text("revoked_at", 32),
    )
    op.create_table(
        "functions",
        _seq(),
        _text("project_id", 36),
        _text("id", 36),
        _text("created_at", 32),
        _text("updated_at", 32),
        _text("name", 128),
        _text("runtime", 64),
        sa.Column("execute", sa.JSON(), nullable=False),
        sa.Column("events", sa.JSON(), nullable=False),
        _text("schedule", 256),
        sa.Column("timeout", sa.Integer(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("logging", sa.Boolean(), nullable=False),
        _text("entrypoint"),
        _text("commands"),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("live", sa.Boolean(), nullable=False),
        _text("deployment_id", 36),
        _text("deployment_created_at", 32),
        _text("latest_deployment_id", 36),
        _text("latest_deployment_created_at", 32),
        _text("latest_deployment_status", 16),
        sa.Column("extra", sa.JSON(), nullable=False),
        sa.UniqueConstraint("project_id", "id", name="uq_functions_project_id"),
    )
    op.create_table(
        "variables",
        _seq(),
        _text("project_id", 36),
        _text("function_id", 36),
        _text("id", 36),
        _text("created_at", 32),
        _text("updated_at", 32),
        _text("key", 255),
        _text("value"),
        sa.Column("secret", sa.Boolean(), nullable=False),
        _text("description"),
        sa.UniqueConstraint("project_id", "function_id", "id", name="uq_variables_id"),
        sa.UniqueConstraint("project_id", "function_id", "key", name="uq_variables_key"),
    )


def _upgrade_deployments() -> None:
    op.create_table(
        "deployments",
        _seq(),
        _text("id", 36, unique=True),
        _text("project_id", 36),
        _text("function_id", 36),
        _text("created_at", 32),
        _text("updated_at", 32),
        _text("type", 16),
        _text("entrypoint"),
        _text("commands"),
        *(
            sa.Column(name, sa.Integer(), nullable=False)
            for name in ("source_size", "build_size", "total_size")
        ),
        sa.Column("activate", sa.Boolean(), nullable=False),
        _text("status", 16),
        _text("build_logs"),
        *(
            sa.Column(name, sa.Integer(), nullable=False)
            for name in ("build_duration", "chunks_total", "chunks_uploaded")
        ),
        sa.Column("routes", sa.JSON(), nullable=False),
    )
    op.create_index("ix_deployments_function", "deployments", ["project_id", "function_id", "seq"])
    op.create_table(
        "activations",
        _seq(),
        _text("id", 36, unique=True),
        _text("project_id", 36),
        _text("function_id", 36),
        sa.Column("revision", sa.Integer(), nullable=False),
        _text("status", 16),
        _text("deployment_id", 36),
        _text("created_at", 32),
        _text("updated_at", 32),
        sa.UniqueConstraint("project_id", "function_id", name="uq_activations_function"),
    )


def _upgrade_executions() -> None:
    op.create_table(
        "executions",
        _seq(),
        _text("id", 36, unique=True),
        _text("project_id", 36),
        _text("function_id", 36),
        _text("deployment_id", 36),
        _text("created_at", 32),
        _text("updated_at", 32),
        _text("trigger", 16),
        _text("status", 16),
        _text("request_method", 16),
        _text("request_path"),
        sa.Column("request_headers", sa.JSON(), nullable=False),
        sa.Column("response_status_code", sa.Integer(), nullable=False),
        sa.Column("response_headers", sa.JSON(), nullable=False),
        _text("logs"),
        _text("errors"),
        sa.Column("duration", sa.Float(), nullable=False),
        _text("scheduled_at", 32, nullable=True),
        sa.Column("pending_headers", sa.JSON(), nullable=True),
        _text("pending_body", nullable=True),
    )
    op.create_index("ix_executions_status", "executions", ["status"])
    op.create_index("ix_executions_function", "executions", ["project_id", "function_id", "seq"])
    op.create_table(
        "cron_ticks",
        _seq(),
        _text("project_id", 36),
        _text("function_id", 36),
        sa.Column("last_tick", sa.Float(), nullable=False),
        sa.UniqueConstraint("project_id", "function_id", name="uq_cron_ticks_function"),
    )


def upgrade() -> None:
    _upgrade_keys_and_functions()
    _upgrade_deployments()
    _upgrade_executions()


def downgrade() -> None:
    for table in (
        "cron_ticks", "executions", "activations", "deployments", "variables", "functions",
        "api_keys",
    ):
        op.drop_table(table)
