"""Fixtures for the booking API tests: a fresh, migrated database per test on SQLite and on
PostgreSQL, an app built on it, and a small client helper."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.pool import NullPool

from app.core import security
from app.core.config import Settings
from app.core.db import make_engine
from app.core.migrations import upgrade
from app.main import create_app
from app.models import User
from tests.conftest import PgServer

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
]
JWT_SECRET = "test-jwt-secret-of-sufficient-length"
PRODUCTION_HASHER = security.password_hasher


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Same algorithm (argon2id) with tiny cost parameters, so registering users is fast in tests."""
    monkeypatch.setattr(
        security, "password_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    )
    security._dummy_hash.cache_clear()


def make_settings(url: str, **overrides: Any) -> Settings:
    # A generous connect timeout: a loaded machine is slow, not down (outage tests set their own).
    values: dict[str, Any] = {"DATABASE_URL": url, "JWT_SECRET": JWT_SECRET, "DB_CONNECT_TIMEOUT_SECONDS": 20}
    values.update(overrides)
    return Settings(**values)


def migrate(url: str) -> None:
    engine = make_engine(make_settings(url), poolclass=NullPool)
    upgrade(engine)
    engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    migrate(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def pg_template(pg_server: PgServer) -> str:
    name = "booking_template"
    migrate(pg_server.create_database(name))
    return name


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh database at the newest migration, on each backend."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        target = tmp_path / "booking.db"
        shutil.copyfile(template, target)
        yield f"sqlite:///{target}"
    else:
        pg: PgServer = request.getfixturevalue("pg_server")
        name = f"t_{uuid.uuid4().hex[:12]}"
        yield pg.create_database(name, template=request.getfixturevalue("pg_template"))
        pg.drop_database(name)


@pytest.fixture
def settings(db_url: str) -> Settings:
    return make_settings(db_url)


@pytest.fixture
def app(settings: Settings) -> FastAPI:
    return create_app(settings)


@dataclass
class Api:
    """A TestClient plus shortcuts for the steps most tests need."""

    client: TestClient
    app: FastAPI
    _users: int = field(default=0)

    def user(self, email: str | None = None, password: str = "correct-horse-1") -> dict[str, str]:  # noqa: S107
        """Register a user and return its Authorization header."""
        self._users += 1
        email = email or f"user{self._users}@example.com"
        r = self.client.post("/auth/register", json={"email": email, "password": password})
        assert r.status_code == 201, r.text
        return self.login(email, password)

    def login(self, email: str, password: str) -> dict[str, str]:
        r = self.client.post("/auth/token", data={"username": email, "password": password})
        assert r.status_code == 200, r.text
        return {"Authorization": f"Bearer {r.json()['access_token']}"}

    def admin(self, email: str = "admin@example.com") -> dict[str, str]:
        headers = self.user(email)
        with self.app.state.sessionmaker() as session, session.begin():
            session.execute(sa.update(User).where(User.email == email).values(is_admin=True))
        return headers

    def flight(self, admin: dict[str, str], **overrides: Any) -> dict[str, Any]:
        r = self.client.post("/flights", json=flight_body(**overrides), headers=admin)
        assert r.status_code == 201, r.text
        result: dict[str, Any] = r.json()
        return result


def flight_body(**overrides: Any) -> dict[str, Any]:
    departure = datetime(2031, 5, 1, 9, 0, tzinfo=UTC)
    body: dict[str, Any] = {
        "number": "BK100",
        "origin": "LHR",
        "destination": "JFK",
        "departure_at": departure.isoformat(),
        "arrival_at": (departure + timedelta(hours=8)).isoformat(),
        "rows": 3,
        "seat_letters": "ABC",
        "fare": "100.00",
    }
    body.update(overrides)
    return body


@pytest.fixture
def api(app: FastAPI) -> Iterator[Api]:
    with TestClient(app) as client:
        yield Api(client, app)


ApiFactory = Callable[..., Api]
