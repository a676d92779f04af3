"""`booking:loadBalancer`: connection draining, idle timeout, deletion protection and access logs."""

from __future__ import annotations

from dataclasses import dataclass

from stacks.settings._base import Section


@dataclass(frozen=True)
class LoadBalancerSettings:
    deregistration_delay_seconds: int
    idle_timeout_seconds: int
    deletion_protection: bool
    access_logs: bool
    access_log_retention_days: int
    health_check_interval_seconds: int
    health_check_timeout_seconds: int
    unhealthy_threshold: int


def parse_load_balancer(raw: object) -> LoadBalancerSettings:
    s = Section(
        "loadBalancer",
        raw,
        [
            "deregistrationDelaySeconds",
            "idleTimeoutSeconds",
            "deletionProtection",
            "accessLogs",
            "accessLogRetentionDays",
            "healthCheckIntervalSeconds",
            "healthCheckTimeoutSeconds",
            "unhealthyThreshold",
        ],
    )
    # Ranges: CreateTargetGroup (Elastic Load Balancing API reference). They also set how long a
    # stopping task drains (components/shutdown.py), so shorter means faster deployments.
    interval = s.integer("healthCheckIntervalSeconds", 10, minimum=5, maximum=300)
    timeout = s.integer("healthCheckTimeoutSeconds", 5, minimum=2, maximum=120)
    if timeout >= interval:
        # ELB refuses it: "Health check interval must be greater than the timeout" (ValidationError).
        raise s.error(
            "healthCheckTimeoutSeconds", timeout, f"must be less than healthCheckIntervalSeconds ({interval})"
        )
    return LoadBalancerSettings(
        # Short drain so a rolling deployment finishes quickly; gunicorn's graceful stop covers the rest.
        deregistration_delay_seconds=s.integer("deregistrationDelaySeconds", 15, minimum=0, maximum=30),
        idle_timeout_seconds=s.integer("idleTimeoutSeconds", 60, minimum=1, maximum=4000),
        deletion_protection=s.boolean("deletionProtection", False),
        access_logs=s.boolean("accessLogs", False),
        access_log_retention_days=s.integer("accessLogRetentionDays", 90, minimum=1, maximum=3650),
        health_check_interval_seconds=interval,
        health_check_timeout_seconds=timeout,
        unhealthy_threshold=s.integer("unhealthyThreshold", 2, minimum=2, maximum=10),
    )
