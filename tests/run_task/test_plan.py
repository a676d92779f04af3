"""The pure half of the task runner: task definition -> podman run plan, secrets, ulimits."""

from __future__ import annotations

import json
from typing import Any

import pytest

from stacks.run_task.declared import Database, DbTarget, redirect_database
from stacks.run_task.plan import (
    ImageInfo,
    PlanError,
    SecretRef,
    image_info,
    parse_value_from,
    plan_task,
    secret_value,
)
from stacks.run_task.podman_args import effective_ulimits, podman_run_args, volume_writable
from stacks.run_task.secrets import split_secret_arn

ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!db-1234-AbCdEf"


def task_definition(**container: Any) -> dict[str, Any]:
    definition = {
        "name": "api",
        "image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/booking@sha256:abc",
        "essential": True,
        "user": "10001",
        "readonlyRootFilesystem": True,
        "environment": [
            {"name": "PORT", "value": "8000"},
            {"name": "DB_HOST", "value": "db.rds.amazonaws.com"},
        ],
        "secrets": [{"name": "DB_PASSWORD", "valueFrom": f"{ARN}:password::"}],
        "mountPoints": [{"sourceVolume": "tmp", "containerPath": "/tmp", "readOnly": False}],
        "portMappings": [{"containerPort": 8000, "hostPort": 8000, "protocol": "tcp"}],
        "healthCheck": {
            "command": ["CMD", "python", "-m", "app", "healthcheck"],
            "interval": 10,
            "timeout": 5,
            "retries": 3,
            "startPeriod": 30,
        },
        "stopTimeout": 20,
        "linuxParameters": {"initProcessEnabled": True},
        "logConfiguration": {"logDriver": "awslogs", "options": {"awslogs-group": "/ecs/x"}},
        **container,
    }
    return {
        "networkMode": "awsvpc",
        "requiresCompatibilities": ["FARGATE"],
        "cpu": "256",
        "memory": "512",
        "volumes": [{"name": "tmp"}],
        "containerDefinitions": json.dumps([definition]),
    }


def test_value_from_forms() -> None:
    assert parse_value_from(ARN) == SecretRef(ARN, None, None, None)
    assert parse_value_from(f"{ARN}:password::") == SecretRef(ARN, "password", None, None)
    assert parse_value_from(f"{ARN}::AWSPREVIOUS:") == SecretRef(ARN, None, "AWSPREVIOUS", None)
    assert parse_value_from(f"{ARN}:username:AWSCURRENT:v1") == SecretRef(ARN, "username", "AWSCURRENT", "v1")
    with pytest.raises(PlanError, match="json-key"):
        parse_value_from(f"{ARN}:password")
    with pytest.raises(PlanError, match="not a Secrets Manager ARN"):
        parse_value_from("plain-name")


def test_secret_value_whole_string_or_json_key() -> None:
    doc = json.dumps({"username": "booking", "password": "p@ss", "port": 5432})
    assert secret_value(SecretRef(ARN, None, None, None), doc) == doc
    assert secret_value(SecretRef(ARN, "password", None, None), doc) == "p@ss"
    assert secret_value(SecretRef(ARN, "port", None, None), doc) == "5432"
    with pytest.raises(PlanError, match="no JSON key 'host'"):
        secret_value(SecretRef(ARN, "host", None, None), doc)
    with pytest.raises(PlanError, match="not JSON"):
        secret_value(SecretRef(ARN, "password", None, None), "plain")


def test_split_secret_arn_keeps_the_aws_suffix_apart() -> None:
    assert split_secret_arn(ARN) == ("rds!db-1234", "AbCdEf")
    assert split_secret_arn("arn:aws:secretsmanager:us-east-1:1:secret:plain") == ("plain", "")


def test_plan_reads_the_container_definition() -> None:
    plan = plan_task(task_definition(), ImageInfo(), image_ref="localhost/api:1")
    assert plan.user == "10001" and plan.read_only_root and plan.init_process
    assert plan.stop_timeout == 20
    assert plan.environment == {"PORT": "8000", "DB_HOST": "db.rds.amazonaws.com"}
    assert plan.secrets == {"DB_PASSWORD": SecretRef(ARN, "password", None, None)}
    assert plan.ports == ((8000, "tcp"),)
    assert plan.health_check is not None and plan.health_check.command == (
        "python",
        "-m",
        "app",
        "healthcheck",
    )
    assert (plan.health_check.interval, plan.health_check.start_period) == (10, 30)
    assert plan.memory_mib == 512
    assert any("awslogs" in note for note in plan.notes)


def test_task_volume_is_empty_unless_the_image_declares_volume_there() -> None:
    empty = plan_task(task_definition(), ImageInfo(volumes=frozenset({"/data"})), image_ref="i")
    assert [v.copy_from_image for v in empty.volumes] == [False]
    copied = plan_task(task_definition(), ImageInfo(volumes=frozenset({"/tmp"})), image_ref="i")
    assert [v.copy_from_image for v in copied.volumes] == [True]


def test_defaults_and_limits_from_the_ecs_api() -> None:
    plan = plan_task(task_definition(stopTimeout=None), ImageInfo(), image_ref="i")
    assert plan.stop_timeout == 30  # Fargate default
    with pytest.raises(PlanError, match="0-120"):
        plan_task(task_definition(stopTimeout=121), ImageInfo(), image_ref="i")
    with pytest.raises(PlanError, match="does not declare"):
        plan_task(
            task_definition(mountPoints=[{"sourceVolume": "x", "containerPath": "/x"}]),
            ImageInfo(),
            image_ref="i",
        )
    with pytest.raises(PlanError, match="hostPort == containerPort"):
        mappings = [{"containerPort": 8000, "hostPort": 80}]
        plan_task(task_definition(portMappings=mappings), ImageInfo(), image_ref="i")
    efs = task_definition()
    efs["volumes"] = [{"name": "tmp", "efsVolumeConfiguration": {"fileSystemId": "fs-1"}}]
    with pytest.raises(PlanError, match="efsVolumeConfiguration"):
        plan_task(efs, ImageInfo(), image_ref="i")


def test_podman_args_reproduce_the_task_definition() -> None:
    plan = plan_task(
        task_definition(
            linuxParameters={
                "initProcessEnabled": True,
                "tmpfs": [{"containerPath": "/run", "size": 64, "mountOptions": ["noexec"]}],
            },
            workingDirectory="/srv",
            command=["python", "-m", "app", "serve"],
        ),
        ImageInfo(),
        image_ref="localhost/api:1",
    )
    args = podman_run_args(
        plan,
        name="t",
        environment={"A": "1"},
        volume_dirs={"tmp": "/var/tmp/x/tmp"},
        ulimits=[("nofile", 65535, 65535)],
    )
    joined = " ".join(args)
    for expected in (
        "--read-only --read-only-tmpfs=false",
        "--user 10001",
        "--init",
        "--stop-timeout 20",
        "--no-healthcheck",
        "--workdir /srv",
        "--tmpfs /run:size=64m,noexec",
        "--ulimit nofile=65535:65535",
        "--mount type=bind,source=/var/tmp/x/tmp,destination=/tmp",
        "--memory 512m",
        "--cpus 0.25",
        "--env A=1",
    ):
        assert expected in joined
    assert args[-5:] == ["localhost/api:1", "python", "-m", "app", "serve"]
    # Only what the caller passed goes into the environment: nothing hand-written.
    assert [args[i + 1] for i, a in enumerate(args) if a == "--env"] == ["A=1"]


def test_no_read_only_flags_when_the_root_filesystem_is_writable() -> None:
    plan = plan_task(task_definition(readonlyRootFilesystem=False, user=None), ImageInfo(), image_ref="i")
    args = podman_run_args(plan, name="t", environment={}, volume_dirs={"tmp": "/x"}, ulimits=[])
    assert "--read-only" not in args and "--user" not in args


@pytest.mark.parametrize(
    ("owner", "mode", "user", "writable"),
    [
        ((0, 0), 0o755, "10001", False),  # Fargate's default bind mount vs the app user: the defect
        ((0, 0), 0o755, "0", True),
        ((10001, 10001), 0o700, "10001", True),
        ((10001, 10001), 0o700, "10002", False),
        ((0, 10001), 0o770, "10002:10001", True),
        ((0, 0), 0o1777, "10001", True),
        ((0, 0), 0o755, "booking", None),
    ],
)
def test_volume_writable(owner: tuple[int, int], mode: int, user: str, writable: bool | None) -> None:
    assert volume_writable(owner, mode, user) is writable


def test_ulimits_fargate_nofile_default_and_host_ceiling() -> None:
    plan = plan_task(
        task_definition(ulimits=[{"name": "nproc", "softLimit": 100, "hardLimit": 200}]),
        ImageInfo(),
        image_ref="i",
    )
    flags, notes = effective_ulimits(plan, {"nofile": 1_048_576, "nproc": 1000})
    assert flags == [("nofile", 65535, 65535), ("nproc", 100, 200)] and notes == []
    flags, notes = effective_ulimits(plan, {"nofile": 20000, "nproc": 1000})
    assert flags == [("nproc", 100, 200)]
    assert len(notes) == 1 and "nofile=65535:65535" in notes[0]


def test_image_info_from_podman_inspect() -> None:
    info = image_info({"Config": {"User": "10001:10001", "Volumes": {"/tmp": {}}, "StopSignal": "SIGTERM"}})
    assert info == ImageInfo(user="10001:10001", volumes=frozenset({"/tmp"}), stop_signal="SIGTERM")


def test_database_redirect_changes_only_the_rds_endpoint() -> None:
    env = {
        "DB_HOST": "x.rds.amazonaws.com",
        "DB_PORT": "5432",
        "DB_NAME": "booking",
        "DB_SSLMODE": "require",
        "PORT": "8000",
    }
    database = Database("x.rds.amazonaws.com", 5432, "booking", (ARN,))
    target = DbTarget.from_url("postgresql://u:p%40ss@127.0.0.1:6543/booking_local")
    assert target.password == "p@ss"
    changed, notes = redirect_database(env, database, target)
    assert changed == {
        "DB_HOST": "127.0.0.1",
        "DB_PORT": "6543",
        "DB_NAME": "booking_local",
        "DB_SSLMODE": "require",
        "PORT": "8000",
    }
    assert len(notes) == 3
    with pytest.raises(ValueError, match="USER:PASS@HOST"):
        DbTarget.from_url("postgresql://127.0.0.1/booking")
