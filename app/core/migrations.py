"""Running Alembic from the app: upgrade under a PostgreSQL advisory lock, and revision checks."""

from __future__ import annotations

import logging
from functools import lru_cache
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

log = logging.getLogger("booking.migrations")

APP_DIR = Path(__file__).resolve().parent.parent
# Any fixed 64-bit number shared by every task of this app; all of them queue on it.
MIGRATION_LOCK_KEY = 0x626F6F6B696E67  # "booking"


def alembic_config(connection: sa.Connection | None = None) -> Config:
    cfg = Config(str(APP_DIR / "alembic.ini"))
    cfg.set_main_option("script_location", str(APP_DIR / "migrations"))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


@lru_cache
def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(conn: sa.Connection) -> str | None:
    return MigrationContext.configure(conn).get_current_revision()


def _run(engine: Engine, action: str, revision: str) -> None:
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            # The lock wait and a long migration must not hit the app's statement timeout.
            conn.execute(sa.text("SET statement_timeout = 0"))
            conn.execute(sa.text("SET lock_timeout = 0"))
            conn.execute(sa.text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
            conn.commit()
        try:
            cfg = alembic_config(conn)
            if action == "upgrade":
                command.upgrade(cfg, revision)
            else:
                command.downgrade(cfg, revision)
            conn.commit()
        finally:
            if conn.dialect.name == "postgresql":
                conn.rollback()
                conn.execute(sa.text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK_KEY})
                conn.commit()


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Upgrade to `revision`; safe when many processes do it at once (they queue on the lock)."""
    _run(engine, "upgrade", revision)
    log.info("database schema at %s", revision)


def downgrade(engine: Engine, revision: str) -> None:
    _run(engine, "downgrade", revision)
