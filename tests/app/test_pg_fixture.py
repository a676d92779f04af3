"""The shared PostgreSQL fixture works: TCP on 127.0.0.1, password auth, fresh databases."""

import psycopg
import pytest
import sqlalchemy as sa

from tests.conftest import PgServer

pytestmark = pytest.mark.postgres


def test_create_database_gives_a_working_url(pg_server: PgServer) -> None:
    url = pg_server.create_database("fixture_check")
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        assert conn.execute(sa.text("select current_database()")).scalar() == "fixture_check"
    engine.dispose()
    assert pg_server.host == "127.0.0.1"


def test_password_is_required(pg_server: PgServer) -> None:
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(
            host=pg_server.host,
            port=pg_server.port,
            user=pg_server.user,
            password="wrong",
            dbname="postgres",
            connect_timeout=5,
        )
