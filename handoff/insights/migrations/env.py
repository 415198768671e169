"""Alembic's environment for the insights database: runs the migrations on the connection the
consumer hands over (`config.attributes["connection"]`), or on the configured URL."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from handoff.insights.schema import metadata


def run_migrations() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(context.config.get_main_option("sqlalchemy.url"))
    with engine.connect() as own_connection:
        context.configure(connection=own_connection, target_metadata=metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()


run_migrations()
