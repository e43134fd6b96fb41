"""Several nodes on one database: the executions table becomes the queue (``run_after``,
``claimed_by``), builds are claimed (``deployments.claimed_by``), nodes heartbeat
(``platform_nodes``) and rate limits are counted in the database (``rate_counters``).

On PostgreSQL, triggers announce every change a node caches: ``NOTIFY wixhttp_changes`` with
``<project>/<function>`` when a function, variable, activation or a deployment's status changes
(in the changing transaction, so it is delivered on commit), and ``NOTIFY wixhttp_work`` with
``builds`` when a deployment is waiting to be built.

Revision ID: r0002
Revises: r0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "r0002"
down_revision: str | None = "r0001"
branch_labels = None
depends_on = None

ANNOUNCE = """
CREATE OR REPLACE FUNCTION wixhttp_announce() RETURNS trigger AS $$
DECLARE
    changed jsonb;
BEGIN
    IF TG_OP = 'DELETE' THEN changed := to_jsonb(OLD); ELSE changed := to_jsonb(NEW); END IF;
    PERFORM pg_notify(
        'wixhttp_changes', (changed ->> 'project_id') || '/' || (changed ->> TG_ARGV[0])
    );
    RETURN NULL;
END
$$ LANGUAGE plpgsql
"""

BUILD_WAITING = """
CREATE OR REPLACE FUNCTION wixhttp_build_waiting() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('wixhttp_work', 'builds');
    RETURN NULL;
END
$$ LANGUAGE plpgsql
"""

#: (trigger, table, when, the column holding the function id)
TRIGGERS = [
    ("wixhttp_functions_changed", "functions", "INSERT OR UPDATE OR DELETE", "", "id"),
    ("wixhttp_variables_changed", "variables", "INSERT OR UPDATE OR DELETE", "", "function_id"),
    ("wixhttp_activations_changed", "activations", "INSERT OR UPDATE OR DELETE", "", "function_id"),
    ("wixhttp_deployments_gone", "deployments", "DELETE", "", "function_id"),
    (
        "wixhttp_deployments_changed",
        "deployments",
        "UPDATE",
        "WHEN (OLD.status IS DISTINCT FROM NEW.status)",
        "function_id",
    ),
]


def _create_triggers() -> None:
    op.execute(ANNOUNCE)
    op.execute(BUILD_WAITING)
    for name, on, events, when, column in TRIGGERS:
        op.execute(
            f"CREATE TRIGGER {name} AFTER {events} ON {on} FOR EACH ROW {when} "
            f"EXECUTE PROCEDURE wixhttp_announce('{column}')"
        )
    op.execute(
        "CREATE TRIGGER wixhttp_build_waiting AFTER INSERT OR UPDATE OF status ON deployments "
        "FOR EACH ROW WHEN (NEW.status = 'waiting') EXECUTE PROCEDURE wixhttp_build_waiting()"
    )


def upgrade() -> None:
    with op.batch_alter_table("executions") as table:
        table.add_column(sa.Column("run_after", sa.Float(), nullable=True))
        table.add_column(sa.Column("claimed_by", sa.String(128), nullable=True))
        table.create_index("ix_executions_queue", ["project_id", "status", "run_after"])
    with op.batch_alter_table("deployments") as table:
        table.add_column(sa.Column("claimed_by", sa.String(128), nullable=True))
    # Waiting executions of the release before are runnable at once, scheduled ones at their
    # scheduledAt (ISO 8601 text with an offset, which both engines read).
    op.execute("UPDATE executions SET run_after = 0 WHERE status = 'waiting'")
    if op.get_bind().dialect.name == "postgresql":
        due = "EXTRACT(EPOCH FROM CAST(scheduled_at AS TIMESTAMPTZ))"
    else:
        due = "((julianday(scheduled_at) - 2440587.5) * 86400.0)"
    op.execute(
        f"UPDATE executions SET run_after = {due} "
        "WHERE status = 'scheduled' AND scheduled_at IS NOT NULL"
    )
    op.create_table(
        "platform_nodes",
        sa.Column("id", sa.String(128), primary_key=True),
        sa.Column("project_id", sa.String(36), nullable=False),
        sa.Column("started_at", sa.Float(), nullable=False),
        sa.Column("heartbeat_at", sa.Float(), nullable=False),
    )
    op.create_table(
        "rate_counters",
        sa.Column("key", sa.String(255), primary_key=True),
        sa.Column("window", sa.BigInteger(), primary_key=True),
        sa.Column("count", sa.Integer(), nullable=False),
    )
    if op.get_bind().dialect.name == "postgresql":
        _create_triggers()


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name, on, *_rest in TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON {on}")
        op.execute("DROP TRIGGER IF EXISTS wixhttp_build_waiting ON deployments")
        op.execute("DROP FUNCTION IF EXISTS wixhttp_announce()")
        op.execute("DROP FUNCTION IF EXISTS wixhttp_build_waiting()")
    op.drop_table("rate_counters")
    op.drop_table("platform_nodes")
    with op.batch_alter_table("deployments") as table:
        table.drop_column("claimed_by")
    with op.batch_alter_table("executions") as table:
        table.drop_index("ix_executions_queue")
        table.drop_column("claimed_by")
        table.drop_column("run_after")
