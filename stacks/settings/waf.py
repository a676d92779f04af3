"""`booking:waf`: the WAFv2 web ACL in front of the ALB (components/waf.py). On by default in prod."""

from __future__ import annotations

from dataclasses import dataclass

from stacks.settings._base import Section
from stacks.settings.retention import retention_days

# As components/waf.py (a test keeps them equal; settings must not import Pulumi to validate config).
EVALUATION_WINDOWS = (60, 120, 300, 600)
MIN_RATE_LIMIT = 10


@dataclass(frozen=True)
class WafSettings:
    enabled: bool
    auth_rate_limit: int
    """Requests per client IP and window to POST /auth/token and /auth/register before WAF blocks."""
    rate_window_seconds: int
    blocked_requests_alarm: int
    """Blocked requests in 5 minutes that raise the alarm."""
    log_retention_days: int


def parse_waf(raw: object, *, is_prod: bool) -> WafSettings:
    s = Section(
        "waf",
        raw,
        ["enabled", "authRateLimit", "rateWindowSeconds", "blockedRequestsAlarm", "logRetentionDays"],
    )
    window = s.integer("rateWindowSeconds", 300)
    if window not in EVALUATION_WINDOWS:
        raise s.error(
            "rateWindowSeconds", window, f"must be one of {', '.join(map(str, EVALUATION_WINDOWS))}"
        )
    retention = retention_days(s, "logRetentionDays", 90 if is_prod else 14)
    return WafSettings(
        enabled=s.boolean("enabled", is_prod),
        # WAF's minimum is 10 per window; 2e9 is its maximum.
        auth_rate_limit=s.integer("authRateLimit", 100, minimum=MIN_RATE_LIMIT, maximum=2_000_000_000),
        rate_window_seconds=window,
        blocked_requests_alarm=s.integer("blockedRequestsAlarm", 100, minimum=1),
        log_retention_days=retention,
    )
