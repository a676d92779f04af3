"""Alembic environment: runs on the connection the app hands over (under its advisory lock), or on
one made from the same settings when the alembic CLI is used directly."""

from alembic import context
from sqlalchemy import Connection
from sqlalchemy.pool import NullPool

from app.core.config import get_settings
from app.core.db import make_engine
from app.models import Base


def run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported; run them against a database")

given = context.config.attributes.get("connection")
if given is not None:
    run(given)
else:
    engine = make_engine(get_settings(), poolclass=NullPool)
    with engine.connect() as conn:
        run(conn)
    engine.dispose()
