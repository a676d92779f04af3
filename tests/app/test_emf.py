"""EMF metrics: the API writes valid EMF records, aggregated per minute, with the catalogue's names."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.core import emf
from app.core import metric_catalogue as mc
from app.core.config import Settings
from app.main import create_app
from tests.app.conftest import Api
from tests.app.emf_schema import VALIDATOR, target_member_errors, validate

NS = "Booking/test"


class Capture:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def __call__(self, line: str) -> None:
        self.lines.append(line)

    def records(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.lines]


def metric_values(records: list[dict[str, Any]], name: str, **dims: str) -> list[float]:
    """Every value CloudWatch would extract for metric `name` with exactly these dimensions."""
    values: list[float] = []
    for record in records:
        for directive in record["_aws"]["CloudWatchMetrics"]:
            if name not in [m["Name"] for m in directive["Metrics"]]:
                continue
            for dimension_set in directive["Dimensions"]:
                if {key: record[key] for key in dimension_set} == dims:
                    value = record[name]
                    values.extend(value if isinstance(value, list) else [value])
    return values


# --- the schema itself rejects what the spec forbids ---------------------------------------------------
def _record(**members: Any) -> dict[str, Any]:
    return {
        "_aws": {
            "Timestamp": 1_700_000_000_000,
            "CloudWatchMetrics": [
                {"Namespace": NS, "Dimensions": [["Route"]], "Metrics": [{"Name": "Latency"}]}
            ],
        },
        "Route": "GET /x",
        "Latency": 1.5,
        **members,
    }


def test_the_schema_accepts_the_specs_example() -> None:
    validate(
        {
            "_aws": {
                "Timestamp": 1574109732004,
                "CloudWatchMetrics": [
                    {
                        "Namespace": "lambda-function-metrics",
                        "Dimensions": [["functionVersion"]],
                        "Metrics": [{"Name": "time", "Unit": "Milliseconds"}],
                    }
                ],
            },
            "functionVersion": "$LATEST",
            "time": 100,
            "requestId": "989ffbf8-9ace-4817-a57c-e4dd734019ee",
        }
    )


@pytest.mark.parametrize(
    "broken",
    [
        lambda r: r["_aws"].pop("Timestamp"),
        lambda r: r["_aws"].__setitem__("Timestamp", "2024-01-01T00:00:00Z"),
        lambda r: r["_aws"]["CloudWatchMetrics"][0].pop("Namespace"),
        lambda r: r["_aws"]["CloudWatchMetrics"][0].__setitem__("Dimensions", []),
        lambda r: r["_aws"]["CloudWatchMetrics"][0]["Dimensions"].__setitem__(
            0, [f"d{i}" for i in range(31)]
        ),
        lambda r: r["_aws"]["CloudWatchMetrics"][0].__setitem__(
            "Metrics", [{"Name": f"m{i}"} for i in range(101)]
        ),
        lambda r: r["_aws"]["CloudWatchMetrics"][0]["Metrics"][0].__setitem__("Unit", "Millis"),
        lambda r: r["_aws"]["CloudWatchMetrics"][0]["Metrics"][0].__setitem__("StorageResolution", 30),
    ],
)
def test_the_schema_rejects_what_the_spec_forbids(broken: Any) -> None:
    record = _record()
    broken(record)
    with pytest.raises(jsonschema.ValidationError):
        VALIDATOR.validate(record)


def test_target_members_must_be_present_and_typed() -> None:
    assert target_member_errors(_record()) == []
    assert target_member_errors(_record(Route=3))
    assert target_member_errors(_record(Latency="1.5"))
    assert target_member_errors(_record(Latency=[1.0] * 101))
    missing = _record()
    del missing["Latency"]
    assert target_member_errors(missing)


# --- the aggregator ------------------------------------------------------------------------------------
def test_business_counters_are_written_every_flush_zero_included() -> None:
    out = Capture()
    agg = emf.Aggregator(NS, out, clock=lambda: 1_700_000_030.5)
    agg.count(mc.BOOKINGS_CREATED)
    agg.count(mc.BOOKINGS_CREATED)
    agg.count(mc.HOLD_CONFLICTS)
    first = agg.flush()
    second = agg.flush()
    for record in first + second:
        validate(record)
        assert record["_aws"]["CloudWatchMetrics"][0]["Namespace"] == NS
    assert metric_values(first, "BookingsCreated") == [2]
    assert metric_values(first, "HoldConflicts") == [1]
    assert metric_values(first, "HoldsCreated") == [0]
    assert metric_values(second, "BookingsCreated") == [0]
    # Stamped with the start of the window they measure, in epoch milliseconds.
    assert first[0]["_aws"]["Timestamp"] == 1_700_000_030_500
    assert [json.loads(line) for line in out.lines] == first + second


def test_requests_per_route_template_and_status_class() -> None:
    agg = emf.Aggregator(NS, Capture())
    for status in (200, 201, 404, 409, 409, 503):
        agg.request("POST /bookings", status, 0.012)
    agg.request("GET /healthz", 200, 0.001)  # probes are not measured
    records = agg.flush()
    for record in records:
        validate(record)
    route = "POST /bookings"
    assert metric_values(records, "Requests", Route=route, StatusClass="2xx") == [2]
    assert metric_values(records, "Requests", Route=route, StatusClass="4xx") == [3]
    assert metric_values(records, "Requests", Route=route, StatusClass="5xx") == [1]
    assert metric_values(records, "Latency", Route=route) == [12.0] * 6
    assert not [r for r in records if r.get("Route") == "GET /healthz"]


def test_latency_arrays_never_exceed_100_values_and_are_capped_proportionally() -> None:
    agg = emf.Aggregator(NS, Capture(), max_latency_samples=1000)
    for i in range(5000):
        agg.request("GET /flights/{flight_id}/seats", 200, 0.010 if i % 100 else 0.900)  # 1% slow
    records = agg.flush()
    latency_records = [r for r in records if "Latency" in r]
    assert all(len(r["Latency"]) <= emf.MAX_VALUES_PER_ARRAY for r in latency_records)
    for record in records:
        validate(record)
    values = metric_values(records, "Latency", Route="GET /flights/{flight_id}/seats")
    assert len(values) == 1000
    assert values.count(900.0) == 10 and values.count(10.0) == 990
    # The request count is exact even when the samples are capped.
    assert metric_values(records, "Requests", Route="GET /flights/{flight_id}/seats", StatusClass="2xx") == [
        5000
    ]


def test_a_rare_slow_request_survives_the_cap() -> None:
    agg = emf.Aggregator(NS, Capture(), max_latency_samples=100)
    for _ in range(10_000):
        agg.request("GET /x", 200, 0.005)
    agg.request("GET /x", 200, 3.0)
    values = metric_values(agg.flush(), "Latency", Route="GET /x")
    assert 3000.0 in values and len(values) <= 101


@pytest.mark.parametrize(
    ("ms", "expected"),
    [(0.0123, 0.012), (1.234, 1.2), (12.34, 12.0), (123.4, 120.0), (1987, 2000.0), (0, 0.0)],
)
def test_latency_is_rounded_to_two_significant_digits(ms: float, expected: float) -> None:
    assert emf.quantize_ms(ms) == pytest.approx(expected)


def test_counting_from_many_threads_loses_nothing() -> None:
    agg = emf.Aggregator(NS, Capture())

    def work() -> None:
        for _ in range(2000):
            agg.count(mc.BOOKINGS_CREATED)
            agg.request("POST /bookings", 201, 0.01)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    records = agg.flush()
    assert metric_values(records, "BookingsCreated") == [8000]
    assert metric_values(records, "Requests", Route="POST /bookings", StatusClass="2xx") == [8000]


def test_the_flusher_writes_periodically_and_once_more_on_stop() -> None:
    out = Capture()
    agg = emf.Aggregator(NS, out)
    flusher = emf.Flusher(agg, interval_seconds=0.2)
    flusher.start()
    try:
        deadline = time.monotonic() + 30
        while len(out.lines) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(out.lines) >= 2  # two periodic flushes, nothing counted: business zeros
    finally:
        agg.count(mc.BOOKINGS_CREATED)
        flusher.stop()
    assert metric_values(out.records()[-1:], "BookingsCreated") == [1]


# --- through the API -----------------------------------------------------------------------------------
@pytest.fixture
def captured(settings: Settings) -> Iterator[tuple[Capture, FastAPI]]:
    out = Capture()
    app = create_app(settings.model_copy(update={"METRICS_NAMESPACE": NS, "METRICS_FLUSH_SECONDS": 3600}))
    emf.configure(NS, 3600, write=out)
    yield out, app
    emf.configure(None)


def test_the_api_emits_the_catalogues_metrics(captured: tuple[Capture, FastAPI]) -> None:
    out, app = captured
    with TestClient(app) as client:
        api = Api(client, app)
        admin = api.admin()
        alice, bob = api.user(), api.user()
        flight = api.flight(admin)["id"]
        assert (
            client.post(f"/flights/{flight}/holds", json={"seats": ["1A"]}, headers=alice).status_code == 201
        )
        assert client.post(f"/flights/{flight}/holds", json={"seats": ["1A"]}, headers=bob).status_code == 409
        booking = {"flight_id": flight, "passengers": [{"seat": "2A", "name": "Ada Lovelace"}]}
        key = {"Idempotency-Key": "k-1"}
        assert client.post("/bookings", json=booking, headers=alice | key).status_code == 201
        assert client.post("/bookings", json=booking, headers=alice | key).status_code == 201  # replay
        assert client.post("/bookings", json=booking, headers=bob).status_code == 409
        assert client.get(f"/flights/{flight}/seats").status_code == 200
        assert client.get("/healthz").status_code == 200
    # Leaving the TestClient ran the lifespan shutdown: the final flush.
    records = out.records()
    assert records, "no EMF record written on shutdown"
    for record in records:
        validate(record)
        assert record["_aws"]["CloudWatchMetrics"][0]["Namespace"] == NS
    total = {spec.name: sum(metric_values(records, spec.name)) for spec in mc.BUSINESS}
    assert total == {
        "BookingsCreated": 1,
        "HoldsCreated": 1,
        "HoldConflicts": 1,
        "BookingConflicts": 1,
        "IdempotentReplays": 1,
        "DatabaseUnavailable": 0,
    }
    assert sum(metric_values(records, "Requests", Route="POST /bookings", StatusClass="2xx")) == 2
    assert sum(metric_values(records, "Requests", Route="POST /bookings", StatusClass="4xx")) == 1
    assert len(metric_values(records, "Latency", Route="GET /flights/{flight_id}/seats")) == 1
    # Every metric name and dimension key written is in the catalogue, with the catalogue's unit.
    for record in records:
        for directive in record["_aws"]["CloudWatchMetrics"]:
            for metric in directive["Metrics"]:
                spec = mc.BY_NAME[metric["Name"]]
                assert metric["Unit"] == spec.unit
                assert directive["Dimensions"] == [list(spec.dimensions)]
    routes = {r["Route"] for r in records if "Route" in r}
    assert routes <= route_templates(app)


def route_templates(app: FastAPI) -> set[str]:
    """The "METHOD /template" the middleware reports for every route: the documented ones (FastAPI's
    schema), plus those registered on the app itself outside it (the web page, a mount, the docs)."""
    paths = app.openapi()["paths"]
    templates = {f"{method.upper()} {path}" for path, operations in paths.items() for method in operations}
    for route in app.routes:
        path, methods = getattr(route, "path", None), getattr(route, "methods", None)
        if path is not None and methods:  # a Mount names no route: its files count as <unmatched>
            templates |= {f"{m} {path}" for m in methods if m != "HEAD"}
    return templates | {"GET /metrics"}  # included from a router, left out of the schema


def test_key_routes_are_real_routes(settings: Settings) -> None:
    real = route_templates(create_app(settings))
    assert set(mc.KEY_ROUTES) <= real
    assert set(mc.UNMEASURED_ROUTES) <= real


def test_unknown_methods_and_unrouted_paths_cannot_mint_metrics(captured: tuple[Capture, FastAPI]) -> None:
    out, app = captured
    with TestClient(app) as client:
        client.request("FOO", "/flights")
        client.request("BREW", "/coffee")
        client.get("/no/such/path/123")
        client.get("/static/favicon.svg")
    routes = {r["Route"] for r in out.records() if "Route" in r}
    assert routes == {"OTHER /flights", "OTHER <unmatched>", "GET <unmatched>"}


def test_no_namespace_means_no_records(settings: Settings) -> None:
    out = Capture()
    emf.configure(None, write=out)
    app = create_app(settings)
    with TestClient(app) as client:
        client.get("/healthz")
        client.get("/flights")
    assert out.lines == []


def test_the_plan_prices_as_many_routes_as_the_api_measures(settings: Settings) -> None:
    """stacks/prices.json's route count is the API's measured route templates plus "<unmatched>"."""
    prices = Path(__file__).parents[2] / "stacks" / "prices.json"
    assumptions = json.loads(prices.read_text())["assumptions"]
    measured = route_templates(create_app(settings)) - mc.UNMEASURED_ROUTES
    assert assumptions["emf_measured_routes"] == len(measured) + 1
