# ruff: noqa: E501 - the table keeps each exact error message on one line to be readable
"""`booking:service.runtime` and `booking:lambda`: defaults, ranges and every cross-section rule.

Each invalid combination is also run through the real program (tests at the bottom): it must stop with
the exact message before any resource is declared, like tests/infra/test_bad_config.py.
"""

from __future__ import annotations

from typing import Any

import pytest

from app.core.config import LAMBDA_POOL_DEFAULTS
from stacks.offline import run_stack
from stacks.settings import ConfigError, parse_settings
from stacks.settings import connections as conn
from stacks.settings.lambda_ import POOL_SIZE, check_connections
from tests.infra.test_stack_settings import MINIMAL, config_of

CERT = "arn:aws:acm:us-east-1:123456789012:certificate/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0"


def config(stack: str) -> dict[str, Any]:
    return config_of(stack)


def lambda_config(stack: str = "dev", **fn: object) -> dict[str, Any]:
    config: dict[str, Any] = config_of(stack)
    config["booking:service"] = {**config["booking:service"], "runtime": "lambda"}
    config["booking:lambda"] = fn or None
    return config


def test_fargate_is_the_default_runtime_and_has_no_lambda_settings() -> None:
    s = parse_settings("booking", "qa", MINIMAL)
    assert s.service.runtime == "fargate"
    assert s.lambda_ is None
    assert s.names.function == "booking-qa-api"


def test_lambda_defaults_match_the_contract() -> None:
    s = parse_settings("booking", "dev", lambda_config())
    assert s.service.runtime == "lambda"
    assert s.lambda_ is not None
    fn = s.lambda_
    assert (fn.memory_mb, fn.timeout_seconds, fn.reserved_concurrency) == (1024, 30, 10)
    assert (fn.provisioned_concurrency, fn.front_door) == (0, "alb")


def test_the_cheapest_dev_configuration_is_accepted() -> None:
    config = lambda_config(frontDoor="httpApi", memoryMb=512, reservedConcurrency=20)
    config["booking:network"] = {**config["booking:network"], "natGateways": "none"}
    s = parse_settings("booking", "dev", config)
    assert s.lambda_ is not None and s.lambda_.front_door == "httpApi"
    assert s.network.nat_gateways == "none"


def test_prod_on_lambda_behind_the_alb_is_accepted_whatever_the_fargate_task_count() -> None:
    config = lambda_config("prod", reservedConcurrency=100, provisionedConcurrency=2)
    config["booking:service"] = {**config["booking:service"], "minCount": 1, "desiredCount": 1}
    s = parse_settings("booking", "prod", config)
    assert s.lambda_ is not None and s.lambda_.front_door == "alb"
    # The Fargate rule still holds for a Fargate prod stack (tests/infra/test_bad_config.py).


def test_values_from_pulumi_config_set_arrive_as_strings() -> None:
    s = parse_settings("booking", "dev", lambda_config(memoryMb="2048", reservedConcurrency="5"))
    assert s.lambda_ is not None and (s.lambda_.memory_mb, s.lambda_.reserved_concurrency) == (2048, 5)


def test_the_pool_size_is_the_apps_not_a_copy() -> None:
    assert POOL_SIZE == LAMBDA_POOL_DEFAULTS["DB_POOL_SIZE"] + LAMBDA_POOL_DEFAULTS["DB_MAX_OVERFLOW"] == 1


def test_max_connections_follows_rds_formula_on_the_nominal_memory() -> None:
    # LEAST({DBInstanceClassMemory/9531392}, 5000) with 1, 4 and 16 GiB, and the cap.
    assert conn.max_connections("db.t4g.micro") == 2**30 // 9531392 == 112
    assert conn.max_connections("db.t4g.medium") == 4 * 2**30 // 9531392 == 450
    assert conn.max_connections("db.r6g.large") == 16 * 2**30 // 9531392 == 1802
    assert conn.max_connections("db.r6g.4xlarge") == 5000
    assert conn.max_connections("db.m7g.large") == conn.max_connections("db.t4g.large")
    assert conn.max_connections("db.x2g.large") is None


def test_the_budget_is_exact_at_its_edge() -> None:
    limit = 112
    usable = limit - (3 + 3 + 28)  # reserved slots, operations, a quarter for the memory gap
    assert conn.usable_connections(limit) == usable == 78
    check_connections(usable, "db.t4g.micro")
    with pytest.raises(ConfigError, match=r"^booking:lambda.reservedConcurrency = 79 is invalid"):
        check_connections(usable + 1, "db.t4g.micro")
    check_connections(331, "db.t4g.medium")  # the larger class takes what the micro refuses


def test_every_price_table_class_has_a_known_memory() -> None:
    from stacks.plan.cost import load_prices

    priced = load_prices().prices["rds_postgresql"]["instance_hour"]
    assert [c for c in priced if conn.max_connections(c) is None] == []


# (stack, config, exact error)
BAD: list[tuple[str, dict[str, Any], str]] = [
    (
        "dev",
        {**config_of("dev"), "booking:lambda": {"memoryMb": 1024}},
        "booking:lambda = {'memoryMb': 1024} is invalid: applies only with booking:service.runtime: lambda (the runtime is fargate); remove the section or set the runtime",
    ),
    (
        "dev",
        {**config_of("dev"), "booking:service": {**config("dev")["booking:service"], "runtime": "ec2"}},
        "booking:service.runtime = 'ec2' is invalid: must be one of fargate, lambda",
    ),
    (
        "prod",
        lambda_config("prod", frontDoor="httpApi"),
        "booking:lambda.frontDoor = 'httpApi' is invalid: must be alb for the prod stack (WAF, the HTTPS listener and deletion protection live on the ALB)",
    ),
    (
        "dev",
        {**lambda_config(frontDoor="httpApi"), "booking:waf": {"enabled": True}},
        "booking:waf.enabled = True is invalid: must be false with booking:lambda.frontDoor: httpApi: WAF web ACLs attach to an ALB or a REST API, not to an HTTP API",
    ),
    (
        "dev",
        {
            **lambda_config(frontDoor="httpApi"),
            "booking:https": {"domainName": "api.example.com", "hostedZoneId": "Z0123456789ABCDEFGHIJ"},
        },
        "booking:https.domainName = 'api.example.com' is invalid: must be \"\" with booking:lambda.frontDoor: httpApi: the HTTP API serves HTTPS on its own execute-api endpoint; custom domains are not supported by this stack",
    ),
    (
        "dev",
        {**lambda_config(frontDoor="httpApi"), "booking:https": {"certificateArn": CERT}},
        f"booking:https.certificateArn = '{CERT}' is invalid: must be \"\" with booking:lambda.frontDoor: httpApi: the HTTP API serves HTTPS on its own execute-api endpoint; custom domains are not supported by this stack",
    ),
    (
        "dev",
        lambda_config(frontDoor="httpApi", timeoutSeconds=31),
        "booking:lambda.timeoutSeconds = 31 is invalid: must be at most 30 with booking:lambda.frontDoor: httpApi: API Gateway stops waiting for an integration after 30 s (HTTP API quota, cannot be increased), so a longer run is never answered",
    ),
    (
        "dev",
        lambda_config(reservedConcurrency=5, provisionedConcurrency=5),
        "booking:lambda.provisionedConcurrency = 5 is invalid: must be less than reservedConcurrency (5): provisioned concurrency counts against the reserved concurrency, and the release gate needs a free slot to invoke the new version",
    ),
    (
        "dev",
        lambda_config(reservedConcurrency=100),
        "booking:lambda.reservedConcurrency = 100 is invalid: too high for booking:database.instanceClass db.t4g.micro: 100 environments x 1 connection = 100, but the instance allows about 112 (LEAST(DBInstanceClassMemory/9531392, 5000)) of which 34 stay free for reserved slots, operations and the memory RDS keeps back; at most 78, or a larger instance class",
    ),
    (
        "dev",
        {
            **lambda_config(),
            "booking:database": {**config("dev")["booking:database"], "instanceClass": "db.x2g.large"},
        },
        "booking:database.instanceClass = 'db.x2g.large' is invalid: the Lambda runtime checks booking:lambda.reservedConcurrency against the class's max_connections, and this class's memory is not known here (known: db.m5.*, db.m6g.*, db.m6i.*, db.m7g.*, db.m8g.*, db.r5.*, db.r6g.*, db.r6i.*, db.r7g.*, db.r8g.*, db.t3.*, db.t4g.*); use one of those or add it to stacks/settings/connections.py",
    ),
    (
        "dev",
        lambda_config(memoryMb=64),
        "booking:lambda.memoryMb = 64 is invalid: must be a whole number from 128 to 10240",
    ),
    (
        "dev",
        lambda_config(timeoutSeconds=901),
        "booking:lambda.timeoutSeconds = 901 is invalid: must be a whole number from 1 to 900",
    ),
    (
        "dev",
        lambda_config(reservedConcurrency=0),
        "booking:lambda.reservedConcurrency = 0 is invalid: must be a whole number from 1 to 1000",
    ),
    (
        "dev",
        lambda_config(frontDoor="apiGateway"),
        "booking:lambda.frontDoor = 'apiGateway' is invalid: must be one of alb, httpApi",
    ),
    (
        "dev",
        lambda_config(memorySize=1024),
        "booking:lambda.memorySize = 1024 is invalid: unknown key; allowed keys are frontDoor, memoryMb, provisionedConcurrency, reservedConcurrency, timeoutSeconds",
    ),
]
IDS = [m.split(" = ")[0] + f"[{i}]" for i, (_, _, m) in enumerate(BAD)]


@pytest.mark.parametrize(("stack", "config", "message"), BAD, ids=IDS)
def test_each_invalid_combination_names_its_key(stack: str, config: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_settings("booking", stack, config)
    assert str(caught.value) == message


def _overrides(stack: str, config: dict[str, Any]) -> dict[str, object]:
    """The sections of `config` that differ from the stack's file, as run_stack overrides."""
    base = config_of(stack)
    changed: dict[str, object] = {k: v for k, v in config.items() if base.get(k) != v}
    changed.update({k: None for k in base if k not in config})
    return changed


@pytest.mark.parametrize(("stack", "config", "message"), BAD, ids=IDS)
def test_the_program_stops_before_any_resource(stack: str, config: dict[str, Any], message: str) -> None:
    run = run_stack(stack, _overrides(stack, config))
    assert run.error == message
    assert run.resources == ()
    assert run.outputs == {}
