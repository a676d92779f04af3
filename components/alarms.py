"""Alarm rules: when each CloudWatch alarm fires, with defaults a small production service can live with.

`Monitoring` takes an `AlarmSettings`; `stacks/settings/alarms.py` validates `booking:alarms` into one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class AlarmRule:
    """When one alarm fires: `threshold` breached in `datapoints_to_alarm` of `evaluation_periods`."""

    threshold: float
    period_seconds: int
    evaluation_periods: int
    datapoints_to_alarm: int
    # Rate alarms only: below this many requests in a period the rate is reported as 0, so two failed
    # requests out of three at 4 a.m. do not page anyone.
    minimum_requests: int = 0


@dataclass(frozen=True)
class AlarmSettings:
    elb_5xx_rate: AlarmRule = AlarmRule(5, 60, 5, 3, minimum_requests=20)
    target_5xx_rate: AlarmRule = AlarmRule(5, 60, 5, 3, minimum_requests=20)
    target_latency_p99: AlarmRule = AlarmRule(1000, 60, 5, 3)
    unhealthy_hosts: AlarmRule = AlarmRule(0, 60, 3, 3)
    healthy_hosts: AlarmRule = AlarmRule(0, 60, 3, 3)
    service_cpu: AlarmRule = AlarmRule(80, 60, 5, 5)
    service_memory: AlarmRule = AlarmRule(80, 60, 5, 5)
    database_cpu: AlarmRule = AlarmRule(80, 300, 3, 3)
    database_free_storage: AlarmRule = AlarmRule(10, 300, 1, 1)
    database_freeable_memory: AlarmRule = AlarmRule(64, 300, 3, 3)
    database_connections: AlarmRule = AlarmRule(80, 300, 2, 2)
    notifier_errors: AlarmRule = AlarmRule(0, 300, 1, 1)
    notifier_duration: AlarmRule = AlarmRule(2000, 300, 1, 1)
    dead_letter_queue: AlarmRule = AlarmRule(0, 300, 1, 1)
    consumed_lcus: AlarmRule = AlarmRule(10, 300, 3, 3)
    # Empty: alarms go to the same people as deployment notifications (see `recipients`).
    emails: tuple[str, ...] = ()

    def recipients(self, notification_addresses: Sequence[str]) -> tuple[str, ...]:
        """Who is e-mailed about alarms: `emails` when configured, else the deploy-notification list."""
        chosen = self.emails or tuple(notification_addresses)
        # One subscription per address: SNS would treat a second as the same subscription anyway.
        return tuple(dict.fromkeys(chosen))
