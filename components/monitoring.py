"""Monitoring: CloudWatch alarms to an encrypted SNS topic, a dashboard and saved Logs Insights queries.

The component receives plain names and ARN suffixes (never the other components' classes), so it can be
tested on its own and wired after Service and DeployNotifier. Alarm names are computed by plain functions
so the Service can list the deployment (rollback) alarms before this component creates them.

Metric names, dimensions and statistics follow AWS's CloudWatch metric references:
AWS/ApplicationELB (LoadBalancer = ALB ARN suffix "app/<name>/<id>", TargetGroup = target group ARN suffix
"targetgroup/<name>/<id>"), AWS/ECS and ECS/ContainerInsights (ClusterName, ServiceName), AWS/RDS
(DBInstanceIdentifier), AWS/Lambda (FunctionName) and AWS/SQS (QueueName).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from components.alarms import AlarmRule, AlarmSettings

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
}

# A bad release shows up as 5xx responses (from the app or from the ALB when tasks die) or as slow
# responses; these are the alarms that roll an ECS deployment back. Resource alarms (CPU, RDS) are not:
# a busy database is no reason to undo a release.
DEPLOYMENT_ALARM_KEYS: tuple[str, ...] = ("elb5xxRate", "target5xxRate", "targetLatencyP99")

_PREFIX = re.compile(r"^[a-z][a-z0-9-]{0,38}[a-z0-9]$")
_MIB = 1024 * 1024
_GIB = 1024 * _MIB

# The API's access log: one JSON line per request (fields from app/ logging). ECS's awslogs driver
# stores each line as the event message, which Logs Insights parses into fields automatically.
ERRORS_BY_ROUTE_QUERY = "\n| ".join(
    (
        "fields @timestamp, method, route, status, latency_ms, request_id",
        "filter status >= 500",
        "stats count(*) as errors, max(latency_ms) as max_latency_ms, latest(request_id) as last_request_id"
        " by method, route, status",
        "sort errors desc",
        "limit 100",
    )
)

LATENCY_BY_ROUTE_QUERY = "\n| ".join(
    (
        "fields @timestamp, method, route, status, latency_ms",
        "filter ispresent(latency_ms)",
        "stats count(*) as requests, pct(latency_ms, 50) as p50_ms, pct(latency_ms, 99) as p99_ms,"
        " max(latency_ms) as max_ms by method, route",
        "sort p99_ms desc",
        "limit 100",
    )
)


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


def alarm_names(prefix: str) -> dict[str, str]:
    return {key: alarm_name(prefix, key) for key in ALARM_SUFFIXES}


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
    return allocated_storage_gb * _GIB * percent / 100


def _runbook(key: str, meaning: str) -> str:
    return f"{meaning} Runbook: README.md, Monitoring, alarm '{key}'."


def alarm_definitions(
    prefix: str,
    settings: AlarmSettings,
    watched: Watched,
    *,
    min_healthy_hosts: int,
    free_storage_threshold: pulumi.Input[float],
) -> tuple[AlarmDefinition, ...]:
    """Every alarm of the environment, as data (the component turns each into a MetricAlarm)."""
    names = alarm_names(prefix)
    lb = {"LoadBalancer": watched.load_balancer}
    tg = {"LoadBalancer": watched.load_balancer, "TargetGroup": watched.target_group}
    service = {"ClusterName": watched.cluster_name, "ServiceName": watched.service_name}
    db = {"DBInstanceIdentifier": watched.db_instance_identifier}
    fn = {"FunctionName": watched.notifier_function_name}
    s = settings

    def single(
        key: str,
        rule: AlarmRule,
        meaning: str,
        *,
        namespace: str,
        metric: str,
        dimensions: Mapping[str, pulumi.Input[str]],
        statistic: str,
        comparison: str = "GreaterThanThreshold",
        threshold: pulumi.Input[float] | None = None,
        missing: str,
    ) -> AlarmDefinition:
        return AlarmDefinition(
            key=key,
            name=names[key],
            description=_runbook(key, meaning),
            comparison_operator=comparison,
            threshold=rule.threshold if threshold is None else threshold,
            rule=rule,
            treat_missing_data=missing,
            namespace=namespace,
            metric_name=metric,
            dimensions=dimensions,
            statistic=statistic,
        )

    elb_period = s.elb_5xx_rate.period_seconds
    target_period = s.target_5xx_rate.period_seconds
    return (
        AlarmDefinition(
            key="elb5xxRate",
            name=names["elb5xxRate"],
            description=_runbook(
                "elb5xxRate",
                f"More than {s.elb_5xx_rate.threshold:g}% of requests got a 5xx generated by the load "
                "balancer itself (502/503/504: no healthy target, target reset or timed out).",
            ),
            comparison_operator="GreaterThanThreshold",
            threshold=s.elb_5xx_rate.threshold,
            rule=s.elb_5xx_rate,
            # No traffic means no data at all: that is not an error rate.
            treat_missing_data="notBreaching",
            queries=error_rate_queries(
                MetricStat(ALB, "HTTPCode_ELB_5XX_Count", lb, "Sum", elb_period),
                MetricStat(ALB, "RequestCount", lb, "Sum", elb_period),
                s.elb_5xx_rate.minimum_requests,
                errors_outside_requests=True,
            ),
        ),
        AlarmDefinition(
            key="target5xxRate",
            name=names["target5xxRate"],
            description=_runbook(
                "target5xxRate",
                f"More than {s.target_5xx_rate.threshold:g}% of requests got a 5xx from the API.",
            ),
            comparison_operator="GreaterThanThreshold",
            threshold=s.target_5xx_rate.threshold,
            rule=s.target_5xx_rate,
            treat_missing_data="notBreaching",  # no traffic, no data: not an error rate
            queries=error_rate_queries(
                MetricStat(ALB, "HTTPCode_Target_5XX_Count", tg, "Sum", target_period),
                MetricStat(ALB, "RequestCount", tg, "Sum", target_period),
                s.target_5xx_rate.minimum_requests,
                errors_outside_requests=False,
            ),
        ),
        AlarmDefinition(
            key="targetLatencyP99",
            name=names["targetLatencyP99"],
            description=_runbook(
                "targetLatencyP99",
                f"The slowest 1% of API responses took longer than {s.target_latency_p99.threshold:g} ms.",
            ),
            comparison_operator="GreaterThanThreshold",
            # TargetResponseTime is in seconds; the setting is in milliseconds.
            threshold=s.target_latency_p99.threshold / 1000,
            rule=s.target_latency_p99,
            treat_missing_data="notBreaching",  # no requests, no latency
            namespace=ALB,
            metric_name="TargetResponseTime",
            dimensions=tg,
            extended_statistic="p99",
            # A p99 over a handful of requests is just the slowest one: keep the state until there are
            # enough samples rather than paging on one slow request at night.
            evaluate_low_sample_count_percentiles="ignore",
        ),
        single(
            "unhealthyHosts",
            s.unhealthy_hosts,
            f"More than {s.unhealthy_hosts.threshold:g} API task(s) fail the load balancer health check.",
            namespace=ALB,
            metric="UnHealthyHostCount",
            dimensions=tg,
            statistic="Maximum",
            # Missing means no target registered at all; the healthy-hosts alarm covers that case.
            missing="notBreaching",
        ),
        single(
            "healthyHosts",
            s.healthy_hosts,
            f"Fewer than {min_healthy_hosts} healthy API task(s) behind the load balancer.",
            namespace=ALB,
            metric="HealthyHostCount",
            dimensions=tg,
            statistic="Minimum",
            comparison="LessThanThreshold",
            threshold=min_healthy_hosts,
            # No data is no evidence of a healthy target (target group detached, nothing registered).
            missing="breaching",
        ),
        single(
            "serviceCpu",
            s.service_cpu,
            f"The API service's average CPU is above {s.service_cpu.threshold:g}% of what its tasks reserve.",
            namespace=ECS,
            metric="CPUUtilization",
            dimensions=service,
            statistic="Average",
            # No running task publishes nothing; the healthy-hosts alarm is the one for that.
            missing="notBreaching",
        ),
        single(
            "serviceMemory",
            s.service_memory,
            f"The API service's average memory is above {s.service_memory.threshold:g}% of task memory.",
            namespace=ECS,
            metric="MemoryUtilization",
            dimensions=service,
            statistic="Average",
            missing="notBreaching",  # as for CPU
        ),
        single(
            "databaseCpu",
            s.database_cpu,
            f"The database instance's CPU is above {s.database_cpu.threshold:g}%.",
            namespace=RDS,
            metric="CPUUtilization",
            dimensions=db,
            statistic="Average",
            # RDS publishes every minute while available; gaps (reboot, maintenance) keep the last state
            # instead of flapping to OK.
            missing="missing",
        ),
        single(
            "databaseFreeStorage",
            s.database_free_storage,
            f"Less than {s.database_free_storage.threshold:g}% of the allocated database storage is free.",
            namespace=RDS,
            metric="FreeStorageSpace",
            dimensions=db,
            statistic="Minimum",
            comparison="LessThanThreshold",
            threshold=free_storage_threshold,
            missing="missing",  # as for database CPU
        ),
        single(
            "databaseFreeableMemory",
            s.database_freeable_memory,
            f"The database has less than {s.database_freeable_memory.threshold:g} MiB of freeable memory.",
            namespace=RDS,
            metric="FreeableMemory",
            dimensions=db,
            statistic="Minimum",
            comparison="LessThanThreshold",
            threshold=s.database_freeable_memory.threshold * _MIB,  # the metric is in bytes
            missing="missing",
        ),
        single(
            "databaseConnections",
            s.database_connections,
            f"More than {s.database_connections.threshold:g} connections are open on the database.",
            namespace=RDS,
            metric="DatabaseConnections",
            dimensions=db,
            statistic="Maximum",
            missing="missing",
        ),
        single(
            "notifierErrors",
            s.notifier_errors,
            f"The deploy notifier Lambda failed more than {s.notifier_errors.threshold:g} time(s): "
            "deployment e-mails may be missing.",
            namespace=LAMBDA,
            metric="Errors",
            dimensions=fn,
            statistic="Sum",
            # Lambda publishes only when invoked: no deployment, no data, nothing wrong.
            missing="notBreaching",
        ),
        single(
            "notifierDuration",
            s.notifier_duration,
            f"A deploy notifier invocation took longer than {s.notifier_duration.threshold:g} ms.",
            namespace=LAMBDA,
            metric="Duration",
            dimensions=fn,
            statistic="Maximum",
            missing="notBreaching",  # as for notifier errors
        ),
        single(
            "deadLetterQueue",
            s.dead_letter_queue,
            "Deployment events the notifier could not process are waiting in its dead-letter queue.",
            namespace=SQS,
            metric="ApproximateNumberOfMessagesVisible",
            dimensions={"QueueName": watched.dead_letter_queue_name},
            statistic="Maximum",
            # SQS stops publishing for a queue idle for 6 hours, even one still holding messages: missing
            # data must neither page (an empty idle queue) nor send a false OK (a forgotten message).
            missing="missing",
        ),
        AlarmDefinition(
            key="consumedLcus",
            name=names["consumedLcus"],
            description=_runbook(
                "consumedLcus",
                f"The load balancer consumes more than {s.consumed_lcus.threshold:g} LCUs per hour "
                "(traffic growth or abuse; it drives the ALB bill).",
            ),
            comparison_operator="GreaterThanThreshold",
            threshold=s.consumed_lcus.threshold,
            rule=s.consumed_lcus,
            treat_missing_data="notBreaching",  # always reported; a gap is not load
            queries=lcu_rate_queries(watched.load_balancer, s.consumed_lcus.period_seconds),
        ),
    )


def alarm_topic_key_policy(account_id: str, region: str, prefix: str) -> dict[str, Any]:
    """Key policy of the alarms topic's CMK.

    CloudWatch alarms cannot publish to a topic encrypted with the AWS-managed alias/aws/sns key (its
    policy cannot be changed to let cloudwatch.amazonaws.com use it), hence a customer-managed key whose
    policy admits CloudWatch, restricted to this account's alarms of this environment.
    """
    partition = arn_partition(region)
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AccountAdministersTheKey",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:{partition}:iam::{account_id}:root"},
                "Action": "kms:*",
                "Resource": "*",
            },
            {
                "Sid": "CloudWatchAlarmsPublishToTheEncryptedTopic",
                "Effect": "Allow",
                "Principal": {"Service": "cloudwatch.amazonaws.com"},
                "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
                "Resource": "*",
                "Condition": _alarm_source_condition(partition, account_id, region, prefix),
            },
        ],
    }


def alarm_topic_policy(topic_arn: str, account_id: str, region: str, prefix: str) -> dict[str, Any]:
    """Topic policy: the account manages the topic; CloudWatch publishes only for this environment."""
    partition = arn_partition(region)
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AccountManagesTheTopic",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:{partition}:iam::{account_id}:root"},
                "Action": [
                    "sns:GetTopicAttributes",
                    "sns:SetTopicAttributes",
                    "sns:AddPermission",
                    "sns:RemovePermission",
                    "sns:DeleteTopic",
                    "sns:Subscribe",
                    "sns:ListSubscriptionsByTopic",
                    "sns:Publish",
                ],
                "Resource": topic_arn,
            },
            {
                "Sid": "CloudWatchAlarmsPublish",
                "Effect": "Allow",
                "Principal": {"Service": "cloudwatch.amazonaws.com"},
                "Action": "sns:Publish",
                "Resource": topic_arn,
                "Condition": _alarm_source_condition(partition, account_id, region, prefix),
            },
        ],
    }


def _alarm_source_condition(partition: str, account_id: str, region: str, prefix: str) -> dict[str, Any]:
    return {
        "StringEquals": {"aws:SourceAccount": account_id},
        "ArnLike": {"aws:SourceArn": f"arn:{partition}:cloudwatch:{region}:{account_id}:alarm:{prefix}-*"},
    }


# --- Dashboard ----------------------------------------------------------------------------------------

_WIDTH = 8
_HEIGHT = 6


def _metric(namespace: str, name: str, dimensions: Mapping[str, str], **options: Any) -> list[Any]:
    entry: list[Any] = [namespace, name]
    for key, value in dimensions.items():
        entry += [key, value]
    if options:
        entry.append(options)
    return entry


def _graph(title: str, metrics: list[list[Any]], region: str, **properties: Any) -> dict[str, Any]:
    return {
        "type": "metric",
        "properties": {
            "title": title,
            "region": region,
            "view": "timeSeries",
            "stacked": False,
            "period": 60,
            "metrics": metrics,
            **properties,
        },
    }


def dashboard_body(
    watched: Watched,
    *,
    region: str,
    app_log_group_name: str,
    alarm_arns: Sequence[str],
    min_healthy_hosts: int,
) -> dict[str, Any]:
    """The CloudWatch dashboard (DashboardBody JSON structure) for one environment.

    `watched` must hold plain strings here (the component resolves the Outputs first).
    """
    lb = {"LoadBalancer": str(watched.load_balancer)}
    tg = {"LoadBalancer": str(watched.load_balancer), "TargetGroup": str(watched.target_group)}
    service = {"ClusterName": str(watched.cluster_name), "ServiceName": str(watched.service_name)}
    db = {"DBInstanceIdentifier": str(watched.db_instance_identifier)}
    fn = {"FunctionName": str(watched.notifier_function_name)}
    dlq = {"QueueName": str(watched.dead_letter_queue_name)}
    widgets: list[dict[str, Any]] = [
        {
            "type": "alarm",
            "properties": {"title": "Alarms", "alarms": list(alarm_arns), "sortBy": "stateUpdatedTimestamp"},
        },
        _graph(
            "Requests",
            [
                _metric(ALB, "RequestCount", lb, stat="Sum", label="All requests"),
                _metric(ALB, "RequestCount", tg, stat="Sum", label="To the API"),
            ],
            region,
        ),
        _graph(
            "Target response time (s)",
            [
                _metric(ALB, "TargetResponseTime", tg, stat="p50", label="p50"),
                _metric(ALB, "TargetResponseTime", tg, stat="p90", label="p90"),
                _metric(ALB, "TargetResponseTime", tg, stat="p99", label="p99"),
            ],
            region,
        ),
        _graph(
            "5xx responses",
            [
                _metric(ALB, "HTTPCode_ELB_5XX_Count", lb, stat="Sum", label="From the ALB", id="elb"),
                _metric(ALB, "HTTPCode_Target_5XX_Count", tg, stat="Sum", label="From the API", id="target"),
                _metric(ALB, "RequestCount", tg, stat="Sum", id="requests", visible=False),
                [
                    {
                        "expression": "100 * FILL(target, 0) / requests",
                        "label": "API 5xx rate (%)",
                        "id": "api_error_rate",
                        "yAxis": "right",
                    }
                ],
            ],
            region,
        ),
        _graph(
            "Healthy targets",
            [
                _metric(ALB, "HealthyHostCount", tg, stat="Minimum", label="Healthy"),
                _metric(ALB, "UnHealthyHostCount", tg, stat="Maximum", label="Unhealthy"),
            ],
            region,
            annotations={"horizontal": [{"label": "Minimum healthy", "value": min_healthy_hosts}]},
        ),
        _graph(
            "Tasks",
            [
                _metric(CONTAINER_INSIGHTS, "RunningTaskCount", service, stat="Average", label="Running"),
                _metric(CONTAINER_INSIGHTS, "DesiredTaskCount", service, stat="Average", label="Desired"),
                _metric(CONTAINER_INSIGHTS, "PendingTaskCount", service, stat="Average", label="Pending"),
            ],
            region,
        ),
        _graph(
            "Service CPU / memory (%)",
            [
                _metric(ECS, "CPUUtilization", service, stat="Average", label="CPU average"),
                _metric(ECS, "CPUUtilization", service, stat="Maximum", label="CPU max"),
                _metric(ECS, "MemoryUtilization", service, stat="Average", label="Memory average"),
                _metric(ECS, "MemoryUtilization", service, stat="Maximum", label="Memory max"),
            ],
            region,
            yAxis={"left": {"min": 0, "max": 100}},
        ),
        _graph(
            "Deployments",
            [
                _metric(CONTAINER_INSIGHTS, "DeploymentCount", service, stat="Maximum", label="Deployments"),
                _metric(CONTAINER_INSIGHTS, "TaskSetCount", service, stat="Maximum", label="Task sets"),
                _metric(LAMBDA, "Invocations", fn, stat="Sum", label="Deployment events notified"),
            ],
            region,
        ),
        _graph(
            "Database CPU (%) / connections",
            [
                _metric(RDS, "CPUUtilization", db, stat="Average", label="CPU"),
                _metric(RDS, "DatabaseConnections", db, stat="Maximum", label="Connections", yAxis="right"),
            ],
            region,
        ),
        _graph(
            "Database storage / memory (bytes)",
            [
                _metric(RDS, "FreeStorageSpace", db, stat="Minimum", label="Free storage"),
                _metric(RDS, "FreeableMemory", db, stat="Minimum", label="Freeable memory"),
            ],
            region,
            period=300,
        ),
        _graph(
            "Deploy notifier",
            [
                _metric(LAMBDA, "Invocations", fn, stat="Sum", label="Invocations"),
                _metric(LAMBDA, "Errors", fn, stat="Sum", label="Errors"),
                _metric(LAMBDA, "Throttles", fn, stat="Sum", label="Throttles"),
                _metric(SQS, "ApproximateNumberOfMessagesVisible", dlq, stat="Maximum", label="Dead letters"),
            ],
            region,
            period=300,
        ),
        _graph(
            "Load balancer capacity (LCUs)",
            [_metric(ALB, "ConsumedLCUs", lb, stat="Sum", label="ConsumedLCUs")],
            region,
            period=3600,
        ),
        {
            "type": "log",
            "properties": {
                "title": "API 5xx by route",
                "region": region,
                "view": "table",
                "query": f"SOURCE '{app_log_group_name}' | {ERRORS_BY_ROUTE_QUERY}",
            },
        },
    ]
    _layout(widgets)
    return {"start": "-PT6H", "periodOverride": "inherit", "widgets": widgets}


def _layout(widgets: list[dict[str, Any]]) -> None:
    """Alarm and log widgets take a full row; graphs fill rows of three, in the order given."""
    x = y = 0
    for widget in widgets:
        full_row = widget["type"] in ("alarm", "log")
        width = 24 if full_row else _WIDTH
        if x + width > 24:
            x, y = 0, y + _HEIGHT
        widget.update(x=x, y=y, width=width, height=_HEIGHT)
        x += width


# --- Component ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MonitoringArgs:
    name_prefix: str  # e.g. "booking-dev": alarm names, topic, key alias and dashboard are derived from it
    region: pulumi.Input[str]
    account_id: pulumi.Input[str]
    watched: Watched
    min_healthy_hosts: int  # the service's minimum task count
    db_allocated_storage_gb: pulumi.Input[int]
    app_log_group_name: pulumi.Input[str]  # the API's log group (JSON lines), for the saved queries
    # May be empty (a dev stack without booking:notifications): the topic then has no subscriber until
    # someone subscribes to the alarmTopicArn output; the stack warns about it.
    alarm_emails: tuple[str, ...]
    alarms: AlarmSettings = field(default_factory=AlarmSettings)
    key_deletion_window_days: int = 30

    def __post_init__(self) -> None:
        validate_prefix(self.name_prefix)
        if self.min_healthy_hosts < 1:
            raise ValueError(f"min_healthy_hosts = {self.min_healthy_hosts} is invalid: must be at least 1")


class Monitoring(pulumi.ComponentResource):
    alarm_topic_arn: pulumi.Output[str]
    dashboard_name: pulumi.Output[str]
    alarm_names: dict[str, pulumi.Output[str]]
    deployment_alarm_names: tuple[str, ...]

    def __init__(self, name: str, args: MonitoringArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("booking:components:Monitoring", name, None, opts)
        prefix = args.name_prefix
        child = pulumi.ResourceOptions(parent=self)

        key = aws.kms.Key(
            f"{name}-alarms-key",
            description=f"Encrypts the {prefix} alarms SNS topic (CloudWatch alarms may use it)",
            enable_key_rotation=True,
            deletion_window_in_days=args.key_deletion_window_days,
            policy=pulumi.Output.all(args.account_id, args.region).apply(
                lambda values: json.dumps(alarm_topic_key_policy(values[0], values[1], prefix))
            ),
            opts=child,
        )
        aws.kms.Alias(
            f"{name}-alarms-key-alias", name=f"alias/{prefix}-alarms", target_key_id=key.key_id, opts=child
        )
        topic = aws.sns.Topic(
            f"{name}-alarms", name=f"{prefix}-alarms", kms_master_key_id=key.arn, opts=child
        )
        topic_policy = aws.sns.TopicPolicy(
            f"{name}-alarms-policy",
            arn=topic.arn,
            policy=pulumi.Output.all(topic.arn, args.account_id, args.region).apply(
                lambda values: json.dumps(alarm_topic_policy(values[0], values[1], values[2], prefix))
            ),
            opts=child,
        )
        for address in args.alarm_emails:
            # Named by the address, not its position, so reordering the list does not recreate subscriptions.
            digest = hashlib.sha256(address.lower().encode()).hexdigest()[:8]
            aws.sns.TopicSubscription(
                f"{name}-alarms-email-{digest}",
                topic=topic.arn,
                protocol="email",
                endpoint=address,
                opts=child,
            )

        percent = args.alarms.database_free_storage.threshold
        definitions = alarm_definitions(
            prefix,
            args.alarms,
            args.watched,
            min_healthy_hosts=args.min_healthy_hosts,
            free_storage_threshold=pulumi.Output.from_input(args.db_allocated_storage_gb).apply(
                lambda gb: free_storage_threshold_bytes(int(gb), percent)
            ),
        )
        alarms = {
            definition.key: self._alarm(name, definition, topic.arn, topic_policy)
            for definition in definitions
        }

        watched = args.watched
        body = pulumi.Output.all(
            watched.load_balancer,
            watched.target_group,
            watched.cluster_name,
            watched.service_name,
            watched.db_instance_identifier,
            watched.notifier_function_name,
            watched.dead_letter_queue_name,
            args.region,
            args.app_log_group_name,
            pulumi.Output.all(*[alarm.arn for alarm in alarms.values()]),
        ).apply(
            lambda v: json.dumps(
                dashboard_body(
                    Watched(*v[:7]),
                    region=v[7],
                    app_log_group_name=v[8],
                    alarm_arns=v[9],
                    min_healthy_hosts=args.min_healthy_hosts,
                ),
                sort_keys=True,
            )
        )
        dashboard = aws.cloudwatch.Dashboard(
            f"{name}-dashboard", dashboard_name=dashboard_name(prefix), dashboard_body=body, opts=child
        )

        for query_name, query in (
            ("errors-by-route", ERRORS_BY_ROUTE_QUERY),
            ("latency-by-route", LATENCY_BY_ROUTE_QUERY),
        ):
            aws.cloudwatch.QueryDefinition(
                f"{name}-{query_name}",
                # "/" files the query in a folder per environment in the Logs Insights console.
                name=f"{prefix}/{query_name}",
                query_string=query,
                log_group_names=[args.app_log_group_name],
                opts=child,
            )

        self.alarm_topic_arn = topic.arn
        self.dashboard_name = dashboard.dashboard_name
        self.alarm_names = {key: alarm.name for key, alarm in alarms.items()}
        self.deployment_alarm_names = deployment_alarm_names(prefix)
        self.register_outputs(
            {
                "alarm_topic_arn": self.alarm_topic_arn,
                "dashboard_name": self.dashboard_name,
                "alarm_names": self.alarm_names,
            }
        )

    def _alarm(
        self,
        name: str,
        definition: AlarmDefinition,
        topic_arn: pulumi.Output[str],
        topic_policy: aws.sns.TopicPolicy,
    ) -> aws.cloudwatch.MetricAlarm:
        rule = definition.rule
        single_metric = not definition.queries
        return aws.cloudwatch.MetricAlarm(
            f"{name}-{ALARM_SUFFIXES[definition.key]}",
            name=definition.name,
            alarm_description=definition.description,
            comparison_operator=definition.comparison_operator,
            threshold=definition.threshold,
            evaluation_periods=rule.evaluation_periods,
            datapoints_to_alarm=rule.datapoints_to_alarm,
            treat_missing_data=definition.treat_missing_data,
            namespace=definition.namespace,
            metric_name=definition.metric_name,
            dimensions=definition.dimensions,
            statistic=definition.statistic,
            extended_statistic=definition.extended_statistic,
            evaluate_low_sample_count_percentiles=definition.evaluate_low_sample_count_percentiles,
            # A metric-math alarm takes its period from each query's metric instead.
            period=rule.period_seconds if single_metric else None,
            metric_queries=[_query_args(query) for query in definition.queries] or None,
            actions_enabled=True,
            alarm_actions=[topic_arn],
            ok_actions=[topic_arn],
            # The topic policy must admit CloudWatch before the first state change is published.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[topic_policy]),
        )


def _query_args(query: MetricQuery) -> aws.cloudwatch.MetricAlarmMetricQueryArgs:
    metric = None
    if query.metric is not None:
        metric = aws.cloudwatch.MetricAlarmMetricQueryMetricArgs(
            namespace=query.metric.namespace,
            metric_name=query.metric.metric_name,
            dimensions=query.metric.dimensions,
            stat=query.metric.stat,
            period=query.metric.period,
        )
    return aws.cloudwatch.MetricAlarmMetricQueryArgs(
        id=query.id,
        label=query.label,
        expression=query.expression,
        metric=metric,
        return_data=query.return_data,
    )
