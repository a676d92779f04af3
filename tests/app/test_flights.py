"""Flights: admin-only creation with validation, filtered and paginated listing, seat map."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.app.conftest import Api, flight_body


def test_admin_creates_flight(api: Api) -> None:
    admin = api.admin()
    r = api.client.post(
        "/flights", json=flight_body(rows=2, seat_letters="ABCD", fare="99.50"), headers=admin
    )
    assert r.status_code == 201, r.text
    flight = r.json()
    assert flight["number"] == "BK100"
    assert flight["fare"] == "99.50"
    assert flight["seats_total"] == flight["seats_available"] == 8
    assert api.client.get(f"/flights/{flight['id']}").json() == flight


def test_only_admins_create_flights(api: Api) -> None:
    assert api.client.post("/flights", json=flight_body()).status_code == 401
    r = api.client.post("/flights", json=flight_body(), headers=api.user())
    assert r.status_code == 403
    assert r.json()["detail"] == "admin only"


@pytest.mark.parametrize(
    ("overrides", "needle"),
    [
        ({"destination": "LHR"}, "destination must differ from origin"),
        ({"arrival_at": "2031-05-01T08:00:00+00:00"}, "arrival_at must be after departure_at"),
        ({"departure_at": "2031-05-01T09:00:00"}, "must include a time zone"),
        ({"seat_letters": "AAB"}, "must not repeat"),
        ({"seat_letters": "ab"}, "seat_letters"),
        ({"origin": "london"}, "origin"),
        ({"rows": 0}, "rows"),
        ({"fare": "-1"}, "fare"),
        ({"fare": "1.234"}, "fare"),
        ({"number": "??"}, "number"),
    ],
)
def test_bad_flight_input_is_422_with_clear_detail(
    api: Api, overrides: dict[str, object], needle: str
) -> None:
    r = api.client.post("/flights", json=flight_body(**overrides), headers=api.admin())
    assert r.status_code == 422
    assert needle in r.text


def test_list_filters_and_pagination(api: Api) -> None:
    admin = api.admin()
    base = datetime(2031, 6, 1, 6, 0, tzinfo=UTC)
    for i in range(5):
        api.flight(
            admin,
            number=f"BK{i}",
            departure_at=(base + timedelta(hours=i)).isoformat(),
            arrival_at=(base + timedelta(hours=i + 2)).isoformat(),
        )
    api.flight(admin, number="BK9", origin="CDG", destination="FCO")
    api.flight(
        admin,
        number="BK8",
        origin="LHR",
        destination="CDG",
        departure_at="2031-06-02T23:30:00Z",
        arrival_at="2031-06-03T01:00:00Z",
    )

    everything = api.client.get("/flights").json()
    assert everything["total"] == 7
    page = api.client.get("/flights", params={"origin": "LHR", "destination": "JFK", "limit": 2, "offset": 2})
    assert page.status_code == 200
    body = page.json()
    assert (body["total"], body["limit"], body["offset"]) == (5, 2, 2)
    assert [f["number"] for f in body["items"]] == ["BK2", "BK3"]

    on_date = api.client.get("/flights", params={"date": "2031-06-02"}).json()
    assert [f["number"] for f in on_date["items"]] == ["BK8"]
    to_fco = api.client.get("/flights", params={"destination": "FCO"}).json()
    assert [f["number"] for f in to_fco["items"]] == ["BK9"]


@pytest.mark.parametrize(
    "params", [{"limit": 0}, {"limit": 101}, {"offset": -1}, {"date": "tomorrow"}, {"origin": "lhr"}]
)
def test_bad_list_parameters_are_422(api: Api, params: dict[str, object]) -> None:
    r = api.client.get("/flights", params=params)
    assert r.status_code == 422
    assert next(iter(params)) in str(r.json()["detail"][0]["loc"])


def test_unknown_flight_is_404(api: Api) -> None:
    r = api.client.get("/flights/4242")
    assert r.status_code == 404
    assert r.json()["detail"] == "flight 4242 not found"
    assert api.client.get("/flights/4242/seats").status_code == 404
    assert api.client.get("/flights/not-a-number").status_code == 422


def test_seat_map_shows_availability(api: Api) -> None:
    admin = api.admin()
    flight = api.flight(admin, rows=2, seat_letters="AB")
    user = api.user()
    r = api.client.post(
        "/bookings",
        json={"flight_id": flight["id"], "passengers": [{"seat": "1B", "name": "A"}]},
        headers=user,
    )
    assert r.status_code == 201
    r = api.client.post(f"/flights/{flight['id']}/holds", json={"seats": ["2A"]}, headers=user)
    assert r.status_code == 201
    seat_map = api.client.get(f"/flights/{flight['id']}/seats").json()
    assert seat_map["rows"] == 2 and seat_map["seat_letters"] == "AB"
    assert {s["seat"]: s["available"] for s in seat_map["seats"]} == {
        "1A": True,
        "1B": False,
        "2A": False,
        "2B": True,
    }
    assert seat_map["seats"][0] == {"seat": "1A", "row": 1, "letter": "A", "available": True}
    assert api.client.get(f"/flights/{flight['id']}").json()["seats_available"] == 2
    listed = api.client.get("/flights").json()["items"][0]
    assert listed["seats_available"] == 2
