"""Ops endpoints, request logging, metrics, and the 503 contract when the database is unreachable."""

from __future__ import annotations

import json
import logging
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from app.core.logging import JsonFormatter
from app.core.security import create_access_token
from app.main import create_app
from tests.app.conftest import JWT_SECRET, Api, make_settings
from tests.conftest import free_port


def test_healthz(api: Api) -> None:
    r = api.client.get("/healthz")
    assert r.status_code == 200
    assert r.json() == {"status": "ok"}


def test_readyz_when_migrated(api: Api) -> None:
    r = api.client.get("/readyz")
    assert r.status_code == 200
    assert r.json() == {"status": "ready", "revision": "0003"}


def test_readyz_is_503_when_schema_is_behind(api: Api) -> None:
    with api.app.state.engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM alembic_version"))
    r = api.client.get("/readyz")
    assert r.status_code == 503
    assert r.headers["Retry-After"] == "5"
    assert "expected 0003" in r.json()["detail"]


def test_openapi_lists_the_contract(api: Api) -> None:
    paths = api.client.get("/openapi.json").json()["paths"]
    assert set(paths) >= {
        "/auth/register",
        "/auth/token",
        "/auth/me",
        "/flights",
        "/flights/{flight_id}",
        "/flights/{flight_id}/seats",
        "/flights/{flight_id}/holds",
        "/holds/{hold_id}",
        "/bookings",
        "/bookings/{booking_id}",
        "/healthz",
        "/readyz",
    }


class Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []
        self.setFormatter(JsonFormatter())

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def access_log() -> Iterator[Capture]:
    handler = Capture()
    logger = logging.getLogger("booking.access")
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)


def test_one_json_log_line_per_request_with_request_id(api: Api, access_log: Capture) -> None:
    r = api.client.get("/flights/12345", headers={"X-Request-ID": "trace-abc.123"})
    assert r.status_code == 404
    assert r.headers["X-Request-ID"] == "trace-abc.123"
    assert len(access_log.lines) == 1
    entry = json.loads(access_log.lines[0])
    assert entry["request_id"] == "trace-abc.123"
    assert entry["route"] == "/flights/{flight_id}"
    assert entry["path"] == "/flights/12345"
    assert entry["method"] == "GET"
    assert entry["status"] == 404
    assert isinstance(entry["latency_ms"], float)
    assert entry["level"] == "INFO" and entry["time"].endswith("+00:00")


def test_request_id_is_generated_when_missing_or_unsafe(api: Api, access_log: Capture) -> None:
    generated = api.client.get("/healthz").headers["X-Request-ID"]
    assert len(generated) == 32
    unsafe = api.client.get("/healthz", headers={"X-Request-ID": "bad id\twith spaces"}).headers[
        "X-Request-ID"
    ]
    assert unsafe != "bad id\twith spaces" and len(unsafe) == 32
    assert [json.loads(line)["request_id"] for line in access_log.lines] == [generated, unsafe]


def test_unmatched_routes_do_not_explode_metric_labels(api: Api, access_log: Capture) -> None:
    assert api.client.get("/no/such/path/42").status_code == 404
    assert json.loads(access_log.lines[0])["route"] == "<unmatched>"


def sample(text: str, name: str, **labels: str) -> float:
    wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        metric, _, value = line.rpartition(" ")
        base, _, rest = metric.partition("{")
        if base == name and ",".join(sorted(rest.rstrip("}").split(","))) == wanted:
            return float(value)
    return 0.0


def test_metrics_are_not_served_to_requests_through_the_load_balancer(api: Api) -> None:
    assert api.client.get("/metrics").status_code == 200
    r = api.client.get("/metrics", headers={"X-Forwarded-For": "203.0.113.7"})
    assert r.status_code == 404
    assert "booking_http_requests_total" not in r.text


def test_metrics(api: Api) -> None:
    before = api.client.get("/metrics").text
    user = api.user()
    flight = api.flight(api.admin())
    body = {"flight_id": flight["id"], "passengers": [{"seat": "1A", "name": "M"}]}
    assert api.client.post("/bookings", json=body, headers=user).status_code == 201
    assert api.client.post("/bookings", json=body, headers=user).status_code == 409
    assert (
        api.client.post(f"/flights/{flight['id']}/holds", json={"seats": ["1A"]}, headers=user).status_code
        == 409
    )
    r = api.client.get("/metrics")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")
    after = r.text

    def delta(name: str, **labels: str) -> float:
        return sample(after, name, **labels) - sample(before, name, **labels)

    assert delta("booking_http_requests_total", method="POST", route="/bookings", status="201") == 1
    assert delta("booking_http_requests_total", method="POST", route="/bookings", status="409") == 1
    assert delta("booking_bookings_created_total") == 1
    assert delta("booking_seat_conflicts_total", kind="booking") == 1
    assert delta("booking_seat_conflicts_total", kind="hold") == 1
    assert delta("booking_http_request_duration_seconds_count", method="POST", route="/bookings") == 2
    assert 'booking_http_request_duration_seconds_bucket{le="0.1",method="POST",route="/bookings"}' in after


# --- database down ----------------------------------------------------------------------------------


@pytest.fixture
def blackhole_port() -> Iterator[int]:
    """A port that accepts TCP connections (kernel backlog) but never answers: a hung database."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    yield sock.getsockname()[1]
    sock.close()


@pytest.mark.parametrize("kind", ["refused", "hung"])
def test_database_unreachable_is_503_with_retry_after(kind: str, blackhole_port: int) -> None:
    port = free_port() if kind == "refused" else blackhole_port
    settings = make_settings(
        f"postgresql+psycopg://booking:pw@127.0.0.1:{port}/booking", DB_CONNECT_TIMEOUT_SECONDS=1
    )
    token = create_access_token("1", JWT_SECRET, 5)
    with TestClient(create_app(settings)) as client:
        assert client.get("/healthz").status_code == 200
        booking = {"flight_id": 1, "passengers": [{"seat": "1A", "name": "P"}]}
        calls: list[tuple[str, str, dict[str, Any]]] = [
            ("GET", "/flights", {}),
            # The hot paths (async pool): the pool's wait is bounded by the connect timeout too.
            ("GET", "/flights/1/seats", {}),
            ("POST", "/bookings", {"json": booking, "headers": {"Authorization": f"Bearer {token}"}}),
            ("POST", "/auth/token", {"data": {"username": "a@example.com", "password": "whatever1"}}),
            ("GET", "/auth/me", {"headers": {"Authorization": f"Bearer {token}"}}),
        ]
        # Each hung attempt costs the connect timeout (twice with sslmode=prefer): one call is enough.
        for method, path, kwargs in calls if kind == "refused" else calls[:2]:
            start = time.monotonic()
            r = client.request(method, path, **kwargs)
            elapsed = time.monotonic() - start
            assert r.status_code == 503, (path, r.text)
            assert r.headers["Retry-After"] == "5"
            assert r.json()["detail"] == "database temporarily unavailable; retry shortly"
            assert elapsed < 5, f"{path} took {elapsed:.1f}s: the connect timeout must bound it"
        ready = client.get("/readyz")
        assert ready.status_code == 503
        assert ready.headers["Retry-After"] == "5"


def test_unauthenticated_request_with_db_down_is_still_401_not_503(blackhole_port: int) -> None:
    settings = make_settings(
        f"postgresql+psycopg://u:p@127.0.0.1:{blackhole_port}/x", DB_CONNECT_TIMEOUT_SECONDS=1
    )
    with TestClient(create_app(settings)) as client:
        assert client.get("/auth/me").status_code == 401
