"""The Lambda runtime's and the HTTP API's alarms as plain functions: which exist, their maths."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from components.alarm_catalogue import alarm_definitions
from components.alarms import (
    ALARM_SUFFIXES,
    ECS_ALARM_KEYS,
    HTTP_API_ALARM_KEYS,
    LAMBDA_ALARM_KEYS,
    AlarmSettings,
    Watched,
    alarm_keys,
    concurrency_threshold,
    duration_threshold_ms,
)
from stacks.settings.alarms import parse_alarms
from tests.infra.monitoring_watched import (
    ALIAS,
    API_ID,
    FUNCTION,
    LAMBDA_ALB,
    LAMBDA_HTTP_API,
    LB,
    PREFIX,
    RESERVED_CONCURRENCY,
    STAGE,
    TG,
    TIMEOUT_SECONDS,
    WATCHED,
)

# --- Which alarms exist -----------------------------------------------------------------------------


def test_each_runtime_and_front_door_has_its_own_alarms() -> None:
    settings = AlarmSettings()
    fargate = set(alarm_keys(settings, "fargate"))
    behind_alb = set(alarm_keys(settings, "lambda", "alb"))
    behind_api = set(alarm_keys(settings, "lambda", "httpApi"))
    assert fargate >= ECS_ALARM_KEYS and not (LAMBDA_ALARM_KEYS | HTTP_API_ALARM_KEYS) & fargate
    assert behind_alb >= LAMBDA_ALARM_KEYS and not (ECS_ALARM_KEYS | HTTP_API_ALARM_KEYS) & behind_alb
    assert {"elb5xxRate", "target5xxRate", "targetLatencyP99", "consumedLcus"} <= behind_alb
    assert behind_api >= LAMBDA_ALARM_KEYS | HTTP_API_ALARM_KEYS
    assert not {"elb5xxRate", "target5xxRate", "targetLatencyP99", "consumedLcus"} & behind_api
    assert not ECS_ALARM_KEYS & behind_api
    # Database, notifier and business alarms whatever runs the API; every key is used somewhere.
    for keys in (fargate, behind_alb, behind_api):
        assert {"databaseConnections", "notifierErrors", "deadLetterQueue", "conflictRatio"} <= keys
    enabled = parse_alarms({"noBookings": {"enabled": True}})
    everywhere = {
        *alarm_keys(enabled, "fargate"),
        *alarm_keys(enabled, "lambda", "alb"),
        *alarm_keys(enabled, "lambda", "httpApi"),
    }
    assert everywhere == set(ALARM_SUFFIXES)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"function_name": FUNCTION}, "needs alias_name"),
        ({"function_name": FUNCTION, "alias_name": ALIAS}, "needs load_balancer, target_group"),
        ({"function_name": FUNCTION, "alias_name": ALIAS, "api_id": API_ID}, "needs stage"),
        (
            {
                "function_name": FUNCTION,
                "alias_name": ALIAS,
                "api_id": API_ID,
                "stage": STAGE,
                "load_balancer": LB,
            },
            "must not set load_balancer",
        ),
        (
            {
                "function_name": FUNCTION,
                "alias_name": ALIAS,
                "load_balancer": LB,
                "target_group": TG,
                "cluster_name": "c",
            },
            "must not set cluster_name",
        ),
        ({"load_balancer": LB, "target_group": TG}, "needs cluster_name, service_name"),
        (
            {
                "load_balancer": LB,
                "target_group": TG,
                "cluster_name": "c",
                "service_name": "s",
                "api_id": API_ID,
            },
            "must not set api_id",
        ),
    ],
)
def test_watched_refuses_a_mix_of_runtimes(fields: dict[str, str], message: str) -> None:
    shared = {"db_instance_identifier": "db", "notifier_function_name": "n", "dead_letter_queue_name": "q"}
    with pytest.raises(ValueError, match=message):
        Watched(**shared, **fields)


def test_runtime_and_front_door_follow_from_what_is_watched() -> None:
    assert (WATCHED.runtime, WATCHED.front_door) == ("fargate", "alb")
    assert (LAMBDA_ALB.runtime, LAMBDA_ALB.front_door) == ("lambda", "alb")
    assert (LAMBDA_HTTP_API.runtime, LAMBDA_HTTP_API.front_door) == ("lambda", "httpApi")


# --- Threshold maths --------------------------------------------------------------------------------


def test_duration_threshold_is_a_share_of_the_timeout_in_milliseconds() -> None:
    assert duration_threshold_ms(30, 80) == 24_000
    assert duration_threshold_ms(1, 50) == 500
    assert duration_threshold_ms(900, 100) == 900_000
    with pytest.raises(ValueError, match="timeout"):
        duration_threshold_ms(0, 80)


def test_concurrency_threshold_is_a_share_of_the_reserved_concurrency_never_below_one() -> None:
    assert concurrency_threshold(10, 80) == 8
    assert concurrency_threshold(10, 100) == 10  # with >=: "at the ceiling"
    assert concurrency_threshold(1, 50) == 1  # half an execution is not a threshold
    assert concurrency_threshold(3, 50) == 1.5
    with pytest.raises(ValueError, match="reserved concurrency"):
        concurrency_threshold(0, 80)


# --- Definitions ------------------------------------------------------------------------------------


def _definitions(watched: Watched, settings: AlarmSettings | None = None, **limits: Any) -> dict[str, Any]:
    defs = alarm_definitions(
        PREFIX,
        settings or AlarmSettings(),
        watched,
        min_healthy_hosts=1,
        free_storage_threshold=2.0 * 1024**3,
        metrics_namespace="Booking/test",
        function_timeout_seconds=limits.get("timeout", TIMEOUT_SECONDS),
        function_reserved_concurrency=limits.get("reserved", RESERVED_CONCURRENCY),
    )
    return {d.key: d for d in defs}


def test_lambda_definitions_are_in_catalogue_order_and_match_alarm_keys() -> None:
    for watched in (LAMBDA_ALB, LAMBDA_HTTP_API):
        defs = alarm_definitions(
            PREFIX,
            AlarmSettings(),
            watched,
            min_healthy_hosts=1,
            free_storage_threshold=1.0,
            metrics_namespace="Booking/test",
            function_timeout_seconds=30,
            function_reserved_concurrency=10,
        )
        keys = [d.key for d in defs]
        assert keys == list(alarm_keys(AlarmSettings(), watched.runtime, watched.front_door))


def test_lambda_runtime_without_its_limits_is_refused() -> None:
    with pytest.raises(ValueError, match="timeout and reserved concurrency"):
        alarm_definitions(
            PREFIX,
            AlarmSettings(),
            LAMBDA_ALB,
            min_healthy_hosts=1,
            free_storage_threshold=1.0,
            metrics_namespace="Booking/test",
        )


def test_duration_and_concurrency_alarms_scale_with_the_function_settings() -> None:
    settings = parse_alarms(
        {"functionDurationP99": {"threshold": 50}, "functionConcurrency": {"threshold": 90}}
    )
    defs = _definitions(LAMBDA_ALB, settings, timeout=20, reserved=50)
    duration = defs["functionDurationP99"]
    assert (duration.namespace, duration.metric_name, duration.extended_statistic) == (
        "AWS/Lambda",
        "Duration",
        "p99",
    )
    assert duration.threshold == 10_000  # 50% of 20 s, in ms (Duration's unit)
    assert duration.evaluate_low_sample_count_percentiles == "ignore"
    concurrency = defs["functionConcurrency"]
    assert (concurrency.metric_name, concurrency.statistic) == ("ConcurrentExecutions", "Maximum")
    assert concurrency.threshold == 45
    assert concurrency.comparison_operator == "GreaterThanOrEqualToThreshold"
    # The reserved concurrency caps the whole function: compared at function level, not per alias.
    assert concurrency.dimensions == {"FunctionName": FUNCTION}


def test_error_rate_is_errors_over_invocations_of_the_alias_with_a_minimum() -> None:
    settings = parse_alarms({"functionErrorRate": {"threshold": 3, "minimumRequests": 40}})
    rate = _definitions(LAMBDA_ALB, settings)["functionErrorRate"]
    queries = {q.id: q for q in rate.queries}
    assert queries["errors"].metric.metric_name == "Errors"
    assert queries["requests"].metric.metric_name == "Invocations"
    for query in (queries["errors"], queries["requests"]):
        assert query.metric.namespace == "AWS/Lambda" and query.metric.stat == "Sum"
        assert query.metric.dimensions == {"FunctionName": FUNCTION, "Resource": f"{FUNCTION}:{ALIAS}"}
    # Errors are counted inside Invocations: the total is the invocations alone.
    assert queries["total"].expression == "FILL(requests, 0)"
    assert queries["error_rate"].expression == "IF(total >= 40, 100 * FILL(errors, 0) / total, 0)"
    assert rate.threshold == 3 and rate.treat_missing_data == "notBreaching"


def test_throttles_alarm_counts_throttled_requests_on_the_alias() -> None:
    throttles = _definitions(LAMBDA_HTTP_API)["functionThrottles"]
    assert (throttles.metric_name, throttles.statistic, throttles.threshold) == ("Throttles", "Sum", 0)
    assert throttles.dimensions["Resource"] == f"{FUNCTION}:{ALIAS}"


def test_http_api_alarms_use_the_http_api_metric_names_on_the_stage() -> None:
    settings = parse_alarms({"apiLatencyP99": {"threshold": 1500}, "api5xxRate": {"minimumRequests": 30}})
    defs = _definitions(LAMBDA_HTTP_API, settings)
    queries = {q.id: q for q in defs["api5xxRate"].queries}
    # HTTP APIs publish "5xx" and "Count" (REST APIs: 5XXError); dimensions ApiId + Stage.
    assert (queries["errors"].metric.namespace, queries["errors"].metric.metric_name) == (
        "AWS/ApiGateway",
        "5xx",
    )
    assert queries["requests"].metric.metric_name == "Count"
    assert queries["errors"].metric.dimensions == {"ApiId": API_ID, "Stage": STAGE}
    assert queries["error_rate"].expression == "IF(total >= 30, 100 * FILL(errors, 0) / total, 0)"
    latency = defs["apiLatencyP99"]
    assert (latency.metric_name, latency.extended_statistic) == ("Latency", "p99")
    assert latency.threshold == 1500  # HTTP API Latency is in ms, like the setting
    assert latency.dimensions == {"ApiId": API_ID, "Stage": STAGE}


def test_fargate_definitions_ignore_the_function_settings() -> None:
    with_limits = _definitions(replace(WATCHED))
    assert not (LAMBDA_ALARM_KEYS | HTTP_API_ALARM_KEYS) & set(with_limits)
