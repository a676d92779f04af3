"""Plain functions behind the components: CIDR maths, container definition, IAM documents, log bucket."""

from __future__ import annotations

import ipaddress

import pytest

from components.load_balancer import access_log_bucket_policy
from components.network import flow_log_role_policy, plan_subnets
from components.shutdown import drain_seconds, minimum_stop_timeout
from components.task_definition import (
    capacity_provider_strategy,
    container_definitions,
    ecs_tasks_trust_policy,
    execution_role_policy,
    task_role_policy,
)

DB_SECRET = (
    "arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!db-0c2a8f1e-1111-2222-3333-444455556666-AbC123"
)
JWT_SECRET = "arn:aws:secretsmanager:us-east-1:123456789012:secret:booking-dev/jwt-signing-key-XyZ789"
IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/booking-dev-api@sha256:" + "a" * 64


def test_subnet_plan_two_azs() -> None:
    plan = plan_subnets("10.20.0.0/16", 2)
    assert plan.public == ("10.20.0.0/20", "10.20.16.0/20")
    assert plan.private == ("10.20.64.0/20", "10.20.80.0/20")
    assert plan.isolated == ("10.20.128.0/20", "10.20.144.0/20")


@pytest.mark.parametrize("cidr", ["10.0.0.0/16", "172.16.0.0/20", "192.168.4.0/22"])
@pytest.mark.parametrize("azs", [2, 3])
def test_subnet_plan_never_overlaps_and_stays_inside_the_vpc(cidr: str, azs: int) -> None:
    plan = plan_subnets(cidr, azs)
    subnets = [ipaddress.IPv4Network(c) for c in plan.public + plan.private + plan.isolated]
    assert len(subnets) == 3 * azs
    vpc = ipaddress.IPv4Network(cidr)
    assert all(s.subnet_of(vpc) for s in subnets)
    assert all(not a.overlaps(b) for i, a in enumerate(subnets) for b in subnets[i + 1 :])
    assert all(s.prefixlen == vpc.prefixlen + 4 for s in subnets)


def test_subnet_plan_refuses_too_many_azs() -> None:
    with pytest.raises(ValueError, match="az_count"):
        plan_subnets("10.0.0.0/16", 5)


def definition() -> dict[str, object]:
    (container,) = container_definitions(
        image=IMAGE,
        container_port=8000,
        log_group="/ecs/booking-dev/api",
        region="us-east-1",
        db_host="booking-dev-db.abc.us-east-1.rds.amazonaws.com",
        db_port=5432,
        db_name="booking",
        db_secret_arn=DB_SECRET,
        jwt_secret_arn=JWT_SECRET,
        stop_timeout_seconds=55,
        drain_seconds=30,
        graceful_shutdown_seconds=20,
    )
    return container


def test_container_runs_as_non_root_with_a_read_only_root_and_writable_tmp() -> None:
    c = definition()
    assert c["user"] == "10001"
    assert c["readonlyRootFilesystem"] is True
    assert c["mountPoints"] == [{"sourceVolume": "tmp", "containerPath": "/tmp", "readOnly": False}]
    assert c["healthCheck"]["command"] == ["CMD", "python", "-m", "app", "healthcheck"]  # type: ignore[index]
    assert c["stopTimeout"] == 55
    assert c["image"] == IMAGE


def test_container_environment_and_secrets() -> None:
    c = definition()
    env = {e["name"]: e["value"] for e in c["environment"]}  # type: ignore[attr-defined]
    assert env == {
        "AWS_REGION": "us-east-1",
        "DB_HOST": "booking-dev-db.abc.us-east-1.rds.amazonaws.com",
        "DB_NAME": "booking",
        "DB_PORT": "5432",
        "DB_SECRET_ARN": DB_SECRET,
        "DB_SSLMODE": "require",
        "DRAIN_SECONDS": "30",
        "GRACEFUL_TIMEOUT_SECONDS": "20",
        "LOG_LEVEL": "INFO",
        "PORT": "8000",
        "WEB_CONCURRENCY": "2",
    }
    assert c["secrets"] == [
        {"name": "DB_USERNAME", "valueFrom": f"{DB_SECRET}:username::"},
        {"name": "DB_PASSWORD", "valueFrom": f"{DB_SECRET}:password::"},
        {"name": "JWT_SECRET", "valueFrom": JWT_SECRET},
    ]


def test_container_logs_to_its_log_group() -> None:
    assert definition()["logConfiguration"] == {
        "logDriver": "awslogs",
        "options": {
            "awslogs-group": "/ecs/booking-dev/api",
            "awslogs-region": "us-east-1",
            "awslogs-stream-prefix": "api",
            "mode": "non-blocking",
            "max-buffer-size": "25m",
        },
    }


def test_execution_role_reads_exactly_the_injected_secrets() -> None:
    assert execution_role_policy([JWT_SECRET, DB_SECRET]) == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["secretsmanager:GetSecretValue"],
                "Resource": sorted([DB_SECRET, JWT_SECRET]),
            }
        ],
    }


def test_task_role_reads_only_the_database_secret() -> None:
    assert task_role_policy(DB_SECRET)["Statement"] == [
        {"Effect": "Allow", "Action": ["secretsmanager:GetSecretValue"], "Resource": [DB_SECRET]}
    ]


def test_task_trust_is_limited_to_this_account_and_region() -> None:
    (trust,) = ecs_tasks_trust_policy("123456789012", "us-east-1")["Statement"]
    assert trust["Principal"] == {"Service": "ecs-tasks.amazonaws.com"}
    assert trust["Condition"] == {
        "StringEquals": {"aws:SourceAccount": "123456789012"},
        "ArnLike": {"aws:SourceArn": "arn:aws:ecs:us-east-1:123456789012:*"},
    }


def test_flow_log_role_writes_only_to_its_log_group() -> None:
    arn = "arn:aws:logs:us-east-1:123456789012:log-group:booking-dev-flow-logs-1a2b3c4"
    assert flow_log_role_policy(arn)["Statement"] == [
        {
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
            "Resource": [arn, f"{arn}:log-stream:*"],
        }
    ]


def test_spot_only_when_asked() -> None:
    assert capacity_provider_strategy(True) == [{"capacityProvider": "FARGATE_SPOT", "weight": 1, "base": 0}]
    assert capacity_provider_strategy(False) == [{"capacityProvider": "FARGATE", "weight": 1, "base": 0}]
    # An on-demand base keeps the service up through a Spot shortage; FARGATE keeps a weight because a
    # weight-0 provider cannot place tasks (CapacityProviderStrategyItem).
    assert capacity_provider_strategy(True, on_demand_base=1) == [
        {"capacityProvider": "FARGATE", "weight": 1, "base": 1},
        {"capacityProvider": "FARGATE_SPOT", "weight": 3, "base": 0},
    ]
    assert capacity_provider_strategy(False, on_demand_base=1) == [
        {"capacityProvider": "FARGATE", "weight": 1, "base": 0}
    ]


def test_access_log_bucket_policy_in_an_older_region_uses_the_regional_elb_account() -> None:
    policy = access_log_bucket_policy("arn:aws:s3:::logs", "eu-west-1", "123456789012")
    allow, deny = policy["Statement"]
    assert allow["Principal"] == {"AWS": "arn:aws:iam::156460612806:root"}
    assert allow["Action"] == ["s3:PutObject"]
    assert allow["Resource"] == ["arn:aws:s3:::logs/alb/AWSLogs/123456789012/*"]
    assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_access_log_bucket_policy_in_a_newer_region_uses_the_service_principal() -> None:
    policy = access_log_bucket_policy("arn:aws:s3:::logs", "ap-southeast-5", "123456789012")
    assert policy["Statement"][0]["Principal"] == {
        "Service": "logdelivery.elasticloadbalancing.amazonaws.com"
    }


def test_drain_covers_the_alb_noticing_and_stop_timeout_covers_drain_and_shutdown() -> None:
    # 2 failed checks 10 s apart, the first up to 10 s after SIGTERM.
    assert drain_seconds(10, 2) == 30
    assert drain_seconds(5, 3) == 20
    assert minimum_stop_timeout(30, 20) == 55
