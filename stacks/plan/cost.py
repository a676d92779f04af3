"""Monthly cost maths: plain functions over plain numbers and the repo's price table (stacks/prices.json).

Every function takes the prices and assumptions it needs, so a test can compute the same figure by hand.
Money is kept as float dollars and rounded only for display.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PRICES_PATH = Path(__file__).resolve().parent.parent / "prices.json"


@dataclass(frozen=True)
class PriceTable:
    raw: Mapping[str, Any]

    @property
    def prices(self) -> Mapping[str, Any]:
        return self.raw["prices"]

    @property
    def assumptions(self) -> Mapping[str, Any]:
        return self.raw["assumptions"]

    @property
    def hours(self) -> float:
        return float(self.assumptions["hours_per_month"])

    @property
    def statement(self) -> str:
        return str(self.raw["statement"])

    def price(self, *path: str) -> float:
        node: Any = self.prices
        for part in path:
            node = node[part]
        return float(node)

    def with_assumptions(self, **changes: Any) -> PriceTable:
        return PriceTable({**self.raw, "assumptions": {**self.assumptions, **changes}})


def load_prices(path: Path = PRICES_PATH) -> PriceTable:
    return PriceTable(json.loads(path.read_text()))


class UnpricedError(KeyError):
    """The price table has no entry for something the stack declares (e.g. a new RDS instance class)."""


# --- one function per priced thing ---------------------------------------------------------------------
def fargate_task_hourly(vcpu: float, memory_gb: float, architecture: str, table: PriceTable) -> float:
    arch = "arm64" if architecture.upper() in ("ARM64", "ARM") else "x86_64"
    return vcpu * table.price("fargate", arch, "vcpu_hour") + memory_gb * table.price(
        "fargate", arch, "gb_hour"
    )


def spot_task_share(tasks: int, strategies: Sequence[Mapping[str, Any]]) -> float:
    """How many of `tasks` run on FARGATE_SPOT under a capacity provider strategy (base, then weight)."""
    if not strategies or tasks <= 0:
        return 0.0
    remaining = float(tasks)
    spot = 0.0
    for strategy in strategies:
        base = min(float(strategy.get("base") or 0), remaining)
        remaining -= base
        if strategy.get("capacityProvider") == "FARGATE_SPOT":
            spot += base
    total_weight = sum(float(s.get("weight") or 0) for s in strategies)
    if total_weight > 0:
        spot_weight = sum(
            float(s.get("weight") or 0) for s in strategies if s.get("capacityProvider") == "FARGATE_SPOT"
        )
        spot += remaining * spot_weight / total_weight
    return spot


def fargate_monthly(
    vcpu: float, memory_gb: float, architecture: str, tasks: float, spot_tasks: float, table: PriceTable
) -> float:
    hourly = fargate_task_hourly(vcpu, memory_gb, architecture, table)
    discount = float(table.assumptions["fargate_spot_discount"])
    on_demand = tasks - spot_tasks
    return (on_demand * hourly + spot_tasks * hourly * (1 - discount)) * table.hours


def nat_gateway_monthly(table: PriceTable) -> float:
    gb = float(table.assumptions["nat_gb_processed_per_gateway"])
    return table.price("nat_gateway", "hour") * table.hours + gb * table.price("nat_gateway", "gb_processed")


def public_ipv4_monthly(addresses: int, table: PriceTable) -> float:
    return addresses * table.price("public_ipv4", "hour") * table.hours


def alb_monthly(table: PriceTable) -> float:
    lcu = float(table.assumptions["alb_average_lcu"])
    return (table.price("alb", "hour") + lcu * table.price("alb", "lcu_hour")) * table.hours


def interface_endpoint_monthly(azs: int, table: PriceTable) -> float:
    gb = float(table.assumptions["interface_endpoint_gb_processed"])
    return azs * table.price("interface_endpoint", "az_hour") * table.hours + gb * table.price(
        "interface_endpoint", "gb_processed"
    )


def rds_instance_monthly(instance_class: str, multi_az: bool, table: PriceTable) -> float:
    classes = table.prices["rds_postgresql"]["instance_hour"]
    if instance_class not in classes:
        raise UnpricedError(
            f"no price for RDS instance class {instance_class} in stacks/prices.json "
            f"(priced: {', '.join(sorted(classes))})"
        )
    deployment = "multi_az" if multi_az else "single_az"
    return float(classes[instance_class][deployment]) * table.hours


def rds_storage_monthly(storage_gb: float, storage_type: str, multi_az: bool, table: PriceTable) -> float:
    storage = table.prices["rds_postgresql"]["storage_gb_month"]
    if storage_type not in storage:
        raise UnpricedError(f"no price for RDS storage type {storage_type} in stacks/prices.json")
    return storage_gb * float(storage[storage_type]["multi_az" if multi_az else "single_az"])


def secrets_monthly(secrets: int, table: PriceTable) -> float:
    return secrets * table.price("secrets_manager", "secret_month")


def log_ingestion_monthly(gb: float, table: PriceTable) -> float:
    return gb * table.price("cloudwatch", "logs_ingested_gb")


def alarm_monthly(metrics: int, high_resolution: bool, table: PriceTable) -> float:
    """CloudWatch bills an alarm per metric it evaluates (metric math over 2 metrics = 2 alarm metrics)."""
    key = "high_resolution_alarm_month" if high_resolution else "standard_alarm_month"
    return metrics * table.price("cloudwatch", key)


def custom_metrics_count(business: int, routes: int, status_classes: int) -> int:
    """EMF metrics the API creates: the business counters, plus per route one Latency and one Requests
    per status class seen (docs/business-metrics.md)."""
    return business + routes * (1 + status_classes)


def custom_metrics_monthly(metrics: int, table: PriceTable) -> float:
    return metrics * table.price("cloudwatch", "custom_metric_month")


def dashboards_monthly(dashboards: int, table: PriceTable) -> float:
    return dashboards * table.price("cloudwatch", "dashboard_month")


def lambda_monthly(memory_mb: float, architecture: str, table: PriceTable) -> float:
    invocations = float(table.assumptions["lambda_invocations"])
    seconds = float(table.assumptions["lambda_average_seconds"])
    gb_second = "arm64_gb_second" if architecture == "arm64" else "x86_64_gb_second"
    return invocations / 1e6 * table.price("lambda", "per_million_requests") + invocations * seconds * (
        memory_mb / 1024
    ) * table.price("lambda", gb_second)


def sns_monthly(table: PriceTable) -> float:
    a = table.assumptions
    return float(a["sns_publishes"]) / 1e6 * table.price("sns", "per_million_publishes") + float(
        a["sns_emails"]
    ) / 1e5 * table.price("sns", "per_100k_email")


def sqs_monthly(table: PriceTable) -> float:
    return float(table.assumptions["sqs_requests"]) / 1e6 * table.price("sqs", "per_million_requests")


def ecr_monthly(table: PriceTable) -> float:
    return float(table.assumptions["ecr_stored_gb"]) * table.price("ecr", "storage_gb_month")


def s3_monthly(table: PriceTable) -> float:
    return float(table.assumptions["s3_stored_gb"]) * table.price("s3", "standard_gb_month")


def kms_monthly(keys: int, table: PriceTable) -> float:
    return keys * table.price("kms", "customer_key_month")


def waf_monthly(rules: int, table: PriceTable) -> float:
    """One web ACL with `rules` rules (a managed rule group is one), plus the assumed requests."""
    millions = float(table.assumptions["waf_requests_millions"])
    return (
        table.price("waf", "web_acl_month")
        + rules * table.price("waf", "rule_month")
        + millions * table.price("waf", "per_million_requests")
    )


# --- the report ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CostLine:
    urn: str
    resource: str
    component: str
    item: str
    monthly: float
    # The same line at the service's maximum task count (Fargate and per-task lines differ).
    monthly_at_max: float | None = None


@dataclass(frozen=True)
class CostReport:
    lines: tuple[CostLine, ...]
    assumptions: tuple[str, ...]
    warnings: tuple[str, ...] = field(default_factory=tuple)

    @property
    def total(self) -> float:
        return sum(line.monthly for line in self.lines)

    @property
    def total_at_max(self) -> float:
        return sum(
            line.monthly if line.monthly_at_max is None else line.monthly_at_max for line in self.lines
        )

    def by_component(self) -> dict[str, float]:
        totals: dict[str, float] = {}
        for line in self.lines:
            totals[line.component] = totals.get(line.component, 0.0) + line.monthly
        return totals
