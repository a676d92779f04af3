"""The local Secrets Manager and the environment the runner hands the container (no podman needed)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from stacks.run_task.declared import Database, DbTarget, DeclaredTask
from stacks.run_task.plan import ImageInfo, PlanError, parse_value_from, plan_task
from stacks.run_task.secrets import SecretsStandIn
from stacks.run_task.session import resolve_environment, seed_secrets

RDS_ARN = (
    "arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds!db-0b1c2d3e-aaaa-bbbb-cccc-0123456789ab-Xy12Zq"
)
JWT_ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:booking-qa/jwt-signing-key-abc-QwErTy"


@pytest.fixture
def stand_in() -> Iterator[SecretsStandIn]:
    server = SecretsStandIn("eu-west-1")
    try:
        yield server
    finally:
        server.stop()


def _task() -> DeclaredTask:
    container = {
        "name": "api",
        "image": "x",
        "environment": [
            {"name": "DB_HOST", "value": "qa.rds.amazonaws.com"},
            {"name": "DB_PORT", "value": "5432"},
            {"name": "DB_NAME", "value": "booking"},
            {"name": "DB_SSLMODE", "value": "require"},
            {"name": "AWS_REGION", "value": "eu-west-1"},
        ],
        "secrets": [
            {"name": "DB_USERNAME", "valueFrom": f"{RDS_ARN}:username::"},
            {"name": "DB_PASSWORD", "valueFrom": f"{RDS_ARN}:password::"},
            {"name": "JWT_SECRET", "valueFrom": JWT_ARN},
        ],
    }
    definition = {
        "networkMode": "awsvpc",
        "requiresCompatibilities": ["FARGATE"],
        "containerDefinitions": json.dumps([container]),
    }
    database = Database("qa.rds.amazonaws.com", 5432, "booking", (RDS_ARN,))
    return DeclaredTask("qa", definition, (database,), "eu-west-1", {JWT_ARN: "k" * 64})


def test_secrets_live_under_their_declared_arns(stand_in: SecretsStandIn) -> None:
    stand_in.put(RDS_ARN, json.dumps({"username": "booking", "password": "s3cret"}))
    assert stand_in.resolve(parse_value_from(f"{RDS_ARN}:password::")) == "s3cret"
    assert stand_in.resolve(parse_value_from(f"{RDS_ARN}::AWSCURRENT:")) == json.dumps(
        {"username": "booking", "password": "s3cret"}
    )
    with pytest.raises(Exception, match=r"ResourceNotFound|can't find"):
        stand_in.resolve(parse_value_from(RDS_ARN[:-6] + "Other1"))


def test_each_stand_in_starts_empty(stand_in: SecretsStandIn) -> None:
    stand_in.put(RDS_ARN, "{}")
    second = SecretsStandIn("eu-west-1")
    try:
        second.put(RDS_ARN, "{}")  # would be ResourceExistsException if moto state leaked
    finally:
        second.stop()


def test_container_environment_is_declared_plus_secrets_plus_ecs(stand_in: SecretsStandIn) -> None:
    task = _task()
    plan = plan_task(task.task_definition, ImageInfo(), image_ref="i")
    db = DbTarget("127.0.0.1", 6543, "booking_local", "local_user", "local_pw")
    seed_notes = seed_secrets(stand_in, task, db, {})
    environment, notes = resolve_environment(plan, task, stand_in, db)
    assert environment == {
        "DB_HOST": "127.0.0.1",
        "DB_PORT": "6543",
        "DB_NAME": "booking_local",
        "DB_SSLMODE": "require",
        "AWS_REGION": "eu-west-1",
        "DB_USERNAME": "local_user",
        "DB_PASSWORD": "local_pw",
        "JWT_SECRET": "k" * 64,
        "AWS_EXECUTION_ENV": "AWS_ECS_FARGATE",
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_ENDPOINT_URL_SECRETS_MANAGER": stand_in.endpoint,
        "AWS_ACCESS_KEY_ID": "local-task-runner",
        "AWS_SECRET_ACCESS_KEY": "local-task-runner",
    }
    # Every deviation from the declared task is announced; no secret value is.
    assert any("RDS-managed secret" in n for n in seed_notes)
    assert sum("(--db)" in n for n in notes) == 3
    assert not any("local_pw" in n or "k" * 64 in n for n in [*seed_notes, *notes])


def test_a_secret_without_a_value_stops_with_its_name(stand_in: SecretsStandIn) -> None:
    task = _task()
    plan = plan_task(task.task_definition, ImageInfo(), image_ref="i")
    seed_secrets(
        stand_in, DeclaredTask("qa", task.task_definition, task.databases, "eu-west-1", {}), None, {}
    )
    with pytest.raises(PlanError, match=r"secret DB_USERNAME: .*--secret ARN=VALUE"):
        resolve_environment(plan, task, stand_in, None)
