"""CloudWatch Logs retention: only AWS's fixed list of day counts is accepted by PutRetentionPolicy."""

from __future__ import annotations

from stacks.settings._base import Section

# https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutRetentionPolicy.html
LOG_RETENTION_DAYS: tuple[int, ...] = (
    1,
    3,
    5,
    7,
    14,
    30,
    60,
    90,
    120,
    150,
    180,
    365,
    400,
    545,
    731,
    1096,
    1827,
    2192,
    2557,
    2922,
    3288,
    3653,
)


def retention_days(section: Section, field: str, default: int) -> int:
    value = section.integer(field, default)
    if value not in LOG_RETENTION_DAYS:
        raise section.error(
            field,
            value,
            f"must be one of CloudWatch's retention periods {', '.join(map(str, LOG_RETENTION_DAYS))}",
        )
    return value
