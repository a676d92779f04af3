"""How many connections an RDS PostgreSQL instance accepts, and whether a runtime's worst case fits.

RDS for PostgreSQL's default `max_connections` is `LEAST({DBInstanceClassMemory/9531392}, 5000)`
(AWS Prescriptive Guidance, "Tuning PostgreSQL parameters": max_connections, "Default value"). The RDS
User Guide ("Quotas and constraints for Amazon RDS", Maximum number of database connections) adds that
`DBInstanceClassMemory` is in bytes and *smaller* than the instance class's memory in GiB "because of
memory reserved for the operating system and RDS management processes", and that "you might see fewer
than the maximum number of DB connections". The formula on the nominal memory is therefore an upper
bound; `usable_connections` keeps a quarter of it back for that gap, plus the slots nothing else may use.
"""

from __future__ import annotations

import math

# DB instance memory in GiB (RDS User Guide, "Hardware specifications for DB instance classes"):
# burstable t3/t4g double from micro (1 GiB); general purpose m* have 4 GiB per vCPU, memory optimised
# r* 8 GiB per vCPU, and `large` has 2 vCPUs.
_BURSTABLE = {"micro": 1, "small": 2, "medium": 4, "large": 8, "xlarge": 16, "2xlarge": 32}
_SIZES_VCPU = {
    "large": 2,
    "xlarge": 4,
    "2xlarge": 8,
    "4xlarge": 16,
    "8xlarge": 32,
    "12xlarge": 48,
    "16xlarge": 64,
}
RDS_MEMORY_GIB: dict[str, float] = {
    **{f"db.{family}.{size}": gib for family in ("t3", "t4g") for size, gib in _BURSTABLE.items()},
    **{
        f"db.{family}.{size}": vcpu * 4
        for family in ("m5", "m6g", "m6i", "m7g", "m8g")
        for size, vcpu in _SIZES_VCPU.items()
    },
    **{
        f"db.{family}.{size}": vcpu * 8
        for family in ("r5", "r6g", "r6i", "r7g", "r8g")
        for size, vcpu in _SIZES_VCPU.items()
    },
}

BYTES_PER_CONNECTION = 9531392
MAX_CONNECTIONS_CAP = 5000
# PostgreSQL keeps `superuser_reserved_connections` (default 3) slots for superusers; the app's role
# is not one ("Connections and Authentication", PostgreSQL documentation).
SUPERUSER_RESERVED = 3
# Outside the function's own bound: RDS's rotation of the managed master secret (one session), an
# operator's psql session and a one-off task (stacks/run_task).
OPERATIONS = 3
# Kept back for DBInstanceClassMemory being below the nominal memory (see the module docstring).
MEMORY_GAP_SHARE = 0.25


def max_connections(instance_class: str) -> int | None:
    """RDS's default max_connections for the class on its nominal memory; None for an unknown class."""
    gib = RDS_MEMORY_GIB.get(instance_class)
    if gib is None:
        return None
    return min(int(gib * 2**30) // BYTES_PER_CONNECTION, MAX_CONNECTIONS_CAP)


def headroom(limit: int) -> int:
    """Connections left to everyone but the API: reserved slots, operations and the memory gap."""
    return SUPERUSER_RESERVED + OPERATIONS + math.ceil(limit * MEMORY_GAP_SHARE)


def usable_connections(limit: int) -> int:
    return limit - headroom(limit)


def known_classes_text() -> str:
    families = sorted({c.rsplit(".", 1)[0] for c in RDS_MEMORY_GIB})
    return ", ".join(f"{f}.*" for f in families)
