# ruff: noqa: E501 - the table keeps each exact error message on one line to be readable
"""Bad stack configs stop the real program with one exact message, before any resource is declared."""

from __future__ import annotations

import pytest

from stacks.offline import OfflineRun, run_stack

CERT = "arn:aws:acm:{}:123456789012:certificate/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0"
FARGATE = (
    "cpu 256: memory 512, 1024, 2048; cpu 512: memory 1024-4096 in steps of 1024; "
    "cpu 1024: memory 2048-8192 in steps of 1024; cpu 2048: memory 4096-16384 in steps of 1024; "
    "cpu 4096: memory 8192-30720 in steps of 1024; cpu 8192: memory 16384-61440 in steps of 4096; "
    "cpu 16384: memory 32768-122880 in steps of 8192"
)
CIDR_ALLOWED = (
    "must be an IPv4 network from /16 to /22 inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16, "
    "written with its network address (e.g. 10.20.0.0/16)"
)
RETENTION = (
    "must be one of CloudWatch's retention periods 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, "
    "545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653"
)
SECTIONS = (
    "booking:network, booking:service, booking:loadBalancer, booking:database, booking:image, "
    "booking:https, booking:notifications, booking:alarms, booking:waf, booking:lambda"
)

# (stack, config overrides, exact error)
BAD_CONFIGS: list[tuple[str, dict[str, object], str]] = [
    (
        "dev",
        {"booking:service.cpu": 300},
        "booking:service.cpu = 300 is invalid: must be one of 256, 512, 1024, 2048, 4096, 8192, 16384",
    ),
    (
        "dev",
        {"booking:service.memory": 4096},
        "booking:service.memory = 4096 is invalid: with cpu 256 must be one of 512, 1024, 2048 "
        f"(valid Fargate sizes: {FARGATE})",
    ),
    (
        "dev",
        {"booking:network.natGateways": "double"},
        "booking:network.natGateways = 'double' is invalid: must be one of none, single, perAz",
    ),
    (
        "dev",
        {"booking:network.availabilityZones": 4},
        "booking:network.availabilityZones = 4 is invalid: must be a whole number from 2 to 3",
    ),
    (
        "dev",
        {"booking:network.cidrBlock": "8.8.0.0/16"},
        f"booking:network.cidrBlock = '8.8.0.0/16' is invalid: {CIDR_ALLOWED}",
    ),
    (
        "dev",
        {"booking:network.cidrBlock": "10.0.0.0/24"},
        f"booking:network.cidrBlock = '10.0.0.0/24' is invalid: {CIDR_ALLOWED}",
    ),
    (
        "dev",
        {"booking:network.cidrBlock": "10.20.1.0/16"},
        f"booking:network.cidrBlock = '10.20.1.0/16' is invalid: {CIDR_ALLOWED}",
    ),
    (
        "dev",
        {"booking:service.desiredCount": 3},
        "booking:service.desiredCount = 3 is invalid: must be from minCount (1) to maxCount (2)",
    ),
    (
        "dev",
        {"booking:service.minCount": 3},
        "booking:service.maxCount = 2 is invalid: must be at least minCount (3)",
    ),
    (
        "dev",
        {"booking:service.architecture": "arm"},
        "booking:service.architecture = 'arm' is invalid: must be one of arm64, x86_64",
    ),
    (
        "dev",
        {"booking:service.spot": "yes"},
        "booking:service.spot = 'yes' is invalid: must be true or false",
    ),
    (
        "dev",
        {"booking:service.logRetentionDays": 10},
        f"booking:service.logRetentionDays = 10 is invalid: {RETENTION}",
    ),
    (
        "dev",
        {"booking:loadBalancer.deregistrationDelaySeconds": 60},
        "booking:loadBalancer.deregistrationDelaySeconds = 60 is invalid: must be a whole number from 0 to 30",
    ),
    (
        "dev",
        {"booking:database.instanceClass": "t4g.micro"},
        "booking:database.instanceClass = 't4g.micro' is invalid: must be an RDS instance class like db.t4g.micro",
    ),
    (
        "dev",
        {"booking:database.allocatedStorageGb": 10},
        "booking:database.allocatedStorageGb = 10 is invalid: must be a whole number from 20 to 65536",
    ),
    (
        "dev",
        {"booking:database.maxAllocatedStorageGb": 21},
        "booking:database.maxAllocatedStorageGb = 21 is invalid: must be at least 10 % above allocatedStorageGb "
        "(20), i.e. 22 or more",
    ),
    (
        "dev",
        {"booking:database.engineVersion": "9.6"},
        "booking:database.engineVersion = '9.6' is invalid: must be a PostgreSQL major version 13 to 17, "
        "optionally with a minor (e.g. 16 or 16.6)",
    ),
    (
        "dev",
        {"booking:database.backupRetentionDays": 0},
        "booking:database.backupRetentionDays = 0 is invalid: must be a whole number from 1 to 35",
    ),
    (
        "dev",
        {"booking:https.certificateArn": "arn:aws:iam::123456789012:server-certificate/x"},
        "booking:https.certificateArn = 'arn:aws:iam::123456789012:server-certificate/x' is invalid: "
        'must be "" (HTTP only) or an ACM certificate ARN like arn:aws:acm:<region>:<account>:certificate/<uuid>',
    ),
    (
        "dev",
        {"booking:https.certificateArn": CERT.format("eu-west-1")},
        f"booking:https.certificateArn = '{CERT.format('eu-west-1')}' is invalid: "
        "must be a certificate in the stack's region us-east-1 (ALB requirement)",
    ),
    (
        "dev",
        {"booking:https.domainName": "api.example.com"},
        "booking:https.hostedZoneId = '' is invalid: is required with domainName: the Route 53 zone that holds the name",
    ),
    (
        "dev",
        {"booking:https.domainName": "API.example.com.", "booking:https.hostedZoneId": "Z123"},
        "booking:https.domainName = 'API.example.com.' is invalid: "
        "must be a lower-case DNS name like api.example.com (no trailing dot)",
    ),
    (
        "prod",
        {"booking:https.domainName": "", "booking:https.hostedZoneId": ""},
        "booking:https = {'certificateArn': '', 'domainName': ''} is invalid: the prod stack must serve HTTPS: "
        "set booking:https.domainName and booking:https.hostedZoneId (the stack creates and validates the "
        "certificate) or booking:https.certificateArn",
    ),
    (
        "prod",
        {"booking:waf.enabled": False},
        "booking:waf.enabled = False is invalid: must be true for the prod stack",
    ),
    (
        "prod",
        {"booking:database.monitoringIntervalSeconds": 0},
        "booking:database.monitoringIntervalSeconds = 0 is invalid: must not be 0 for the prod stack "
        "(Enhanced Monitoring)",
    ),
    (
        "dev",
        {"booking:waf.authRateLimit": 5},
        "booking:waf.authRateLimit = 5 is invalid: must be a whole number from 10 to 2000000000",
    ),
    (
        "dev",
        {"booking:image.tag": "-latest"},
        "booking:image.tag = '-latest' is invalid: must be \"\" (build app/) or a Docker tag: "
        "up to 128 letters, digits, _ . -",
    ),
    (
        "dev",
        {"booking:service.desiredCoutn": 2},
        "booking:service.desiredCoutn = 2 is invalid: unknown key; allowed keys are architecture, containerPort, "
        "cpu, cpuTargetPercent, desiredCount, failOnRollback, gracefulShutdownSeconds, "
        "healthCheckGracePeriodSeconds, logLevel, logRetentionDays, maxCount, memory, minCount, onDemandBase, "
        "requestsPerTarget, runtime, spot, stopTimeoutSeconds, waitForSteadyState",
    ),
    # Draining (docs/draining.md): stopTimeout must cover drain + graceful shutdown + exit.
    (
        "dev",
        {"booking:service.stopTimeoutSeconds": 30},
        "booking:service.stopTimeoutSeconds = 30 is invalid: must be at least 55: a stopping task drains for 30 s "
        "(loadBalancer.healthCheckIntervalSeconds 10 x (unhealthyThreshold 2 + 1)), then finishes in-flight "
        "requests for up to 20 s (service.gracefulShutdownSeconds), plus 5 s to exit: 55 s",
    ),
    (
        "dev",
        {"booking:loadBalancer.unhealthyThreshold": 5, "booking:loadBalancer.healthCheckIntervalSeconds": 20},
        "booking:service.gracefulShutdownSeconds = 20 is invalid: too long: a stopping task drains for 120 s "
        "(loadBalancer.healthCheckIntervalSeconds 20 x (unhealthyThreshold 5 + 1)), then finishes in-flight "
        "requests for up to 20 s (service.gracefulShutdownSeconds), plus 5 s to exit: 145 s, over Fargate's "
        "120 s stopTimeout limit (and a Spot interruption's two-minute warning); shorten it or the load "
        "balancer health check",
    ),
    (
        "dev",
        {"booking:loadBalancer.healthCheckIntervalSeconds": 5},
        "booking:loadBalancer.healthCheckTimeoutSeconds = 5 is invalid: must be less than "
        "healthCheckIntervalSeconds (5)",
    ),
    (
        "dev",
        {"booking:loadBalancer.unhealthyThreshold": 1},
        "booking:loadBalancer.unhealthyThreshold = 1 is invalid: must be a whole number from 2 to 10",
    ),
    (
        "prod",
        {"booking:service.onDemandBase": 1},
        "booking:service.onDemandBase = 1 is invalid: applies only with spot: true (without Spot every task "
        "is on-demand)",
    ),
    (
        "dev",
        {"booking:servce": {"cpu": 256}},
        f"booking:servce = {{'cpu': 256}} is invalid: unknown key; allowed keys are {SECTIONS}",
    ),
    (
        "dev",
        {"aws:region": None},
        "aws:region = None is invalid: is required: an AWS region name like us-east-1",
    ),
    (
        "dev",
        {"booking:service.waitForSteadyState": False},
        "booking:service.failOnRollback = True is invalid: needs waitForSteadyState: true (the check runs after it)",
    ),
    (
        "prod",
        {"booking:database.multiAz": False},
        "booking:database.multiAz = False is invalid: must be true for the prod stack",
    ),
    (
        "prod",
        {"booking:database.backupRetentionDays": 3},
        "booking:database.backupRetentionDays = 3 is invalid: must be at least 7 for the prod stack",
    ),
    (
        "prod",
        {"booking:network.natGateways": "single"},
        "booking:network.natGateways = 'single' is invalid: must be perAz for the prod stack",
    ),
    (
        "prod",
        {"booking:service.minCount": 1, "booking:service.desiredCount": 1},
        "booking:service.minCount = 1 is invalid: must be at least 2 for the prod stack",
    ),
    (
        "Dev",
        {},
        "stack = 'Dev' is invalid: must be lowercase letters, digits and single hyphens, starting with a letter",
    ),
]


@pytest.mark.parametrize(
    ("stack", "overrides", "message"),
    BAD_CONFIGS,
    ids=[m.split(" = ")[0] + f"[{i}]" for i, (_, _, m) in enumerate(BAD_CONFIGS)],
)
def test_bad_config_stops_before_any_resource(stack: str, overrides: dict[str, object], message: str) -> None:
    run = run_stack(stack, overrides, config_stack="dev" if stack == "Dev" else None)
    assert run.error == message
    assert run.resources == ()
    assert run.outputs == {}


def test_the_table_is_large_enough() -> None:
    assert len(BAD_CONFIGS) >= 15
    assert len({m for _, _, m in BAD_CONFIGS}) == len(BAD_CONFIGS)


LONGEST_STACK = "qa-abcdefghijklmnop"  # 19 characters: `booking-<stack>-8000` is exactly 32


@pytest.fixture(scope="module")
def long_named() -> OfflineRun:
    # prod's config (access-log bucket included) under another stack name, so prod's rules do not apply.
    return run_stack(LONGEST_STACK, config_stack="prod")


def test_longest_stack_name_keeps_every_physical_name_within_aws_limits(long_named: OfflineRun) -> None:
    assert long_named.error is None, long_named.error
    limits = {
        "aws:lb/loadBalancer:LoadBalancer": ("name", 32),
        "aws:lb/targetGroup:TargetGroup": ("name", 32),
        "aws:iam/role:Role": ("name", 64),
        "aws:rds/instance:Instance": ("identifier", 63),
        "aws:s3/bucket:Bucket": ("bucket", 63),
        "aws:ecs/cluster:Cluster": ("name", 255),
        "aws:ecr/repository:Repository": ("name", 256),
        "aws:cloudwatch/logGroup:LogGroup": ("name", 512),
    }
    checked = 0
    for type_, (field, limit) in limits.items():
        for resource in long_named.of_type(type_):
            name = resource.outputs[field]
            assert LONGEST_STACK in name or type_ in ("aws:iam/role:Role", "aws:s3/bucket:Bucket"), name
            assert len(name) <= limit, (type_, name)
            checked += 1
    assert checked >= 10
    assert len(long_named.one("aws:lb/targetGroup:TargetGroup").inputs["name"]) == 32


def test_one_more_character_is_refused() -> None:
    run = run_stack(LONGEST_STACK + "q", config_stack="dev")
    assert run.error == (
        f"stack = '{LONGEST_STACK}q' is invalid: must be at most 19 characters: the target group name "
        f"'booking-{LONGEST_STACK}q-8000' must fit AWS's 32-character limit"
    )
    assert run.resources == ()
