"""Dashboard widgets of the Lambda runtime and of the HTTP API front door (pure data).

They replace the ECS widgets (target health, tasks, CPU/memory, ECS deployments) and, with the httpApi
front door, the ALB ones. Metric names, dimensions and statistics are those of `components/lambda_alarms.py`
(same AWS pages); the cold-start table reads the REPORT line Lambda writes after each invocation, whose
`@initDuration` field Logs Insights discovers only on a cold start (Lambda Operator Guide, "Useful
Insights queries"; the function must log in Lambda's default text format for these fields).
"""

from __future__ import annotations

from typing import Any

from components.alarms import ALB, API_GATEWAY, LAMBDA
from components.dashboard_widgets import graph, metric

COLD_STARTS_QUERY = "\n| ".join(
    (
        'filter @type = "REPORT"',
        "stats count(*) as invocations, count(@initDuration) as cold_starts,"
        " pct(@initDuration, 50) as init_p50_ms, max(@initDuration) as init_max_ms,"
        " pct(@duration, 99) as duration_p99_ms by bin(1h)",
        "sort @timestamp desc",
        "limit 48",
    )
)


def function_widgets(
    function_name: str,
    alias_name: str,
    region: str,
    *,
    timeout_seconds: int,
    reserved_concurrency: int,
) -> list[dict[str, Any]]:
    """Invocations/errors/throttles, duration and concurrency of the API function, and its cold starts.

    Traffic graphs use the alias (what the front door invokes); concurrency uses the function total,
    which is what its reserved concurrency caps.
    """
    alias = {"FunctionName": function_name, "Resource": f"{function_name}:{alias_name}"}
    function = {"FunctionName": function_name}
    return [
        graph(
            "Function invocations",
            [
                metric(LAMBDA, "Invocations", alias, stat="Sum", label="Invocations", id="invocations"),
                metric(LAMBDA, "Errors", alias, stat="Sum", label="Errors", id="errors"),
                metric(LAMBDA, "Throttles", alias, stat="Sum", label="Throttles"),
                [
                    {
                        "expression": "100 * FILL(errors, 0) / invocations",
                        "label": "Error rate (%)",
                        "id": "error_rate",
                        "yAxis": "right",
                    }
                ],
            ],
            region,
        ),
        graph(
            "Function duration (ms)",
            [
                metric(LAMBDA, "Duration", alias, stat="p50", label="p50"),
                metric(LAMBDA, "Duration", alias, stat="p99", label="p99"),
                metric(LAMBDA, "Duration", alias, stat="Maximum", label="max"),
            ],
            region,
            annotations={"horizontal": [{"label": "Timeout", "value": timeout_seconds * 1000}]},
        ),
        graph(
            "Function concurrency",
            [
                metric(
                    LAMBDA, "ConcurrentExecutions", function, stat="Maximum", label="Concurrent executions"
                ),
                metric(
                    LAMBDA,
                    "ProvisionedConcurrencySpilloverInvocations",
                    alias,
                    stat="Sum",
                    label="Beyond provisioned concurrency",
                    yAxis="right",
                ),
            ],
            region,
            annotations={"horizontal": [{"label": "Reserved concurrency", "value": reserved_concurrency}]},
        ),
        {
            "type": "log",
            "properties": {
                "title": "Cold starts (init duration, ms) per hour",
                "region": region,
                "view": "table",
                "query": f"SOURCE '/aws/lambda/{function_name}' | {COLD_STARTS_QUERY}",
            },
        },
    ]


def http_api_widgets(api_id: str, stage: str, region: str) -> list[dict[str, Any]]:
    """Requests, latency and errors at the HTTP API stage (front door httpApi)."""
    dims = {"ApiId": api_id, "Stage": stage}
    return [
        graph(
            "Requests (HTTP API)",
            [metric(API_GATEWAY, "Count", dims, stat="Sum", label="Requests")],
            region,
        ),
        graph(
            "HTTP API latency (ms)",
            [
                metric(API_GATEWAY, "Latency", dims, stat="p50", label="p50"),
                metric(API_GATEWAY, "Latency", dims, stat="p99", label="p99"),
                metric(API_GATEWAY, "IntegrationLatency", dims, stat="p99", label="Integration p99"),
            ],
            region,
        ),
        graph(
            "HTTP API errors",
            [
                metric(API_GATEWAY, "5xx", dims, stat="Sum", label="5xx", id="errors"),
                metric(API_GATEWAY, "4xx", dims, stat="Sum", label="4xx"),
                metric(API_GATEWAY, "Count", dims, stat="Sum", id="requests", visible=False),
                [
                    {
                        "expression": "100 * FILL(errors, 0) / requests",
                        "label": "5xx rate (%)",
                        "id": "api_error_rate",
                        "yAxis": "right",
                    }
                ],
            ],
            region,
        ),
    ]


def alb_lambda_target_widget(load_balancer: str, target_group: str, region: str) -> dict[str, Any]:
    """Requests the ALB could not hand to the function or back (front door alb, runtime lambda).

    ALB metrics for Lambda targets ("CloudWatch metrics for your Application Load Balancer"):
    LambdaUserError counts requests that failed because of the function (no permission to invoke it,
    malformed or incomplete JSON response, request or response over 1 MB), LambdaInternalError those
    failed inside the ALB or Lambda; both on LoadBalancer + TargetGroup, Sum, non-zero only.
    """
    tg = {"LoadBalancer": load_balancer, "TargetGroup": target_group}
    return graph(
        "ALB to function errors",
        [
            metric(
                ALB, "LambdaUserError", tg, stat="Sum", label="Function-side (permission, response, size)"
            ),
            metric(ALB, "LambdaInternalError", tg, stat="Sum", label="ALB/Lambda internal"),
        ],
        region,
    )
