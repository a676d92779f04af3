"""The release gate's invocations of a new version, against the test PostgreSQL: `{"booking": "migrate"}`
runs the migrations under the advisory lock, then an ALB-shaped `GET /readyz` must answer 200.

(Split from tests/app/test_lambda_handler.py, which holds the ALB request flow, to keep files short.)
"""

from __future__ import annotations

import io
import json
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from psycopg import sql

from app.core.config import Settings
from app.core.migrations import MIGRATION_LOCK_KEY, head_revision
from app.lambda_handler import MigrationFailed, make_handler
from app.main import create_app
from components.lambda_release import Release, readiness_event, run_gate
from tests.app.conftest import make_settings
from tests.app.test_lambda_handler import Client, lambda_env_settings
from tests.conftest import PgServer

pytestmark = pytest.mark.postgres

MIGRATE = {"booking": "migrate"}


@pytest.fixture
def empty_db(pg_server: PgServer) -> Iterator[tuple[str, str]]:
    """A database without any schema: what a brand-new stack's RDS instance holds."""
    name = f"m_{uuid.uuid4().hex[:12]}"
    url = pg_server.create_database(name)
    yield name, url
    pg_server.drop_database(name)


def _advisory_locks(pg_server: PgServer, dbname: str) -> int:
    with pg_server.connect(dbname) as conn:
        row = conn.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'").fetchone()
    assert row is not None
    return int(row[0])


def test_migrate_brings_an_empty_database_to_head_then_readyz_is_200(empty_db: tuple[str, str]) -> None:
    _, url = empty_db
    application = create_app(lambda_env_settings(url))
    handler = make_handler(application)
    client = Client(handler)
    try:
        before = client.request("GET", "/readyz")
        assert before.status == 503, "a version must not look ready before its migrations ran"

        result = handler(dict(MIGRATE), None)
        assert result == {"booking": "migrate", "status": "ok", "revision": head_revision()}
        ready = client.request("GET", "/readyz")
        assert ready.status == 200 and ready.json()["revision"] == head_revision()
        # The very event the release gate sends (components/lambda_release.py) gets the same answer.
        gate = handler(readiness_event("us-east-1"), None)
        assert gate["statusCode"] == 200 and gate["statusDescription"] == "200 OK", gate
        # A retried release (same version invoked again) finds nothing to do and still answers ok.
        assert handler(dict(MIGRATE), None)["revision"] == head_revision()
    finally:
        application.state.engine.dispose()


def test_migrate_waits_for_the_advisory_lock(pg_server: PgServer, empty_db: tuple[str, str]) -> None:
    """Another release (or a Fargate task's `migrate`) holding the lock makes this one queue behind it."""
    dbname, url = empty_db
    application = create_app(lambda_env_settings(url))
    handler = make_handler(application)
    outcome: list[Any] = []

    def invoke() -> None:
        try:
            outcome.append(handler(dict(MIGRATE), None))
        except Exception as err:  # reported below, not swallowed
            outcome.append(err)

    holder = pg_server.connect(dbname)
    try:
        holder.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK_KEY,))
        worker = threading.Thread(target=invoke, daemon=True)
        worker.start()
        time.sleep(2)
        assert worker.is_alive() and not outcome, "the migration ran without waiting for the lock"
        holder.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK_KEY,))
        worker.join(timeout=300)
        assert outcome and outcome[0] == {"booking": "migrate", "status": "ok", "revision": head_revision()}
    finally:
        holder.close()
        application.state.engine.dispose()


def test_failed_migration_raises_a_clear_error_and_releases_the_lock(
    pg_server: PgServer, empty_db: tuple[str, str]
) -> None:
    """The DDL fails (a read-only database here): the handler raises MigrationFailed naming the target
    revision and the database's reason, which Lambda returns as a function error; the lock is free."""
    dbname, url = empty_db
    with pg_server.connect() as conn:
        conn.execute(
            sql.SQL("ALTER DATABASE {} SET default_transaction_read_only = on").format(sql.Identifier(dbname))
        )
    application = create_app(lambda_env_settings(url))
    try:
        with pytest.raises(MigrationFailed) as failed:
            make_handler(application)(dict(MIGRATE), None)
        message = str(failed.value)
        assert message.startswith(f"migration to {head_revision()} failed:"), message
        assert "read-only" in message, message
        assert _advisory_locks(pg_server, dbname) == 0, "a failed migration must not keep the lock"
    finally:
        application.state.engine.dispose()


def test_unknown_action_is_refused(empty_db: tuple[str, str]) -> None:
    application = create_app(lambda_env_settings(empty_db[1]))
    try:
        with pytest.raises(ValueError, match="unknown booking action 'drop'"):
            make_handler(application)({"booking": "drop"}, None)
    finally:
        application.state.engine.dispose()


@pytest.mark.parametrize(("on_lambda", "status"), [(True, 404), (False, 200)])
def test_metrics_are_not_served_on_lambda(empty_db: tuple[str, str], on_lambda: bool, status: int) -> None:
    """/metrics from inside the VPC (no X-Forwarded-For): 404 with the Lambda settings, 200 on Fargate."""
    settings: Settings = lambda_env_settings(empty_db[1]) if on_lambda else make_settings(empty_db[1])
    application = create_app(settings)
    try:
        with TestClient(application) as client:
            assert client.get("/metrics").status_code == status
    finally:
        application.state.engine.dispose()


def test_metrics_flag_from_the_functions_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The function's environment says METRICS_ENABLED=false; the Lambda default agrees without it."""
    monkeypatch.setenv("METRICS_ENABLED", "false")
    assert Settings().METRICS_ENABLED is False
    monkeypatch.delenv("METRICS_ENABLED")
    assert Settings().METRICS_ENABLED is True


class InProcessLambda:
    """A Lambda client whose Invoke runs `handler` in this process: the answer is shaped as Lambda's
    (`FunctionError: "Unhandled"` and awslambdaric's error object, `bootstrap.make_error`:
    errorMessage/errorType/requestId/stackTrace, when the handler raises)."""

    class exceptions:  # botocore clients name it so
        class ResourceNotFoundException(Exception):
            pass

    def __init__(self, handler: Any) -> None:
        self.handler = handler
        self.invoked: list[tuple[str, dict[str, Any]]] = []

    def get_function_configuration(self, **_: Any) -> dict[str, Any]:
        return {"State": "Active"}

    def invoke(
        self, *, FunctionName: str, Qualifier: str, InvocationType: str, Payload: bytes
    ) -> dict[str, Any]:
        event = json.loads(Payload)
        self.invoked.append((Qualifier, event))
        try:
            return {"StatusCode": 200, "Payload": io.BytesIO(json.dumps(self.handler(event, None)).encode())}
        except Exception as err:
            error = {
                "errorMessage": str(err),
                "errorType": type(err).__name__,
                "requestId": "",
                "stackTrace": [],
            }
            return {
                "StatusCode": 200,
                "FunctionError": "Unhandled",
                "Payload": io.BytesIO(json.dumps(error).encode()),
            }


class RecordingEvents:
    def __init__(self) -> None:
        self.details: list[dict[str, Any]] = []

    def put_events(self, *, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        self.details += [json.loads(e["Detail"]) for e in Entries]
        return {"FailedEntryCount": 0, "Entries": [{"EventId": "1"}]}


RELEASE = Release("us-east-1", "dev", "booking", "booking-dev-api", "live", "7", "6", None)


def test_gate_releases_a_version_that_migrates_an_empty_database(empty_db: tuple[str, str]) -> None:
    application = create_app(lambda_env_settings(empty_db[1]))
    lambda_client, events = InProcessLambda(make_handler(application)), RecordingEvents()
    try:
        step = run_gate(lambda_client, events, RELEASE, sleep=lambda _s: None)
    finally:
        application.state.engine.dispose()
    assert step.ok, step.message
    assert [q for q, _ in lambda_client.invoked] == ["7", "7"], "only the new version is invoked"
    assert [e["eventName"] for e in events.details] == ["STARTED"]


def test_gate_stops_a_version_whose_migration_fails(pg_server: PgServer, empty_db: tuple[str, str]) -> None:
    """The handler's MigrationFailed reaches `up`'s message and the FAILED e-mail; /readyz is not asked."""
    dbname, url = empty_db
    with pg_server.connect() as conn:
        conn.execute(
            sql.SQL("ALTER DATABASE {} SET default_transaction_read_only = on").format(sql.Identifier(dbname))
        )
    application = create_app(lambda_env_settings(url))
    lambda_client, events = InProcessLambda(make_handler(application)), RecordingEvents()
    try:
        step = run_gate(lambda_client, events, RELEASE, sleep=lambda _s: None)
    finally:
        application.state.engine.dispose()
    assert not step.ok
    assert "NOT released, alias live stays on 6" in step.message
    assert f"MigrationFailed: migration to {head_revision()} failed" in step.message
    assert len(lambda_client.invoked) == 1
    assert [e["eventName"] for e in events.details] == ["STARTED", "FAILED"]
    assert "read-only" in events.details[-1]["reason"]
