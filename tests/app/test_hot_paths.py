"""The PostgreSQL hot paths (app/hotsql.py on the async pool): taken when they should be, same answers
as the full rules, declined to the full rules when a rule is not plainly met, and a sane query plan."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.pool import NullPool

from app.api.routes import bookings as bookings_route
from app.api.routes import flights as flights_route
from app.core.db import make_engine
from app.core.migrations import upgrade
from app.hotsql import BOOK_SQL, pgbench_sql
from app.main import create_app
from app.models import SeatClaim
from tests.app.conftest import Api, make_settings
from tests.conftest import PgServer

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_api(pg_server: PgServer, pg_template: str) -> Any:
    name = "hot_" + datetime.now(UTC).strftime("%H%M%S%f")
    url = pg_server.create_database(name, template=pg_template)
    app = create_app(make_settings(url))
    with TestClient(app) as client:
        yield Api(client, app)
    pg_server.drop_database(name)


def _no_full_path(*_args: Any, **_kwargs: Any) -> Any:
    raise AssertionError("the full (sync) path ran")


def body(flight_id: int, *seats: str) -> dict[str, Any]:
    return {"flight_id": flight_id, "passengers": [{"seat": s, "name": f"  P {s} "} for s in seats]}


def test_plain_booking_is_one_statement_and_answers_like_the_full_path(
    pg_api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    admin, user = pg_api.admin(), pg_api.user()
    flight = pg_api.flight(admin, rows=3, seat_letters="ABC", fare="120.50")
    with monkeypatch.context() as m:
        m.setattr(bookings_route, "_book_sync", _no_full_path)
        m.setattr(flights_route, "_seat_map_sync", _no_full_path)
        r = pg_api.client.post(
            "/bookings", json=body(flight["id"], "1A", "2C"), headers={**user, "Idempotency-Key": "k1"}
        )
        assert r.status_code == 201, r.text
        seat_map = pg_api.client.get(f"/flights/{flight['id']}/seats")
    assert seat_map.status_code == 200
    assert [s["seat"] for s in seat_map.json()["seats"] if not s["available"]] == ["1A", "2C"]
    created = r.json()
    assert created["total_fare"] == "241.00"
    assert created["passengers"] == [{"seat": "1A", "name": "P 1A"}, {"seat": "2C", "name": "P 2C"}]
    # What the ORM path returns for the same booking, field for field (timestamps included).
    assert pg_api.client.get(f"/bookings/{created['id']}", headers=user).json() == created
    # The retry is answered by the full rules: replayed, same body.
    again = pg_api.client.post(
        "/bookings", json=body(flight["id"], "1A", "2C"), headers={**user, "Idempotency-Key": "k1"}
    )
    assert (again.status_code, again.headers["Idempotent-Replayed"], again.json()) == (201, "true", created)


@pytest.mark.parametrize(
    ("case", "status", "needle"),
    [
        ("taken", 409, "seats not available: 1A"),
        ("missing seat", 422, "seats 9Z do not exist"),
        ("departed", 409, "has already departed"),
        ("unknown flight", 404, "not found"),
        ("deleted user", 401, "invalid or expired"),
        ("cancelled flight", 409, "is cancelled"),
    ],
)
def test_hot_path_declines_to_the_full_rules(pg_api: Api, case: str, status: int, needle: str) -> None:
    admin, user = pg_api.admin(), pg_api.user()
    departure = (
        datetime.now(UTC) - timedelta(hours=1) if case == "departed" else datetime(2031, 1, 1, tzinfo=UTC)
    )
    flight = pg_api.flight(
        admin, departure_at=departure.isoformat(), arrival_at=(departure + timedelta(hours=2)).isoformat()
    )
    if case == "taken":
        assert (
            pg_api.client.post("/bookings", json=body(flight["id"], "1A"), headers=admin).status_code == 201
        )
    if case == "cancelled flight":
        assert pg_api.client.post(f"/flights/{flight['id']}/cancel", headers=admin).status_code == 200
    if case == "deleted user":
        with pg_api.app.state.engine.begin() as conn:
            conn.execute(sa.text("DELETE FROM users WHERE email = 'user2@example.com'"))
    flight_id = 4242 if case == "unknown flight" else flight["id"]
    seats = ["9Z"] if case == "missing seat" else ["1A"]
    r = pg_api.client.post("/bookings", json=body(flight_id, *seats), headers=user)
    assert r.status_code == status, r.text
    assert needle in r.json()["detail"]


def test_expired_claim_is_swept_by_the_full_path(pg_api: Api) -> None:
    admin, user = pg_api.admin(), pg_api.user()
    flight = pg_api.flight(admin)
    with pg_api.app.state.sessionmaker() as session, session.begin():
        hold = "expired-hold"
        session.execute(
            sa.text(
                "INSERT INTO holds (id, flight_id, user_id, seats, expires_at, created_at) "
                "VALUES (:h, :f, 1, '1A', now() - interval '1 minute', now())"
            ),
            {"h": hold, "f": flight["id"]},
        )
        session.add(
            SeatClaim(
                flight_id=flight["id"],
                seat="1A",
                hold_id=hold,
                expires_at=datetime.now(UTC) - timedelta(minutes=1),
            )
        )
    r = pg_api.client.post("/bookings", json=body(flight["id"], "1A"), headers=user)
    assert r.status_code == 201, r.text


def test_idempotency_lookup_uses_the_unique_index_on_a_fresh_database(pg_server: PgServer) -> None:
    """Freshly migrated, never ANALYZEd: the planner must still probe (user_id, idempotency_key)."""
    url = pg_server.create_database("fresh_plan")
    engine = make_engine(make_settings(url), poolclass=NullPool)
    upgrade(engine)
    engine.dispose()
    params = {
        "user_id": 1,
        "flight_id": 1,
        "now": datetime.now(UTC),
        "key": "k",
        "seats": ["1A"],
        "names": ["P"],
        "n": 1,
        "reference": "ABCDEFGH",
        "hash": "0" * 64,
    }
    with pg_server.connect("fresh_plan") as conn:
        indexes = {
            row[0] for row in conn.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'bookings'")
        }
        assert "ix_bookings_user_id" not in indexes, "redundant with uq_bookings_user_idempotency_key"
        plans = [_explain(conn, BOOK_SQL, params)]
        lookup = "SELECT id FROM bookings WHERE user_id = %(user_id)s AND idempotency_key = %(key)s"
        plans.append(_explain(conn, lookup, params))
    for plan in plans:
        scans = [n for n in _nodes(plan) if n.get("Relation Name") == "bookings" and "Scan" in n["Node Type"]]
        assert scans, json.dumps(plan)
        assert all(n.get("Index Name") == "uq_bookings_user_idempotency_key" for n in scans), json.dumps(plan)


def _explain(conn: Any, sql: str, params: dict[str, Any]) -> Any:
    row = conn.execute("EXPLAIN (FORMAT JSON) " + sql, params).fetchone()
    assert row is not None
    return row[0]


def _nodes(plan: Any) -> list[dict[str, Any]]:
    if isinstance(plan, list):
        return [n for item in plan for n in _nodes(item)]
    if not isinstance(plan, dict):
        return []
    found = [plan] if "Node Type" in plan else []
    return found + [n for value in plan.values() for n in _nodes(value)]


def test_pgbench_runs_the_same_statement() -> None:
    script = pgbench_sql(BOOK_SQL)
    assert "%(" not in script and ":user_id" in script and ":seats::text[]" in script
    assert script.count("INSERT INTO") == BOOK_SQL.count("INSERT INTO") == 3


def test_hot_seat_map_is_the_orm_seat_map(pg_api: Api) -> None:
    admin, user = pg_api.admin(), pg_api.user()
    flight = pg_api.flight(admin, rows=4, seat_letters="ABCD")
    booked = pg_api.client.post("/bookings", json=body(flight["id"], "2B", "4D"), headers=user)
    assert booked.status_code == 201
    hot = pg_api.client.get(f"/flights/{flight['id']}/seats")
    assert hot.headers["content-type"] == "application/json"
    orm = flights_route._seat_map_sync(pg_api.app.state.sessionmaker, flight["id"])
    assert hot.json() == json.loads(orm)
    assert [s["seat"] for s in hot.json()["seats"] if not s["available"]] == ["2B", "4D"]
