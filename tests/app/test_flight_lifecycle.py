"""Admin flight lifecycle (PATCH, cancel), unique (number, departure), listing past/cancelled
flights, and booking lookup by reference; on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from app.core.db import make_engine
from app.core.migrations import upgrade
from app.models import Booking
from tests.app.conftest import BACKENDS, Api, make_settings
from tests.conftest import PgServer

Headers = dict[str, str]


def book(api: Api, user: Headers, flight_id: int, *seats: str) -> dict[str, Any]:
    passengers = [{"seat": s, "name": f"P {s}"} for s in seats]
    r = api.client.post("/bookings", json={"flight_id": flight_id, "passengers": passengers}, headers=user)
    assert r.status_code == 201, r.text
    result: dict[str, Any] = r.json()
    return result


def hold(api: Api, user: Headers, flight_id: int, *seats: str) -> dict[str, Any]:
    r = api.client.post(f"/flights/{flight_id}/holds", json={"seats": list(seats)}, headers=user)
    assert r.status_code == 201, r.text
    result: dict[str, Any] = r.json()
    return result


def test_patch_changes_times_and_fare(api: Api) -> None:
    admin = api.admin()
    flight = api.flight(admin)
    r = api.client.patch(
        f"/flights/{flight['id']}",
        json={
            "departure_at": "2031-05-01T10:30:00+02:00",
            "arrival_at": "2031-05-01T17:00:00Z",
            "fare": "120.50",
        },
        headers=admin,
    )
    assert r.status_code == 200, r.text
    changed = r.json()
    assert changed["departure_at"] == "2031-05-01T08:30:00Z"
    assert changed["arrival_at"] == "2031-05-01T17:00:00Z"
    assert changed["fare"] == "120.50"
    assert api.client.get(f"/flights/{flight['id']}").json() == changed
    # The new fare prices new bookings.
    assert book(api, api.user(), flight["id"], "1A", "1B")["total_fare"] == "241.00"


def test_patch_is_admin_only_and_validated(api: Api) -> None:
    admin = api.admin()
    flight = api.flight(admin)
    url = f"/flights/{flight['id']}"
    assert api.client.patch(url, json={"fare": "1.00"}).status_code == 401
    assert api.client.patch(url, json={"fare": "1.00"}, headers=api.user()).status_code == 403
    assert api.client.patch("/flights/999", json={"fare": "1.00"}, headers=admin).status_code == 404
    r = api.client.patch(url, json={"arrival_at": "2031-05-01T08:00:00Z"}, headers=admin)
    assert r.status_code == 422
    assert "must be after departure_at" in r.json()["detail"]
    assert api.client.patch(url, json={"number": "XX1"}, headers=admin).status_code == 422
    assert api.client.patch(url, json={"seat_letters": "AAB"}, headers=admin).status_code == 422
    assert api.client.get(url).json() == flight


def test_layout_change_that_drops_a_held_or_booked_seat_is_409(api: Api) -> None:
    admin = api.admin()
    flight = api.flight(admin, rows=3, seat_letters="ABC")
    url = f"/flights/{flight['id']}"
    user = api.user()
    hold(api, user, flight["id"], "3A")
    book(api, user, flight["id"], "2C")

    r = api.client.patch(url, json={"rows": 2}, headers=admin)
    assert r.status_code == 409
    assert "3A" in r.json()["detail"]
    r = api.client.patch(url, json={"seat_letters": "AB"}, headers=admin)
    assert r.status_code == 409
    assert "2C" in r.json()["detail"]
    assert api.client.get(url).json()["seats_total"] == 9

    # Growing, or dropping only free seats, is fine.
    r = api.client.patch(url, json={"rows": 4, "seat_letters": "ABCD"}, headers=admin)
    assert r.status_code == 200, r.text
    assert r.json()["seats_total"] == 16
    assert r.json()["seats_available"] == 14
    r = api.client.patch(url, json={"rows": 3, "seat_letters": "ABC"}, headers=admin)
    assert r.status_code == 200, r.text
    seats = api.client.get(f"{url}/seats").json()["seats"]
    assert len(seats) == 9
    assert {s["seat"] for s in seats if not s["available"]} == {"3A", "2C"}


def test_cancel_releases_holds_cancels_bookings_and_closes_the_seat_map(api: Api) -> None:
    admin = api.admin()
    flight = api.flight(admin)
    other = api.flight(admin, number="BK200")
    alice, bob = api.user(), api.user()
    held = hold(api, alice, flight["id"], "1A", "1B")
    booked = book(api, bob, flight["id"], "2A")
    self_cancelled = book(api, bob, flight["id"], "3A")
    assert api.client.delete(f"/bookings/{self_cancelled['id']}", headers=bob).status_code == 200
    elsewhere = book(api, bob, other["id"], "1A")

    assert api.client.post(f"/flights/{flight['id']}/cancel", headers=bob).status_code == 403
    r = api.client.post(f"/flights/{flight['id']}/cancel", headers=admin)
    assert r.status_code == 200, r.text
    cancelled = r.json()
    assert cancelled["status"] == "cancelled"
    assert cancelled["cancelled_at"] is not None
    assert cancelled["seats_available"] == 0

    assert api.client.get(f"/holds/{held['id']}", headers=alice).status_code == 404
    got = api.client.get(f"/bookings/{booked['id']}", headers=bob).json()
    assert got["status"] == "cancelled_by_airline"
    assert got["cancelled_at"] is not None
    statuses = {b["id"]: b["status"] for b in api.client.get("/bookings", headers=bob).json()["items"]}
    assert statuses == {
        booked["id"]: "cancelled_by_airline",
        self_cancelled["id"]: "cancelled",
        elsewhere["id"]: "confirmed",
    }
    # Stored as 'cancelled' + cancelled_by, which the previous release still understands.
    with api.app.state.sessionmaker() as session:
        row = session.get(Booking, booked["id"])
        assert row is not None
        assert (row.status, row.cancelled_by) == ("cancelled", "airline")

    seat_map = api.client.get(f"/flights/{flight['id']}/seats").json()
    assert seat_map["status"] == "cancelled"
    assert not any(s["available"] for s in seat_map["seats"])
    r = api.client.post(f"/flights/{flight['id']}/holds", json={"seats": ["4A"]}, headers=alice)
    assert r.status_code == 409
    assert "cancelled" in r.json()["detail"]
    r = api.client.post(
        "/bookings",
        json={"flight_id": flight["id"], "passengers": [{"seat": "4A", "name": "A"}]},
        headers=alice,
    )
    assert r.status_code == 409
    assert (
        api.client.patch(f"/flights/{flight['id']}", json={"fare": "1.00"}, headers=admin).status_code == 409
    )

    # Cancelling again changes nothing; the other flight is untouched.
    again = api.client.post(f"/flights/{flight['id']}/cancel", headers=admin)
    assert again.status_code == 200
    assert again.json() == cancelled
    assert api.client.get(f"/flights/{other['id']}").json()["seats_available"] == other["seats_total"] - 1


def test_a_hold_confirmed_after_cancellation_is_refused(api: Api) -> None:
    admin = api.admin()
    flight = api.flight(admin)
    user = api.user()
    held = hold(api, user, flight["id"], "1A")
    assert api.client.post(f"/flights/{flight['id']}/cancel", headers=admin).status_code == 200
    r = api.client.post(
        "/bookings", json={"hold_id": held["id"], "passengers": [{"seat": "1A", "name": "A"}]}, headers=user
    )
    assert r.status_code == 404  # the hold was released with the flight


def test_duplicate_number_and_departure_is_409(api: Api) -> None:
    admin = api.admin()
    first = api.flight(admin)
    r = api.client.post(
        "/flights", json={**_body(first), "origin": "CDG", "destination": "FCO"}, headers=admin
    )
    assert r.status_code == 409
    assert "already exists" in r.json()["detail"]
    # The same instant written in another time zone is the same departure.
    r = api.client.post(
        "/flights", json={**_body(first), "departure_at": "2031-05-01T11:00:00+02:00"}, headers=admin
    )
    assert r.status_code == 409
    later = api.flight(
        admin, departure_at="2031-05-02T09:00:00+00:00", arrival_at="2031-05-02T17:00:00+00:00"
    )
    r = api.client.patch(
        f"/flights/{later['id']}", json={"departure_at": first["departure_at"]}, headers=admin
    )
    assert r.status_code == 409
    assert api.client.get(f"/flights/{later['id']}").json()["departure_at"] == later["departure_at"]


def _body(flight: dict[str, Any]) -> dict[str, Any]:
    keys = ("number", "origin", "destination", "departure_at", "arrival_at", "rows", "seat_letters", "fare")
    return {k: flight[k] for k in keys}


def test_listing_hides_departed_and_cancelled_flights_unless_asked(api: Api) -> None:
    admin = api.admin()
    now = datetime.now(UTC)
    past = api.flight(
        admin,
        number="BK1",
        departure_at=(now - timedelta(hours=3)).isoformat(),
        arrival_at=(now - timedelta(hours=1)).isoformat(),
    )
    future = api.flight(admin, number="BK2")
    doomed = api.flight(admin, number="BK3")
    assert api.client.post(f"/flights/{doomed['id']}/cancel", headers=admin).status_code == 200

    page = api.client.get("/flights").json()
    assert [f["id"] for f in page["items"]] == [future["id"]]
    assert page["total"] == 1
    page = api.client.get("/flights", params={"include_past": "true"}).json()
    assert {f["id"] for f in page["items"]} == {past["id"], future["id"], doomed["id"]}
    assert page["total"] == 3
    # Direct lookups still work for any flight.
    assert api.client.get(f"/flights/{past['id']}").status_code == 200


def test_lookup_by_reference_for_owner_or_admin(api: Api) -> None:
    admin = api.admin()
    flight = api.flight(admin)
    owner, stranger = api.user(), api.user()
    booking = book(api, owner, flight["id"], "1A")
    ref = booking["reference"]

    r = api.client.get(f"/bookings/by-reference/{ref}", headers=owner)
    assert r.status_code == 200
    assert r.json() == booking
    assert (
        api.client.get(f"/bookings/by-reference/{ref.lower()}", headers=owner).json()["id"] == booking["id"]
    )
    assert api.client.get(f"/bookings/by-reference/{ref}", headers=admin).json()["id"] == booking["id"]
    # Anyone else cannot tell whether the reference exists.
    other = api.client.get(f"/bookings/by-reference/{ref}", headers=stranger)
    unknown = api.client.get("/bookings/by-reference/ZZZZZZZZ", headers=stranger)
    assert other.status_code == unknown.status_code == 404
    assert other.json() == unknown.json()
    assert api.client.get(f"/bookings/by-reference/{ref}").status_code == 401
    assert api.client.get("/bookings/by-reference/not-a-ref!", headers=owner).status_code == 404


def test_the_database_itself_refuses_duplicate_number_and_departure(api: Api) -> None:
    """The unique index exists in the migrated schema (the database, not just the app, refuses)."""
    admin = api.admin()
    first = api.flight(admin)
    with api.app.state.engine.connect() as conn:
        try:
            conn.execute(
                sa.text(
                    "INSERT INTO flights (number, origin, destination, departure_at, arrival_at, seat_rows,"
                    " seat_letters, fare, created_at) SELECT number, origin, destination, departure_at,"
                    " arrival_at, seat_rows, seat_letters, fare, created_at FROM flights WHERE id = :id"
                ),
                {"id": first["id"]},
            )
        except sa.exc.IntegrityError:
            conn.rollback()
        else:
            raise AssertionError("a duplicate (number, departure_at) row was accepted")


@pytest.mark.parametrize("backend", BACKENDS)
def test_migration_0002_names_existing_duplicates_instead_of_failing_half_way(
    backend: str, request: pytest.FixtureRequest, tmp_path: Any
) -> None:
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'dupes.db'}"
    else:
        pg: PgServer = request.getfixturevalue("pg_server")
        url = pg.create_database("dupes")
    engine = make_engine(make_settings(url), poolclass=NullPool)
    try:
        upgrade(engine, "0001")
        row = (
            "INSERT INTO flights (number, origin, destination, departure_at, arrival_at, seat_rows,"
            " seat_letters, fare, created_at) VALUES ('BK9', 'LHR', 'JFK', :dep, :arr, 1, 'A', 1, :dep)"
        )
        dep, arr = datetime(2031, 1, 1, tzinfo=UTC), datetime(2031, 1, 2, tzinfo=UTC)
        if backend == "sqlite":
            dep, arr = dep.replace(tzinfo=None), arr.replace(tzinfo=None)
        with engine.begin() as conn:
            for _ in range(2):
                conn.execute(sa.text(row), {"dep": dep, "arr": arr})
        with pytest.raises(RuntimeError, match="BK9 at 2031-01-01"):
            upgrade(engine)
        with engine.connect() as conn:
            # Nothing was half-applied: still at 0001, without the new columns.
            assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar() == "0001"
            assert "status" not in {c["name"] for c in sa.inspect(conn).get_columns("flights")}
    finally:
        engine.dispose()
        if backend == "postgres":
            request.getfixturevalue("pg_server").drop_database("dupes")
