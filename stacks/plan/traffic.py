"""What the API's traffic costs: the request-driven items of both runtimes, as plain functions.

A `Traffic` is a number of requests a day (0 = idle); the per-request quantities (duration, bytes, log
volume) are assumptions in stacks/prices.json (`api_traffic`, measured with
bench/lambda_request_cost.py). Prices: Lambda (requests, GB-seconds, provisioned concurrency), API
Gateway HTTP APIs (per request, 512 KB increments), ALB LCUs (the highest of their dimensions) and
CloudWatch Logs ingestion, all from the same price table as the rest of the plan.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from stacks.plan.cost import PriceTable

SECONDS_PER_DAY = 86400


@dataclass(frozen=True)
class Traffic:
    requests_per_day: float
    label: str = ""

    @property
    def idle(self) -> bool:
        return self.requests_per_day <= 0

    def per_month(self, table: PriceTable) -> float:
        return self.requests_per_day * table.hours / 24

    def per_second(self) -> float:
        return self.requests_per_day / SECONDS_PER_DAY


def idle() -> Traffic:
    return Traffic(0, "idle")


def busy(table: PriceTable) -> Traffic:
    n = _num(table, "busy_requests_per_day")
    return Traffic(n, f"{n:,.0f} requests/day")


def _api(table: PriceTable) -> dict[str, Any]:
    return dict(table.assumptions["api_traffic"])


def _num(table: PriceTable, key: str) -> float:
    return float(_api(table)[key])


def _arch(architecture: str) -> str:
    return "arm64" if architecture.lower() in ("arm64", "arm") else "x86_64"


def lambda_requests_monthly(traffic: Traffic, table: PriceTable) -> float:
    return traffic.per_month(table) / 1e6 * table.price("lambda", "per_million_requests")


def lambda_duration_monthly(
    memory_mb: float, architecture: str, traffic: Traffic, table: PriceTable, *, provisioned: bool = False
) -> float:
    """GB-seconds of the requests (rounded up to 1 ms) and of the cold starts' init phase."""
    gb = memory_mb / 1024
    seconds = math.ceil(_num(table, "mean_duration_ms")) / 1000 * traffic.per_month(table)
    if not traffic.idle and not provisioned:
        days = table.hours / 24
        seconds += _num(table, "lambda_cold_starts_per_day") * days * _num(table, "lambda_init_seconds")
    key = f"{_arch(architecture)}_{'provisioned_duration_' if provisioned else ''}gb_second"
    return seconds * gb * table.price("lambda", key)


def provisioned_concurrency_monthly(
    environments: int, memory_mb: float, architecture: str, table: PriceTable
) -> float:
    """Kept ready all month, whether or not a request comes."""
    gb_seconds = environments * memory_mb / 1024 * table.hours * 3600
    return gb_seconds * table.price("lambda", f"{_arch(architecture)}_provisioned_gb_second")


def http_api_monthly(traffic: Traffic, table: PriceTable) -> float:
    """Each request is billed per started 512 KB of request + response."""
    size_kb = (_num(table, "request_bytes") + _num(table, "response_bytes")) / 1024
    units = max(1, math.ceil(size_kb / table.price("apigateway_http", "metered_kb")))
    return traffic.per_month(table) * units / 1e6 * table.price("apigateway_http", "per_million_requests")


def alb_lcu(traffic: Traffic, table: PriceTable, *, lambda_targets: bool) -> float:
    """Average LCUs: the highest of new connections and processed bytes (one rule, few connections)."""
    if traffic.idle:
        return 0.0
    per_second = traffic.per_second()
    new_connections = per_second if _api(table).get("new_connection_per_request") else 0.0
    gb_per_hour = per_second * 3600 * (_num(table, "request_bytes") + _num(table, "response_bytes")) / 1e9
    capacity = table.price("alb", "lcu_gb_per_hour_lambda_targets" if lambda_targets else "lcu_gb_per_hour")
    return max(new_connections / table.price("alb", "lcu_new_connections_per_second"), gb_per_hour / capacity)


def api_log_gb(runtime: str, traffic: Traffic, table: PriceTable) -> float:
    """GB a month the API writes to CloudWatch Logs (its log group) under this traffic."""
    if runtime == "lambda":
        return traffic.per_month(table) * _num(table, "lambda_log_bytes_per_request") / 1e9
    per_request = traffic.per_month(table) * _num(table, "fargate_log_bytes_per_request") / 1e9
    return _num(table, "fargate_idle_log_gb") + per_request


def access_log_gb(traffic: Traffic, table: PriceTable) -> float:
    """GB a month an HTTP API stage writes to its access-log group (one line per request)."""
    return traffic.per_month(table) * _num(table, "http_api_access_log_bytes_per_request") / 1e9


def emf_metric_count(runtime: str, traffic: Traffic, business: int, all_metrics: int) -> int:
    """Custom metrics billed: CloudWatch prorates them by the hour and meters only hours with data.

    Fargate writes the business record every minute even when idle; the per-route metrics exist only
    with traffic. A Lambda environment writes records only when it serves a request.
    """
    if not traffic.idle:
        return all_metrics
    return business if runtime == "fargate" else 0
