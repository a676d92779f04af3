"""The alarm catalogue as plain functions: names, metric maths and the alarm definitions."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from components.alarm_catalogue import alarm_definitions
from components.alarms import (
    ALARM_SUFFIXES,
    HTTP_API_ALARM_KEYS,
    LAMBDA_ALARM_KEYS,
    AlarmSettings,
    MetricStat,
    alarm_name,
    alarm_names,
    arn_partition,
    deployment_alarm_names,
    error_rate_queries,
    free_storage_threshold_bytes,
    lcu_rate_queries,
)
from stacks.settings.alarms import ALARMS, parse_alarms
from tests.infra.monitoring_watched import (
    LB,
    PREFIX,
    WATCHED,
)

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
        metrics_namespace="Booking/prod",
    )
    return {d.key: d for d in defs}


def test_every_alarm_has_a_definition_with_the_configured_rule() -> None:
    settings = parse_alarms(
        {
            "serviceCpu": {"threshold": 65, "evaluationPeriods": 10, "datapointsToAlarm": 7},
            "noBookings": {"enabled": True},
        }
    )
    defs = _definitions(settings)
    # Fargate behind the ALB: all but the Lambda and HTTP API alarms (tests/infra/test_lambda_alarms.py).
    assert set(defs) == set(ALARM_SUFFIXES) - LAMBDA_ALARM_KEYS - HTTP_API_ALARM_KEYS
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
