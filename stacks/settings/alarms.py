"""`booking:alarms`: CloudWatch alarm thresholds, periods and who receives the alarm e-mails.

Every alarm has defaults a small production service can live with; an environment overrides only what
it needs, per alarm:

```yaml
booking:alarms:
  emails: [oncall@example.com]       # optional; default: the booking:notifications addresses
  targetLatencyP99: {threshold: 800} # ms
  serviceCpu: {threshold: 70, periodSeconds: 60, evaluationPeriods: 5, datapointsToAlarm: 4}
  target5xxRate: {threshold: 2, minimumRequests: 50}
  conflictRatio: {threshold: 10, minimumRequests: 50}  # % of holds/bookings refused (seat taken)
  noBookings: {enabled: true, startHourUtc: 7, endHourUtc: 19, weekdaysOnly: true, evaluationPeriods: 6}
```

Each alarm object accepts `threshold` (in the unit listed in `ALARMS`), `periodSeconds`,
`evaluationPeriods` and `datapointsToAlarm` (M of N: alarm when M of the last N periods breach); the
rate alarms (5xx rates, functionErrorRate, conflictRatio) also take `minimumRequests`; `healthyHosts`
and `deadLetterQueue` have no threshold (the service's minimum task count and "any message" are the
thresholds).

`conflictRatio` and `noBookings` watch the API's own metrics (EMF, docs/business-metrics.md).
`conflictRatio.minimumRequests` counts seat claims (holds + bookings) per period. `noBookings` is off
unless `enabled: true`; it fires when no booking was made in `evaluationPeriods` periods of
`periodSeconds` inside the business hours `startHourUtc`..`endHourUtc` (UTC, CloudWatch's clock),
Monday to Friday unless `weekdaysOnly: false`; its threshold is fixed (fewer than one booking).

Which alarms exist depends on the runtime (`components.alarms.alarm_keys`): the `function*` keys only
with `booking:service.runtime: lambda`, the `api*` keys only with `booking:lambda.frontDoor: httpApi`;
the others' keys are accepted and unused, so one `booking:alarms` block survives a runtime switch.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from components.alarms import AlarmRule, AlarmSettings, BusinessHours
from stacks.settings._base import ConfigError, Section
from stacks.settings.notifications import email_address

# CloudWatch refuses an alarm whose evaluation window (period times evaluation periods) exceeds one day.
MAX_EVALUATION_WINDOW_SECONDS = 86_400


@dataclass(frozen=True)
class AlarmSpec:
    """How an alarm's config object is validated: key, unit and limits (the default is the component's)."""

    key: str
    unit: str
    # None: the threshold is not configurable (it is derived from other settings or fixed by meaning).
    threshold_range: tuple[float, float] | None
    # AWS/SQS publishes every 5 minutes; a shorter period would only see missing data.
    min_period_seconds: int = 60
    rate: bool = False

    @property
    def default(self) -> AlarmRule:
        """The component's default rule for this alarm."""
        rule: AlarmRule = getattr(DEFAULTS, FIELD_BY_KEY[self.key])
        return rule


ALARMS: tuple[AlarmSpec, ...] = (
    AlarmSpec("elb5xxRate", "% of requests", (0.1, 100), rate=True),
    AlarmSpec("target5xxRate", "% of requests", (0.1, 100), rate=True),
    AlarmSpec("targetLatencyP99", "ms", (10, 60_000)),
    AlarmSpec("unhealthyHosts", "targets", (0, 100)),
    AlarmSpec("healthyHosts", "targets", None),
    AlarmSpec("serviceCpu", "%", (1, 100)),
    AlarmSpec("serviceMemory", "%", (1, 100)),
    AlarmSpec("databaseCpu", "%", (1, 100)),
    AlarmSpec("databaseFreeStorage", "% of allocated storage", (1, 99)),
    AlarmSpec("databaseFreeableMemory", "MiB", (1, 1_048_576)),
    AlarmSpec("databaseConnections", "connections", (1, 100_000)),
    AlarmSpec("notifierErrors", "errors", (0, 10_000)),
    AlarmSpec("notifierDuration", "ms", (1, 900_000)),
    AlarmSpec("deadLetterQueue", "messages", None, min_period_seconds=300),
    AlarmSpec("consumedLcus", "LCUs", (0.1, 100_000)),
    AlarmSpec("conflictRatio", "% of seat claims", (0.1, 100), rate=True),
    AlarmSpec("noBookings", "bookings", None),
    # runtime lambda (components/lambda_alarms.py); ignored with fargate, as the ECS ones with lambda.
    AlarmSpec("functionErrorRate", "% of invocations", (0.1, 100), rate=True),
    AlarmSpec("functionThrottles", "throttled requests", (0, 100_000)),
    AlarmSpec("functionDurationP99", "% of booking:lambda.timeoutSeconds", (1, 100)),
    AlarmSpec("functionConcurrency", "% of booking:lambda.reservedConcurrency", (1, 100)),
    # front door httpApi; ignored behind the ALB.
    AlarmSpec("api5xxRate", "% of requests", (0.1, 100), rate=True),
    AlarmSpec("apiLatencyP99", "ms", (10, 60_000)),
)

SPECS: dict[str, AlarmSpec] = {spec.key: spec for spec in ALARMS}


# Config key (camelCase) → AlarmSettings field.
FIELD_BY_KEY: dict[str, str] = {
    "elb5xxRate": "elb_5xx_rate",
    "target5xxRate": "target_5xx_rate",
    "targetLatencyP99": "target_latency_p99",
    "unhealthyHosts": "unhealthy_hosts",
    "healthyHosts": "healthy_hosts",
    "serviceCpu": "service_cpu",
    "serviceMemory": "service_memory",
    "databaseCpu": "database_cpu",
    "databaseFreeStorage": "database_free_storage",
    "databaseFreeableMemory": "database_freeable_memory",
    "databaseConnections": "database_connections",
    "notifierErrors": "notifier_errors",
    "notifierDuration": "notifier_duration",
    "deadLetterQueue": "dead_letter_queue",
    "consumedLcus": "consumed_lcus",
    "conflictRatio": "conflict_ratio",
    "noBookings": "no_bookings",
    "functionErrorRate": "function_error_rate",
    "functionThrottles": "function_throttles",
    "functionDurationP99": "function_duration_p99",
    "functionConcurrency": "function_concurrency",
    "api5xxRate": "api_5xx_rate",
    "apiLatencyP99": "api_latency_p99",
}

DEFAULTS = AlarmSettings()

_RULE_KEYS = ("threshold", "periodSeconds", "evaluationPeriods", "datapointsToAlarm")


def parse_alarms(raw: object) -> AlarmSettings:
    """Validate `booking:alarms` (absent: every default); raise ConfigError on the first bad value."""
    section = Section("alarms", raw, ["emails", *SPECS])
    rules = {FIELD_BY_KEY[spec.key]: _parse_rule(section, spec) for spec in ALARMS}
    no_bookings_keys = [key for key in _RULE_KEYS if key != "threshold"] + list(_HOURS_KEYS)
    hours = _parse_business_hours(section.section("noBookings", no_bookings_keys))
    return AlarmSettings(**rules, business_hours=hours, emails=_parse_emails(section))


_HOURS_KEYS = ("enabled", "startHourUtc", "endHourUtc", "weekdaysOnly")


def _parse_business_hours(section: Section) -> BusinessHours:
    default = DEFAULTS.business_hours
    start = section.integer("startHourUtc", default.start_hour_utc, minimum=0, maximum=23)
    end = section.integer("endHourUtc", default.end_hour_utc, minimum=1, maximum=24)
    if end <= start:
        raise section.error("endHourUtc", end, f"must be after startHourUtc ({start})")
    return BusinessHours(
        enabled=section.boolean("enabled", default.enabled),
        start_hour_utc=start,
        end_hour_utc=end,
        weekdays_only=section.boolean("weekdaysOnly", default.weekdays_only),
    )


def _parse_rule(parent: Section, spec: AlarmSpec) -> AlarmRule:
    allowed = [key for key in _RULE_KEYS if key != "threshold" or spec.threshold_range is not None]
    if spec.rate:
        allowed.append("minimumRequests")
    if spec.key == "noBookings":
        allowed += _HOURS_KEYS
    section = parent.section(spec.key, allowed)
    default = spec.default
    threshold = default.threshold
    if spec.threshold_range is not None:
        low, high = spec.threshold_range
        threshold = _number(section, "threshold", default.threshold, low, high, spec.unit)
    period = section.integer("periodSeconds", default.period_seconds, minimum=spec.min_period_seconds)
    if period % 60:
        # AWS metrics are standard resolution: 10/30-second periods only exist for high-resolution ones.
        raise section.error("periodSeconds", section.raw["periodSeconds"], "must be a multiple of 60")
    evaluation_periods = section.integer(
        "evaluationPeriods",
        default.evaluation_periods,
        minimum=1,
        maximum=MAX_EVALUATION_WINDOW_SECONDS // period,
    )
    datapoints = section.integer(
        "datapointsToAlarm",
        min(default.datapoints_to_alarm, evaluation_periods),
        minimum=1,
        maximum=evaluation_periods,
    )
    minimum_requests = default.minimum_requests
    if spec.rate:
        minimum_requests = section.integer("minimumRequests", default.minimum_requests, minimum=1)
    return AlarmRule(
        threshold=threshold,
        period_seconds=period,
        evaluation_periods=evaluation_periods,
        datapoints_to_alarm=datapoints,
        minimum_requests=minimum_requests,
    )


def _number(section: Section, field: str, default: float, low: float, high: float, unit: str) -> float:
    value = section.raw.get(field)
    if value is None:
        return default
    allowed = f"must be a number from {_fmt(low)} to {_fmt(high)} ({unit})"
    number: float
    if isinstance(value, bool):
        raise section.error(field, value, allowed)
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value)  # `pulumi config set --path` stores strings
        except ValueError:
            raise section.error(field, value, allowed) from None
    else:
        raise section.error(field, value, allowed)
    if not math.isfinite(number) or not low <= number <= high:
        raise section.error(field, value, allowed)
    return number


def _fmt(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else str(number)


def _parse_emails(section: Section) -> tuple[str, ...]:
    if section.raw.get("emails") is None:
        return ()
    entries = section.items("emails")
    if not entries:
        # An empty list would silently mean "same as notifications"; make the choice explicit instead.
        raise section.error("emails", entries, "must list at least one e-mail address, or be left out")
    addresses: list[str] = []
    seen: dict[str, int] = {}
    for index, entry in enumerate(entries):
        key = f"{section.field_key('emails')}[{index}]"
        if not isinstance(entry, str):
            raise ConfigError(key, entry, "must be an e-mail address")
        address = email_address(key, entry)
        if address.lower() in seen:
            raise ConfigError(
                key, entry, f"duplicate of emails[{seen[address.lower()]}]; list each address once"
            )
        seen[address.lower()] = index
        addresses.append(address)
    return tuple(addresses)
