"""The `python -m app` commands: migrate, create-admin, seed-demo, healthcheck, serve."""

from __future__ import annotations

import http.server
import json
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from app.cli import main
from app.models import Flight, User
from tests.app.conftest import BACKENDS, JWT_SECRET
from tests.app.server import REPO, live_server
from tests.conftest import PgServer, free_port


@pytest.fixture(params=BACKENDS)
def empty_db(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """An empty database (no schema yet), exported as DATABASE_URL for the CLI."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'cli.db'}"
    else:
        pg: PgServer = request.getfixturevalue("pg_server")
        url = pg.create_database("cli_test")
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("JWT_SECRET", JWT_SECRET)
    yield url
    if request.param == "postgres":
        request.getfixturevalue("pg_server").drop_database("cli_test")


def query(url: str, stmt: sa.Select[Any]) -> list[Any]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return list(conn.scalars(stmt))
    finally:
        engine.dispose()


def test_migrate_is_idempotent(empty_db: str) -> None:
    assert main(["migrate"]) == 0
    assert main(["migrate"]) == 0
    assert query(empty_db, sa.select(sa.text("version_num")).select_from(sa.text("alembic_version"))) == [
        "0003"
    ]


def test_create_admin_then_log_in_as_admin(empty_db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["migrate"]) == 0
    assert main(["create-admin", "--email", "Root@Example.com", "--password", "admin-pass-1"]) == 0
    assert "admin root@example.com created" in capsys.readouterr().out
    assert query(empty_db, sa.select(User.is_admin).where(User.email == "root@example.com")) == [True]
    # Running it again resets the password and keeps a single user.
    assert main(["create-admin", "--email", "root@example.com", "--password", "admin-pass-2"]) == 0
    assert "updated" in capsys.readouterr().out
    assert len(query(empty_db, sa.select(User.id))) == 1

    from fastapi.testclient import TestClient

    from app.main import create_app
    from tests.app.conftest import flight_body, make_settings

    with TestClient(create_app(make_settings(empty_db))) as client:
        r = client.post("/auth/token", data={"username": "root@example.com", "password": "admin-pass-2"})
        assert r.status_code == 200
        headers = {"Authorization": f"Bearer {r.json()['access_token']}"}
        assert client.get("/auth/me", headers=headers).json()["is_admin"] is True
        assert client.post("/flights", json=flight_body(), headers=headers).status_code == 201


def test_create_admin_rejects_bad_input(empty_db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["migrate"]) == 0
    assert main(["create-admin", "--email", "nope", "--password", "admin-pass-1"]) == 2
    assert "email" in capsys.readouterr().err
    assert main(["create-admin", "--email", "a@example.com", "--password", "short"]) == 2
    assert "password" in capsys.readouterr().err


def test_create_admin_before_migrate_explains(empty_db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["create-admin", "--email", "a@example.com", "--password", "admin-pass-1"]) == 1
    assert "python -m app migrate" in capsys.readouterr().err


def test_seed_demo_is_idempotent(empty_db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["migrate"]) == 0
    assert main(["seed-demo"]) == 0
    assert "5 flights added" in capsys.readouterr().out
    assert main(["seed-demo"]) == 0
    assert "0 flights added" in capsys.readouterr().out
    assert len(query(empty_db, sa.select(Flight.id))) == 5


@pytest.mark.parametrize(
    "command", [["create-admin", "--email", "a@example.com", "--password", "pw-123456"], ["seed-demo"]]
)
def test_errors_name_the_database_without_its_password(
    empty_db: str, command: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """Before `migrate` the tables are missing: the error says which database was used."""
    assert main(command) == 1
    err = capsys.readouterr().err
    shown = sa.make_url(empty_db)
    assert shown.database is not None and shown.database in err
    if shown.password:
        assert str(shown.password) not in err
        assert "***" in err
    assert "python -m app migrate" in err


def test_migrate_error_names_the_database(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    port = free_port()  # nothing listens there
    monkeypatch.setenv("DATABASE_URL", f"postgresql://booker:s3cret-pw@127.0.0.1:{port}/bookingdb")
    monkeypatch.setenv("DB_WAIT_SECONDS", "0")
    assert main(["migrate"]) == 1
    err = capsys.readouterr().err
    assert f"127.0.0.1:{port}/bookingdb" in err
    assert "s3cret-pw" not in err


def test_malformed_database_url_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "not a database url")
    for command in (["migrate"], ["seed-demo"]):
        with pytest.raises(SystemExit, match="DATABASE_URL is not a database URL"):
            main(command)


def test_commands_default_to_the_database_run_local_serves(tmp_path: Path) -> None:
    """Without DATABASE_URL/DB_HOST every command uses the checkout's .local/booking.db, which is
    what scripts/run-local serves (it no longer picks a file of its own), from any directory."""
    from app.core.config import PROJECT_ROOT, default_sqlite_url

    assert default_sqlite_url() == f"sqlite:///{PROJECT_ROOT / '.local' / 'booking.db'}"
    assert PROJECT_ROOT == REPO
    # Outside a checkout (the image holds app/ only) the one writable place is /tmp.
    assert default_sqlite_url(tmp_path) == "sqlite:////tmp/booking.db"
    lines = (REPO / "scripts" / "run-local").read_text().splitlines()
    script = [line for line in lines if not line.startswith("#")]
    assert not any("DATABASE_URL=" in line for line in script)


class _Status(http.server.BaseHTTPRequestHandler):
    status = 200

    def do_GET(self) -> None:
        self.send_response(self.status if self.path == "/healthz" else 404)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.mark.parametrize(("status", "code"), [(200, 0), (503, 1), (500, 1)])
def test_healthcheck_exit_code_follows_healthz(
    status: int, code: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    handler = type("Handler", (_Status,), {"status": status})
    server = http.server.HTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        monkeypatch.setenv("PORT", str(server.server_address[1]))
        assert main(["healthcheck"]) == code
    finally:
        server.shutdown()


def test_healthcheck_fails_when_nothing_listens(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORT", str(free_port()))
    assert main(["healthcheck"]) == 1


@pytest.mark.slow
def test_serve_migrates_serves_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    """`python -m app serve` on a fresh SQLite file: migrations run, the health check command
    passes against it, and SIGTERM ends it with exit code 0 (asserted by live_server)."""
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'serve.db'}", "JWT_SECRET": JWT_SECRET}
    with live_server(env, tmp_path / "serve.log", workers=1) as server:
        assert httpx.get(f"{server.url}/readyz").json()["status"] == "ready"
        check = subprocess.run(
            [sys.executable, "-m", "app", "healthcheck"],
            cwd=REPO,
            env={"PORT": str(server.port), "PATH": "/usr/bin"},
            timeout=10,
        )
        assert check.returncode == 0
        r = httpx.get(f"{server.url}/healthz", headers={"X-Request-ID": "from-alb-1"})
        assert r.headers["x-request-id"] == "from-alb-1"
        # Through a real HTTP server too: an oversized body, declared or chunked, is a 413.
        json_type = {"content-type": "application/json"}
        r = httpx.post(f"{server.url}/auth/register", content=b" " * (8 * 1024 * 1024), headers=json_type)
        assert r.status_code == 413
        chunked = (b" " * 8192 for _ in range(64))
        r = httpx.post(f"{server.url}/auth/register", content=chunked, headers=json_type)
        assert r.status_code == 413
        assert httpx.get(f"{server.url}/healthz").status_code == 200
    assert server.process.returncode == 0
    log = server.log()
    entries = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    assert any(e.get("request_id") == "from-alb-1" and e.get("route") == "/healthz" for e in entries)
    assert "Shutting down: Master" in log
    assert "Bad file descriptor" not in log


@pytest.mark.slow
def test_serve_stops_promptly_and_cleanly_on_ctrl_c(tmp_path: Path) -> None:
    """SIGINT to the gunicorn master alone (Ctrl-C) stops `serve` like SIGTERM: in well under the
    20 s graceful timeout, exit code 0, and no "SIGKILL ... out of memory" or "Bad file descriptor"
    lines (gunicorn's own SIGINT handling produced both, after waiting the full timeout)."""
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'serve.db'}", "JWT_SECRET": JWT_SECRET}
    with live_server(env, tmp_path / "serve.log", workers=1) as server:
        assert httpx.get(f"{server.url}/healthz").status_code == 200
        started = time.monotonic()
        server.process.send_signal(signal.SIGINT)
        server.process.wait(timeout=30)
        elapsed = time.monotonic() - started
    log = server.log()
    assert server.process.returncode == 0, log
    assert elapsed < 10, log
    for misleading in ("SIGKILL", "out of memory", "Bad file descriptor"):
        assert misleading not in log, log
    assert "Shutting down: Master" in log


def test_invalid_environment_stops_with_the_variable_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JWT_SECRET", "short")
    with pytest.raises(SystemExit, match=r"invalid environment: JWT_SECRET: .*at least 32"):
        main(["seed-demo"])
    monkeypatch.setenv("JWT_SECRET", JWT_SECRET)
    monkeypatch.setenv("DB_SSLMODE", "maybe")
    with pytest.raises(SystemExit, match="DB_SSLMODE"):
        main(["migrate"])
