"""bench/slices.py: how the alternating slices of a booking row add up to the row."""

from __future__ import annotations

import math

from bench.slices import Slice, merge, pooled_percentile_ms


def test_rate_is_requests_over_time_spent_and_cpu_is_per_request() -> None:
    row = merge(
        "POST /bookings",
        "api",
        [
            Slice(1000, 1, 2.0, [1000.0], app_cpu=1.0, pg_cpu=0.5, sessions=0),
            Slice(3000, 0, 2.0, [1000.0], app_cpu=2.0, pg_cpu=1.5, sessions=2),
        ],
    )
    assert row.rps == 1000.0  # 4,000 requests in 4 s, not the mean of 500 and 1,500 req/s
    assert row.requests == 4000 and row.errors == 1 and row.new_connections == 2
    assert math.isclose(row.app_cpu_ms, 0.75) and math.isclose(row.pg_cpu_ms, 0.5)


def test_percentiles_weigh_each_slice_by_its_requests() -> None:
    """A slice's quantile points stand for its requests: a fast slice with 9x the requests dominates."""
    fast = Slice(9000, 0, 1.0, [float(v) for v in range(1000, 2000, 10)])  # 1-2 ms, 100 points
    slow = Slice(1000, 0, 1.0, [float(v) for v in range(50_000, 60_000, 100)])  # 50-60 ms, 100 points
    assert pooled_percentile_ms([fast, slow], 50) < 2.0
    assert 50.0 <= pooled_percentile_ms([fast, slow], 95) < 60.0
    assert pooled_percentile_ms([fast, slow], 89) < 2.0
    assert math.isnan(pooled_percentile_ms([Slice(0, 0, 1.0)], 99))


def test_pgbench_transactions_pool_exactly() -> None:
    """pgbench slices carry every transaction's latency: pooling them is the exact percentile."""
    a = Slice(4, 0, 1.0, [1000.0, 2000.0, 3000.0, 4000.0])
    b = Slice(4, 0, 1.0, [5000.0, 6000.0, 7000.0, 8000.0])
    assert pooled_percentile_ms([a, b], 50) == 4.0
    assert pooled_percentile_ms([a, b], 99) == 8.0
