"""The dashboard body and saved queries as plain data."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from app.core import metric_catalogue as mc
from components.alarms import (
    ALARM_SUFFIXES,
    alarm_names,
)
from components.dashboard import ERRORS_BY_ROUTE_QUERY, LATENCY_BY_ROUTE_QUERY, dashboard_body
from tests.infra.monitoring_watched import (
    ACCOUNT,
    APP_LOG_GROUP,
    METRICS_NAMESPACE,
    PREFIX,
    REGION,
    WATCHED,
    WATCHED_VALUES,
)

# --- Dashboard --------------------------------------------------------------------------------------


def metric_entries(body: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, str]]]:
    for widget in body["widgets"]:
        for entry in widget["properties"].get("metrics", []):
            if isinstance(entry[0], dict):  # a math expression, no dimensions
                continue
            parts = [p for p in entry if not isinstance(p, dict)]
            namespace, metric, *dims = parts
            yield namespace, metric, dict(zip(dims[::2], dims[1::2], strict=True))


def _body() -> dict[str, Any]:
    arns = [f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:{n}" for n in alarm_names(PREFIX).values()]
    return dashboard_body(
        WATCHED,
        region=REGION,
        app_log_group_name=APP_LOG_GROUP,
        alarm_arns=arns,
        min_healthy_hosts=2,
        metrics_namespace=METRICS_NAMESPACE,
    )


def test_dashboard_shows_what_operators_need() -> None:
    metrics = {(ns, name) for ns, name, _ in metric_entries(_body())}
    assert {
        ("AWS/ApplicationELB", "RequestCount"),
        ("AWS/ApplicationELB", "TargetResponseTime"),
        ("AWS/ApplicationELB", "HTTPCode_ELB_5XX_Count"),
        ("AWS/ApplicationELB", "HTTPCode_Target_5XX_Count"),
        ("AWS/ApplicationELB", "HealthyHostCount"),
        ("ECS/ContainerInsights", "RunningTaskCount"),
        ("ECS/ContainerInsights", "DeploymentCount"),
        ("AWS/ECS", "CPUUtilization"),
        ("AWS/ECS", "MemoryUtilization"),
        ("AWS/RDS", "CPUUtilization"),
        ("AWS/RDS", "DatabaseConnections"),
        ("AWS/RDS", "FreeStorageSpace"),
        ("AWS/Lambda", "Invocations"),
        ("AWS/Lambda", "Errors"),
        ("AWS/SQS", "ApproximateNumberOfMessagesVisible"),
    } <= metrics


def test_dashboard_references_only_the_watched_resources() -> None:
    body = _body()
    expected_dims = {
        "AWS/ApplicationELB": [{"LoadBalancer"}, {"LoadBalancer", "TargetGroup"}],
        "AWS/ECS": [{"ClusterName", "ServiceName"}],
        "ECS/ContainerInsights": [{"ClusterName", "ServiceName"}],
        "AWS/RDS": [{"DBInstanceIdentifier"}],
        "AWS/Lambda": [{"FunctionName"}],
        "AWS/SQS": [{"QueueName"}],
    }
    for namespace, metric, dims in metric_entries(body):
        if namespace == METRICS_NAMESPACE:  # the API's own metrics: the catalogue's dimensions
            assert tuple(dims) == mc.BY_NAME[metric].dimensions, (metric, dims)
            assert set(dims.values()) <= set(mc.KEY_ROUTES), (metric, dims)
            continue
        assert set(dims) in expected_dims[namespace], (namespace, metric, dims)
        assert set(dims.values()) <= WATCHED_VALUES, (metric, dims)
    for widget in body["widgets"]:
        if "region" in widget["properties"]:
            assert widget["properties"]["region"] == REGION
    (alarm_widget,) = [w for w in body["widgets"] if w["type"] == "alarm"]
    assert len(alarm_widget["properties"]["alarms"]) == len(ALARM_SUFFIXES)
    (log_widget,) = [w for w in body["widgets"] if w["type"] == "log"]
    assert log_widget["properties"]["query"].startswith(f"SOURCE '{APP_LOG_GROUP}' | ")


def test_dashboard_widgets_fit_the_grid_without_overlapping() -> None:
    cells: set[tuple[int, int]] = set()
    for widget in _body()["widgets"]:
        assert widget["x"] + widget["width"] <= 24
        for x in range(widget["x"], widget["x"] + widget["width"]):
            for y in range(widget["y"], widget["y"] + widget["height"]):
                assert (x, y) not in cells
                cells.add((x, y))


def test_saved_queries_use_the_api_log_fields() -> None:
    for field in ("route", "status", "latency_ms"):
        assert field in ERRORS_BY_ROUTE_QUERY
    assert "filter status >= 500" in ERRORS_BY_ROUTE_QUERY
    assert "by method, route, status" in ERRORS_BY_ROUTE_QUERY
    assert "pct(latency_ms, 99)" in LATENCY_BY_ROUTE_QUERY
