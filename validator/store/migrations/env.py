"""Alembic environment: always run by validator.store.migrate with an open connection (no alembic.ini needed)."""

from __future__ import annotations

from alembic import context

from validator.store.tables import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations with `medval db upgrade` (validator.store.migrate), which supplies the connection")

context.configure(connection=connection, target_metadata=metadata, render_as_batch=connection.dialect.name == "sqlite")
with context.begin_transaction():
    context.run_migrations()
