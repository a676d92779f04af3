"""Monitoring: the topic's key and policies, and the component under mocks."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any

import pulumi
import pytest

from components.alarms import (
    DEPLOYMENT_ALARM_KEYS,
    AlarmSettings,
    alarm_name,
    alarm_names,
    deployment_alarm_names,
)
from components.dashboard import ERRORS_BY_ROUTE_QUERY
from components.monitoring import Monitoring, MonitoringArgs, alarm_topic_key_policy, alarm_topic_policy
from stacks.mocks import AwsMocks, Declared
from stacks.settings.alarms import FIELD_BY_KEY, parse_alarms
from tests.infra.monitoring_watched import (
    ACCOUNT,
    APP_LOG_GROUP,
    LB,
    METRICS_NAMESPACE,
    PREFIX,
    REGION,
    TG,
    WATCHED,
    WATCHED_VALUES,
)
from tests.infra.test_dashboard import metric_entries

# --- Policies ---------------------------------------------------------------------------------------


def test_key_policy_lets_cloudwatch_alarms_of_this_environment_use_the_key() -> None:
    policy = alarm_topic_key_policy(ACCOUNT, REGION, PREFIX)
    statements = {s["Sid"]: s for s in policy["Statement"]}
    cw = statements["CloudWatchAlarmsPublishToTheEncryptedTopic"]
    assert cw["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert set(cw["Action"]) == {"kms:Decrypt", "kms:GenerateDataKey*"}
    assert cw["Condition"]["StringEquals"] == {"aws:SourceAccount": ACCOUNT}
    assert cw["Condition"]["ArnLike"] == {
        "aws:SourceArn": f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:{PREFIX}-*"
    }
    assert statements["AccountAdministersTheKey"]["Principal"] == {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}
    assert all(s["Principal"] != "*" for s in policy["Statement"])


def test_topic_policy_admits_only_this_environments_alarms() -> None:
    arn = f"arn:aws:sns:{REGION}:{ACCOUNT}:{PREFIX}-alarms"
    policy = alarm_topic_policy(arn, ACCOUNT, REGION, PREFIX)
    publish = next(s for s in policy["Statement"] if s["Sid"] == "CloudWatchAlarmsPublish")
    assert publish["Action"] == "sns:Publish" and publish["Resource"] == arn
    assert publish["Condition"]["ArnLike"]["aws:SourceArn"].endswith(f":alarm:{PREFIX}-*")
    assert all(s["Resource"] == arn for s in policy["Statement"])


# --- The component under mocks ----------------------------------------------------------------------


@dataclass
class Run:
    resources: list[Declared]
    outputs: dict[str, Any]
    urns: list[str]
    mocks: AwsMocks

    def of_type(self, typ: str) -> list[Declared]:
        return [r for r in self.resources if r.type == typ]

    def alarm(self, key: str) -> dict[str, Any]:
        (alarm,) = [
            r
            for r in self.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")
            if r.inputs["name"] == alarm_name(PREFIX, key)
        ]
        return alarm.inputs


def _run(**overrides: Any) -> Run:
    mocks = AwsMocks(REGION)
    pulumi.runtime.set_mocks(mocks, project="booking", stack="test", preview=False)
    outputs: dict[str, Any] = {}

    @pulumi.runtime.test
    def build() -> pulumi.Output[Any]:
        # The load balancer suffix arrives as an Output, as it does from the real LoadBalancer component.
        watched = replace(WATCHED, load_balancer=pulumi.Output.from_input(LB))
        kwargs: dict[str, Any] = {
            "name_prefix": PREFIX,
            "region": REGION,
            "account_id": ACCOUNT,
            "watched": watched,
            "min_healthy_hosts": 2,
            "db_allocated_storage_gb": pulumi.Output.from_input(20),
            "app_log_group_name": APP_LOG_GROUP,
            "metrics_namespace": METRICS_NAMESPACE,
            "alarm_emails": ("ops@example.com", "oncall@example.com"),
        }
        args = MonitoringArgs(**{**kwargs, **overrides})
        monitoring = Monitoring("monitoring", args)
        outputs["deployment_alarm_names"] = monitoring.deployment_alarm_names
        return pulumi.Output.all(
            monitoring.alarm_topic_arn, monitoring.dashboard_name, pulumi.Output.all(**monitoring.alarm_names)
        ).apply(lambda v: outputs.update(topic=v[0], dashboard=v[1], alarm_names=v[2]))

    build()
    monitor = pulumi.runtime.settings.SETTINGS.monitor
    return Run(mocks.resources, outputs, list(monitor.resources), mocks)


@pytest.fixture(scope="module")
def run() -> Run:
    return _run()


TOPIC_ARN = f"arn:aws:sns:{REGION}:{ACCOUNT}:{PREFIX}-alarms"
TG_DIMS = {"LoadBalancer": LB, "TargetGroup": TG}
SERVICE_DIMS = {"ClusterName": "booking-test-cluster", "ServiceName": "booking-test-api"}
DB_DIMS = {"DBInstanceIdentifier": "booking-test-db"}
FN_DIMS = {"FunctionName": "booking-test-deploy-notifier"}

GT, LT, NB = "GreaterThanThreshold", "LessThanThreshold", "notBreaching"
ELB, RDS = "AWS/ApplicationELB", "AWS/RDS"
DLQ_DIMS = {"QueueName": "booking-test-deploy-notifier-dlq"}

# key: (namespace, metric, dimensions, statistic or extended statistic, comparison, threshold, missing data)
SINGLE_METRIC_ALARMS: dict[str, tuple[str, str, dict[str, str], str, str, float, str]] = {
    "targetLatencyP99": (ELB, "TargetResponseTime", TG_DIMS, "p99", GT, 1.0, NB),
    "unhealthyHosts": (ELB, "UnHealthyHostCount", TG_DIMS, "Maximum", GT, 0, NB),
    "healthyHosts": (ELB, "HealthyHostCount", TG_DIMS, "Minimum", LT, 2, "breaching"),
    "serviceCpu": ("AWS/ECS", "CPUUtilization", SERVICE_DIMS, "Average", GT, 80, NB),
    "serviceMemory": ("AWS/ECS", "MemoryUtilization", SERVICE_DIMS, "Average", GT, 80, NB),
    "databaseCpu": (RDS, "CPUUtilization", DB_DIMS, "Average", GT, 80, "missing"),
    "databaseFreeStorage": (RDS, "FreeStorageSpace", DB_DIMS, "Minimum", LT, 2 * 1024**3, "missing"),
    "databaseFreeableMemory": (RDS, "FreeableMemory", DB_DIMS, "Minimum", LT, 64 * 1024**2, "missing"),
    "databaseConnections": (RDS, "DatabaseConnections", DB_DIMS, "Maximum", GT, 80, "missing"),
    "notifierErrors": ("AWS/Lambda", "Errors", FN_DIMS, "Sum", GT, 0, NB),
    "notifierDuration": ("AWS/Lambda", "Duration", FN_DIMS, "Maximum", GT, 2000, NB),
    "deadLetterQueue": (
        "AWS/SQS",
        "ApproximateNumberOfMessagesVisible",
        DLQ_DIMS,
        "Maximum",
        GT,
        0,
        "missing",
    ),
}


@pytest.mark.parametrize("key", sorted(SINGLE_METRIC_ALARMS))
def test_single_metric_alarm(run: Run, key: str) -> None:
    namespace, metric, dims, stat, comparison, threshold, missing = SINGLE_METRIC_ALARMS[key]
    alarm = run.alarm(key)
    rule = getattr(AlarmSettings(), FIELD_BY_KEY[key])
    assert alarm["namespace"] == namespace
    assert alarm["metricName"] == metric
    assert alarm["dimensions"] == dims
    assert alarm.get("extendedStatistic", alarm.get("statistic")) == stat
    assert ("statistic" in alarm) != ("extendedStatistic" in alarm)
    assert alarm["comparisonOperator"] == comparison
    assert alarm["threshold"] == pytest.approx(threshold)
    assert alarm["treatMissingData"] == missing
    assert alarm["period"] == rule.period_seconds
    assert alarm["evaluationPeriods"] == rule.evaluation_periods
    assert alarm["datapointsToAlarm"] == rule.datapoints_to_alarm
    assert "metricQueries" not in alarm


@pytest.mark.parametrize(
    ("key", "errors_metric", "errors_dims", "requests_dims"),
    [
        ("elb5xxRate", "HTTPCode_ELB_5XX_Count", {"LoadBalancer": LB}, {"LoadBalancer": LB}),
        ("target5xxRate", "HTTPCode_Target_5XX_Count", TG_DIMS, TG_DIMS),
    ],
)
def test_5xx_alarms_are_rates(
    run: Run, key: str, errors_metric: str, errors_dims: dict[str, str], requests_dims: dict[str, str]
) -> None:
    alarm = run.alarm(key)
    assert "metricName" not in alarm and "namespace" not in alarm and "period" not in alarm
    queries = {q["id"]: q for q in alarm["metricQueries"]}
    assert queries["errors"]["metric"] == {
        "namespace": "AWS/ApplicationELB",
        "metricName": errors_metric,
        "dimensions": errors_dims,
        "stat": "Sum",
        "period": 60,
    }
    assert queries["requests"]["metric"]["metricName"] == "RequestCount"
    assert queries["requests"]["metric"]["dimensions"] == requests_dims
    assert queries["error_rate"]["returnData"] is True
    assert [q["id"] for q in alarm["metricQueries"] if q.get("returnData")] == ["error_rate"]
    assert queries["error_rate"]["expression"] == "IF(total >= 20, 100 * FILL(errors, 0) / total, 0)"
    assert alarm["threshold"] == 5
    assert alarm["comparisonOperator"] == "GreaterThanThreshold"
    assert alarm["treatMissingData"] == "notBreaching"


def test_consumed_lcus_alarm(run: Run) -> None:
    alarm = run.alarm("consumedLcus")
    queries = {q["id"]: q for q in alarm["metricQueries"]}
    assert queries["lcus"]["metric"]["metricName"] == "ConsumedLCUs"
    assert queries["lcus"]["metric"]["dimensions"] == {"LoadBalancer": LB}
    assert queries["lcus_per_hour"]["expression"] == "lcus * 3600 / 300"
    assert alarm["threshold"] == 10


def test_latency_alarm_ignores_percentiles_over_a_handful_of_requests(run: Run) -> None:
    assert run.alarm("targetLatencyP99")["evaluateLowSampleCountPercentiles"] == "ignore"


def test_every_alarm_notifies_the_alarms_topic_on_alarm_and_ok(run: Run) -> None:
    alarms = run.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")
    assert {a.inputs["name"] for a in alarms} == set(alarm_names(PREFIX, AlarmSettings()).values())
    for alarm in alarms:
        assert alarm.inputs["alarmActions"] == [TOPIC_ARN]
        assert alarm.inputs["okActions"] == [TOPIC_ARN]
        assert alarm.inputs["actionsEnabled"] is True


def test_alarms_topic_is_encrypted_with_a_key_cloudwatch_may_use(run: Run) -> None:
    (topic,) = run.of_type("aws:sns/topic:Topic")
    (key,) = run.of_type("aws:kms/key:Key")
    key = run.mocks.one("aws:kms/key:Key")
    assert topic.inputs["kmsMasterKeyId"] == key.outputs["arn"]
    assert "alias/aws/sns" not in json.dumps(topic.inputs)
    assert key.inputs["enableKeyRotation"] is True
    policy = json.loads(key.inputs["policy"])
    assert policy == alarm_topic_key_policy(ACCOUNT, REGION, PREFIX)
    (topic_policy,) = run.of_type("aws:sns/topicPolicy:TopicPolicy")
    assert topic_policy.inputs["arn"] == TOPIC_ARN
    assert json.loads(topic_policy.inputs["policy"]) == alarm_topic_policy(TOPIC_ARN, ACCOUNT, REGION, PREFIX)
    (alias,) = run.of_type("aws:kms/alias:Alias")
    assert alias.inputs["name"] == f"alias/{PREFIX}-alarms"


def test_admins_are_subscribed_by_e_mail(run: Run) -> None:
    subscriptions = run.of_type("aws:sns/topicSubscription:TopicSubscription")
    assert sorted(s.inputs["endpoint"] for s in subscriptions) == ["oncall@example.com", "ops@example.com"]
    assert {s.inputs["protocol"] for s in subscriptions} == {"email"}
    assert {s.inputs["topic"] for s in subscriptions} == {TOPIC_ARN}


def test_dashboard_resource(run: Run) -> None:
    (dashboard,) = run.of_type("aws:cloudwatch/dashboard:Dashboard")
    assert dashboard.inputs["dashboardName"] == PREFIX
    body = json.loads(dashboard.inputs["dashboardBody"])
    for namespace, _, dims in metric_entries(body):
        if namespace != METRICS_NAMESPACE:  # the API's own metrics carry route templates instead
            assert set(dims.values()) <= WATCHED_VALUES
    (alarm_widget,) = [w for w in body["widgets"] if w["type"] == "alarm"]
    declared_alarm_arns = {
        f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:{a.inputs['name']}"
        for a in run.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")
    }
    assert set(alarm_widget["properties"]["alarms"]) == declared_alarm_arns


def test_saved_queries(run: Run) -> None:
    queries = {
        q.inputs["name"]: q.inputs for q in run.of_type("aws:cloudwatch/queryDefinition:QueryDefinition")
    }
    assert set(queries) == {f"{PREFIX}/errors-by-route", f"{PREFIX}/latency-by-route"}
    errors = queries[f"{PREFIX}/errors-by-route"]
    assert errors["logGroupNames"] == [APP_LOG_GROUP]
    assert errors["queryString"] == ERRORS_BY_ROUTE_QUERY


def test_every_child_belongs_to_the_component(run: Run) -> None:
    children = [urn for urn in run.urns if "::monitoring-" in urn]
    declared = [r for r in run.resources if r.type != "booking:components:Monitoring"]
    assert len(children) == len(declared) > 15
    assert all("booking:components:Monitoring$" in urn for urn in children)


def test_outputs(run: Run) -> None:
    assert run.outputs["topic"] == TOPIC_ARN
    assert run.outputs["dashboard"] == PREFIX
    assert run.outputs["alarm_names"] == alarm_names(PREFIX, AlarmSettings())
    assert run.outputs["deployment_alarm_names"] == deployment_alarm_names(PREFIX)
    assert set(DEPLOYMENT_ALARM_KEYS) <= set(run.outputs["alarm_names"])


def test_no_recipients_means_no_subscription_but_the_alarms_still_exist() -> None:
    run = _run(alarm_emails=())
    assert run.of_type("aws:sns/topicSubscription:TopicSubscription") == []
    assert len(run.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")) == len(
        alarm_names(PREFIX, AlarmSettings())
    )


def test_configured_thresholds_reach_the_alarms() -> None:
    settings = parse_alarms(
        {
            "target5xxRate": {"threshold": 2.5, "minimumRequests": 100, "periodSeconds": 120},
            "databaseFreeStorage": {"threshold": 25},
            "deadLetterQueue": {"periodSeconds": 600},
        }
    )
    run = _run(alarms=settings)
    target = run.alarm("target5xxRate")
    assert target["threshold"] == 2.5
    rate = next(q for q in target["metricQueries"] if q["id"] == "error_rate")
    assert rate["expression"] == "IF(total >= 100, 100 * FILL(errors, 0) / total, 0)"
    assert {q["metric"]["period"] for q in target["metricQueries"] if "metric" in q} == {120}
    assert run.alarm("databaseFreeStorage")["threshold"] == pytest.approx(20 * 1024**3 * 0.25)
    assert run.alarm("deadLetterQueue")["period"] == 600


def test_args_refuse_what_cannot_work() -> None:
    base: dict[str, Any] = dict(
        name_prefix=PREFIX,
        region=REGION,
        account_id=ACCOUNT,
        watched=WATCHED,
        min_healthy_hosts=1,
        db_allocated_storage_gb=20,
        app_log_group_name=APP_LOG_GROUP,
        metrics_namespace=METRICS_NAMESPACE,
        alarm_emails=("ops@example.com",),
    )
    MonitoringArgs(**base)
    with pytest.raises(ValueError, match="min_healthy_hosts"):
        MonitoringArgs(**{**base, "min_healthy_hosts": 0})
    with pytest.raises(ValueError, match="prefix"):
        MonitoringArgs(**{**base, "name_prefix": "Booking"})
