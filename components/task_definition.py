"""The API's task definition and roles as plain data: container definition, IAM policies, capacity.

Pure functions with plain tests (tests/infra/test_component_logic.py); components/service.py declares
the resources from them, and the local task runner (stacks/run_task) reads the declared result.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from components.iam_policies import assume_role_policy, document, statement

CONTAINER_NAME = "api"
CONTAINER_USER = "10001"
HEALTH_CHECK_COMMAND = ["CMD", "python", "-m", "app", "healthcheck"]
TASK_EXECUTION_POLICY_ARN = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
GET_SECRET_VALUE = "secretsmanager:GetSecretValue"  # noqa: S105 - an IAM action name


def container_definitions(
    *,
    image: str,
    container_port: int,
    log_group: str,
    region: str,
    db_host: str,
    db_port: int,
    db_name: str,
    db_secret_arn: str,
    jwt_secret_arn: str,
    stop_timeout_seconds: int,
    drain_seconds: int = 0,
    graceful_shutdown_seconds: int = 20,
    log_level: str = "INFO",
    web_concurrency: int = 2,
    metrics_namespace: str | None = None,
) -> list[dict[str, Any]]:
    """The API container as ECS wants it. Secret values never appear here, only where ECS fetches them."""
    environment = {
        "PORT": str(container_port),
        "WEB_CONCURRENCY": str(web_concurrency),
        "AWS_REGION": region,
        "LOG_LEVEL": log_level,
        "DB_HOST": db_host,
        "DB_PORT": str(db_port),
        "DB_NAME": db_name,
        "DB_SSLMODE": "require",
        # An ARN is not a secret; the app re-reads the RDS secret with it when RDS rotates the password.
        "DB_SECRET_ARN": db_secret_arn,
        # After SIGTERM: serve on with /healthz at 503 until the ALB stops routing here, then finish
        # in-flight requests; stopTimeout covers both (components/shutdown.py, app/core/draining.py).
        "DRAIN_SECONDS": str(drain_seconds),
        "GRACEFUL_TIMEOUT_SECONDS": str(graceful_shutdown_seconds),
    }
    if metrics_namespace:
        # EMF records on stdout (app/core/emf.py); the awslogs driver ships them like the JSON log lines.
        environment["METRICS_NAMESPACE"] = metrics_namespace
    return [
        {
            "name": CONTAINER_NAME,
            "image": image,
            "essential": True,
            "user": CONTAINER_USER,
            "readonlyRootFilesystem": True,
            "portMappings": [
                {
                    "containerPort": container_port,
                    "hostPort": container_port,
                    "protocol": "tcp",
                    "name": "http",
                }
            ],
            "environment": [{"name": k, "value": v} for k, v in sorted(environment.items())],
            "secrets": [
                # `<secret arn>:<json key>:<version stage>:<version id>`; empty stage/id mean AWSCURRENT.
                {"name": "DB_USERNAME", "valueFrom": f"{db_secret_arn}:username::"},
                {"name": "DB_PASSWORD", "valueFrom": f"{db_secret_arn}:password::"},
                {"name": "JWT_SECRET", "valueFrom": jwt_secret_arn},
            ],
            "mountPoints": [{"sourceVolume": "tmp", "containerPath": "/tmp", "readOnly": False}],  # noqa: S108 - task-private volume,
            "healthCheck": {
                "command": HEALTH_CHECK_COMMAND,
                "interval": 10,
                "timeout": 5,
                "retries": 3,
                "startPeriod": 30,
            },
            "stopTimeout": stop_timeout_seconds,
            "linuxParameters": {"initProcessEnabled": True},
            "logConfiguration": {
                "logDriver": "awslogs",
                "options": {
                    "awslogs-group": log_group,
                    "awslogs-region": region,
                    "awslogs-stream-prefix": CONTAINER_NAME,
                    # A slow CloudWatch must not block the app's stdout.
                    "mode": "non-blocking",
                    "max-buffer-size": "25m",
                },
            },
        }
    ]


def execution_role_policy(secret_arns: Sequence[str]) -> dict[str, Any]:
    """What ECS itself needs beyond the managed policy: read exactly the secrets it injects."""
    return document([statement([GET_SECRET_VALUE], sorted(set(secret_arns)))])


def task_role_policy(db_secret_arn: str) -> dict[str, Any]:
    """What the app calls: re-read the RDS secret after a rotation. Nothing else."""
    return document([statement([GET_SECRET_VALUE], [db_secret_arn])])


def ecs_tasks_trust_policy(account_id: str, region: str) -> dict[str, Any]:
    return assume_role_policy(
        "ecs-tasks.amazonaws.com",
        {
            "StringEquals": {"aws:SourceAccount": account_id},
            "ArnLike": {"aws:SourceArn": f"arn:aws:ecs:{region}:{account_id}:*"},
        },
    )


# Beyond the on-demand base, SPOT_WEIGHT of every SPOT_WEIGHT + 1 tasks run on Spot.
SPOT_WEIGHT = 3


def capacity_provider_strategy(spot: bool, on_demand_base: int = 0) -> list[dict[str, Any]]:
    """Spot (dev) can be interrupted with two minutes' notice; prod runs on regular Fargate only.

    With an on-demand base the first `on_demand_base` tasks run on FARGATE, so a Spot shortage cannot
    take the service down. "CapacityProviderStrategyItem" (ECS API reference): only one provider may
    have a base, and a provider with weight 0 cannot place tasks, so FARGATE keeps weight 1. The same
    page: FARGATE_SPOT runs ARM64 Linux tasks on platform version 1.4.0 or later.
    """
    if not spot:
        return [{"capacityProvider": "FARGATE", "weight": 1, "base": 0}]
    if not on_demand_base:
        return [{"capacityProvider": "FARGATE_SPOT", "weight": 1, "base": 0}]
    return [
        {"capacityProvider": "FARGATE", "weight": 1, "base": on_demand_base},
        {"capacityProvider": "FARGATE_SPOT", "weight": SPOT_WEIGHT, "base": 0},
    ]
