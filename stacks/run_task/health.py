"""The container health check as ECS runs it: pure state, fed with probe results by the runner.

ECS API reference, HealthCheck (botocore `ecs` service-2.json), and the developer guide page
"Determine task health using container health checks":
- `command` starts with `CMD` (run the arguments directly) or `CMD-SHELL` (run with the container's
  default shell); exit code 0 is success, anything else failure.
- `interval` 5-300 s (default 30), `timeout` 2-60 s (default 5; a probe that takes longer is a failure),
  `retries` 1-10 (default 3), `startPeriod` 0-300 s (default off): "the optional grace period to provide
  containers time to bootstrap before failed health checks count towards the maximum number of retries.
  If a health check succeeds within the startPeriod, then the container is considered healthy and any
  subsequent failures count toward the maximum number of retries."
- container `healthStatus`: UNKNOWN ("being evaluated"), HEALTHY ("passed"), UNHEALTHY ("failed").
ECS hands these to Docker's HEALTHCHECK, whose first probe runs one interval after the container starts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

HealthStatus = Literal["UNKNOWN", "HEALTHY", "UNHEALTHY"]

DEFAULT_INTERVAL = 30
DEFAULT_TIMEOUT = 5
DEFAULT_RETRIES = 3
DEFAULT_START_PERIOD = 0
_RANGES = {"interval": (5, 300), "timeout": (2, 60), "retries": (1, 10), "startPeriod": (0, 300)}


@dataclass(frozen=True)
class HealthCheckSpec:
    command: tuple[str, ...]
    """The argv to execute in the container (CMD-SHELL already expanded to `/bin/sh -c ...`)."""
    interval: int = DEFAULT_INTERVAL
    timeout: int = DEFAULT_TIMEOUT
    retries: int = DEFAULT_RETRIES
    start_period: int = DEFAULT_START_PERIOD


def health_check_spec(declared: Mapping[str, Any]) -> HealthCheckSpec:
    command = list(declared.get("command") or [])
    if not command or command[0] not in ("CMD", "CMD-SHELL") or len(command) < 2:
        raise ValueError(f"healthCheck.command must start with CMD or CMD-SHELL and a command: {command}")
    if command[0] == "CMD-SHELL":
        # Docker's CMD-SHELL runs the string with `/bin/sh -c` on Linux.
        argv: tuple[str, ...] = ("/bin/sh", "-c", " ".join(command[1:]))
    else:
        argv = tuple(command[1:])
    values = {
        "interval": int(declared.get("interval") or DEFAULT_INTERVAL),
        "timeout": int(declared.get("timeout") or DEFAULT_TIMEOUT),
        "retries": int(declared.get("retries") or DEFAULT_RETRIES),
        "startPeriod": int(declared.get("startPeriod") or DEFAULT_START_PERIOD),
    }
    for key, (low, high) in _RANGES.items():
        if not low <= values[key] <= high:
            raise ValueError(f"healthCheck.{key} = {values[key]} is outside ECS's {low}-{high}")
    return HealthCheckSpec(
        argv, values["interval"], values["timeout"], values["retries"], values["startPeriod"]
    )


@dataclass
class HealthTracker:
    """Feed it each probe's outcome with the time since the container started; read `status`."""

    spec: HealthCheckSpec
    status: HealthStatus = "UNKNOWN"
    failing_streak: int = 0
    probes: int = 0
    ever_healthy: bool = False

    def next_probe_at(self, last_probe_started: float | None) -> float:
        """Seconds after container start when the next probe is due (first one after one interval)."""
        if last_probe_started is None:
            return float(self.spec.interval)
        return last_probe_started + self.spec.interval

    def record(self, elapsed: float, exit_code: int | None, duration: float) -> HealthStatus:
        """One probe that started `elapsed` s after the container; exit_code None means it timed out."""
        self.probes += 1
        ok = exit_code == 0 and duration <= self.spec.timeout
        if ok:
            self.status = "HEALTHY"
            self.failing_streak = 0
            self.ever_healthy = True
            return self.status
        in_start_period = elapsed < self.spec.start_period and not self.ever_healthy
        if in_start_period:
            # Failures while the container bootstraps do not count towards `retries`.
            return self.status
        self.failing_streak += 1
        if self.failing_streak >= self.spec.retries:
            self.status = "UNHEALTHY"
        return self.status
