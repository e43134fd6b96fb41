"""Alembic's entry point, driven from code: the store passes its open connection (in a
transaction, holding the migration lock) as ``config.attributes["connection"]``; there is no
``alembic.ini`` and no URL here."""

from __future__ import annotations

from alembic import context

from wixhttp.platform.store.tables import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
