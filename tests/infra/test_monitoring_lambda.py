"""Monitoring for the Lambda runtime: the component under mocks, and the dashboard body."""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pytest

from components.alarms import (
    ECS_ALARM_KEYS,
    HTTP_API_ALARM_KEYS,
    LAMBDA_ALARM_KEYS,
    AlarmSettings,
    Watched,
    alarm_name,
    alarm_names,
)
from components.dashboard import dashboard_body
from components.monitoring import Monitoring, MonitoringArgs
from stacks.mocks import AwsMocks
from tests.infra.monitoring_watched import (
    ACCOUNT,
    ALIAS,
    API_ID,
    FUNCTION,
    LAMBDA_ALB,
    LAMBDA_HTTP_API,
    LB,
    METRICS_NAMESPACE,
    PREFIX,
    REGION,
    RESERVED_CONCURRENCY,
    STAGE,
    TG,
    TIMEOUT_SECONDS,
    WATCHED,
)
from tests.infra.test_dashboard import metric_entries
from tests.infra.test_monitoring import Run

LOG_GROUP = f"/aws/lambda/{FUNCTION}"
ALIAS_DIMS = {"FunctionName": FUNCTION, "Resource": f"{FUNCTION}:{ALIAS}"}


def _args(watched: Watched, **overrides: Any) -> MonitoringArgs:
    kwargs: dict[str, Any] = {
        "name_prefix": PREFIX,
        "region": REGION,
        "account_id": ACCOUNT,
        "watched": watched,
        "min_healthy_hosts": 1,
        "db_allocated_storage_gb": 20,
        "app_log_group_name": LOG_GROUP,
        "metrics_namespace": METRICS_NAMESPACE,
        "alarm_emails": ("ops@example.com",),
        "function_timeout_seconds": TIMEOUT_SECONDS,
        "function_reserved_concurrency": RESERVED_CONCURRENCY,
    }
    return MonitoringArgs(**{**kwargs, **overrides})


def _run(watched: Watched) -> Run:
    mocks = AwsMocks(REGION)
    pulumi.runtime.set_mocks(mocks, project="booking", stack="test", preview=False)
    outputs: dict[str, Any] = {}

    @pulumi.runtime.test
    def build() -> pulumi.Output[Any]:
        # The function name and the API id arrive as Outputs, as from the real components.
        as_outputs = {
            name: pulumi.Output.from_input(value)
            for name, value in vars(watched).items()
            if name in ("function_name", "api_id") and value is not None
        }
        monitoring = Monitoring("monitoring", _args(Watched(**{**vars(watched), **as_outputs})))
        outputs["deployment_alarm_names"] = monitoring.deployment_alarm_names
        return pulumi.Output.all(**monitoring.alarm_names).apply(lambda v: outputs.update(alarm_names=v))

    build()
    monitor = pulumi.runtime.settings.SETTINGS.monitor
    return Run(mocks.resources, outputs, list(monitor.resources), mocks)


@pytest.fixture(scope="module")
def behind_alb() -> Run:
    return _run(LAMBDA_ALB)


@pytest.fixture(scope="module")
def behind_api() -> Run:
    return _run(LAMBDA_HTTP_API)


def _declared_keys(run: Run) -> set[str]:
    names = {a.inputs["name"] for a in run.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")}
    every = alarm_names(PREFIX)
    return {key for key, name in every.items() if name in names}


def test_lambda_behind_the_alb_swaps_the_ecs_alarms_for_the_function_ones(behind_alb: Run) -> None:
    keys = _declared_keys(behind_alb)
    assert keys == set(alarm_names(PREFIX, AlarmSettings(), runtime="lambda", front_door="alb"))
    assert keys >= LAMBDA_ALARM_KEYS | {"elb5xxRate", "target5xxRate", "targetLatencyP99", "consumedLcus"}
    assert not keys & (ECS_ALARM_KEYS | HTTP_API_ALARM_KEYS)
    assert set(behind_alb.outputs["alarm_names"]) == keys


def test_lambda_behind_an_http_api_has_no_load_balancer_alarm(behind_api: Run) -> None:
    keys = _declared_keys(behind_api)
    assert keys == set(alarm_names(PREFIX, AlarmSettings(), runtime="lambda", front_door="httpApi"))
    assert keys >= LAMBDA_ALARM_KEYS | HTTP_API_ALARM_KEYS
    for alarm in behind_api.of_type("aws:cloudwatch/metricAlarm:MetricAlarm"):
        assert "AWS/ApplicationELB" not in json.dumps(alarm.inputs)
        assert "AWS/ECS" not in json.dumps(alarm.inputs)


def test_function_alarms_watch_the_alias(behind_alb: Run) -> None:
    errors = behind_alb.alarm("functionErrorRate")
    metrics = {q["id"]: q["metric"] for q in errors["metricQueries"] if q.get("metric")}
    assert metrics["errors"]["dimensions"] == ALIAS_DIMS  # the Output function name resolved
    assert metrics["errors"]["metricName"] == "Errors" and metrics["requests"]["metricName"] == "Invocations"
    duration = behind_alb.alarm("functionDurationP99")
    assert duration["dimensions"] == ALIAS_DIMS
    assert duration["extendedStatistic"] == "p99"
    assert duration["threshold"] == TIMEOUT_SECONDS * 1000 * 0.8
    assert duration["period"] == 60
    concurrency = behind_alb.alarm("functionConcurrency")
    assert concurrency["dimensions"] == {"FunctionName": FUNCTION}
    assert concurrency["threshold"] == RESERVED_CONCURRENCY * 0.8
    assert concurrency["comparisonOperator"] == "GreaterThanOrEqualToThreshold"
    throttles = behind_alb.alarm("functionThrottles")
    assert (throttles["metricName"], throttles["statistic"]) == ("Throttles", "Sum")


def test_http_api_alarms_watch_the_stage(behind_api: Run) -> None:
    latency = behind_api.alarm("apiLatencyP99")
    assert latency["namespace"] == "AWS/ApiGateway"
    assert latency["dimensions"] == {"ApiId": API_ID, "Stage": STAGE}
    rate = behind_api.alarm("api5xxRate")
    metrics = {q["id"]: q["metric"] for q in rate["metricQueries"] if q.get("metric")}
    assert (metrics["errors"]["metricName"], metrics["requests"]["metricName"]) == ("5xx", "Count")


def test_no_ecs_rollback_alarms_on_lambda(behind_alb: Run) -> None:
    # The ECS circuit breaker's alarms have no Lambda counterpart: the release gate stops a bad version.
    assert behind_alb.outputs["deployment_alarm_names"] == ()


def test_dashboard_resource_shows_the_function_not_the_tasks(behind_api: Run) -> None:
    (dashboard,) = behind_api.of_type("aws:cloudwatch/dashboard:Dashboard")
    body = json.loads(dashboard.inputs["dashboardBody"])
    namespaces = {ns for ns, _, _ in metric_entries(body)}
    assert {"AWS/Lambda", "AWS/ApiGateway", "AWS/RDS"} <= namespaces
    assert not namespaces & {"AWS/ApplicationELB", "AWS/ECS", "ECS/ContainerInsights"}


def test_lambda_limits_are_required_with_lambda_and_refused_with_fargate() -> None:
    with pytest.raises(ValueError, match="function_timeout_seconds"):
        _args(LAMBDA_ALB, function_timeout_seconds=None)
    with pytest.raises(ValueError, match="lambda runtime"):
        _args(WATCHED)


# --- Dashboard body ---------------------------------------------------------------------------------


def _body(watched: Watched) -> dict[str, Any]:
    return dashboard_body(
        watched,
        region=REGION,
        app_log_group_name=LOG_GROUP,
        alarm_arns=[f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:{alarm_name(PREFIX, 'functionThrottles')}"],
        min_healthy_hosts=1,
        metrics_namespace=METRICS_NAMESPACE,
        function_timeout_seconds=TIMEOUT_SECONDS,
        function_reserved_concurrency=RESERVED_CONCURRENCY,
    )


def _graph(body: dict[str, Any], title: str) -> dict[str, Any]:
    (widget,) = [w for w in body["widgets"] if w["properties"].get("title") == title]
    return dict(widget["properties"])


def test_dashboard_graphs_the_function_with_its_limits() -> None:
    body = _body(LAMBDA_ALB)
    lambda_metrics = {
        (name, frozenset(d.items())) for ns, name, d in metric_entries(body) if ns == "AWS/Lambda"
    }
    for name in ("Invocations", "Errors", "Throttles", "Duration"):
        assert (name, frozenset(ALIAS_DIMS.items())) in lambda_metrics
    assert ("ConcurrentExecutions", frozenset({"FunctionName": FUNCTION}.items())) in lambda_metrics
    duration = _graph(body, "Function duration (ms)")
    assert {m[-1]["stat"] for m in duration["metrics"]} == {"p50", "p99", "Maximum"}
    assert duration["annotations"]["horizontal"][0]["value"] == TIMEOUT_SECONDS * 1000
    concurrency = _graph(body, "Function concurrency")
    assert concurrency["annotations"]["horizontal"][0]["value"] == RESERVED_CONCURRENCY
    # What the ALB could not hand to the function (permission, malformed response, 1 MB limit).
    alb = {(name, frozenset(d.items())) for ns, name, d in metric_entries(body) if ns == "AWS/ApplicationELB"}
    tg = frozenset({"LoadBalancer": LB, "TargetGroup": TG}.items())
    assert {("LambdaUserError", tg), ("LambdaInternalError", tg)} <= alb
    # Behind the ALB its graphs stay; the ECS ones go.
    titles = {w["properties"].get("title") for w in body["widgets"]}
    assert {"Requests", "5xx responses", "Load balancer capacity (LCUs)"} <= titles
    assert not titles & {"Tasks", "Healthy targets", "Service CPU / memory (%)", "Deployments"}


def test_dashboard_keeps_the_business_widgets_and_reads_the_function_logs() -> None:
    def business(body: dict[str, Any]) -> list[Any]:
        # The API's EMF widgets, without their position (the layout moves them with the other widgets).
        return [
            w["properties"]
            for w in body["widgets"]
            if METRICS_NAMESPACE in json.dumps(w["properties"].get("metrics", []))
        ]

    expected = business(_body_fargate())
    assert expected
    for watched in (LAMBDA_ALB, LAMBDA_HTTP_API):
        body = _body(watched)
        assert business(body) == expected
        assert _graph(body, "API 5xx by route")["query"].startswith(f"SOURCE '{LOG_GROUP}' |")
        cold = _graph(body, "Cold starts (init duration, ms) per hour")
        assert cold["query"].startswith(f"SOURCE '{LOG_GROUP}' | filter @type = \"REPORT\"")
        assert "@initDuration" in cold["query"]


def _body_fargate() -> dict[str, Any]:
    return dashboard_body(
        WATCHED,
        region=REGION,
        app_log_group_name="/ecs/x",
        alarm_arns=[],
        min_healthy_hosts=2,
        metrics_namespace=METRICS_NAMESPACE,
    )


def test_dashboard_behind_an_http_api_graphs_the_stage_not_the_alb() -> None:
    body = _body(LAMBDA_HTTP_API)
    api = {(name, frozenset(d.items())) for ns, name, d in metric_entries(body) if ns == "AWS/ApiGateway"}
    stage = frozenset({"ApiId": API_ID, "Stage": STAGE}.items())
    assert {("Count", stage), ("Latency", stage), ("5xx", stage), ("4xx", stage)} <= api
    assert not any(ns == "AWS/ApplicationELB" for ns, _, _ in metric_entries(body))
    assert LB not in json.dumps(body)
    # Every widget sits inside the 24-column grid without overlapping the previous one on its row.
    for widget in body["widgets"]:
        assert widget["x"] + widget["width"] <= 24
