"""`booking:database`: the RDS PostgreSQL instance's size, engine, durability and protection."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from stacks.settings._base import Section

INSTANCE_CLASS = re.compile(r"^db\.[a-z][a-z0-9-]*\.[a-z0-9]+$")
# Major versions RDS for PostgreSQL supports, optionally with a minor ("16" or "16.6").
ENGINE_VERSION = re.compile(r"^(1[3-7])(\.[0-9]{1,2})?$")


@dataclass(frozen=True)
class DatabaseSettings:
    instance_class: str
    engine_version: str
    allocated_storage_gb: int
    max_allocated_storage_gb: int
    multi_az: bool
    backup_retention_days: int
    deletion_protection: bool
    final_snapshot: bool
    performance_insights: bool
    monitoring_interval_seconds: int | None = None
    """Enhanced Monitoring granularity (0 = off); None until stack.py picks the default (prod: 60)."""


def parse_database(raw: object) -> DatabaseSettings:
    s = Section(
        "database",
        raw,
        [
            "instanceClass",
            "engineVersion",
            "allocatedStorageGb",
            "maxAllocatedStorageGb",
            "multiAz",
            "backupRetentionDays",
            "deletionProtection",
            "finalSnapshot",
            "performanceInsights",
            "monitoringIntervalSeconds",
        ],
    )
    instance_class = s.string("instanceClass", "db.t4g.micro")
    if not INSTANCE_CLASS.match(instance_class):
        raise s.error("instanceClass", instance_class, "must be an RDS instance class like db.t4g.micro")
    raw_version = s.raw.get("engineVersion")
    # YAML reads `16` as a number; `pulumi config set` gives "16".
    engine_version = "16" if raw_version is None else str(raw_version)
    if not ENGINE_VERSION.match(engine_version):
        raise s.error(
            "engineVersion",
            engine_version,
            "must be a PostgreSQL major version 13 to 17, optionally with a minor (e.g. 16 or 16.6)",
        )
    # gp3 volumes for RDS PostgreSQL: 20 GiB to 64 TiB.
    allocated = s.integer("allocatedStorageGb", 20, minimum=20, maximum=65536)
    # RDS storage autoscaling requires the ceiling to be at least 10 % above the allocated storage.
    minimum_max = math.ceil(allocated * 1.1)
    max_allocated = s.integer("maxAllocatedStorageGb", max(100, minimum_max), minimum=20, maximum=65536)
    if max_allocated < minimum_max:
        raise s.error(
            "maxAllocatedStorageGb",
            max_allocated,
            f"must be at least 10 % above allocatedStorageGb ({allocated}), i.e. {minimum_max} or more",
        )
    return DatabaseSettings(
        instance_class=instance_class,
        engine_version=engine_version,
        allocated_storage_gb=allocated,
        max_allocated_storage_gb=max_allocated,
        multi_az=s.boolean("multiAz", False),
        # 0 would disable automated backups (and point-in-time recovery); 35 is RDS's maximum.
        backup_retention_days=s.integer("backupRetentionDays", 7, minimum=1, maximum=35),
        deletion_protection=s.boolean("deletionProtection", False),
        final_snapshot=s.boolean("finalSnapshot", True),
        performance_insights=s.boolean("performanceInsights", True),
        monitoring_interval_seconds=_monitoring_interval(s),
    )


# Enhanced Monitoring granularities RDS accepts (CreateDBInstance MonitoringInterval); 0 turns it off.
MONITORING_INTERVALS = (0, 1, 5, 10, 15, 30, 60)


def _monitoring_interval(s: Section) -> int | None:
    if s.raw.get("monitoringIntervalSeconds") is None:
        return None
    value = s.integer("monitoringIntervalSeconds")
    if value not in MONITORING_INTERVALS:
        raise s.error(
            "monitoringIntervalSeconds", value, f"must be one of {', '.join(map(str, MONITORING_INTERVALS))}"
        )
    return value
