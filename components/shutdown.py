"""How long a stopping task keeps serving, and how long ECS must wait for it: pure maths.

A task told to stop (a deployment, a scale-in, or a Fargate Spot interruption) drains first: it keeps
serving while `/healthz` answers 503 until the load balancer has marked it unhealthy, then closes its
listeners and finishes in-flight requests (app/core/draining.py). ECS sends SIGKILL `stopTimeout`
seconds after SIGTERM, so the stop timeout must cover both.
"""

from __future__ import annotations

# "Amazon ECS task definition parameters" (stopTimeout) and "How do I handle Spot termination notices
# in AWS Fargate Spot tasks?": at most 120 s on Fargate, and a Spot task gets a two-minute warning.
FARGATE_MAX_STOP_TIMEOUT_SECONDS = 120
# For the gunicorn master to reap its workers and exit after the graceful timeout has run out.
EXIT_MARGIN_SECONDS = 5


def drain_seconds(health_check_interval: int, unhealthy_threshold: int) -> int:
    """How long the ALB may still route to a target whose health check has just started failing.

    The target is marked unhealthy after `unhealthy_threshold` consecutive failed checks, made
    `health_check_interval` apart, and the first failing check may come up to one interval after the
    drain began ("Health checks for Application Load Balancer target groups": HealthCheckIntervalSeconds,
    UnhealthyThresholdCount).
    """
    return health_check_interval * unhealthy_threshold + health_check_interval


def minimum_stop_timeout(drain: int, graceful_shutdown: int) -> int:
    """The shortest stopTimeout that lets a task drain, finish in-flight requests and exit by itself."""
    return drain + graceful_shutdown + EXIT_MARGIN_SECONDS
