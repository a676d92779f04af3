"""Whatever a client sends, the answer is a 4xx with a `detail`, never a 500 (on both databases)."""

from __future__ import annotations

import json
from typing import Any

from tests.app.conftest import Api, flight_body

HUGE = 2**63
JSON = {"content-type": "application/json"}


def raw(body: Any) -> dict[str, Any]:
    """A JSON body as a hostile client writes it: NaN/Infinity literals, \\udXXX escapes for
    lone surrogates."""
    return {"content": json.dumps(body, allow_nan=True).encode(), "headers": JSON}


BOOK = {"flight_id": 1, "passengers": [{"seat": "1A", "name": "X"}]}
CASES: list[tuple[str, str, dict[str, Any], int]] = [
    ("GET", f"/flights/{HUGE}", {}, 422),
    ("GET", f"/flights/{2**31}/seats", {}, 422),
    ("GET", "/flights/0", {}, 422),
    ("GET", "/flights", {"params": {"offset": HUGE}}, 422),
    ("GET", "/flights", {"params": {"date": "2031-02-30"}}, 422),
    ("GET", f"/bookings/{HUGE}", {}, 422),
    ("DELETE", f"/bookings/{2**40}", {}, 422),
    ("GET", "/bookings", {"params": {"offset": -5}}, 422),
    ("GET", "/holds/" + "x" * 300, {}, 422),
    ("DELETE", "/holds/not-a-hold", {}, 404),
    ("POST", "/bookings", {"content": b"{not json", "headers": {"content-type": "application/json"}}, 422),
    ("POST", "/bookings", {"json": {"flight_id": HUGE, "passengers": [{"seat": "1A", "name": "X"}]}}, 422),
    ("POST", "/bookings", {"json": {"hold_id": "y" * 37, "passengers": [{"seat": "1A", "name": "X"}]}}, 422),
    ("POST", "/bookings", {"json": {"flight_id": 1, "passengers": [{"seat": "1A", "name": "X" * 101}]}}, 422),
    ("POST", "/bookings", {"json": {"flight_id": 1, "passengers": [{"seat": "1000A", "name": "X"}]}}, 422),
    ("POST", "/bookings", {"json": {"flight_id": 1, "passengers": "1A"}}, 422),
    (
        "POST",
        "/bookings",
        {"json": {"hold_id": "no-such-hold", "passengers": [{"seat": "1A", "name": "X"}]}},
        404,
    ),
    (
        "POST",
        "/bookings",
        {
            "json": {"flight_id": 1, "passengers": [{"seat": "1A", "name": "X"}]},
            "headers": {"Idempotency-Key": "k" * 256},
        },
        422,
    ),
    ("POST", f"/flights/{HUGE}/holds", {"json": {"seats": ["1A"]}}, 422),
    ("POST", "/flights/1/holds", {"json": {"seats": "1A"}}, 422),
    ("POST", "/flights/1/holds", {"json": {"seats": [None]}}, 422),
    ("POST", "/flights", {"json": flight_body(fare="1e309")}, 422),
    ("POST", "/flights", {"json": flight_body(rows=10**12)}, 422),
    ("POST", "/auth/token", {"data": {"username": "a@example.com"}}, 422),
    ("POST", "/auth/register", {"json": {"email": "a@example.com", "password": "p" * 10_000}}, 422),
    # Characters PostgreSQL text refuses (NUL) or UTF-8 cannot encode (lone surrogates), everywhere.
    ("POST", "/auth/register", raw({"email": "a@example.com", "password": "password\ud800"}), 422),
    ("POST", "/auth/register", raw({"email": "a@example.com", "password": "password\x00"}), 422),
    ("POST", "/auth/register", raw({"email": "a\ud800@example.com", "password": "password-1"}), 422),
    ("POST", "/auth/register", raw({"email": "a\x00@example.com", "password": "password-1"}), 422),
    ("POST", "/bookings", raw({**BOOK, "passengers": [{"seat": "1A", "name": "Ann\x00"}]}), 422),
    ("POST", "/bookings", raw({**BOOK, "passengers": [{"seat": "1A", "name": "Ann\ud800"}]}), 422),
    ("POST", "/bookings", raw({**BOOK, "passengers": [{"seat": "1A", "name": "Ann\x1b[2J"}]}), 422),
    ("POST", "/bookings", raw({**BOOK, "passengers": [{"seat": "1\ud800", "name": "Ann"}]}), 422),
    ("POST", "/bookings", raw({"hold_id": "\x00", "passengers": [{"seat": "1A", "name": "X"}]}), 404),
    ("POST", "/bookings", raw({"hold_id": "\ud800", "passengers": [{"seat": "1A", "name": "X"}]}), 422),
    ("POST", "/bookings", {"json": BOOK, "headers": {"Idempotency-Key": b"\xff\xfe key"}}, 422),
    ("POST", "/flights/1/holds", raw({"seats": ["1A\x00"]}), 422),
    ("GET", "/holds/%00", {}, 404),
    ("DELETE", "/holds/%ED%A0%80", {}, 404),
    ("GET", "/bookings/by-reference/%00%00%00%00%00%00%00%00", {}, 404),
    ("GET", "/flights", {"params": {"origin": "\x00AB"}}, 422),
    ("POST", "/auth/token", {"data": {"username": "a\x00@example.com", "password": "x"}}, 401),
    (
        "POST",
        "/auth/token",
        {
            "content": b"username=a%40b.c&password=%ED%A0%80",
            "headers": {"content-type": "application/x-www-form-urlencoded"},
        },
        401,
    ),
    # Numbers beyond float and integer limits, and the non-finite values JSON parsers accept.
    ("POST", "/flights", raw(flight_body(fare=float("nan"))), 422),
    ("POST", "/flights", raw(flight_body(fare=float("inf"))), 422),
    ("POST", "/flights", raw(flight_body(fare="-Infinity")), 422),
    ("POST", "/flights", raw(flight_body(fare="sNaN")), 422),
    ("POST", "/flights", raw(flight_body(fare="1e999999999")), 422),
    ("POST", "/flights", raw(flight_body(rows=float("nan"))), 422),
    ("POST", "/flights", raw(flight_body(rows=1e308)), 422),
    ("POST", "/flights", {"content": b'{"rows": ' + b"9" * 5000 + b"}", "headers": JSON}, 400),
    ("POST", "/bookings", raw({**BOOK, "flight_id": float("inf")}), 422),
    ("GET", "/flights", {"params": {"limit": "1e309"}}, 422),
    ("GET", "/flights", {"params": {"offset": "NaN"}}, 422),
    # The edges of the calendar, and arithmetic on them.
    ("POST", "/flights", raw(flight_body(departure_at="0001-01-01T00:00:00+01:00")), 422),
    ("POST", "/flights", raw(flight_body(arrival_at="9999-12-31T23:59:59-01:00")), 422),
    ("POST", "/flights", raw(flight_body(departure_at="2031-02-29T08:00:00Z")), 422),
    ("POST", "/flights", raw(flight_body(departure_at="10000-01-01T00:00:00Z")), 422),
    ("GET", "/flights", {"params": {"date": "9999-12-31"}}, 200),
    ("GET", "/flights", {"params": {"date": "0001-01-01", "include_past": "true"}}, 200),
    ("PATCH", "/flights/1", raw({"departure_at": "9999-12-31T23:59:59Z"}), 422),
    ("PATCH", "/flights/1", raw({"arrival_at": "0001-01-01T00:00:00Z"}), 422),
    # Deeply nested bodies (json.loads recurses per level).
    ("POST", "/flights", {"content": b"[" * 50_000, "headers": JSON}, 400),
    ("POST", "/bookings", {"content": b'{"a":' * 20_000 + b"1" + b"}" * 20_000, "headers": JSON}, 413),
    ("POST", "/bookings", {"content": b'{"a":' * 10_000 + b"1" + b"}" * 10_000, "headers": JSON}, 400),
]


def test_hostile_input_is_a_4xx(api: Api) -> None:
    admin = api.admin()
    api.flight(admin)
    wrong = []
    for method, path, case, status in CASES:
        kwargs = dict(case)
        headers = {**admin, **kwargs.pop("headers", {})}
        r = api.client.request(method, path, headers=headers, **kwargs)
        ok = r.status_code == status and (status == 200 or "detail" in r.json())
        if not ok:
            wrong.append(f"{method} {path[:60]} {str(kwargs)[:80]}: {r.status_code} {r.text[:200]}")
    assert not wrong, "\n".join(wrong)


def test_edge_of_calendar_flights_work(api: Api) -> None:
    """The first and last representable UTC instants are valid departure/arrival times."""
    admin = api.admin()
    last = api.flight(admin, departure_at="9999-12-31T22:00:00Z", arrival_at="9999-12-31T23:59:59.999999Z")
    assert last["arrival_at"] == "9999-12-31T23:59:59.999999Z"
    first = api.flight(
        admin, number="BK1", departure_at="0001-01-01T00:00:00Z", arrival_at="0001-01-01T01:00:00Z"
    )
    r = api.client.get("/flights", params={"date": "9999-12-31"})
    assert [f["id"] for f in r.json()["items"]] == [last["id"]]
    r = api.client.get("/flights", params={"date": "0001-01-01", "include_past": "true"})
    assert [f["id"] for f in r.json()["items"]] == [first["id"]]
    user = api.user()
    r = api.client.post(f"/flights/{last['id']}/holds", json={"seats": ["1A"]}, headers=user)
    assert r.status_code == 201, r.text
