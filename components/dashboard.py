"""The CloudWatch dashboard body and the saved Logs Insights queries (pure data).

`dashboard_body` returns the DashboardBody JSON structure for one environment: alarm status, the
front door's graphs (ALB or HTTP API), the compute graphs (ECS tasks or the Lambda function, from
`components/dashboard_lambda.py`), RDS and notifier graphs and the API's 5xx-by-route log table; the
queries read the API's access log (JSON lines).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from components.alarms import ALB, CONTAINER_INSIGHTS, ECS, LAMBDA, RDS, SQS, Watched
from components.business_metrics import business_widgets
from components.dashboard_lambda import alb_lambda_target_widget, function_widgets, http_api_widgets
from components.dashboard_widgets import HEIGHT, WIDTH, graph, metric

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


def dashboard_body(
    watched: Watched,
    *,
    region: str,
    app_log_group_name: str,
    alarm_arns: Sequence[str],
    min_healthy_hosts: int,
    metrics_namespace: str,
    function_timeout_seconds: int | None = None,
    function_reserved_concurrency: int | None = None,
) -> dict[str, Any]:
    """The CloudWatch dashboard (DashboardBody JSON structure) for one environment.

    `watched` must hold plain strings here (the component resolves the Outputs first). The front-door
    graphs follow `watched.front_door`, the compute graphs `watched.runtime`; with the Lambda runtime
    the timeout and reserved concurrency draw the limits on the duration and concurrency graphs.
    """
    db = {"DBInstanceIdentifier": str(watched.db_instance_identifier)}
    fn = {"FunctionName": str(watched.notifier_function_name)}
    dlq = {"QueueName": str(watched.dead_letter_queue_name)}
    behind_alb = watched.front_door == "alb"
    if watched.runtime == "fargate":
        compute = _ecs_widgets(watched, region, min_healthy_hosts)
    else:
        compute = function_widgets(
            str(watched.function_name),
            str(watched.alias_name),
            region,
            timeout_seconds=int(function_timeout_seconds or 0),
            reserved_concurrency=int(function_reserved_concurrency or 0),
        )
        if behind_alb:
            compute.insert(
                0, alb_lambda_target_widget(str(watched.load_balancer), str(watched.target_group), region)
            )
    front = (
        _alb_widgets(watched, region)
        if behind_alb
        else http_api_widgets(str(watched.api_id), str(watched.stage), region)
    )
    widgets: list[dict[str, Any]] = [
        {
            "type": "alarm",
            "properties": {"title": "Alarms", "alarms": list(alarm_arns), "sortBy": "stateUpdatedTimestamp"},
        },
        *business_widgets(metrics_namespace, region),
        *front,
        *compute,
        graph(
            "Database CPU (%) / connections",
            [
                metric(RDS, "CPUUtilization", db, stat="Average", label="CPU"),
                metric(RDS, "DatabaseConnections", db, stat="Maximum", label="Connections", yAxis="right"),
            ],
            region,
        ),
        graph(
            "Database storage / memory (bytes)",
            [
                metric(RDS, "FreeStorageSpace", db, stat="Minimum", label="Free storage"),
                metric(RDS, "FreeableMemory", db, stat="Minimum", label="Freeable memory"),
            ],
            region,
            period=300,
        ),
        graph(
            "Deploy notifier",
            [
                metric(LAMBDA, "Invocations", fn, stat="Sum", label="Invocations"),
                metric(LAMBDA, "Errors", fn, stat="Sum", label="Errors"),
                metric(LAMBDA, "Throttles", fn, stat="Sum", label="Throttles"),
                metric(SQS, "ApproximateNumberOfMessagesVisible", dlq, stat="Maximum", label="Dead letters"),
            ],
            region,
            period=300,
        ),
    ]
    if behind_alb:
        lb = {"LoadBalancer": str(watched.load_balancer)}
        widgets.append(
            graph(
                "Load balancer capacity (LCUs)",
                [metric(ALB, "ConsumedLCUs", lb, stat="Sum", label="ConsumedLCUs")],
                region,
                period=3600,
            )
        )
    widgets.append(
        {
            "type": "log",
            "properties": {
                "title": "API 5xx by route",
                "region": region,
                "view": "table",
                "query": f"SOURCE '{app_log_group_name}' | {ERRORS_BY_ROUTE_QUERY}",
            },
        }
    )
    _layout(widgets)
    return {"start": "-PT6H", "periodOverride": "inherit", "widgets": widgets}


def _alb_widgets(watched: Watched, region: str) -> list[dict[str, Any]]:
    """Requests, response time and 5xx at the ALB (both runtimes when the front door is the ALB)."""
    lb = {"LoadBalancer": str(watched.load_balancer)}
    tg = {"LoadBalancer": str(watched.load_balancer), "TargetGroup": str(watched.target_group)}
    return [
        graph(
            "Requests",
            [
                metric(ALB, "RequestCount", lb, stat="Sum", label="All requests"),
                metric(ALB, "RequestCount", tg, stat="Sum", label="To the API"),
            ],
            region,
        ),
        graph(
            "Target response time (s)",
            [
                metric(ALB, "TargetResponseTime", tg, stat="p50", label="p50"),
                metric(ALB, "TargetResponseTime", tg, stat="p90", label="p90"),
                metric(ALB, "TargetResponseTime", tg, stat="p99", label="p99"),
            ],
            region,
        ),
        graph(
            "5xx responses",
            [
                metric(ALB, "HTTPCode_ELB_5XX_Count", lb, stat="Sum", label="From the ALB", id="elb"),
                metric(ALB, "HTTPCode_Target_5XX_Count", tg, stat="Sum", label="From the API", id="target"),
                metric(ALB, "RequestCount", tg, stat="Sum", id="requests", visible=False),
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
    ]


def _ecs_widgets(watched: Watched, region: str, min_healthy_hosts: int) -> list[dict[str, Any]]:
    """Target health, tasks, CPU/memory and deployments of the ECS service (runtime fargate)."""
    tg = {"LoadBalancer": str(watched.load_balancer), "TargetGroup": str(watched.target_group)}
    service = {"ClusterName": str(watched.cluster_name), "ServiceName": str(watched.service_name)}
    fn = {"FunctionName": str(watched.notifier_function_name)}
    return [
        graph(
            "Healthy targets",
            [
                metric(ALB, "HealthyHostCount", tg, stat="Minimum", label="Healthy"),
                metric(ALB, "UnHealthyHostCount", tg, stat="Maximum", label="Unhealthy"),
            ],
            region,
            annotations={"horizontal": [{"label": "Minimum healthy", "value": min_healthy_hosts}]},
        ),
        graph(
            "Tasks",
            [
                metric(CONTAINER_INSIGHTS, "RunningTaskCount", service, stat="Average", label="Running"),
                metric(CONTAINER_INSIGHTS, "DesiredTaskCount", service, stat="Average", label="Desired"),
                metric(CONTAINER_INSIGHTS, "PendingTaskCount", service, stat="Average", label="Pending"),
            ],
            region,
        ),
        graph(
            "Service CPU / memory (%)",
            [
                metric(ECS, "CPUUtilization", service, stat="Average", label="CPU average"),
                metric(ECS, "CPUUtilization", service, stat="Maximum", label="CPU max"),
                metric(ECS, "MemoryUtilization", service, stat="Average", label="Memory average"),
                metric(ECS, "MemoryUtilization", service, stat="Maximum", label="Memory max"),
            ],
            region,
            yAxis={"left": {"min": 0, "max": 100}},
        ),
        graph(
            "Deployments",
            [
                metric(CONTAINER_INSIGHTS, "DeploymentCount", service, stat="Maximum", label="Deployments"),
                metric(CONTAINER_INSIGHTS, "TaskSetCount", service, stat="Maximum", label="Task sets"),
                metric(LAMBDA, "Invocations", fn, stat="Sum", label="Deployment events notified"),
            ],
            region,
        ),
    ]


def _layout(widgets: list[dict[str, Any]]) -> None:
    """Alarm, text and log widgets take a full row; graphs fill rows of three (or of their own width)."""
    x = y = 0
    for widget in widgets:
        full_row = widget["type"] in ("alarm", "log", "text")
        width = 24 if full_row else widget.get("width", WIDTH)
        if x + width > 24:
            x, y = 0, y + HEIGHT
        height = 2 if widget["type"] == "text" else HEIGHT
        widget.update(x=x, y=y, width=width, height=height)
        x += width
        if full_row:
            x, y = 0, y + height
