"""Monitoring: pure functions (names, metric math, policies, dashboard) and the component under mocks."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

import pulumi
import pytest

from components.alarm_catalogue import alarm_definitions
from components.alarms import (
    ALARM_SUFFIXES,
    DEPLOYMENT_ALARM_KEYS,
    AlarmSettings,
    MetricStat,
    Watched,
    alarm_name,
    alarm_names,
    arn_partition,
    deployment_alarm_names,
    error_rate_queries,
    free_storage_threshold_bytes,
    lcu_rate_queries,
)
from components.dashboard import ERRORS_BY_ROUTE_QUERY, LATENCY_BY_ROUTE_QUERY, dashboard_body
from components.monitoring import Monitoring, MonitoringArgs, alarm_topic_key_policy, alarm_topic_policy
from stacks.mocks import AwsMocks, Declared
from stacks.settings.alarms import ALARMS, FIELD_BY_KEY, parse_alarms

ACCOUNT = "123456789012"
REGION = "eu-west-1"
PREFIX = "booking-test"
LB = "app/booking-test-alb/50dc6c495c0c9188"
TG = "targetgroup/booking-test-api/73e2d6bc24d8a067"
WATCHED = Watched(
    load_balancer=LB,
    target_group=TG,
    cluster_name="booking-test-cluster",
    service_name="booking-test-api",
    db_instance_identifier="booking-test-db",
    notifier_function_name="booking-test-deploy-notifier",
    dead_letter_queue_name="booking-test-deploy-notifier-dlq",
)
APP_LOG_GROUP = "/ecs/booking-test/api"
WATCHED_VALUES = {
    LB,
    TG,
    "booking-test-cluster",
    "booking-test-api",
    "booking-test-db",
    "booking-test-deploy-notifier",
    "booking-test-deploy-notifier-dlq",
}


# --- Names ------------------------------------------------------------------------------------------


def test_alarm_names_are_deterministic_and_prefixed() -> None:
    names = alarm_names("booking-prod")
    assert names["target5xxRate"] == "booking-prod-target-5xx-rate"
    assert names["healthyHosts"] == "booking-prod-healthy-hosts-below-minimum"
    assert set(names) == {spec.key for spec in ALARMS}  # one alarm per configurable alarm
    assert len(set(names.values())) == len(names)
    assert all(len(name) <= 255 for name in names.values())


def test_deployment_alarms_are_the_5xx_and_latency_alarms() -> None:
    assert deployment_alarm_names("booking-dev") == (
        "booking-dev-elb-5xx-rate",
        "booking-dev-target-5xx-rate",
        "booking-dev-target-latency-p99",
    )
    assert set(deployment_alarm_names("booking-dev")) <= set(alarm_names("booking-dev").values())


@pytest.mark.parametrize("prefix", ["", "Booking-dev", "booking_dev", "-booking", "booking-", "b" * 41])
def test_bad_prefix_is_refused(prefix: str) -> None:
    with pytest.raises(ValueError, match="monitoring name prefix"):
        alarm_name(prefix, "serviceCpu")


def test_partition_follows_the_region() -> None:
    assert arn_partition("us-east-1") == "aws"
    assert arn_partition("cn-north-1") == "aws-cn"
    assert arn_partition("us-gov-west-1") == "aws-us-gov"


# --- Metric math ------------------------------------------------------------------------------------


def _evaluate(expression: str, values: dict[str, float | None]) -> float | None:
    """Evaluate one datapoint of a CloudWatch metric-math expression built from IF, FILL and arithmetic.

    None is a missing datapoint; like CloudWatch, an expression over a missing value has no value.
    """
    if not re.fullmatch(r"[A-Za-z_0-9 .,()*/+>=-]+", expression):
        raise AssertionError(f"unexpected token in {expression!r}")

    def fill(value: float | None, default: float) -> float:
        return default if value is None else value

    def if_(condition: bool | None, then: Callable[[], float | None], otherwise: float) -> float | None:
        if condition is None:
            return None
        return then() if condition else otherwise

    python = expression.replace("FILL(", "fill(")
    # IF(cond, a, b): evaluate `a` lazily, CloudWatch does not divide where the condition is false.
    match = re.fullmatch(r"IF\((.+?), (.+), ([0-9.]+)\)", python)
    if match:
        cond, then, otherwise = match.groups()
        env: dict[str, Any] = {"fill": fill, **values}
        condition = _maybe(lambda: eval(cond, {"__builtins__": {}}, env))  # noqa: S307 (test-only, checked tokens)
        return if_(condition, lambda: _maybe(lambda: eval(then, {"__builtins__": {}}, env)), float(otherwise))  # noqa: S307
    return _maybe(lambda: eval(python, {"__builtins__": {}}, {"fill": fill, **values}))  # noqa: S307


def _maybe(compute: Callable[[], Any]) -> Any:
    try:
        return compute()
    except TypeError:  # arithmetic on a missing datapoint
        return None


def _rate(queries: tuple[Any, ...], errors: float | None, requests: float | None) -> float | None:
    by_id = {q.id: q for q in queries}
    total = _evaluate(by_id["total"].expression, {"errors": errors, "requests": requests})
    return _evaluate(by_id["error_rate"].expression, {"errors": errors, "requests": requests, "total": total})


def _stat(name: str) -> MetricStat:
    return MetricStat("AWS/ApplicationELB", name, {"LoadBalancer": LB}, "Sum", 60)


def test_target_error_rate_is_a_percentage_of_requests() -> None:
    queries = error_rate_queries(
        _stat("HTTPCode_Target_5XX_Count"), _stat("RequestCount"), 20, errors_outside_requests=False
    )
    assert [q.id for q in queries if q.return_data] == ["error_rate"]
    assert _rate(queries, errors=10, requests=200) == 5
    assert _rate(queries, errors=None, requests=200) == 0  # ALB publishes nothing when there is no 5xx
    assert _rate(queries, errors=3, requests=5) == 0  # below the minimum traffic the rate is 0
    # No traffic at all: FILL turns both gaps into 0, so the rate is 0, not an alarm.
    assert _rate(queries, errors=None, requests=None) == 0


def test_elb_error_rate_counts_requests_rejected_before_a_target() -> None:
    queries = error_rate_queries(
        _stat("HTTPCode_ELB_5XX_Count"), _stat("RequestCount"), 20, errors_outside_requests=True
    )
    # No healthy target: every request is an ALB 503 and RequestCount is not incremented at all.
    assert _rate(queries, errors=50, requests=None) == 100
    assert _rate(queries, errors=10, requests=190) == 5


def test_lcu_rate_is_lcus_per_hour_whatever_the_period() -> None:
    for period in (60, 300, 3600):
        queries = lcu_rate_queries(LB, period)
        (rate,) = [q for q in queries if q.return_data]
        # 12 LCU-hours per hour are 12/3600 per second of the period, summed over the period.
        assert _evaluate(rate.expression or "", {"lcus": 12 * period / 3600}) == pytest.approx(12)


def test_free_storage_threshold_is_a_share_of_the_allocated_storage() -> None:
    assert free_storage_threshold_bytes(20, 10) == 2 * 1024**3
    assert free_storage_threshold_bytes(100, 5.5) == pytest.approx(5.5 * 1024**3)


# --- Alarm definitions ------------------------------------------------------------------------------


def _definitions(settings: AlarmSettings | None = None) -> dict[str, Any]:
    defs = alarm_definitions(
        PREFIX,
        settings or AlarmSettings(),
        WATCHED,
        min_healthy_hosts=2,
        free_storage_threshold=2.0 * 1024**3,
    )
    return {d.key: d for d in defs}


def test_every_alarm_has_a_definition_with_the_configured_rule() -> None:
    settings = parse_alarms(
        {"serviceCpu": {"threshold": 65, "evaluationPeriods": 10, "datapointsToAlarm": 7}}
    )
    defs = _definitions(settings)
    assert set(defs) == set(ALARM_SUFFIXES)
    assert defs["serviceCpu"].threshold == 65
    assert defs["serviceCpu"].rule.evaluation_periods == 10
    assert defs["serviceCpu"].rule.datapoints_to_alarm == 7
    for key, definition in defs.items():
        assert definition.name == alarm_name(PREFIX, key)
        assert definition.treat_missing_data in ("breaching", "notBreaching", "ignore", "missing")
        assert "Runbook" in definition.description
        # Exactly one way of naming the data: one metric or metric math with one returned series.
        if definition.queries:
            assert definition.metric_name is None and definition.namespace is None
            assert sum(q.return_data for q in definition.queries) == 1
        else:
            assert definition.metric_name and definition.namespace
            assert (definition.statistic is None) != (definition.extended_statistic is None)


def test_unit_conversions() -> None:
    defs = _definitions(parse_alarms({"targetLatencyP99": {"threshold": 750}}))
    assert defs["targetLatencyP99"].threshold == 0.75  # TargetResponseTime is in seconds
    assert defs["databaseFreeableMemory"].threshold == 64 * 1024 * 1024  # bytes
    assert defs["healthyHosts"].threshold == 2  # the service's minimum
    assert defs["healthyHosts"].comparison_operator == "LessThanThreshold"


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


# --- Dashboard --------------------------------------------------------------------------------------


def _metric_entries(body: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, str]]]:
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
        WATCHED, region=REGION, app_log_group_name=APP_LOG_GROUP, alarm_arns=arns, min_healthy_hosts=2
    )


def test_dashboard_shows_what_operators_need() -> None:
    metrics = {(ns, name) for ns, name, _ in _metric_entries(_body())}
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
    for namespace, metric, dims in _metric_entries(body):
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
    assert {a.inputs["name"] for a in alarms} == set(alarm_names(PREFIX).values())
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
    for _, _, dims in _metric_entries(body):
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
    assert run.outputs["alarm_names"] == alarm_names(PREFIX)
    assert run.outputs["deployment_alarm_names"] == deployment_alarm_names(PREFIX)
    assert set(DEPLOYMENT_ALARM_KEYS) <= set(run.outputs["alarm_names"])


def test_no_recipients_means_no_subscription_but_the_alarms_still_exist() -> None:
    run = _run(alarm_emails=())
    assert run.of_type("aws:sns/topicSubscription:TopicSubscription") == []
    assert len(run.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")) == len(ALARM_SUFFIXES)


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
        alarm_emails=("ops@example.com",),
    )
    MonitoringArgs(**base)
    with pytest.raises(ValueError, match="min_healthy_hosts"):
        MonitoringArgs(**{**base, "min_healthy_hosts": 0})
    with pytest.raises(ValueError, match="prefix"):
        MonitoringArgs(**{**base, "name_prefix": "Booking"})
