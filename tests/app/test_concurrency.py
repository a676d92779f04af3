"""The seat invariant under real concurrency: the production server (2 gunicorn workers) and 200
simultaneous requests racing for a few seats. Exactly one request wins each seat; every other one
gets a 409; nothing is a 5xx; the database ends with one claim per seat."""

from __future__ import annotations

import asyncio
import collections
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher

from app.models import Booking, Flight, Hold, SeatClaim, User
from tests.app.conftest import BACKENDS, JWT_SECRET
from tests.app.server import LiveServer, live_server

pytestmark = pytest.mark.slow

ATTEMPTS = 200
SEATS = ["1A", "1B", "2A"]
USERS = 8


@pytest.fixture(scope="module", params=BACKENDS)
def server_db(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('concurrency') / 'booking.db'}"
    else:
        pg = request.getfixturevalue("pg_server")
        yield pg.create_database("concurrency")
        pg.drop_database("concurrency")


@pytest.fixture(scope="module")
def server(server_db: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    env = {"DATABASE_URL": server_db, "JWT_SECRET": JWT_SECRET}
    with live_server(env, tmp_path_factory.mktemp("server") / "server.log") as live:
        yield live
    assert live.process.returncode == 0, live.log()


@pytest.fixture(scope="module")
def engine(server: LiveServer, server_db: str) -> Iterator[sa.Engine]:
    eng = sa.create_engine(server_db)
    yield eng
    eng.dispose()


@pytest.fixture(scope="module")
def tokens(engine: sa.Engine, server: LiveServer) -> list[str]:
    """Users inserted straight into the database (cheap hashes), logged in through the API."""
    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    with engine.begin() as conn:
        for i in range(USERS):
            conn.execute(
                sa.insert(User).values(
                    email=f"racer{i}@example.com",
                    hashed_password=cheap.hash("pw-racer-1"),
                    is_admin=False,
                    created_at=datetime.now(UTC),
                )
            )
    out = []
    for i in range(USERS):
        r = httpx.post(
            f"{server.url}/auth/token", data={"username": f"racer{i}@example.com", "password": "pw-racer-1"}
        )
        assert r.status_code == 200, r.text
        out.append(r.json()["access_token"])
    return out


def new_flight(engine: sa.Engine, number: str) -> int:
    departure = datetime(2032, 1, 1, 8, tzinfo=UTC)
    with engine.begin() as conn:
        flight_id = conn.execute(
            sa.insert(Flight)
            .values(
                number=number,
                origin="LHR",
                destination="JFK",
                departure_at=departure,
                arrival_at=departure + timedelta(hours=8),
                seat_rows=2,
                seat_letters="AB",
                fare=100,
                created_at=datetime.now(UTC),
            )
            .returning(Flight.id)
        ).scalar_one()
    return int(flight_id)


async def fire(server: LiveServer, requests: list[tuple[str, str, dict[str, Any]]]) -> list[httpx.Response]:
    """Send every request at once (one connection each)."""
    limits = httpx.Limits(max_connections=len(requests), max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=server.url, limits=limits, timeout=60) as client:
        start = asyncio.Event()

        async def one(path: str, token: str, body: dict[str, Any]) -> httpx.Response:
            await start.wait()
            return await client.post(path, json=body, headers={"Authorization": f"Bearer {token}"})

        tasks = [asyncio.create_task(one(*r)) for r in requests]
        await asyncio.sleep(0)
        start.set()
        return await asyncio.gather(*tasks)


def run(server: LiveServer, requests: list[tuple[str, str, dict[str, Any]]]) -> list[httpx.Response]:
    return asyncio.run(fire(server, requests))


def claims(engine: sa.Engine, flight_id: int) -> list[tuple[str, int | None, str | None]]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(SeatClaim.seat, SeatClaim.booking_id, SeatClaim.hold_id).where(
                SeatClaim.flight_id == flight_id
            )
        ).all()
    return sorted((r[0], r[1], r[2]) for r in rows)


def assert_one_winner_per_seat(responses: list[httpx.Response], seat_of: list[str]) -> list[httpx.Response]:
    statuses = collections.Counter(r.status_code for r in responses)
    assert statuses == {201: len(SEATS), 409: ATTEMPTS - len(SEATS)}, statuses
    winners = [(seat, r) for seat, r in zip(seat_of, responses, strict=True) if r.status_code == 201]
    assert sorted(seat for seat, _ in winners) == sorted(SEATS)
    assert all(
        "not available" in r.json()["detail"] or "expired" in r.json()["detail"]
        for r in responses
        if r.status_code == 409
    )
    return [r for _, r in winners]


def test_concurrent_bookings_one_winner_per_seat(
    server: LiveServer, engine: sa.Engine, tokens: list[str]
) -> None:
    flight_id = new_flight(engine, "RACE1")
    seat_of = [SEATS[i % len(SEATS)] for i in range(ATTEMPTS)]
    requests = [
        (
            "/bookings",
            tokens[i % USERS],
            {"flight_id": flight_id, "passengers": [{"seat": seat_of[i], "name": f"P{i}"}]},
        )
        for i in range(ATTEMPTS)
    ]
    winners = assert_one_winner_per_seat(run(server, requests), seat_of)
    booking_ids = {r.json()["id"] for r in winners}
    assert [(seat, bid in booking_ids, hold) for seat, bid, hold in claims(engine, flight_id)] == [
        (s, True, None) for s in sorted(SEATS)
    ]
    with engine.connect() as conn:
        assert conn.scalar(sa.select(sa.func.count()).where(Booking.flight_id == flight_id)) == len(SEATS)

    # The metrics of both workers add up (multiprocess mode).
    text = httpx.get(f"{server.url}/metrics").text
    conflicts = re.search(r'^booking_seat_conflicts_total\{kind="booking"\} (\S+)$', text, re.M)
    assert conflicts and float(conflicts.group(1)) >= ATTEMPTS - len(SEATS)
    created = re.search(r"^booking_bookings_created_total (\S+)$", text, re.M)
    assert created and float(created.group(1)) >= len(SEATS)


def test_concurrent_holds_one_winner_per_seat(
    server: LiveServer, engine: sa.Engine, tokens: list[str]
) -> None:
    flight_id = new_flight(engine, "RACE2")
    seat_of = [SEATS[i % len(SEATS)] for i in range(ATTEMPTS)]
    requests = [
        (f"/flights/{flight_id}/holds", tokens[i % USERS], {"seats": [seat_of[i]]}) for i in range(ATTEMPTS)
    ]
    winners = assert_one_winner_per_seat(run(server, requests), seat_of)
    hold_ids = {r.json()["id"] for r in winners}
    assert [(seat, hold in hold_ids) for seat, _, hold in claims(engine, flight_id)] == [
        (s, True) for s in sorted(SEATS)
    ]


def test_concurrent_multi_seat_holds_are_all_or_nothing(
    server: LiveServer, engine: sa.Engine, tokens: list[str]
) -> None:
    flight_id = new_flight(engine, "RACE3")
    pairs = [["1A", "1B"], ["1B", "2A"], ["2A", "2B"], ["2B", "1A"], ["1A", "2A"], ["1B", "2B"]]
    requests = [
        (f"/flights/{flight_id}/holds", tokens[i % USERS], {"seats": pairs[i % len(pairs)]})
        for i in range(ATTEMPTS)
    ]
    responses = run(server, requests)
    assert {r.status_code for r in responses} <= {201, 409}
    won = [r.json()["seats"] for r in responses if r.status_code == 201]
    assert 1 <= len(won) <= 2
    held = [seat for seats in won for seat in seats]
    assert len(held) == len(set(held)), f"a seat was held twice: {won}"
    assert [seat for seat, _, _ in claims(engine, flight_id)] == sorted(held), (
        "a refused hold left a claim behind"
    )


def test_expired_holds_release_seats_under_concurrency(
    server: LiveServer, engine: sa.Engine, tokens: list[str]
) -> None:
    flight_id = new_flight(engine, "RACE4")
    holds = []
    for i, seat in enumerate(SEATS):
        r = httpx.post(
            f"{server.url}/flights/{flight_id}/holds",
            json={"seats": [seat]},
            headers={"Authorization": f"Bearer {tokens[i]}"},
        )
        assert r.status_code == 201
        holds.append(r.json()["id"])
    # Time travel instead of waiting out HOLD_TTL_SECONDS: the holds expired a second ago.
    past = datetime.now(UTC) - timedelta(seconds=1)
    with engine.begin() as conn:
        conn.execute(sa.update(Hold).where(Hold.flight_id == flight_id).values(expires_at=past))
        conn.execute(sa.update(SeatClaim).where(SeatClaim.flight_id == flight_id).values(expires_at=past))

    seat_of = [SEATS[i % len(SEATS)] for i in range(ATTEMPTS)]
    requests: list[tuple[str, str, dict[str, Any]]] = [
        (
            "/bookings",
            tokens[3 + i % (USERS - 3)],
            {"flight_id": flight_id, "passengers": [{"seat": seat_of[i], "name": "X"}]},
        )
        for i in range(ATTEMPTS - len(SEATS))
    ]
    # The former holders race too, trying to confirm their expired holds: they must lose.
    for i, seat in enumerate(SEATS):
        requests.append(
            ("/bookings", tokens[i], {"hold_id": holds[i], "passengers": [{"seat": seat, "name": "H"}]})
        )
        seat_of[ATTEMPTS - len(SEATS) + i] = seat
    responses = run(server, requests)
    assert all(r.status_code == 409 for r in responses[-len(SEATS) :])
    winners = assert_one_winner_per_seat(responses, seat_of)
    assert {r.json()["user_id"] for r in winners}.isdisjoint({1, 2, 3})
    assert [(seat, bid is not None, hold) for seat, bid, hold in claims(engine, flight_id)] == [
        (s, True, None) for s in sorted(SEATS)
    ]


def test_concurrent_retries_with_one_idempotency_key_make_one_booking(
    server: LiveServer, engine: sa.Engine, tokens: list[str]
) -> None:
    flight_id = new_flight(engine, "RACE5")
    body = {"flight_id": flight_id, "passengers": [{"seat": "2B", "name": "Retry Ready"}]}
    responses = asyncio.run(same_key(server, tokens[0], body, copies=30))
    assert {r.status_code for r in responses} == {201}
    assert len({r.json()["id"] for r in responses}) == 1
    assert sum(r.headers.get("Idempotent-Replayed") == "true" for r in responses) == 29
    with engine.connect() as conn:
        assert conn.scalar(sa.select(sa.func.count()).where(Booking.flight_id == flight_id)) == 1


async def same_key(server: LiveServer, token: str, body: dict[str, Any], copies: int) -> list[httpx.Response]:
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": "retry-storm-1"}
    async with httpx.AsyncClient(base_url=server.url, timeout=60) as client:
        return await asyncio.gather(
            *[client.post("/bookings", json=body, headers=headers) for _ in range(copies)]
        )


def test_cancelling_a_flight_while_seats_are_being_claimed(
    server: LiveServer, engine: sa.Engine, tokens: list[str]
) -> None:
    """A cancellation racing 150 holds and bookings: afterwards nothing on the flight is live (no
    claim, no hold, no confirmed booking), every booking that was made is cancelled by the airline,
    and no request got a 5xx."""
    flight_id = new_flight(engine, "RACE6")
    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    with engine.begin() as conn:
        conn.execute(
            sa.insert(User).values(
                email="race-admin@example.com",
                hashed_password=cheap.hash("pw-admin-1"),
                is_admin=True,
                created_at=datetime.now(UTC),
            )
        )
    r = httpx.post(
        f"{server.url}/auth/token", data={"username": "race-admin@example.com", "password": "pw-admin-1"}
    )
    admin = r.json()["access_token"]
    seats = ["1A", "1B", "2A", "2B"]
    requests: list[tuple[str, str, dict[str, Any]]] = []
    for i in range(150):
        seat = seats[i % len(seats)]
        if i % 2:
            requests.append((f"/flights/{flight_id}/holds", tokens[i % USERS], {"seats": [seat]}))
        else:
            body = {"flight_id": flight_id, "passengers": [{"seat": seat, "name": f"P{i}"}]}
            requests.append(("/bookings", tokens[i % USERS], body))
    requests.insert(75, (f"/flights/{flight_id}/cancel", admin, {}))
    responses = run(server, requests)
    assert {r.status_code for r in responses} <= {200, 201, 409}, collections.Counter(
        r.status_code for r in responses
    )
    assert responses[75].status_code == 200
    assert responses[75].json()["status"] == "cancelled"
    assert claims(engine, flight_id) == []
    with engine.connect() as conn:
        assert conn.scalar(sa.select(sa.func.count()).where(Hold.flight_id == flight_id)) == 0
        rows = conn.execute(
            sa.select(Booking.status, Booking.cancelled_by).where(Booking.flight_id == flight_id)
        ).all()
    made = [r for r in responses if r.status_code == 201 and "reference" in r.json()]
    assert len(rows) == len(made)
    assert all(tuple(row) == ("cancelled", "airline") for row in rows)
    # Once cancelled, the flight accepts nothing.
    late = httpx.post(
        f"{server.url}/flights/{flight_id}/holds",
        json={"seats": ["1A"]},
        headers={"Authorization": f"Bearer {tokens[0]}"},
    )
    assert late.status_code == 409
