"""The real stack program, run once per stack config per test session (each run is a subprocess)."""

from __future__ import annotations

import pytest

from stacks.offline import OfflineRun, run_stack


def _ok(run: OfflineRun) -> OfflineRun:
    assert run.error is None, run.error
    return run


@pytest.fixture(scope="session")
def dev() -> OfflineRun:
    return _ok(run_stack("dev"))


@pytest.fixture(scope="session")
def prod() -> OfflineRun:
    return _ok(run_stack("prod"))


@pytest.fixture(scope="session")
def dev_no_nat() -> OfflineRun:
    """dev with `natGateways: none` (tasks in public subnets with a public IP), HTTPS on, a pushed image
    tag and no Performance Insights."""
    return _ok(
        run_stack(
            "dev",
            {
                "booking:network.natGateways": "none",
                "booking:https.certificateArn": (
                    "arn:aws:acm:us-east-1:123456789012:certificate/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0"
                ),
                "booking:image.tag": "v1.2.3",
                "booking:database.performanceInsights": False,
            },
        )
    )
