"""Monitoring in the whole program, per stack: alarms on the real resources, rollback, dashboard, logs."""

from __future__ import annotations

import json
from typing import Any

import pytest

from app.core.metric_catalogue import metrics_namespace
from components.alarms import ALARM_SUFFIXES, AlarmSettings, alarm_names, deployment_alarm_names
from components.dashboard import ERRORS_BY_ROUTE_QUERY
from components.monitoring import alarm_topic_key_policy, alarm_topic_policy
from stacks.offline import OfflineRun, run_stack, stack_config
from stacks.settings.alarms import FIELD_BY_KEY, parse_alarms

ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
GIB = 1024**3


@pytest.fixture(params=["dev", "prod"])
def run(request: pytest.FixtureRequest) -> OfflineRun:
    result: OfflineRun = request.getfixturevalue(request.param)
    return result


def configured(stack: str) -> AlarmSettings:
    return parse_alarms(stack_config(stack).get("booking:alarms"))


def real_dimensions(run: OfflineRun) -> dict[str, str]:
    """What AWS would call each watched resource, from what the program actually declared."""
    (queue,) = [q for q in run.of_type("aws:sqs/queue:Queue") if q.outputs["name"].endswith("-dlq")]
    return {
        "LoadBalancer": run.one("aws:lb/loadBalancer:LoadBalancer").outputs["arnSuffix"],
        "TargetGroup": run.one("aws:lb/targetGroup:TargetGroup").outputs["arnSuffix"],
        "ClusterName": run.one("aws:ecs/cluster:Cluster").outputs["name"],
        "ServiceName": run.one("aws:ecs/service:Service").outputs["name"],
        "DBInstanceIdentifier": run.one("aws:rds/instance:Instance").outputs["identifier"],
        "FunctionName": run.one("aws:lambda/function:Function").outputs["name"],
        "QueueName": queue.outputs["name"],
    }


def task_environment(run: OfflineRun) -> dict[str, str]:
    raw = run.one("aws:ecs/taskDefinition:TaskDefinition").inputs["containerDefinitions"]
    (container,) = json.loads(raw) if isinstance(raw, str) else raw
    return {v["name"]: v["value"] for v in container["environment"]}


def test_the_api_writes_its_metrics_where_the_dashboard_and_alarms_read(run: OfflineRun) -> None:
    namespace = task_environment(run)["METRICS_NAMESPACE"]
    assert namespace == metrics_namespace(run.stack) == f"Booking/{run.stack}"
    conflict = alarms(run)[f"booking-{run.stack}-seat-conflict-ratio"]
    read = {q["metric"]["namespace"] for q in conflict["metricQueries"] if "metric" in q}
    assert read == {namespace}


def alarms(run: OfflineRun) -> dict[str, dict[str, Any]]:
    """Monitoring's alarms (the WAF's own alarm belongs to WebFirewall: tests/infra/test_waf.py)."""
    return {a.inputs["name"]: a.inputs for a in monitoring_alarms(run)}


def monitoring_alarms(run: OfflineRun) -> list[Any]:
    component = run.one("booking:components:Monitoring")
    return [a for a in run.of_type(ALARM) if a.parent == component.urn]


def alarm(run: OfflineRun, key: str) -> dict[str, Any]:
    return alarms(run)[f"booking-{run.stack}-{ALARM_SUFFIXES[key]}"]


def metric_dimensions(inputs: dict[str, Any]) -> list[dict[str, str]]:
    if "metricQueries" in inputs:
        return [q["metric"].get("dimensions", {}) for q in inputs["metricQueries"] if "metric" in q]
    return [inputs["dimensions"]]


# key → the dimension names its metric is published with (AWS's CloudWatch metric references).
DIMENSIONS = {
    "elb5xxRate": {"LoadBalancer"},
    "target5xxRate": {"LoadBalancer", "TargetGroup"},
    "targetLatencyP99": {"LoadBalancer", "TargetGroup"},
    "unhealthyHosts": {"LoadBalancer", "TargetGroup"},
    "healthyHosts": {"LoadBalancer", "TargetGroup"},
    "serviceCpu": {"ClusterName", "ServiceName"},
    "serviceMemory": {"ClusterName", "ServiceName"},
    "databaseCpu": {"DBInstanceIdentifier"},
    "databaseFreeStorage": {"DBInstanceIdentifier"},
    "databaseFreeableMemory": {"DBInstanceIdentifier"},
    "databaseConnections": {"DBInstanceIdentifier"},
    "notifierErrors": {"FunctionName"},
    "notifierDuration": {"FunctionName"},
    "deadLetterQueue": {"QueueName"},
    "consumedLcus": {"LoadBalancer"},
}


def test_every_alarm_exists_once_per_stack(run: OfflineRun) -> None:
    expected = alarm_names(f"booking-{run.stack}", configured(run.stack))
    assert sorted(alarms(run)) == sorted(expected.values())
    assert len(monitoring_alarms(run)) == len(expected)
    # noBookings is opt-in: prod turns it on, dev (no customers) leaves it off.
    assert ("noBookings" in expected) == (run.stack == "prod")


@pytest.mark.parametrize("key", sorted(DIMENSIONS))
def test_alarm_watches_the_real_resource(run: OfflineRun, key: str) -> None:
    real = real_dimensions(run)
    for dims in metric_dimensions(alarm(run, key)):
        assert set(dims) == DIMENSIONS[key]
        assert dims == {name: real[name] for name in DIMENSIONS[key]}


@pytest.mark.parametrize("key", sorted(ALARM_SUFFIXES))
def test_alarm_uses_the_stacks_configured_rule(run: OfflineRun, key: str) -> None:
    settings = configured(run.stack)
    if key not in alarm_names("booking-x", settings):
        pytest.skip(f"{key} is not enabled in {run.stack}")
    rule = getattr(settings, FIELD_BY_KEY[key])
    inputs = alarm(run, key)
    assert inputs["evaluationPeriods"] == rule.evaluation_periods
    assert inputs["datapointsToAlarm"] == rule.datapoints_to_alarm
    periods = [q["metric"]["period"] for q in inputs.get("metricQueries", []) if "metric" in q]
    assert (periods or [inputs["period"]]) == [rule.period_seconds] * max(len(periods), 1)


def test_thresholds_differ_per_environment(dev: OfflineRun, prod: OfflineRun) -> None:
    # Pulumi.dev.yaml / Pulumi.prod.yaml set them; the alarms carry them in AWS's units.
    assert alarm(dev, "target5xxRate")["threshold"] == 10
    assert alarm(prod, "target5xxRate")["threshold"] == 2
    assert alarm(dev, "targetLatencyP99")["threshold"] == 2.0  # seconds
    assert alarm(prod, "targetLatencyP99")["threshold"] == 0.8
    assert alarm(prod, "databaseFreeableMemory")["threshold"] == 256 * 1024**2
    assert alarm(prod, "databaseConnections")["threshold"] == 300
    # Healthy hosts below the service's minimum task count (dev 1, prod 3).
    assert alarm(dev, "healthyHosts")["threshold"] == 1
    assert alarm(prod, "healthyHosts")["threshold"] == 3


def test_free_storage_threshold_follows_the_allocated_storage(run: OfflineRun) -> None:
    allocated = run.one("aws:rds/instance:Instance").inputs["allocatedStorage"]
    percent = configured(run.stack).database_free_storage.threshold
    assert alarm(run, "databaseFreeStorage")["threshold"] == pytest.approx(allocated * GIB * percent / 100)


def test_alarm_and_ok_actions_go_to_the_alarms_topic(run: OfflineRun) -> None:
    topic = run.outputs["alarmTopicArn"]
    assert topic == f"arn:aws:sns:us-east-1:123456789012:booking-{run.stack}-alarms"
    assert topic != run.outputs["notificationTopicArn"]
    for inputs in alarms(run).values():
        assert inputs["alarmActions"] == [topic]
        assert inputs["okActions"] == [topic]


def test_alarms_topic_is_encrypted_with_a_key_cloudwatch_may_use(run: OfflineRun) -> None:
    prefix = f"booking-{run.stack}"
    (topic,) = [
        t for t in run.of_type("aws:sns/topic:Topic") if t.outputs["arn"] == run.outputs["alarmTopicArn"]
    ]
    (key,) = [k for k in run.of_type("aws:kms/key:Key") if k.outputs["arn"] == topic.inputs["kmsMasterKeyId"]]
    assert json.loads(key.inputs["policy"]) == alarm_topic_key_policy("123456789012", "us-east-1", prefix)
    assert key.inputs["enableKeyRotation"] is True
    (policy,) = [
        p for p in run.of_type("aws:sns/topicPolicy:TopicPolicy") if p.inputs["arn"] == topic.outputs["arn"]
    ]
    expected = alarm_topic_policy(topic.outputs["arn"], "123456789012", "us-east-1", prefix)
    assert json.loads(policy.inputs["policy"]) == expected


def test_admins_receive_the_alarms(run: OfflineRun) -> None:
    notifications = stack_config(run.stack)["booking:notifications"]["emails"]
    addresses = sorted(e if isinstance(e, str) else e["address"] for e in notifications)
    subscribed = sorted(
        s.inputs["endpoint"]
        for s in run.of_type("aws:sns/topicSubscription:TopicSubscription")
        if s.inputs["topic"] == run.outputs["alarmTopicArn"]
    )
    # No booking:alarms.emails in either stack: the deploy-notification addresses, failures-only ones too.
    assert subscribed == addresses
    assert all(
        s.inputs["protocol"] == "email"
        for s in run.of_type("aws:sns/topicSubscription:TopicSubscription")
        if s.inputs["topic"] == run.outputs["alarmTopicArn"]
    )


def test_service_rolls_back_on_the_5xx_and_latency_alarms(run: OfflineRun) -> None:
    deployment = run.one("aws:ecs/service:Service").inputs["alarms"]
    assert deployment["enable"] is True and deployment["rollback"] is True
    assert deployment["alarmNames"] == list(deployment_alarm_names(f"booking-{run.stack}"))
    declared = alarms(run)
    for name in deployment["alarmNames"]:
        assert name in declared  # the names the service lists are alarms the program creates
    watched = {
        d.get("TargetGroup") for name in deployment["alarmNames"] for d in metric_dimensions(declared[name])
    }
    assert real_dimensions(run)["TargetGroup"] in watched


def test_dashboard_references_existing_resources(run: OfflineRun) -> None:
    dashboard = run.one("aws:cloudwatch/dashboard:Dashboard")
    assert dashboard.inputs["dashboardName"] == run.outputs["dashboardName"] == f"booking-{run.stack}"
    body = json.loads(dashboard.inputs["dashboardBody"])
    real = real_dimensions(run)
    seen: set[str] = set()
    for widget in body["widgets"]:
        properties = widget["properties"]
        for entry in properties.get("metrics", []):
            parts = [p for p in entry if not isinstance(p, dict)]
            if not parts:
                continue  # metric math over the widget's own metrics
            namespace, _, *dims = parts
            if namespace == metrics_namespace(run.stack):
                # The API's EMF metrics: no AWS resource behind them; the namespace the task writes to.
                assert namespace == task_environment(run)["METRICS_NAMESPACE"]
                continue
            for name, value in zip(dims[::2], dims[1::2], strict=True):
                assert real[name] == value, (properties["title"], name, value)
                seen.add(name)
        if widget["type"] == "alarm":
            declared = {a.outputs["arn"] for a in monitoring_alarms(run)}
            assert set(properties["alarms"]) == declared
        if widget["type"] == "log":
            assert properties["query"] == f"SOURCE '{run.outputs['logGroupName']}' | {ERRORS_BY_ROUTE_QUERY}"
    assert seen == set(real)  # every watched resource is on the dashboard


def test_saved_queries_read_the_api_log_group(run: OfflineRun) -> None:
    queries = run.of_type("aws:cloudwatch/queryDefinition:QueryDefinition")
    assert {q.inputs["name"] for q in queries} == {
        f"booking-{run.stack}/errors-by-route",
        f"booking-{run.stack}/latency-by-route",
    }
    log_groups = {g.outputs["name"] for g in run.of_type("aws:cloudwatch/logGroup:LogGroup")}
    for query in queries:
        assert query.inputs["logGroupNames"] == [run.outputs["logGroupName"]]
        assert run.outputs["logGroupName"] in log_groups


def test_every_log_group_has_retention(run: OfflineRun) -> None:
    groups = {
        g.outputs["name"]: g.inputs.get("retentionInDays")
        for g in run.of_type("aws:cloudwatch/logGroup:LogGroup")
    }
    assert groups and all(groups.values()), groups
    # Log groups AWS would otherwise create on first write, without retention, are declared up front.
    for function in run.of_type("aws:lambda/function:Function"):
        logging_config = function.inputs.get("loggingConfig") or {}
        assert logging_config.get("logGroup", f"/aws/lambda/{function.outputs['name']}") in groups
    database = run.one("aws:rds/instance:Instance")
    for export in database.inputs.get("enabledCloudwatchLogsExports", []):
        assert f"/aws/rds/instance/{database.outputs['identifier']}/{export}" in groups
    assert run.outputs["logGroupName"] in groups


def test_monitoring_resources_belong_to_the_component(run: OfflineRun) -> None:
    component = run.one("booking:components:Monitoring")
    children = {r.type for r in run.children(component)}
    assert children == {
        ALARM,
        "aws:kms/key:Key",
        "aws:kms/alias:Alias",
        "aws:sns/topic:Topic",
        "aws:sns/topicPolicy:TopicPolicy",
        "aws:sns/topicSubscription:TopicSubscription",
        "aws:cloudwatch/dashboard:Dashboard",
        "aws:cloudwatch/queryDefinition:QueryDefinition",
    }
    firewall = {r.urn for r in run.of_type("booking:components:WebFirewall")}
    assert all(a.parent == component.urn or a.parent in firewall for a in run.of_type(ALARM))


def test_invalid_alarms_config_stops_before_any_resource() -> None:
    run = run_stack("dev", {"booking:alarms.serviceCpu.threshold": 150})
    assert (
        run.error
        == "booking:alarms.serviceCpu.threshold = 150 is invalid: must be a number from 1 to 100 (%)"
    )
    assert [r for r in run.resources if r.custom] == []


def test_own_alarm_addresses_replace_the_notification_ones() -> None:
    run = run_stack("dev", {"booking:alarms.emails": ["oncall@example.com"]})
    assert run.error is None, run.error
    by_topic: dict[str, list[str]] = {}
    for subscription in run.of_type("aws:sns/topicSubscription:TopicSubscription"):
        by_topic.setdefault(subscription.inputs["topic"], []).append(subscription.inputs["endpoint"])
    assert by_topic[run.outputs["alarmTopicArn"]] == ["oncall@example.com"]
    assert by_topic[run.outputs["notificationTopicArn"]] == ["ops@example.com"]


def test_without_any_address_the_alarms_still_exist() -> None:
    run = run_stack("dev", {"booking:notifications": None})
    assert run.error is None, run.error
    assert len(monitoring_alarms(run)) == len(alarm_names("booking-dev", configured("dev")))
    assert [
        s
        for s in run.of_type("aws:sns/topicSubscription:TopicSubscription")
        if s.inputs["topic"] == run.outputs["alarmTopicArn"]
    ] == []
