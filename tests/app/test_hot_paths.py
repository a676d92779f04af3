"""The PostgreSQL hot paths (app/hotsql.py on the async pool): taken when they should be, same answers
as the full rules, declined to the full rules when a rule is not plainly met, and a sane query plan."""

from __future__ import annotations

import asyncio
import json
import re
import socket
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.pool import NullPool

from app.api.routes import bookings as bookings_route
from app.api.routes import flights as flights_route
from app.core.asyncdb import AsyncDatabase
from app.core.db import make_engine
from app.core.migrations import upgrade
from app.hotsql import BOOK, BOOK_SQL, SEAT_MAP, pgbench_sql
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


async def _generic_plans(settings: Any, values: dict[str, str]) -> list[Any]:
    """EXPLAIN (FORMAT JSON) of BOOK_SQL's and SEAT_MAP_SQL's generic plans, on a connection the hot
    pool itself opens (its session settings), prepared as asyncpg prepares them ($n parameters)."""
    conn = await AsyncDatabase(settings, None).connect()
    plans = []
    try:
        for i, statement in enumerate((BOOK, SEAT_MAP)):
            await conn.execute(f"PREPARE hot{i} AS {statement.sql}")
            args = ", ".join("'" + values[n].replace("'", "''") + "'" for n in statement.names)
            plans.append(json.loads(await conn.fetchval(f"EXPLAIN (FORMAT JSON) EXECUTE hot{i}({args})")))
    finally:
        await conn.close()
    return plans


def _seed_full_flights(conn: Any) -> None:
    """What a database in service looks like to the planner: many flights, a full one, statistics."""
    conn.execute(
        "INSERT INTO users (email, hashed_password, is_admin, created_at) "
        "SELECT 'u' || g || '@example.com', 'x', false, now() FROM generate_series(1, 50) g"
    )
    conn.execute(
        "INSERT INTO flights (number, origin, destination, departure_at, arrival_at, seat_rows, "
        "seat_letters, fare, created_at, status) SELECT 'BK' || g, 'LIS', 'OPO', '2031-06-01T08:00Z', "
        "'2031-06-01T09:00Z', 99, 'ABCDEFGHJK', 59.90, now(), 'scheduled' FROM generate_series(1, 5000) g"
    )
    conn.execute(
        "INSERT INTO bookings (reference, user_id, flight_id, status, total_fare, idempotency_key, "
        "request_hash, created_at) SELECT 'R' || g, 1 + g % 50, 1 + g % 20, 'confirmed', 59.90, 'k' || g, "
        "'h', now() FROM generate_series(1, 19800) g"
    )
    conn.execute(  # flights 1-20 full: 990 claims each
        "INSERT INTO seat_claims (flight_id, seat, booking_id) SELECT b.flight_id, r || l, min(b.id) "
        "FROM bookings b, generate_series(1, 99) r, unnest(string_to_array('A,B,C,D,E,F,G,H,J,K', ',')) l "
        "WHERE b.id <= 20 GROUP BY 1, 2"
    )
    conn.execute("ANALYZE")


def _seed_a_few_rows(conn: Any) -> None:
    """A young database: a page of each table, ANALYZEd (the planner then prefers sequential scans)."""
    conn.execute(
        "INSERT INTO users (email, hashed_password, is_admin, created_at) VALUES ('u@example.com', 'x', "
        "false, now())"
    )
    conn.execute(
        "INSERT INTO flights (number, origin, destination, departure_at, arrival_at, seat_rows, "
        "seat_letters, fare, created_at, status) SELECT 'BK' || g, 'LIS', 'OPO', '2031-06-01T08:00Z', "
        "'2031-06-01T09:00Z', 99, 'ABCDEFGHJK', 59.90, now(), 'scheduled' FROM generate_series(1, 60) g"
    )
    conn.execute(
        "INSERT INTO bookings (reference, user_id, flight_id, status, total_fare, idempotency_key, "
        "request_hash, created_at) SELECT 'R' || g, 1, 1, 'confirmed', 59.90, 'k' || g, 'h', now() "
        "FROM generate_series(1, 60) g"
    )
    conn.execute(
        "INSERT INTO seat_claims (flight_id, seat, booking_id) "
        "SELECT 1, g || 'A', g FROM generate_series(1, 60) g"
    )
    conn.execute("ANALYZE")


@pytest.mark.parametrize("database", ["fresh", "young", "in service"])
def test_generic_plans_of_the_hot_statements_probe_the_unique_indexes(
    pg_server: PgServer, database: str
) -> None:
    """The hot pool plans each statement once per connection (HOT_SESSION_SETTINGS: generic plans), so
    the generic plan must be point lookups on a freshly migrated, never ANALYZEd database, on a young
    one (a page per table, ANALYZEd: sequential scans without enable_seqscan=off) and on one with full
    flights and statistics. Before the seat probe named the seat per row, the fresh database's generic
    plan read every claim of the flight to find the requested seats."""
    name = "generic_" + database.replace(" ", "_")
    url = pg_server.create_database(name)
    engine = make_engine(make_settings(url), poolclass=NullPool)
    upgrade(engine)
    engine.dispose()
    values = {
        "user_id": "1",
        "flight_id": "1",
        "now": "2026-11-30T12:00:00Z",
        "key": "k",
        "seats": "{1A,2B}",
        "names": "{P,Q}",
        "n": "2",
        "reference": "ABCDEFGH",
        "hash": "0" * 64,
    }
    with pg_server.connect(name) as conn:
        if database == "young":
            _seed_a_few_rows(conn)
        if database == "in service":
            _seed_full_flights(conn)
    book, seat_map = asyncio.run(_generic_plans(make_settings(url), values))
    reads = [n for n in _nodes(book) if "Scan" in n["Node Type"] and n.get("Relation Name")]
    assert "$" in json.dumps(book), "not a generic plan"
    for plan in (book, seat_map):
        assert not [n for n in _nodes(plan) if n["Node Type"] == "Seq Scan"], json.dumps(plan)
    by_table = {t: [n for n in reads if n["Relation Name"] == t] for t in ("bookings", "seat_claims")}
    assert by_table["bookings"] and all(
        n.get("Index Name") == "uq_bookings_user_idempotency_key" for n in by_table["bookings"]
    ), json.dumps(book)
    assert by_table["seat_claims"], json.dumps(book)
    for scan in by_table["seat_claims"]:
        assert scan.get("Index Name") == "uq_seat_claims_flight_seat", json.dumps(book)
        assert "flight_id =" in scan["Index Cond"] and "seat =" in scan["Index Cond"], json.dumps(book)
    claims = [n for n in _nodes(seat_map) if n.get("Relation Name") == "seat_claims"]
    assert claims, json.dumps(seat_map)
    for read in claims:  # all of the flight's claims, through the index (an index or bitmap scan)
        probes = [n for n in _nodes(read) if n.get("Index Name") == "uq_seat_claims_flight_seat"]
        assert probes and "flight_id =" in probes[0]["Index Cond"], json.dumps(seat_map)


def test_the_hot_pool_connects_with_generic_plans(pg_server: PgServer, pg_template: str) -> None:
    """The pool's connections carry HOT_SESSION_SETTINGS and the sync engine's timeouts to the server,
    and TCP keepalives on their sockets."""
    url = pg_server.create_database("hot_session", template=pg_template)
    names = ("plan_cache_mode", "enable_seqscan", "statement_timeout", "lock_timeout", "application_name")

    async def session() -> tuple[dict[str, str], int]:
        hot = AsyncDatabase(make_settings(url), None)
        try:
            async with hot.connection() as conn:
                rows = await conn.fetch("SELECT name, setting FROM pg_settings WHERE name = ANY($1)", names)
                sock = conn._transport.get_extra_info("socket")
                return dict(rows), sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE)
        finally:
            await hot.close()

    settings, keepalive = asyncio.run(session())
    assert settings["plan_cache_mode"] == "force_generic_plan" and settings["enable_seqscan"] == "off"
    assert (
        settings["statement_timeout"]
        == settings["lock_timeout"]
        == str(make_settings(url).DB_STATEMENT_TIMEOUT_MS)
    )
    assert settings["application_name"] == "booking-api"
    assert keepalive == 1


def test_statements_take_numbered_parameters_once_per_name() -> None:
    assert BOOK.sql.count("$1") and "%(" not in BOOK.sql and "%(" not in SEAT_MAP.sql
    assert len(BOOK.names) == len(set(BOOK.names)) == len(set(re.findall(r"%\((\w+)\)s", BOOK_SQL)))
    assert max(int(n) for n in re.findall(r"\$(\d+)", BOOK.sql)) == len(BOOK.names)
    params = {name: name.upper() for name in BOOK.names}
    assert BOOK.args(params) == [name.upper() for name in BOOK.names]
    # Each $n stands where its name stood.
    assert re.sub(r"\$(\d+)", lambda m: f"%({BOOK.names[int(m.group(1)) - 1]})s", BOOK.sql) == BOOK_SQL


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


def test_concurrent_seat_map_requests_share_one_query(
    pg_server: PgServer, pg_template: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Requests for one flight that arrive while its query is in flight get that query's answer (one
    query, one body, one ETag); a request after it has finished reads the database again."""
    url = pg_server.create_database("coalesce", template=pg_template)
    with pg_server.connect("coalesce") as conn:
        row = conn.execute(
            "INSERT INTO flights (number, origin, destination, departure_at, arrival_at, seat_rows, "
            "seat_letters, fare, created_at, status) VALUES ('BK1', 'LIS', 'OPO', '2031-06-01T08:00Z', "
            "'2031-06-01T09:00Z', 3, 'AB', 10, now(), 'scheduled') RETURNING id"
        ).fetchone()
    assert row is not None
    flight_id = row[0]
    app = create_app(make_settings(url))
    query = flights_route._query_seat_map
    calls = 0

    async def slow_query(hot: Any, fid: int) -> Any:
        nonlocal calls
        calls += 1
        await gate.wait()
        return await query(hot, fid)

    monkeypatch.setattr(flights_route, "_query_seat_map", slow_query)

    async def scenario() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        try:
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
                burst = [asyncio.create_task(client.get(f"/flights/{flight_id}/seats")) for _ in range(10)]
                for _ in range(20):
                    await asyncio.sleep(0.01)
                gate.set()
                answers = [await t for t in burst]
                with pg_server.connect("coalesce") as conn:
                    conn.execute("UPDATE flights SET status = 'cancelled' WHERE id = %s", (flight_id,))
                answers.append(await client.get(f"/flights/{flight_id}/seats"))
                return answers
        finally:
            await app.state.hot_db.close()

    gate = asyncio.Event()
    answers = asyncio.run(scenario())
    assert [a.status_code for a in answers] == [200] * 11
    assert calls == 2
    assert len({a.headers["etag"] for a in answers[:10]}) == 1 and len({a.content for a in answers[:10]}) == 1
    assert answers[0].json()["status"] == "scheduled" and answers[10].json()["status"] == "cancelled"
