"""Monitoring in the whole program with `booking:service.runtime: lambda` behind the ALB (dev, prod):
the function's alarms watch the declared function and alias with thresholds scaled by its declared
timeout and reserved concurrency; no ECS alarm or widget is left; the dashboard and saved queries read
the function's log group."""

from __future__ import annotations

import json
from typing import Any

import pytest

from components.alarms import ALARM_SUFFIXES, ECS_ALARM_KEYS, alarm_names
from stacks.offline import OfflineRun, run_stack, stack_config
from stacks.settings.alarms import parse_alarms
from tests.infra.test_dashboard import metric_entries

ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"


@pytest.fixture(scope="module")
def dev() -> OfflineRun:
    run = run_stack("dev", {"booking:service.runtime": "lambda", "booking:lambda": {}})
    assert run.error is None, run.error
    return run


@pytest.fixture(scope="module")
def prod() -> OfflineRun:
    lambda_ = {"reservedConcurrency": 100, "provisionedConcurrency": 2}
    run = run_stack("prod", {"booking:service.runtime": "lambda", "booking:lambda": lambda_})
    assert run.error is None, run.error
    return run


@pytest.fixture(params=["dev", "prod"])
def run(request: pytest.FixtureRequest) -> OfflineRun:
    result: OfflineRun = request.getfixturevalue(request.param)
    return result


def alarms(run: OfflineRun) -> dict[str, dict[str, Any]]:
    component = run.one("booking:components:Monitoring")
    return {a.inputs["name"]: a.inputs for a in run.of_type(ALARM) if a.parent == component.urn}


def alarm(run: OfflineRun, key: str) -> dict[str, Any]:
    return alarms(run)[f"booking-{run.stack}-{ALARM_SUFFIXES[key]}"]


def function(run: OfflineRun) -> dict[str, Any]:
    (fn,) = [f for f in run.of_type("aws:lambda/function:Function") if f.outputs["name"].endswith("-api")]
    return dict(fn.outputs)


def alias_dimensions(run: OfflineRun) -> dict[str, str]:
    name = function(run)["name"]
    (alias,) = run.of_type("aws:lambda/alias:Alias")
    return {"FunctionName": name, "Resource": f"{name}:{alias.inputs['name']}"}


def test_the_alarms_are_those_of_the_lambda_runtime_behind_the_alb(run: OfflineRun) -> None:
    settings = parse_alarms(stack_config(run.stack).get("booking:alarms"))
    expected = alarm_names(f"booking-{run.stack}", settings, runtime="lambda", front_door="alb")
    assert set(alarms(run)) == set(expected.values())
    assert not {alarm_names(f"booking-{run.stack}")[key] for key in ECS_ALARM_KEYS} & set(alarms(run))


def test_function_alarms_watch_the_declared_alias(run: OfflineRun) -> None:
    dims = alias_dimensions(run)
    errors = alarm(run, "functionErrorRate")
    metrics = [q["metric"] for q in errors["metricQueries"] if "metric" in q]
    assert {m["metricName"] for m in metrics} == {"Errors", "Invocations"}
    assert all(m["dimensions"] == dims for m in metrics)
    assert alarm(run, "functionThrottles")["dimensions"] == dims
    assert alarm(run, "functionDurationP99")["dimensions"] == dims
    assert alarm(run, "functionConcurrency")["dimensions"] == {"FunctionName": dims["FunctionName"]}


def test_thresholds_follow_the_stack_config_and_the_declared_function(run: OfflineRun) -> None:
    settings = parse_alarms(stack_config(run.stack).get("booking:alarms"))
    fn = function(run)
    duration = alarm(run, "functionDurationP99")
    assert duration["threshold"] == fn["timeout"] * 1000 * settings.function_duration_p99.threshold / 100
    concurrency = alarm(run, "functionConcurrency")
    reserved = fn["reservedConcurrentExecutions"]
    assert concurrency["threshold"] == max(1, reserved * settings.function_concurrency.threshold / 100)
    errors = alarm(run, "functionErrorRate")
    assert errors["threshold"] == settings.function_error_rate.threshold
    minimum = settings.function_error_rate.minimum_requests
    (rate,) = [q for q in errors["metricQueries"] if q.get("returnData")]
    assert rate["expression"].startswith(f"IF(total >= {minimum},")


def test_prod_and_dev_keep_their_own_lambda_thresholds(dev: OfflineRun, prod: OfflineRun) -> None:
    # Pulumi.dev.yaml tolerates more noise than Pulumi.prod.yaml (10 % vs 1 % failed invocations).
    assert alarm(dev, "functionErrorRate")["threshold"] > alarm(prod, "functionErrorRate")["threshold"]
    assert alarm(prod, "functionConcurrency")["threshold"] == 80  # 80 % of reservedConcurrency 100


def test_dashboard_and_queries_read_the_function(run: OfflineRun) -> None:
    body = json.loads(run.one("aws:cloudwatch/dashboard:Dashboard").inputs["dashboardBody"])
    dims = alias_dimensions(run)
    lambda_metrics = {
        (name, json.dumps(d, sort_keys=True)) for ns, name, d in metric_entries(body) if ns == "AWS/Lambda"
    }
    assert ("Duration", json.dumps(dims, sort_keys=True)) in lambda_metrics
    namespaces = {ns for ns, _, _ in metric_entries(body)}
    assert not namespaces & {"AWS/ECS", "ECS/ContainerInsights"}
    # The function's own log group, as LambdaService declares it.
    group = f"/aws/lambda/{dims['FunctionName']}"
    assert group in {g.inputs.get("name") for g in run.of_type("aws:cloudwatch/logGroup:LogGroup")}
    for query in run.of_type("aws:cloudwatch/queryDefinition:QueryDefinition"):
        assert query.inputs["logGroupNames"] == [group]
    logs = [w["properties"]["query"] for w in body["widgets"] if w["type"] == "log"]
    assert logs and all(q.startswith(f"SOURCE '{group}' |") for q in logs)
