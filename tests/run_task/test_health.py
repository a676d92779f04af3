"""The ECS container health check state machine (stacks/run_task/health.py)."""

from __future__ import annotations

import pytest

from stacks.run_task.health import HealthCheckSpec, HealthTracker, health_check_spec


def test_command_forms_and_defaults() -> None:
    spec = health_check_spec({"command": ["CMD", "python", "-m", "app", "healthcheck"]})
    assert spec == HealthCheckSpec(("python", "-m", "app", "healthcheck"), 30, 5, 3, 0)
    shell = health_check_spec(
        {"command": ["CMD-SHELL", "curl -f http://localhost/ || exit 1"], "interval": 5}
    )
    assert shell.command == ("/bin/sh", "-c", "curl -f http://localhost/ || exit 1")
    with pytest.raises(ValueError, match="CMD or CMD-SHELL"):
        health_check_spec({"command": ["python", "-m", "app"]})
    with pytest.raises(ValueError, match="interval = 4"):
        health_check_spec({"command": ["CMD", "true"], "interval": 4})
    with pytest.raises(ValueError, match="retries = 11"):
        health_check_spec({"command": ["CMD", "true"], "retries": 11})


def test_first_probe_after_one_interval() -> None:
    tracker = HealthTracker(HealthCheckSpec(("true",), interval=10))
    assert tracker.next_probe_at(None) == 10
    assert tracker.next_probe_at(10.4) == 20.4


def test_failures_in_the_start_period_do_not_count() -> None:
    tracker = HealthTracker(HealthCheckSpec(("x",), interval=5, retries=2, start_period=30))
    for t in (5, 10, 15, 20, 25):
        assert tracker.record(t, 1, 0.1) == "UNKNOWN"
    assert tracker.failing_streak == 0
    assert tracker.record(30, 1, 0.1) == "UNKNOWN"
    assert tracker.record(35, 1, 0.1) == "UNHEALTHY"


def test_success_in_the_start_period_ends_it() -> None:
    tracker = HealthTracker(HealthCheckSpec(("x",), interval=5, retries=2, start_period=60))
    assert tracker.record(5, 0, 0.2) == "HEALTHY"
    assert tracker.record(10, 1, 0.2) == "HEALTHY"  # one failure of two allowed
    assert tracker.record(15, 1, 0.2) == "UNHEALTHY"  # counts although still inside startPeriod
    assert tracker.record(20, 0, 0.2) == "HEALTHY"


def test_timeout_is_a_failure() -> None:
    tracker = HealthTracker(HealthCheckSpec(("x",), interval=5, timeout=2, retries=1))
    assert tracker.record(5, None, 2.0) == "UNHEALTHY"
    slow = HealthTracker(HealthCheckSpec(("x",), interval=5, timeout=2, retries=1))
    assert slow.record(5, 0, 2.5) == "UNHEALTHY"
