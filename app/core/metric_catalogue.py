"""The one list of the API's CloudWatch metrics: names, units, dimensions and namespace (pure data).

The app emits exactly these (app/core/emf.py) and the infrastructure graphs and alarms on exactly these
(components/dashboard.py, components/alarm_catalogue.py import this module). It lives in app/ because the
API image must not need Pulumi, and imports nothing but the standard library, so components can import
it without pulling in FastAPI or the stack program.

Dimensions are bounded on purpose (custom metrics are billed per name and dimension combination): the
business counters have none, the per-route metrics have the route *template* ("POST /bookings", never a
path with ids in it) and the status class ("2xx"), never anything from the request's data.
"""

from __future__ import annotations

from dataclasses import dataclass

NAMESPACE_PREFIX = "Booking"


def metrics_namespace(environment: str) -> str:
    """One CloudWatch namespace per stack ("Booking/prod"), so stacks in one account never mix."""
    return f"{NAMESPACE_PREFIX}/{environment}"


@dataclass(frozen=True)
class MetricSpec:
    name: str
    unit: str  # a CloudWatch StandardUnit (MetricDatum, "Unit")
    dimensions: tuple[str, ...]
    meaning: str


ROUTE = "Route"  # "<METHOD> <route template>", e.g. "GET /flights/{flight_id}/seats"
STATUS_CLASS = "StatusClass"  # "2xx" … "5xx"

BOOKINGS_CREATED = MetricSpec("BookingsCreated", "Count", (), "bookings confirmed (not replays)")
HOLDS_CREATED = MetricSpec("HoldsCreated", "Count", (), "seat holds taken")
HOLD_CONFLICTS = MetricSpec("HoldConflicts", "Count", (), "holds refused: a seat was already taken")
BOOKING_CONFLICTS = MetricSpec("BookingConflicts", "Count", (), "bookings refused: a seat was already taken")
IDEMPOTENT_REPLAYS = MetricSpec(
    "IdempotentReplays", "Count", (), "POST /bookings answered with the first booking (Idempotency-Key)"
)
DATABASE_UNAVAILABLE = MetricSpec(
    "DatabaseUnavailable", "Count", (), "503 answers because the database was unreachable or timed out"
)
REQUESTS = MetricSpec("Requests", "Count", (ROUTE, STATUS_CLASS), "requests per route template and status")
LATENCY = MetricSpec("Latency", "Milliseconds", (ROUTE,), "request latency per route template")

# Counters the app emits every flush, 0 included: a series with datapoints whenever a task runs is what
# lets "no bookings for N minutes" tell "nobody booked" from "nothing reported".
BUSINESS: tuple[MetricSpec, ...] = (
    BOOKINGS_CREATED,
    HOLDS_CREATED,
    HOLD_CONFLICTS,
    BOOKING_CONFLICTS,
    IDEMPOTENT_REPLAYS,
    DATABASE_UNAVAILABLE,
)
PER_ROUTE: tuple[MetricSpec, ...] = (REQUESTS, LATENCY)
ALL: tuple[MetricSpec, ...] = BUSINESS + PER_ROUTE
BY_NAME: dict[str, MetricSpec] = {spec.name: spec for spec in ALL}

# Probes, the scrape endpoint and the API docs: the ALB already counts them, they are not what admins
# need, and leaving them out saves their custom metrics. (The web page's static files are served by a
# mount, which names no route: they are counted under "<unmatched>" with the 404s.)
UNMEASURED_ROUTES: frozenset[str] = frozenset(
    {
        "GET /healthz",
        "GET /readyz",
        "GET /metrics",
        "GET /docs",
        "GET /docs/oauth2-redirect",
        "GET /redoc",
        "GET /openapi.json",
    }
)

# The routes the dashboard graphs p99 for (the seat map and the booking/hold writes: the hot paths).
KEY_ROUTES: tuple[str, ...] = (
    "GET /flights/{flight_id}/seats",
    "POST /flights/{flight_id}/holds",
    "POST /bookings",
)


# The method is part of the Route dimension; anything else a client sends ("FOO /flights") is "OTHER",
# so no request can mint a new metric.
METHODS: frozenset[str] = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def route_label(method: str, route: str) -> str:
    return f"{method if method in METHODS else 'OTHER'} {route}"


def status_class(status: int) -> str:
    return f"{min(max(status // 100, 1), 5)}xx"
