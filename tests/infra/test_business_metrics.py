"""The API's own metrics on the dashboard and in the alarms: the catalogue's names, and metric math that
means what the alarm says."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest

from app.core import metric_catalogue as mc
from components.alarm_catalogue import alarm_definitions
from components.alarms import AlarmDefinition, AlarmSettings, BusinessHours, MetricQuery, alarm_names
from components.business_metrics import business_hours_condition, conflict_ratio_queries, no_bookings_queries
from components.dashboard import dashboard_body
from stacks.settings._base import ConfigError
from stacks.settings.alarms import parse_alarms
from tests.infra.monitoring_watched import APP_LOG_GROUP, METRICS_NAMESPACE, PREFIX, REGION, WATCHED
from tests.infra.test_dashboard import metric_entries

MONDAY = datetime(2031, 5, 5, tzinfo=UTC)  # a Monday
SATURDAY = datetime(2031, 5, 10, tzinfo=UTC)


def evaluate(queries: tuple[MetricQuery, ...], values: dict[str, float | None], at: datetime) -> float | None:
    """One datapoint of an alarm's metric math: IF, FILL, AND, HOUR/DAY (UTC; DAY 1 = Monday), arithmetic."""
    env: dict[str, Any] = dict(values)

    def run(expression: str) -> Any:
        if not re.fullmatch(r"[A-Za-z_0-9 .,()*/+<>=-]+", expression):
            raise AssertionError(f"unexpected token in {expression!r}")
        python = (
            expression.replace("FILL(", "fill(")
            .replace("HOUR(", "hour(")
            .replace("DAY(", "day(")
            .replace(" AND ", " and ")
        )
        scope = {
            "fill": lambda v, d: d if v is None else v,
            "hour": lambda _series: at.hour,  # non-sparse: defined even where the series has no data
            "day": lambda _series: at.isoweekday(),
            **env,
        }
        match = re.fullmatch(r"IF\((.+?), (.+), ([0-9.]+)\)", python)
        try:
            if match:
                condition, then, otherwise = match.groups()
                if eval(condition, {"__builtins__": {}}, scope):  # noqa: S307 - test-only, tokens checked
                    return eval(then, {"__builtins__": {}}, scope)  # noqa: S307
                return float(otherwise)
            return eval(python, {"__builtins__": {}}, scope)  # noqa: S307
        except TypeError:  # arithmetic on a missing datapoint: no value, as in CloudWatch
            return None

    result = None
    for query in queries:
        if query.expression is not None:
            env[query.id] = run(query.expression)
        if query.return_data:
            result = env[query.id]
    return result


# --- one list: what the dashboard and the alarms read is what the app writes -----------------------------
def _all_definitions(settings: AlarmSettings) -> dict[str, AlarmDefinition]:
    defs = alarm_definitions(
        PREFIX,
        settings,
        WATCHED,
        min_healthy_hosts=2,
        free_storage_threshold=1.0,
        metrics_namespace=METRICS_NAMESPACE,
    )
    return {d.key: d for d in defs}


def test_dashboard_and_alarms_read_only_metrics_the_app_emits() -> None:
    body = dashboard_body(
        WATCHED,
        region=REGION,
        app_log_group_name=APP_LOG_GROUP,
        alarm_arns=[],
        min_healthy_hosts=2,
        metrics_namespace=METRICS_NAMESPACE,
    )
    graphed = {name for ns, name, _ in metric_entries(body) if ns == METRICS_NAMESPACE}
    definitions = _all_definitions(parse_alarms({"noBookings": {"enabled": True}}))
    alarmed = {
        q.metric.metric_name
        for d in definitions.values()
        for q in d.queries
        if q.metric is not None and q.metric.namespace == METRICS_NAMESPACE
    }
    assert graphed and alarmed
    assert graphed | alarmed <= set(mc.BY_NAME)
    # Everything an admin was promised is on the dashboard.
    assert {spec.name for spec in mc.BUSINESS} | {mc.LATENCY.name} <= graphed
    # The business alarms use the business counters, dimensionless, as the app writes them.
    for key in ("conflictRatio", "noBookings"):
        for query in definitions[key].queries:
            if query.metric is not None:
                assert query.metric.namespace == METRICS_NAMESPACE
                assert dict(query.metric.dimensions) == {}
                assert query.metric.stat == "Sum"
    p99 = [w for w in body["widgets"] if w["properties"].get("title") == "p99 latency per route (ms)"]
    assert [entry[3] for entry in p99[0]["properties"]["metrics"]] == list(mc.KEY_ROUTES)
    assert all(entry[-1]["stat"] == "p99" for entry in p99[0]["properties"]["metrics"])


def test_the_business_row_sits_under_the_alarms_on_one_row() -> None:
    body = dashboard_body(
        WATCHED,
        region=REGION,
        app_log_group_name=APP_LOG_GROUP,
        alarm_arns=[],
        min_healthy_hosts=2,
        metrics_namespace=METRICS_NAMESPACE,
    )
    widgets = body["widgets"]
    assert widgets[1]["type"] == "text" and "Business" in widgets[1]["properties"]["markdown"]
    business = widgets[2:6]
    assert {w["y"] for w in business} == {widgets[1]["y"] + widgets[1]["height"]}
    assert sum(w["width"] for w in business) == 24
    assert widgets[6]["y"] > business[0]["y"]  # the infrastructure rows follow


# --- metric math -------------------------------------------------------------------------------------
def test_no_bookings_breaches_only_inside_business_hours() -> None:
    hours = BusinessHours(enabled=True, start_hour_utc=8, end_hour_utc=20, weekdays_only=True)
    queries = no_bookings_queries(METRICS_NAMESPACE, hours, 300)
    at = MONDAY.replace(hour=10)
    assert evaluate(queries, {"bookings": 0}, at) == 0  # breaches (< 1)
    assert evaluate(queries, {"bookings": None}, at) == 0  # a missing minute counts as none
    assert evaluate(queries, {"bookings": 4}, at) == 4
    assert evaluate(queries, {"bookings": 0}, MONDAY.replace(hour=7)) == 1
    assert evaluate(queries, {"bookings": 0}, MONDAY.replace(hour=20)) == 1
    assert evaluate(queries, {"bookings": 0}, SATURDAY.replace(hour=10)) == 1
    every_day = no_bookings_queries(METRICS_NAMESPACE, BusinessHours(True, 8, 20, weekdays_only=False), 300)
    assert evaluate(every_day, {"bookings": 0}, SATURDAY.replace(hour=10)) == 0


def test_business_hours_condition_leaves_out_what_is_always_true() -> None:
    assert business_hours_condition(BusinessHours(True, 0, 24, False), "b") == "HOUR(b) >= 0"
    assert business_hours_condition(BusinessHours(True, 0, 18, True), "b") == "HOUR(b) < 18 AND DAY(b) < 6"


@pytest.mark.parametrize(("start", "end"), [(10, 10), (12, 8), (-1, 5), (0, 25)])
def test_business_hours_must_be_a_window(start: int, end: int) -> None:
    with pytest.raises(ValueError, match="business hours"):
        BusinessHours(True, start, end)


def test_conflict_ratio_is_the_share_of_refused_seat_claims() -> None:
    queries = conflict_ratio_queries(METRICS_NAMESPACE, 300, minimum_attempts=10)
    values: dict[str, float | None] = {
        "holds": 10,
        "bookings": 5,
        "hold_conflicts": 3,
        "booking_conflicts": None,
    }
    assert evaluate(queries, values, MONDAY) == pytest.approx(100 * 3 / 18)
    quiet = conflict_ratio_queries(METRICS_NAMESPACE, 300, minimum_attempts=20)
    assert evaluate(quiet, values, MONDAY) == 0  # 18 claims: too few to judge
    none: dict[str, float | None] = {
        "holds": None,
        "bookings": None,
        "hold_conflicts": None,
        "booking_conflicts": None,
    }
    assert evaluate(queries, none, MONDAY) == 0


# --- config -----------------------------------------------------------------------------------------------
def test_no_bookings_is_off_unless_enabled() -> None:
    assert "noBookings" not in _all_definitions(AlarmSettings())
    assert "noBookings" not in alarm_names(PREFIX, AlarmSettings())
    settings = parse_alarms(
        {"noBookings": {"enabled": True, "startHourUtc": 6, "endHourUtc": 22, "evaluationPeriods": 4}}
    )
    definition = _all_definitions(settings)["noBookings"]
    assert definition.comparison_operator == "LessThanThreshold" and definition.threshold == 1
    assert definition.rule.evaluation_periods == 4
    assert "20 minutes between 06:00 and 22:00 UTC" in definition.description
    assert "HOUR(bookings) >= 6 AND HOUR(bookings) < 22" in (definition.queries[-1].expression or "")


def test_conflict_ratio_threshold_and_minimum_come_from_config() -> None:
    settings = parse_alarms({"conflictRatio": {"threshold": 7.5, "minimumRequests": 40}})
    definition = _all_definitions(settings)["conflictRatio"]
    assert definition.threshold == 7.5
    assert "IF(attempts >= 40," in (definition.queries[-1].expression or "")


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ({"noBookings": {"enabled": "yes"}}, "booking:alarms.noBookings.enabled"),
        ({"noBookings": {"startHourUtc": 20, "endHourUtc": 8}}, "booking:alarms.noBookings.endHourUtc"),
        ({"noBookings": {"endHourUtc": 25}}, "booking:alarms.noBookings.endHourUtc"),
        ({"noBookings": {"threshold": 3}}, "booking:alarms.noBookings.threshold"),
        ({"conflictRatio": {"threshold": 0}}, "booking:alarms.conflictRatio.threshold"),
    ],
)
def test_bad_business_alarm_config_names_the_key(raw: dict[str, Any], key: str) -> None:
    with pytest.raises(ConfigError) as error:
        parse_alarms(raw)
    assert key in str(error.value)
