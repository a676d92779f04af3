"""Alarm vocabulary and metric maths (pure): rules, names, what is watched, the metric queries.

`AlarmRule`/`AlarmSettings` say when each alarm fires, with defaults a small production service can
live with (`stacks/settings/alarms.py` validates `booking:alarms` into them). Alarm names are plain
functions so the Service can list its deployment (rollback) alarms before Monitoring creates them.

Metric names, dimensions and statistics follow AWS's CloudWatch metric references:
AWS/ApplicationELB (LoadBalancer = ALB ARN suffix "app/<name>/<id>", TargetGroup = target group ARN suffix
"targetgroup/<name>/<id>"), AWS/ECS and ECS/ContainerInsights (ClusterName, ServiceName), AWS/RDS
(DBInstanceIdentifier), AWS/Lambda (FunctionName) and AWS/SQS (QueueName).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi

ALB = "AWS/ApplicationELB"
ECS = "AWS/ECS"
CONTAINER_INSIGHTS = "ECS/ContainerInsights"
RDS = "AWS/RDS"
LAMBDA = "AWS/Lambda"
SQS = "AWS/SQS"

# Config key → alarm name suffix. The full name is "<prefix>-<suffix>", e.g. "booking-prod-target-5xx-rate".
ALARM_SUFFIXES: dict[str, str] = {
    "elb5xxRate": "elb-5xx-rate",
    "target5xxRate": "target-5xx-rate",
    "targetLatencyP99": "target-latency-p99",
    "unhealthyHosts": "unhealthy-hosts",
    "healthyHosts": "healthy-hosts-below-minimum",
    "serviceCpu": "service-cpu",
    "serviceMemory": "service-memory",
    "databaseCpu": "database-cpu",
    "databaseFreeStorage": "database-free-storage",
    "databaseFreeableMemory": "database-freeable-memory",
    "databaseConnections": "database-connections",
    "notifierErrors": "notifier-errors",
    "notifierDuration": "notifier-duration",
    "deadLetterQueue": "notifier-dlq-messages",
    "consumedLcus": "alb-consumed-lcus",
    # The API's own metrics (EMF, components/business_metrics.py); noBookings only when enabled.
    "conflictRatio": "seat-conflict-ratio",
    "noBookings": "no-bookings",
}

# A bad release shows up as 5xx responses (from the app or from the ALB when tasks die) or as slow
# responses; these are the alarms that roll an ECS deployment back. Resource alarms (CPU, RDS) are not:
# a busy database is no reason to undo a release.
DEPLOYMENT_ALARM_KEYS: tuple[str, ...] = ("elb5xxRate", "target5xxRate", "targetLatencyP99")

_PREFIX = re.compile(r"^[a-z][a-z0-9-]{0,38}[a-z0-9]$")
MIB = 1024 * 1024
GIB = 1024 * MIB


@dataclass(frozen=True)
class AlarmRule:
    """When one alarm fires: `threshold` breached in `datapoints_to_alarm` of `evaluation_periods`."""

    threshold: float
    period_seconds: int
    evaluation_periods: int
    datapoints_to_alarm: int
    # Rate alarms only: below this many requests in a period the rate is reported as 0, so two failed
    # requests out of three at 4 a.m. do not page anyone.
    minimum_requests: int = 0


@dataclass(frozen=True)
class BusinessHours:
    """When bookings are expected (UTC, CloudWatch's clock): [start_hour, end_hour) on the chosen days."""

    enabled: bool = False  # off unless a stack turns it on (dev has no customers)
    start_hour_utc: int = 8
    end_hour_utc: int = 20
    weekdays_only: bool = True

    def __post_init__(self) -> None:
        if not 0 <= self.start_hour_utc < self.end_hour_utc <= 24:
            raise ValueError(
                f"business hours {self.start_hour_utc}-{self.end_hour_utc} UTC are invalid: "
                "need 0 <= start < end <= 24"
            )


@dataclass(frozen=True)
class AlarmSettings:
    elb_5xx_rate: AlarmRule = AlarmRule(5, 60, 5, 3, minimum_requests=20)
    target_5xx_rate: AlarmRule = AlarmRule(5, 60, 5, 3, minimum_requests=20)
    target_latency_p99: AlarmRule = AlarmRule(1000, 60, 5, 3)
    unhealthy_hosts: AlarmRule = AlarmRule(0, 60, 3, 3)
    healthy_hosts: AlarmRule = AlarmRule(0, 60, 3, 3)
    service_cpu: AlarmRule = AlarmRule(80, 60, 5, 5)
    service_memory: AlarmRule = AlarmRule(80, 60, 5, 5)
    database_cpu: AlarmRule = AlarmRule(80, 300, 3, 3)
    database_free_storage: AlarmRule = AlarmRule(10, 300, 1, 1)
    database_freeable_memory: AlarmRule = AlarmRule(64, 300, 3, 3)
    database_connections: AlarmRule = AlarmRule(80, 300, 2, 2)
    notifier_errors: AlarmRule = AlarmRule(0, 300, 1, 1)
    notifier_duration: AlarmRule = AlarmRule(2000, 300, 1, 1)
    dead_letter_queue: AlarmRule = AlarmRule(0, 300, 1, 1)
    consumed_lcus: AlarmRule = AlarmRule(10, 300, 3, 3)
    # % of seat claims refused; minimum_requests = hold/booking attempts below which the ratio is 0.
    conflict_ratio: AlarmRule = AlarmRule(20, 300, 3, 2, minimum_requests=20)
    # Threshold fixed (fewer than 1 booking); 6 periods of 5 minutes: no booking for 30 minutes.
    no_bookings: AlarmRule = AlarmRule(1, 300, 6, 6)
    business_hours: BusinessHours = BusinessHours()
    # Empty: alarms go to the same people as deployment notifications (see `recipients`).
    emails: tuple[str, ...] = ()

    def recipients(self, notification_addresses: Sequence[str]) -> tuple[str, ...]:
        """Who is e-mailed about alarms: `emails` when configured, else the deploy-notification list."""
        chosen = self.emails or tuple(notification_addresses)
        # One subscription per address: SNS would treat a second as the same subscription anyway.
        return tuple(dict.fromkeys(chosen))


def validate_prefix(prefix: str) -> str:
    if not _PREFIX.match(prefix):
        raise ValueError(
            f"monitoring name prefix {prefix!r} is invalid: must be 2-40 lowercase letters, digits or '-', "
            "starting with a letter (it names alarms, the topic and the dashboard)"
        )
    return prefix


def alarm_name(prefix: str, key: str) -> str:
    """The CloudWatch alarm name for an alarm key of `booking:alarms`, e.g. ("booking-dev", "serviceCpu")."""
    return f"{validate_prefix(prefix)}-{ALARM_SUFFIXES[key]}"


def alarm_names(prefix: str, settings: AlarmSettings | None = None) -> dict[str, str]:
    """Every alarm's name; with `settings`, only the alarms they enable (noBookings is opt-in)."""
    return {
        key: alarm_name(prefix, key)
        for key in ALARM_SUFFIXES
        if settings is None or key != "noBookings" or settings.business_hours.enabled
    }


def deployment_alarm_names(prefix: str) -> tuple[str, ...]:
    """Names for the ECS service's deployment `alarms` (rollback); known before the alarms exist."""
    return tuple(alarm_name(prefix, key) for key in DEPLOYMENT_ALARM_KEYS)


def dashboard_name(prefix: str) -> str:
    return validate_prefix(prefix)


def arn_partition(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


@dataclass(frozen=True)
class Watched:
    """What the alarms and the dashboard look at: CloudWatch dimension values of the real resources."""

    load_balancer: pulumi.Input[str]  # ALB ARN suffix, "app/<name>/<id>"
    target_group: pulumi.Input[str]  # target group ARN suffix, "targetgroup/<name>/<id>"
    cluster_name: pulumi.Input[str]
    service_name: pulumi.Input[str]
    db_instance_identifier: pulumi.Input[str]
    notifier_function_name: pulumi.Input[str]
    dead_letter_queue_name: pulumi.Input[str]


@dataclass(frozen=True)
class MetricStat:
    namespace: str
    metric_name: str
    dimensions: Mapping[str, pulumi.Input[str]]
    stat: str
    period: int


@dataclass(frozen=True)
class MetricQuery:
    """One entry of an alarm's `metric_queries`: a metric (`metric`) or a math expression."""

    id: str
    label: str
    metric: MetricStat | None = None
    expression: str | None = None
    return_data: bool = False


@dataclass(frozen=True)
class AlarmDefinition:
    key: str
    name: str
    description: str
    comparison_operator: str
    threshold: pulumi.Input[float]
    rule: AlarmRule
    treat_missing_data: str
    # Either a single metric (namespace … statistic/extended_statistic) or metric-math `queries`.
    namespace: str | None = None
    metric_name: str | None = None
    dimensions: Mapping[str, pulumi.Input[str]] | None = None
    statistic: str | None = None
    extended_statistic: str | None = None
    queries: tuple[MetricQuery, ...] = ()
    evaluate_low_sample_count_percentiles: str | None = None


def error_rate_queries(
    errors: MetricStat, requests: MetricStat, minimum_requests: int, *, errors_outside_requests: bool
) -> tuple[MetricQuery, ...]:
    """Metric math for "percentage of requests answered with a 5xx".

    ALB publishes the 5xx counts only when non-zero, so they are FILLed with 0. Below
    `minimum_requests` in a period the rate is 0: at low traffic one failure is not an incident.
    `errors_outside_requests`: ALB-generated 5xx (e.g. 503 with no healthy target) are not counted in
    RequestCount, which only counts requests for which a target was chosen, so they join the total.
    """
    total = "FILL(requests, 0) + FILL(errors, 0)" if errors_outside_requests else "FILL(requests, 0)"
    return (
        MetricQuery(id="errors", label="5xx responses", metric=errors),
        MetricQuery(id="requests", label="Requests", metric=requests),
        MetricQuery(id="total", label="Requests counted", expression=total),
        MetricQuery(
            id="error_rate",
            label="5xx rate (%)",
            expression=f"IF(total >= {minimum_requests}, 100 * FILL(errors, 0) / total, 0)",
            return_data=True,
        ),
    )


def lcu_rate_queries(load_balancer: pulumi.Input[str], period: int) -> tuple[MetricQuery, ...]:
    """ConsumedLCUs as LCUs per hour, whatever the alarm period.

    ALB reports ConsumedLCUs every minute ("Statistics: All"); we take each datapoint as that minute's
    share of the hourly LCU usage, the convention AWS documents for the sibling ReservedLCUs metric
    ("one-hour total 6,000, one-minute total 100"). The Sum over a period scaled by 3600/period is then
    the average hourly LCU rate the bill is computed from, independent of the configured period.
    """
    lcus = MetricStat(ALB, "ConsumedLCUs", {"LoadBalancer": load_balancer}, "Sum", period)
    return (
        MetricQuery(id="lcus", label="ConsumedLCUs", metric=lcus),
        MetricQuery(
            id="lcus_per_hour", label="LCUs per hour", expression=f"lcus * 3600 / {period}", return_data=True
        ),
    )


def free_storage_threshold_bytes(allocated_storage_gb: int, percent: float) -> float:
    """FreeStorageSpace (bytes) below which `percent` of the allocated storage is left."""
    return allocated_storage_gb * GIB * percent / 100
