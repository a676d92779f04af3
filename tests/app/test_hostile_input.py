"""Whatever a client sends, the answer is a 4xx with a `detail`, never a 500."""

from __future__ import annotations

from typing import Any

from tests.app.conftest import Api, flight_body

HUGE = 2**63
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
]


def test_hostile_input_is_a_4xx(api: Api) -> None:
    admin = api.admin()
    api.flight(admin)
    wrong = []
    for method, path, case, status in CASES:
        kwargs = dict(case)
        headers = {**admin, **kwargs.pop("headers", {})}
        r = api.client.request(method, path, headers=headers, **kwargs)
        if r.status_code != status or "detail" not in r.json():
            wrong.append(f"{method} {path[:60]}: {r.status_code} {r.text[:200]}")
    assert not wrong, "\n".join(wrong)
