"""Holds: all-or-nothing, 409 on any taken seat, release on delete and on expiry."""

from __future__ import annotations

import time
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from app.core.config import Settings
from app.main import create_app
from app.models import SeatClaim
from tests.app.conftest import Api


def availability(api: Api, flight_id: int) -> dict[str, bool]:
    return {s["seat"]: s["available"] for s in api.client.get(f"/flights/{flight_id}/seats").json()["seats"]}


def hold(api: Api, flight_id: int, seats: list[str], headers: dict[str, str]) -> Any:
    return api.client.post(f"/flights/{flight_id}/holds", json={"seats": seats}, headers=headers)


def test_hold_reserves_seats_until_expiry(api: Api) -> None:
    flight = api.flight(api.admin())
    user = api.user()
    r = hold(api, flight["id"], ["1a", "2B"], user)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["seats"] == ["1A", "2B"]
    assert body["status"] == "active"
    assert body["expires_at"] > body["expires_at"][:10]  # an ISO timestamp
    seats = availability(api, flight["id"])
    assert not seats["1A"] and not seats["2B"] and seats["1B"]
    assert api.client.get(f"/holds/{body['id']}", headers=user).json()["seats"] == ["1A", "2B"]


def test_hold_is_all_or_nothing(api: Api) -> None:
    flight = api.flight(api.admin())
    alice, bob = api.user(), api.user()
    assert hold(api, flight["id"], ["1B"], alice).status_code == 201
    r = hold(api, flight["id"], ["1A", "1B", "1C"], bob)
    assert r.status_code == 409
    assert r.json()["detail"] == "seats not available: 1B"
    seats = availability(api, flight["id"])
    assert seats["1A"] and seats["1C"], "a refused hold must not keep any of its seats"
    assert hold(api, flight["id"], ["1A", "1C"], bob).status_code == 201


@pytest.mark.parametrize(
    ("seats", "status", "needle"),
    [
        (["9A"], 422, "do not exist"),
        (["1Z"], 422, "do not exist"),
        (["1A", "1a"], 422, "distinct"),
        ([], 422, "at least 1"),
        (["A1"], 422, "seat label"),
        ([f"{r}{c}" for r in (1, 2, 3) for c in "ABC"] + ["1A"], 422, "at most 9"),
    ],
)
def test_bad_hold_input(api: Api, seats: list[str], status: int, needle: str) -> None:
    flight = api.flight(api.admin())
    r = hold(api, flight["id"], seats, api.user())
    assert r.status_code == status
    assert needle in r.text


def test_hold_needs_login_and_an_existing_flight(api: Api) -> None:
    flight = api.flight(api.admin())
    assert api.client.post(f"/flights/{flight['id']}/holds", json={"seats": ["1A"]}).status_code == 401
    assert hold(api, 999, ["1A"], api.user()).status_code == 404


def test_delete_hold_frees_seats_and_only_the_owner_may(api: Api) -> None:
    flight = api.flight(api.admin())
    alice, bob = api.user(), api.user()
    hold_id = hold(api, flight["id"], ["3C"], alice).json()["id"]
    assert api.client.delete(f"/holds/{hold_id}", headers=bob).status_code == 404
    assert api.client.get(f"/holds/{hold_id}", headers=bob).status_code == 404
    assert not availability(api, flight["id"])["3C"]
    assert api.client.delete(f"/holds/{hold_id}", headers=alice).status_code == 204
    assert availability(api, flight["id"])["3C"]
    assert api.client.delete(f"/holds/{hold_id}", headers=alice).status_code == 404
    assert hold(api, flight["id"], ["3C"], bob).status_code == 201


def test_expired_hold_releases_its_seats(settings: Settings) -> None:
    app = create_app(settings.model_copy(update={"HOLD_TTL_SECONDS": 1}))
    with TestClient(app) as client:
        api = Api(client, app)
        flight = api.flight(api.admin())
        alice, bob = api.user(), api.user()
        first = hold(api, flight["id"], ["2A", "2B"], alice)
        assert first.status_code == 201
        assert hold(api, flight["id"], ["2B"], bob).status_code == 409
        time.sleep(1.2)
        assert availability(api, flight["id"])["2B"]
        assert client.get(f"/holds/{first.json()['id']}", headers=alice).json()["status"] == "expired"
        assert hold(api, flight["id"], ["2B"], bob).status_code == 201
        # Confirming the expired hold now fails: its seats are gone.
        r = client.post(
            "/bookings",
            headers=alice,
            json={
                "hold_id": first.json()["id"],
                "passengers": [{"seat": "2A", "name": "Al"}, {"seat": "2B", "name": "Bo"}],
            },
        )
        assert r.status_code == 409
        assert "expired" in r.json()["detail"]
        # The expired claim was swept by the claiming transaction: one live row per seat.
        with app.state.sessionmaker() as session:
            rows = session.scalars(sa.select(SeatClaim.seat).where(SeatClaim.flight_id == flight["id"])).all()
        assert sorted(rows) == ["2A", "2B"]
