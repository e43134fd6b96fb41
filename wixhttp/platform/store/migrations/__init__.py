"""The schema's versions, for Alembic: ``env.py`` (run on the connection the store hands over)
and one module per revision under ``versions/``. :mod:`wixhttp.platform.store.schema` runs them."""
