"""EMF under the production server: every gunicorn worker flushes its own counts, the last time on stop."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.app.conftest import JWT_SECRET
from tests.app.emf_schema import validate
from tests.app.server import live_server
from tests.conftest import PgServer

NS = "Booking/server-test"
REQUESTS = 40


def emf_records(log: str) -> list[dict[str, Any]]:
    records = []
    for line in log.splitlines():
        if line.startswith("{") and '"_aws"' in line:
            records.append(json.loads(line))
    return records


@pytest.mark.postgres
def test_every_worker_flushes_its_counts_when_the_server_stops(pg_server: PgServer, tmp_path: Path) -> None:
    url = pg_server.create_database("emf_server")
    # An hour between periodic flushes: what reaches stdout here is the shutdown flush of each worker.
    env = {
        "DATABASE_URL": url,
        "JWT_SECRET": JWT_SECRET,
        "METRICS_NAMESPACE": NS,
        "METRICS_FLUSH_SECONDS": "3600",
    }
    try:
        with (
            live_server(env, tmp_path / "serve.log", workers=2) as server,
            httpx.Client(base_url=server.url, timeout=60) as client,
        ):
            for _ in range(REQUESTS):
                assert client.get("/flights").status_code == 200
            assert client.get("/flights/999999").status_code == 404
        assert server.process.returncode == 0, server.log()
        records = emf_records(server.log())
    finally:
        pg_server.drop_database("emf_server")
    for record in records:
        validate(record)
        assert record["_aws"]["CloudWatchMetrics"][0]["Namespace"] == NS
    # One business record per worker (zeros included), each written once, on SIGTERM.
    business = [r for r in records if "BookingsCreated" in r]
    assert len(business) == 2, server.log()
    requests = [r for r in records if r.get("Route") == "GET /flights" and "Requests" in r]
    assert sum(r["Requests"] for r in requests) == REQUESTS  # nothing lost, nothing counted twice
    assert {r["StatusClass"] for r in requests} == {"2xx"}
    not_found = [r for r in records if r.get("Route") == "GET /flights/{flight_id}" and "Requests" in r]
    assert [(r["StatusClass"], r["Requests"]) for r in not_found] == [("4xx", 1)]
