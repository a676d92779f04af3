"""The API's own metrics on the dashboard and in alarms (pure data).

The metric names, units and dimensions come from `app/core/metric_catalogue.py`, the one list the API
emits from (EMF records on stdout, app/core/emf.py), so a renamed metric breaks a test, not a graph.
That module is plain Python with no dependencies, which is why a component may import it.

CloudWatch alarms have no schedule. "No bookings during business hours" is metric math instead: the
MINUTE/HOUR/DAY functions "take the period and range of the time series and return a new non-sparse
time series where each value is based on its timestamp" (CloudWatch User Guide, "Using metric math",
functions table; HOUR is UTC, DAY is 1 = Monday … 7 = Sunday, "IF(DAY(m1)<6,m1) returns metrics only
from weekdays"). Outside the hours the expression is 1 (never breaching), inside it is the number of
bookings, so the alarm fires after N periods with none.
"""

from __future__ import annotations

from typing import Any

from app.core import metric_catalogue as mc
from components.alarms import AlarmDefinition, AlarmRule, BusinessHours, MetricQuery, MetricStat
from components.dashboard_widgets import graph as widget_graph
from components.dashboard_widgets import metric


def _stat(namespace: str, spec: mc.MetricSpec, period: int, stat: str = "Sum") -> MetricStat:
    assert not spec.dimensions, "business alarms use the dimensionless counters"
    return MetricStat(namespace, spec.name, {}, stat, period)


def business_hours_condition(hours: BusinessHours, series: str) -> str:
    """A metric-math condition true (1) for datapoints of `series` inside the business hours."""
    parts = []
    if hours.start_hour_utc > 0:
        parts.append(f"HOUR({series}) >= {hours.start_hour_utc}")
    if hours.end_hour_utc < 24:
        parts.append(f"HOUR({series}) < {hours.end_hour_utc}")
    if hours.weekdays_only:
        parts.append(f"DAY({series}) < 6")
    return " AND ".join(parts) or f"HOUR({series}) >= 0"


def no_bookings_queries(namespace: str, hours: BusinessHours, period: int) -> tuple[MetricQuery, ...]:
    return (
        MetricQuery(id="bookings", label="Bookings", metric=_stat(namespace, mc.BOOKINGS_CREATED, period)),
        MetricQuery(
            id="expected",
            label="Bookings (1 outside business hours)",
            # FILL: the app writes 0 every minute it runs, but a minute whose record is late would
            # otherwise be missing; M of N periods absorbs a FILLed latest period.
            expression=f"IF({business_hours_condition(hours, 'bookings')}, FILL(bookings, 0), 1)",
            return_data=True,
        ),
    )


def conflict_ratio_queries(namespace: str, period: int, minimum_attempts: int) -> tuple[MetricQuery, ...]:
    """% of seat claims (holds and bookings) refused because a seat was taken; 0 below the minimum."""
    specs = {
        "holds": mc.HOLDS_CREATED,
        "bookings": mc.BOOKINGS_CREATED,
        "hold_conflicts": mc.HOLD_CONFLICTS,
        "booking_conflicts": mc.BOOKING_CONFLICTS,
    }
    metrics = tuple(
        MetricQuery(id=qid, label=spec.name, metric=_stat(namespace, spec, period))
        for qid, spec in specs.items()
    )
    return (
        *metrics,
        MetricQuery(
            id="conflicts",
            label="Seat conflicts",
            expression="FILL(hold_conflicts, 0) + FILL(booking_conflicts, 0)",
        ),
        MetricQuery(
            id="attempts",
            label="Seat claims",
            expression="conflicts + FILL(holds, 0) + FILL(bookings, 0)",
        ),
        MetricQuery(
            id="conflict_ratio",
            label="Conflict ratio (%)",
            expression=f"IF(attempts >= {minimum_attempts}, 100 * conflicts / attempts, 0)",
            return_data=True,
        ),
    )


def business_alarm_definitions(
    names: dict[str, str],
    namespace: str,
    *,
    no_bookings: AlarmRule,
    hours: BusinessHours,
    conflict_ratio: AlarmRule,
    runbook: Any,
) -> tuple[AlarmDefinition, ...]:
    minutes = no_bookings.period_seconds * no_bookings.evaluation_periods // 60
    definitions = [
        AlarmDefinition(
            key="conflictRatio",
            name=names["conflictRatio"],
            description=runbook(
                "conflictRatio",
                f"More than {conflict_ratio.threshold:g}% of holds and bookings were refused because a seat "
                "was already taken: the seat map customers see is probably wrong (stale cache, a bug).",
            ),
            comparison_operator="GreaterThanThreshold",
            threshold=conflict_ratio.threshold,
            rule=conflict_ratio,
            treat_missing_data="notBreaching",  # no traffic, no conflicts
            queries=conflict_ratio_queries(
                namespace, conflict_ratio.period_seconds, conflict_ratio.minimum_requests
            ),
        )
    ]
    if hours.enabled:
        days = "Monday-Friday" if hours.weekdays_only else "every day"
        definitions.append(
            AlarmDefinition(
                key="noBookings",
                name=names["noBookings"],
                description=runbook(
                    "noBookings",
                    f"No booking for {minutes} minutes between {hours.start_hour_utc:02d}:00 and "
                    f"{hours.end_hour_utc:02d}:00 UTC, {days}: customers may be unable to book.",
                ),
                comparison_operator="LessThanThreshold",
                threshold=1,
                rule=no_bookings,
                # No data at all means no task is running; the healthy-hosts alarm pages for that.
                treat_missing_data="notBreaching",
                queries=no_bookings_queries(namespace, hours, no_bookings.period_seconds),
            )
        )
    return tuple(definitions)


# --- the dashboard's Business row ------------------------------------------------------------------------
def _metric(
    namespace: str, spec: mc.MetricSpec, dims: dict[str, str] | None = None, **options: Any
) -> list[Any]:
    return metric(namespace, spec.name, dims or {}, **options)


def business_widgets(namespace: str, region: str) -> list[dict[str, Any]]:
    """The "Business" row: bookings and conflicts per minute, the conflict ratio, p99 per key route."""

    def graph(title: str, metrics: list[list[Any]], **properties: Any) -> dict[str, Any]:
        return widget_graph(title, metrics, region, width=6, **properties)  # four graphs share one row

    return [
        {"type": "text", "properties": {"markdown": "## Business (the API's own metrics, EMF)"}},
        graph(
            "Bookings / conflicts per minute",
            [
                _metric(namespace, mc.BOOKINGS_CREATED, stat="Sum", label="Bookings", id="bookings"),
                _metric(namespace, mc.HOLDS_CREATED, stat="Sum", label="Holds", id="holds"),
                _metric(namespace, mc.HOLD_CONFLICTS, stat="Sum", id="hold_conflicts", visible=False),
                _metric(namespace, mc.BOOKING_CONFLICTS, stat="Sum", id="booking_conflicts", visible=False),
                [
                    {
                        "expression": "FILL(hold_conflicts, 0) + FILL(booking_conflicts, 0)",
                        "label": "Seat conflicts",
                        "id": "conflicts",
                    }
                ],
            ],
        ),
        graph(
            "Conflict ratio (%)",
            [
                _metric(namespace, mc.BOOKINGS_CREATED, stat="Sum", id="bookings", visible=False),
                _metric(namespace, mc.HOLDS_CREATED, stat="Sum", id="holds", visible=False),
                _metric(namespace, mc.HOLD_CONFLICTS, stat="Sum", id="hold_conflicts", visible=False),
                _metric(namespace, mc.BOOKING_CONFLICTS, stat="Sum", id="booking_conflicts", visible=False),
                [
                    {
                        "expression": "FILL(hold_conflicts, 0) + FILL(booking_conflicts, 0)",
                        "id": "conflicts",
                        "visible": False,
                    }
                ],
                [
                    {
                        "expression": "100 * conflicts / (conflicts + FILL(holds, 0) + FILL(bookings, 0))",
                        "label": "Refused seat claims (%)",
                        "id": "conflict_ratio",
                    }
                ],
            ],
            yAxis={"left": {"min": 0, "max": 100}},
        ),
        graph(
            "p99 latency per route (ms)",
            [
                _metric(namespace, mc.LATENCY, {mc.ROUTE: route}, stat="p99", label=route)
                for route in mc.KEY_ROUTES
            ],
        ),
        graph(
            "Replays / database outages per minute",
            [
                _metric(namespace, mc.IDEMPOTENT_REPLAYS, stat="Sum", label="Idempotent replays"),
                _metric(namespace, mc.DATABASE_UNAVAILABLE, stat="Sum", label="503: database unavailable"),
            ],
        ),
    ]
