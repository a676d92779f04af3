"""Database plumbing: URL selection, migrations (up/down/up, concurrent starts), credential
rotation through Secrets Manager."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator

import boto3
import psycopg
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from moto import mock_aws
from pydantic import SecretStr
from sqlalchemy.pool import NullPool

from app.core.config import Settings
from app.core.db import database_url, make_engine, secret_credentials
from app.core.migrations import current_revision, downgrade, head_revision, upgrade
from app.main import create_app
from tests.app.conftest import JWT_SECRET, Api, flight_body, make_settings
from tests.app.server import REPO
from tests.conftest import ADMIN_CONNECT_TIMEOUT_SECONDS, PgServer

TABLES = {"users", "flights", "holds", "bookings", "passengers", "seat_claims"}


def test_database_url_selection() -> None:
    assert database_url(Settings(DATABASE_URL="sqlite:///./x.db")).render_as_string() == "sqlite:///./x.db"
    assert database_url(Settings()).render_as_string() == f"sqlite:///{REPO}/.local/booking.db"
    url = database_url(Settings(DATABASE_URL="postgresql://u:p@h:5432/d"))
    assert url.drivername == "postgresql+psycopg"
    assembled = database_url(
        Settings(
            DB_HOST="db.internal",
            DB_PORT=6543,
            DB_NAME="booking",
            DB_USERNAME="app",
            DB_PASSWORD=SecretStr("s3cr/et"),
        )
    )
    assert assembled.drivername == "postgresql+psycopg"
    assert (assembled.host, assembled.port, assembled.database) == ("db.internal", 6543, "booking")
    assert (assembled.username, assembled.password) == ("app", "s3cr/et")
    assert Settings(DB_HOST="db.internal").is_sqlite is False
    assert Settings().is_sqlite is True


def test_bad_settings_are_rejected_with_the_field_name() -> None:
    with pytest.raises(ValueError, match="DB_SSLMODE"):
        Settings(DB_SSLMODE="sometimes")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="WEB_CONCURRENCY"):
        Settings(WEB_CONCURRENCY=0)
    with pytest.raises(ValueError, match="JWT_SECRET"):
        Settings(JWT_SECRET=SecretStr("too-short"))


@pytest.mark.postgres
def test_db_star_variables_connect_to_postgres(pg_server: PgServer) -> None:
    pg_server.create_database("assembled")
    settings = Settings(
        DB_HOST=pg_server.host,
        DB_PORT=pg_server.port,
        DB_NAME="assembled",
        DB_USERNAME=pg_server.user,
        DB_PASSWORD=SecretStr(pg_server.password),
        DB_SSLMODE="prefer",
    )
    engine = make_engine(settings)
    with engine.connect() as conn:
        assert conn.scalar(sa.text("select current_database()")) == "assembled"
        assert conn.scalar(sa.text("show statement_timeout")) == "5s"
    engine.dispose()
    pg_server.drop_database("assembled")


def tables(engine: sa.Engine) -> set[str]:
    return set(sa.inspect(engine).get_table_names()) - {"alembic_version"}


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_migrations_upgrade_downgrade_upgrade(
    backend: str, request: pytest.FixtureRequest, tmp_path: object
) -> None:
    if backend == "postgres":
        pg: PgServer = request.getfixturevalue("pg_server")
        url = pg.create_database("updown")
    else:
        url = f"sqlite:///{tmp_path}/updown.db"
    engine = make_engine(make_settings(url), poolclass=NullPool)
    upgrade(engine)
    assert tables(engine) == TABLES
    downgrade(engine, "base")
    assert tables(engine) == set()
    upgrade(engine)
    assert tables(engine) == TABLES
    with engine.connect() as conn:
        assert current_revision(conn) == head_revision() == "0003"
    engine.dispose()


@pytest.mark.postgres
@pytest.mark.slow
def test_tasks_starting_together_migrate_safely(pg_server: PgServer) -> None:
    """Four `python -m app migrate` at once (like four ECS tasks): the advisory lock queues them."""
    url = pg_server.create_database("together")
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO), "DATABASE_URL": url}
    procs = [
        subprocess.Popen([sys.executable, "-m", "app", "migrate"], cwd=REPO, env=env, stderr=subprocess.PIPE)
        for _ in range(4)
    ]
    results = [(p.wait(timeout=120), p.stderr.read().decode() if p.stderr else "") for p in procs]
    assert [code for code, _ in results] == [0, 0, 0, 0], results
    engine = sa.create_engine(url)
    assert tables(engine) == TABLES
    engine.dispose()


# --- credential rotation ----------------------------------------------------------------------------


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(key, value)
    with mock_aws():
        yield


@pytest.mark.postgres
def test_password_rotation_costs_one_failed_attempt_not_an_outage(pg_server: PgServer, aws: None) -> None:
    pg_server.create_role("rotating_app", "first-password")
    pg_server.create_database("rotation", owner="rotating_app")
    sm = boto3.client("secretsmanager", region_name="us-east-1")
    arn = sm.create_secret(
        Name="rds!db-booking",
        SecretString=json.dumps({"username": "rotating_app", "password": "first-password"}),
    )["ARN"]
    settings = Settings(
        DB_HOST=pg_server.host,
        DB_PORT=pg_server.port,
        DB_NAME="rotation",
        DB_SECRET_ARN=arn,
        AWS_REGION="us-east-1",
        JWT_SECRET=SecretStr(JWT_SECRET),
    )
    migrator = make_engine(settings, poolclass=NullPool)
    upgrade(migrator)  # as the rotating role, through the secret
    migrator.dispose()

    app = create_app(settings)
    credentials = secret_credentials(app.state.engine)
    assert credentials is not None
    with TestClient(app) as client:
        api = Api(client, app)
        user = api.user("rotator@example.com")
        assert client.get("/flights").status_code == 200
        assert client.get("/flights/999/seats").status_code == 404  # the async pool, same secret cache
        assert credentials.fetches == 1, "credentials are cached, not fetched per connection"

        # RDS rotates: the role gets a new password and the secret a new version.
        with pg_server.connect() as conn:
            conn.execute("ALTER ROLE rotating_app PASSWORD 'second-password'")
        sm.put_secret_value(
            SecretId=arn, SecretString=json.dumps({"username": "rotating_app", "password": "second-password"})
        )
        with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
            psycopg.connect(
                host=pg_server.host,
                port=pg_server.port,
                user="rotating_app",
                password="first-password",
                dbname="rotation",
                connect_timeout=ADMIN_CONNECT_TIMEOUT_SECONDS,
            )
        # Open connections survive a password change; new ones (a scaled-out task, a recycled
        # connection) are where rotation bites, so drop the pools: first the hot paths' async pool.
        assert client.portal is not None
        client.portal.call(app.state.hot_db.close)
        assert client.get("/flights/999/seats").status_code == 404
        assert credentials.fetches == 2, "the async pool re-read the secret after the rejection"
        app.state.engine.dispose()
        assert client.get("/flights").status_code == 200
        assert credentials.fetches == 2
        assert client.get("/auth/me", headers=user).status_code == 200
        assert client.get("/readyz").status_code == 200


@pytest.mark.postgres
def test_unreadable_secret_is_503(pg_server: PgServer, aws: None) -> None:
    settings = Settings(
        DB_HOST=pg_server.host,
        DB_PORT=pg_server.port,
        DB_NAME="postgres",
        DB_SECRET_ARN="arn:aws:secretsmanager:us-east-1:123456789012:secret:missing-AbCdEf",
        AWS_REGION="us-east-1",
        JWT_SECRET=SecretStr(JWT_SECRET),
    )
    with TestClient(create_app(settings)) as client:
        r = client.get("/flights")
        assert r.status_code == 503
        assert r.headers["Retry-After"] == "5"
        assert client.get("/readyz").status_code == 503
        assert client.post("/flights", json=flight_body()).status_code == 401
