"""The shared PostgreSQL fixture works: TCP on 127.0.0.1, password auth, fresh databases."""

import psycopg
import pytest
import sqlalchemy as sa

from tests.conftest import ADMIN_CONNECT_TIMEOUT_SECONDS, PgServer

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
            connect_timeout=ADMIN_CONNECT_TIMEOUT_SECONDS,
        )


def test_admin_connections_tolerate_a_loaded_machine(
    pg_server: PgServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No hard 5 s connect timeout: on a busy 2-core machine a new connection can take longer."""
    seen: dict[str, object] = {}
    real_connect = psycopg.connect

    def spy(*args: object, **kwargs: object) -> psycopg.Connection:
        seen.update(kwargs)
        return real_connect(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(psycopg, "connect", spy)
    pg_server.connect().close()
    assert isinstance(seen["connect_timeout"], int)
    assert seen["connect_timeout"] >= 30
