"""Alarm vocabulary and metric maths (pure): rules, names, what is watched, the metric queries.

`AlarmRule`/`AlarmSettings` say when each alarm fires, with defaults a small production service can
live with (`stacks/settings/alarms.py` validates `booking:alarms` into them). Alarm names are plain
functions so the Service can list its deployment (rollback) alarms before Monitoring creates them.

Metric names, dimensions and statistics follow AWS's CloudWatch metric references:
AWS/ApplicationELB (LoadBalancer = ALB ARN suffix "app/<name>/<id>", TargetGroup = target group ARN suffix
"targetgroup/<name>/<id>"), AWS/ECS and ECS/ContainerInsights (ClusterName, ServiceName), AWS/RDS
(DBInstanceIdentifier), AWS/Lambda (FunctionName; Resource "<function>:<alias>" for one alias, Lambda
Developer Guide "Viewing metrics for Lambda functions"), AWS/ApiGateway for HTTP APIs (ApiId, Stage;
"Monitor CloudWatch metrics for HTTP APIs in API Gateway") and AWS/SQS (QueueName).

The runtime (`fargate` or `lambda`) and the front door (`alb` or `httpApi`) decide which alarms exist:
`alarm_keys` is the one place that says so.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import pulumi

ALB = "AWS/ApplicationELB"
ECS = "AWS/ECS"
CONTAINER_INSIGHTS = "ECS/ContainerInsights"
RDS = "AWS/RDS"
LAMBDA = "AWS/Lambda"
SQS = "AWS/SQS"
API_GATEWAY = "AWS/ApiGateway"

# The same values as the stack settings' runtime and Lambda front door (booking:service.runtime,
# booking:lambda.frontDoor); components never import stacks, so they are spelled here.
Runtime = Literal["fargate", "lambda"]
FrontDoor = Literal["alb", "httpApi"]

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
    # runtime lambda: the API function's alias (components/lambda_alarms.py).
    "functionErrorRate": "function-error-rate",
    "functionThrottles": "function-throttles",
    "functionDurationP99": "function-duration-p99",
    "functionConcurrency": "function-concurrency",
    # front door httpApi: the API Gateway HTTP API's stage.
    "api5xxRate": "api-5xx-rate",
    "apiLatencyP99": "api-latency-p99",
}

# Which alarms watch what: an alarm exists only where its metric does.
ALB_ALARM_KEYS = frozenset({"elb5xxRate", "target5xxRate", "targetLatencyP99", "consumedLcus"})
# Registered-target health and task CPU/memory only exist for ECS tasks: a Lambda target group reports
# no HealthyHostCount unless health checks are enabled, and a function has no tasks.
ECS_ALARM_KEYS = frozenset({"unhealthyHosts", "healthyHosts", "serviceCpu", "serviceMemory"})
LAMBDA_ALARM_KEYS = frozenset(
    {"functionErrorRate", "functionThrottles", "functionDurationP99", "functionConcurrency"}
)
HTTP_API_ALARM_KEYS = frozenset({"api5xxRate", "apiLatencyP99"})

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
    # runtime lambda. Error rate: % of invocations that failed (minimum_requests = invocations).
    function_error_rate: AlarmRule = AlarmRule(5, 60, 5, 3, minimum_requests=20)
    function_throttles: AlarmRule = AlarmRule(0, 60, 5, 2)  # throttled requests per period
    function_duration_p99: AlarmRule = AlarmRule(80, 60, 5, 3)  # % of the function's timeout
    function_concurrency: AlarmRule = AlarmRule(80, 60, 5, 3)  # % of the reserved concurrency
    # front door httpApi: as the ALB target alarms.
    api_5xx_rate: AlarmRule = AlarmRule(5, 60, 5, 3, minimum_requests=20)
    api_latency_p99: AlarmRule = AlarmRule(1000, 60, 5, 3)  # ms
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


def alarm_keys(
    settings: AlarmSettings, runtime: Runtime = "fargate", front_door: FrontDoor = "alb"
) -> tuple[str, ...]:
    """The alarms an environment has: those of its runtime and front door that `settings` enable.

    Fargate always sits behind the ALB; `front_door` only matters for the Lambda runtime.
    """
    if runtime == "fargate":
        excluded = LAMBDA_ALARM_KEYS | HTTP_API_ALARM_KEYS
    elif front_door == "alb":
        excluded = ECS_ALARM_KEYS | HTTP_API_ALARM_KEYS
    else:
        excluded = ECS_ALARM_KEYS | ALB_ALARM_KEYS
    return tuple(
        key
        for key in ALARM_SUFFIXES
        if key not in excluded and (key != "noBookings" or settings.business_hours.enabled)
    )


def alarm_names(
    prefix: str,
    settings: AlarmSettings | None = None,
    *,
    runtime: Runtime = "fargate",
    front_door: FrontDoor = "alb",
) -> dict[str, str]:
    """Every alarm key's name; with `settings`, only the alarms the environment has (`alarm_keys`)."""
    keys = ALARM_SUFFIXES if settings is None else alarm_keys(settings, runtime, front_door)
    return {key: alarm_name(prefix, key) for key in keys}


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


@dataclass(frozen=True, kw_only=True)
class Watched:
    """What the alarms and the dashboard look at: CloudWatch dimension values of the real resources.

    The runtime follows from what is given: `function_name` + `alias_name` (the API as a Lambda
    function) or `cluster_name` + `service_name` (ECS on Fargate); the front door from `api_id` + `stage`
    (an API Gateway HTTP API, Lambda only) or `load_balancer` + `target_group` (the ALB).
    """

    load_balancer: pulumi.Input[str] | None = None  # ALB ARN suffix, "app/<name>/<id>"
    target_group: pulumi.Input[str] | None = None  # target group ARN suffix, "targetgroup/<name>/<id>"
    cluster_name: pulumi.Input[str] | None = None
    service_name: pulumi.Input[str] | None = None
    db_instance_identifier: pulumi.Input[str]
    notifier_function_name: pulumi.Input[str]
    dead_letter_queue_name: pulumi.Input[str]
    function_name: pulumi.Input[str] | None = None  # the API function (runtime lambda)
    alias_name: pulumi.Input[str] | None = None  # the alias the front door invokes, e.g. "live"
    api_id: pulumi.Input[str] | None = None  # HTTP API id (front door httpApi)
    stage: pulumi.Input[str] | None = None  # its stage name, e.g. "$default"

    def __post_init__(self) -> None:
        given = {name for name, value in vars(self).items() if value is not None}
        if self.runtime == "lambda":
            _require(
                given, "lambda", {"function_name", "alias_name"}, forbidden={"cluster_name", "service_name"}
            )
            front = ({"api_id", "stage"}, {"load_balancer", "target_group"})
            if self.front_door == "alb":
                front = front[::-1]
            _require(given, f"lambda behind {self.front_door}", front[0], forbidden=front[1])
        else:
            _require(
                given,
                "fargate",
                {"load_balancer", "target_group", "cluster_name", "service_name"},
                forbidden={"alias_name", "api_id", "stage"},
            )

    @property
    def runtime(self) -> Runtime:
        return "lambda" if self.function_name is not None else "fargate"

    @property
    def front_door(self) -> FrontDoor:
        return "httpApi" if self.api_id is not None else "alb"


def _require(given: set[str], what: str, needed: set[str], *, forbidden: set[str]) -> None:
    if missing := sorted(needed - given):
        raise ValueError(f"Watched for {what} needs {', '.join(missing)}")
    if extra := sorted(forbidden & given):
        raise ValueError(f"Watched for {what} must not set {', '.join(extra)} (another runtime's resources)")


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
    errors: MetricStat,
    requests: MetricStat,
    minimum_requests: int,
    *,
    errors_outside_requests: bool,
    labels: tuple[str, str, str] = ("5xx responses", "Requests", "5xx rate (%)"),
) -> tuple[MetricQuery, ...]:
    """Metric math for "percentage of requests answered with a 5xx".

    ALB publishes the 5xx counts only when non-zero, so they are FILLed with 0. Below
    `minimum_requests` in a period the rate is 0: at low traffic one failure is not an incident.
    `errors_outside_requests`: ALB-generated 5xx (e.g. 503 with no healthy target) are not counted in
    RequestCount, which only counts requests for which a target was chosen, so they join the total.
    """
    total = "FILL(requests, 0) + FILL(errors, 0)" if errors_outside_requests else "FILL(requests, 0)"
    errors_label, requests_label, rate_label = labels
    return (
        MetricQuery(id="errors", label=errors_label, metric=errors),
        MetricQuery(id="requests", label=requests_label, metric=requests),
        MetricQuery(id="total", label="Requests counted", expression=total),
        MetricQuery(
            id="error_rate",
            label=rate_label,
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


def duration_threshold_ms(timeout_seconds: int, percent: float) -> float:
    """The Duration (ms) at `percent` of the function's timeout: a p99 above it is close to timing out.

    Lambda's Duration is in milliseconds and cannot exceed the configured timeout (an invocation that
    reaches it is stopped and counted in Errors), so the alarm must fire below the timeout.
    """
    if timeout_seconds < 1:
        raise ValueError(f"function timeout {timeout_seconds} s is invalid: must be at least 1")
    return timeout_seconds * 1000 * percent / 100


def concurrency_threshold(reserved_concurrency: int, percent: float) -> float:
    """ConcurrentExecutions at which `percent` of the reserved concurrency is in use (at least 1).

    Reserved concurrency is the function's ceiling: requests beyond it are throttled, so the alarm warns
    before that ("GreaterThanOrEqualToThreshold": 100% means "at the ceiling").
    """
    if reserved_concurrency < 1:
        raise ValueError(f"reserved concurrency {reserved_concurrency} is invalid: must be at least 1")
    return max(1.0, reserved_concurrency * percent / 100)
