"""Bookings: from seats or a hold, conflicts, idempotency, ownership, admin view, cancellation."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from app.models import Booking, SeatClaim
from tests.app.conftest import Api


def book(
    api: Api,
    headers: dict[str, str],
    flight_id: int | None = None,
    seats: list[str] | None = None,
    hold_id: str | None = None,
    key: str | None = None,
) -> Any:
    body: dict[str, Any] = {"passengers": [{"seat": s, "name": f"Passenger {s}"} for s in seats or []]}
    if flight_id is not None:
        body["flight_id"] = flight_id
    if hold_id is not None:
        body["hold_id"] = hold_id
    extra = {"Idempotency-Key": key} if key else {}
    return api.client.post("/bookings", json=body, headers={**headers, **extra})


def test_book_seats_directly(api: Api) -> None:
    flight = api.flight(api.admin(), fare="120.50")
    user = api.user()
    r = book(api, user, flight["id"], ["1A", "1B"])
    assert r.status_code == 201, r.text
    booking = r.json()
    assert len(booking["reference"]) == 8 and booking["reference"].isalnum()
    assert booking["status"] == "confirmed"
    assert booking["total_fare"] == "241.00"
    assert booking["passengers"] == [
        {"seat": "1A", "name": "Passenger 1A"},
        {"seat": "1B", "name": "Passenger 1B"},
    ]
    assert api.client.get(f"/bookings/{booking['id']}", headers=user).json() == booking


def test_taken_seat_is_409(api: Api) -> None:
    flight = api.flight(api.admin())
    alice, bob = api.user(), api.user()
    assert book(api, alice, flight["id"], ["2C"]).status_code == 201
    r = book(api, bob, flight["id"], ["2B", "2C"])
    assert r.status_code == 409
    assert r.json()["detail"] == "seats not available: 2C"
    assert book(api, bob, flight["id"], ["2B"]).status_code == 201


def test_held_seat_cannot_be_booked_by_someone_else(api: Api) -> None:
    flight = api.flight(api.admin())
    alice, bob = api.user(), api.user()
    assert (
        api.client.post(f"/flights/{flight['id']}/holds", json={"seats": ["3A"]}, headers=alice).status_code
        == 201
    )
    assert book(api, bob, flight["id"], ["3A"]).status_code == 409


def test_book_from_hold(api: Api) -> None:
    flight = api.flight(api.admin())
    alice, bob = api.user(), api.user()
    held = api.client.post(
        f"/flights/{flight['id']}/holds", json={"seats": ["1C", "2C"]}, headers=alice
    ).json()
    assert book(api, bob, seats=["1C", "2C"], hold_id=held["id"]).status_code == 404
    wrong = book(api, alice, seats=["1C"], hold_id=held["id"])
    assert wrong.status_code == 422
    assert "exactly the held seats: 1C, 2C" in wrong.json()["detail"]
    r = book(api, alice, seats=["2C", "1C"], hold_id=held["id"])
    assert r.status_code == 201, r.text
    assert r.json()["flight_id"] == flight["id"]
    # The hold is consumed; its seats now belong to the booking.
    assert api.client.get(f"/holds/{held['id']}", headers=alice).status_code == 404
    assert book(api, alice, seats=["2C", "1C"], hold_id=held["id"]).status_code == 404
    with api.app.state.sessionmaker() as session:
        claims = session.execute(sa.select(SeatClaim.seat, SeatClaim.booking_id, SeatClaim.hold_id)).all()
    assert sorted(claims) == [("1C", r.json()["id"], None), ("2C", r.json()["id"], None)]


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ({"passengers": [{"seat": "1A", "name": "A"}]}, "exactly one of flight_id"),
        (
            {"flight_id": 1, "hold_id": "x", "passengers": [{"seat": "1A", "name": "A"}]},
            "exactly one of flight_id",
        ),
        ({"flight_id": 1, "passengers": []}, "at least 1"),
        ({"flight_id": 1, "passengers": [{"seat": "1A", "name": "  "}]}, "name"),
        (
            {"flight_id": 1, "passengers": [{"seat": "1A", "name": "A"}, {"seat": "1A", "name": "B"}]},
            "distinct",
        ),
        ({"flight_id": 1, "passengers": [{"seat": "7A", "name": "A"}]}, "do not exist"),
        ({"flight_id": 1, "seats": ["1A"]}, "passengers"),
    ],
)
def test_bad_booking_input_is_422(api: Api, body: dict[str, Any], needle: str) -> None:
    flight = api.flight(api.admin())
    assert flight["id"] == 1
    r = api.client.post("/bookings", json=body, headers=api.user())
    assert r.status_code == 422
    assert needle in r.text


def test_unknown_flight_is_404(api: Api) -> None:
    assert book(api, api.user(), 77, ["1A"]).status_code == 404


def test_idempotency_key_replays_the_same_booking(api: Api) -> None:
    flight = api.flight(api.admin())
    user = api.user()
    first = book(api, user, flight["id"], ["1A"], key="order-42")
    again = book(api, user, flight["id"], ["1A"], key="order-42")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert api.client.get("/bookings", headers=user).json()["total"] == 1

    different = book(api, user, flight["id"], ["1B"], key="order-42")
    assert different.status_code == 422
    assert "different request body" in different.json()["detail"]

    # Keys are per user: another user's identical key is a new booking (or a conflict), never a replay.
    other = book(api, api.user(), flight["id"], ["1A"], key="order-42")
    assert other.status_code == 409


def test_idempotent_replay_survives_a_cancellation(api: Api) -> None:
    flight = api.flight(api.admin())
    user = api.user()
    first = book(api, user, flight["id"], ["2A"], key="k-1").json()
    api.client.delete(f"/bookings/{first['id']}", headers=user)
    again = book(api, user, flight["id"], ["2A"], key="k-1")
    assert again.status_code == 201
    assert again.json()["id"] == first["id"]
    assert again.json()["status"] == "cancelled"


def test_users_see_only_their_own_bookings_and_admin_sees_all(api: Api) -> None:
    admin = api.admin()
    flight = api.flight(admin)
    alice, bob = api.user(), api.user()
    a = book(api, alice, flight["id"], ["1A"]).json()
    b = book(api, bob, flight["id"], ["1B"]).json()
    assert [x["id"] for x in api.client.get("/bookings", headers=alice).json()["items"]] == [a["id"]]
    assert [x["id"] for x in api.client.get("/bookings", headers=bob).json()["items"]] == [b["id"]]
    for method in ("GET", "DELETE"):
        r = api.client.request(method, f"/bookings/{b['id']}", headers=alice)
        assert r.status_code == 404
        assert r.json()["detail"] == f"booking {b['id']} not found"
    assert api.client.get(f"/bookings/{b['id']}", headers=bob).json()["status"] == "confirmed"

    everything = api.client.get("/bookings", headers=admin).json()
    assert everything["total"] == 2
    assert {x["id"] for x in everything["items"]} == {a["id"], b["id"]}
    assert api.client.get(f"/bookings/{a['id']}", headers=admin).status_code == 200
    assert api.client.get("/bookings").status_code == 401


def test_bookings_are_paginated_newest_first(api: Api) -> None:
    flight = api.flight(api.admin())
    user = api.user()
    ids = [book(api, user, flight["id"], [seat]).json()["id"] for seat in ("1A", "1B", "1C")]
    page = api.client.get("/bookings", params={"limit": 2, "offset": 1}, headers=user).json()
    assert page["total"] == 3
    assert [x["id"] for x in page["items"]] == [ids[1], ids[0]]


def test_cancel_frees_the_seats(api: Api) -> None:
    flight = api.flight(api.admin())
    alice, bob = api.user(), api.user()
    booking = book(api, alice, flight["id"], ["3B", "3C"]).json()
    assert book(api, bob, flight["id"], ["3B"]).status_code == 409
    r = api.client.delete(f"/bookings/{booking['id']}", headers=alice)
    assert r.status_code == 200
    assert r.json()["status"] == "cancelled" and r.json()["cancelled_at"]
    assert book(api, bob, flight["id"], ["3B"]).status_code == 201
    assert api.client.delete(f"/bookings/{booking['id']}", headers=alice).json()["status"] == "cancelled"
    with api.app.state.sessionmaker() as session:
        statuses = session.scalars(sa.select(Booking.status).order_by(Booking.id)).all()
    assert statuses == ["cancelled", "confirmed"]


def test_admin_can_cancel_anyones_booking(api: Api) -> None:
    admin = api.admin()
    flight = api.flight(admin)
    booking = book(api, api.user(), flight["id"], ["1A"]).json()
    assert api.client.delete(f"/bookings/{booking['id']}", headers=admin).json()["status"] == "cancelled"


def test_departed_flights_cannot_be_held_or_booked(api: Api) -> None:
    flight = api.flight(api.admin(), departure_at="2020-01-01T08:00:00Z", arrival_at="2020-01-01T10:00:00Z")
    user = api.user()
    r = book(api, user, flight["id"], ["1A"])
    assert r.status_code == 409
    assert r.json()["detail"] == "flight BK100 has already departed"
    assert (
        api.client.post(f"/flights/{flight['id']}/holds", json={"seats": ["1A"]}, headers=user).status_code
        == 409
    )
