"""CloudWatch Logs retention: only AWS's fixed list of day counts is accepted by PutRetentionPolicy."""

from __future__ import annotations

from components.types import LOG_RETENTION_DAYS
from stacks.settings._base import Section


def retention_days(section: Section, field: str, default: int) -> int:
    value = section.integer(field, default)
    if value not in LOG_RETENTION_DAYS:
        raise section.error(
            field,
            value,
            f"must be one of CloudWatch's retention periods {', '.join(map(str, LOG_RETENTION_DAYS))}",
        )
    return value
