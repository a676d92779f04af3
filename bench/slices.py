"""Rows measured in alternating slices, and how the slices of one row add up.

The booking rows of bench/run.py (API, minimal ASGI app, pgbench) run as several short slices taken in
turn (API, minimal, pgbench, API, ...), so all three see the same machine: on a shared host, rows
measured a minute apart saw the same configuration's CPU cost per request differ by 65%. A row is
the sum of its slices: requests and errors add up, the rate is requests over the time spent, CPU per
request is total CPU over total requests, and p50/p99 come from the slices' latencies pooled, each
slice weighted by its request count (wrk reports quantiles, pgbench every transaction).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Result:
    endpoint: str
    target: str
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int
    new_connections: int = -1
    app_cpu_ms: float = float("nan")
    pg_cpu_ms: float = float("nan")


@dataclass
class Slice:
    requests: int
    errors: int
    seconds: float
    # Latency sample points in microseconds: evenly spaced quantiles, or one per transaction.
    latencies_us: list[float] = field(default_factory=list)
    app_cpu: float = float("nan")
    pg_cpu: float = 0.0
    sessions: int = 0


def pooled_percentile_ms(slices: list[Slice], pct: float) -> float:
    """The pct-th percentile of the slices' latencies taken together, each slice's points carrying
    its share of the requests."""
    points = sorted(
        (value, part.requests / len(part.latencies_us))
        for part in slices
        if part.latencies_us
        for value in part.latencies_us
    )
    if not points:
        return float("nan")
    wanted = pct / 100 * sum(weight for _, weight in points)
    seen = 0.0
    for value, weight in points:
        seen += weight
        if seen >= wanted:
            return value / 1000
    return points[-1][0] / 1000


def merge(endpoint: str, target: str, slices: list[Slice]) -> Result:
    requests = sum(s.requests for s in slices)
    seconds = sum(s.seconds for s in slices)
    per_request = 1000 / max(requests, 1)
    return Result(
        endpoint,
        target,
        requests / seconds if seconds else float("nan"),
        pooled_percentile_ms(slices, 50),
        pooled_percentile_ms(slices, 99),
        requests,
        sum(s.errors for s in slices),
        sum(s.sessions for s in slices),
        sum(s.app_cpu for s in slices) * per_request,
        sum(s.pg_cpu for s in slices) * per_request,
    )
