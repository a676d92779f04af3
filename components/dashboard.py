"""The CloudWatch dashboard body and the saved Logs Insights queries (pure data).

`dashboard_body` returns the DashboardBody JSON structure for one environment: alarm status, the
ALB/ECS/RDS/notifier graphs and the API's 5xx-by-route log table; the queries read the API's access
log (JSON lines).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from components.alarms import ALB, CONTAINER_INSIGHTS, ECS, LAMBDA, RDS, SQS, Watched
from components.business_metrics import business_widgets

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
    metrics_namespace: str,
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
        *business_widgets(metrics_namespace, region),
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
    """Alarm, text and log widgets take a full row; graphs fill rows of three (or of their own width)."""
    x = y = 0
    for widget in widgets:
        full_row = widget["type"] in ("alarm", "log", "text")
        width = 24 if full_row else widget.get("width", _WIDTH)
        if x + width > 24:
            x, y = 0, y + _HEIGHT
        height = 2 if widget["type"] == "text" else _HEIGHT
        widget.update(x=x, y=y, width=width, height=height)
        x += width
        if full_row:
            x, y = 0, y + height
