"""Settings parsing: the happy paths and the derived values; the bad configs are in test_bad_config.py."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from stacks.settings import FARGATE_MEMORY_BY_CPU, ConfigError, parse_settings
from stacks.settings.stack import derive_names, read_config

ROOT = Path(__file__).resolve().parents[2]
# The smallest valid config: a region and someone to tell about deployments.
MINIMAL: dict[str, object] = {
    "aws:region": "eu-west-1",
    "booking:notifications": {"emails": ["ops@example.com"]},
}


def config_of(stack: str) -> dict[str, object]:
    return dict(yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())["config"])


def test_dev_config_is_small_and_cheap() -> None:
    s = parse_settings("booking", "dev", config_of("dev"))
    assert s.network.nat_gateways in ("none", "single")
    assert s.service.spot is True
    assert s.database.instance_class == "db.t4g.micro"
    assert s.database.deletion_protection is False
    assert s.database.final_snapshot is False
    assert s.service.log_retention_days <= 14
    assert s.is_prod is False
    assert s.tags == {"Project": "booking", "Environment": "dev", "ManagedBy": "pulumi"}


def test_prod_config_is_highly_available_and_protected() -> None:
    s = parse_settings("booking", "prod", config_of("prod"))
    assert s.network.nat_gateways == "perAz"
    assert s.network.availability_zones >= 2
    assert s.service.min_count >= 2
    assert s.service.spot is False
    assert s.database.multi_az and s.database.deletion_protection and s.database.final_snapshot
    assert s.database.backup_retention_days >= 7
    assert s.load_balancer.deletion_protection and s.load_balancer.access_logs
    assert s.service.log_retention_days >= 30


def test_defaults_fill_missing_sections() -> None:
    s = parse_settings("booking", "qa", MINIMAL)
    assert (s.service.cpu, s.service.memory, s.service.desired_count) == (256, 512, 1)
    assert s.network.cidr_block == "10.20.0.0/16"
    assert s.image.build is True
    assert s.https.enabled is False


@pytest.mark.parametrize(("cpu", "memory"), [(256, 2048), (1024, 8192), (8192, 16384), (16384, 122880)])
def test_every_documented_fargate_size_is_accepted(cpu: int, memory: int) -> None:
    assert memory in FARGATE_MEMORY_BY_CPU[cpu]
    s = parse_settings("booking", "qa", {**MINIMAL, "booking:service": {"cpu": cpu, "memory": memory}})
    assert (s.service.cpu, s.service.memory) == (cpu, memory)


def test_values_from_pulumi_config_set_arrive_as_strings() -> None:
    s = parse_settings(
        "booking",
        "qa",
        {**MINIMAL, "booking:service": {"desiredCount": "2", "maxCount": "4", "spot": "true"}},
    )
    assert (s.service.desired_count, s.service.spot) == (2, True)


def test_names_are_derived_from_project_and_stack() -> None:
    names = derive_names("booking", "dev", 8000)
    assert names.load_balancer == "booking-dev"
    assert names.target_group == "booking-dev-8000"
    assert names.log_group == "/ecs/booking-dev/api"
    # Switching runtime replaces the target group (its type changes): a different name lets the new one
    # be created before the old one is deleted.
    assert derive_names("booking", "dev", 8000, "lambda").target_group == "booking-dev-lambda"


def test_read_config_lists_every_key_and_decodes_objects(monkeypatch: pytest.MonkeyPatch) -> None:
    from pulumi.runtime import config as runtime_config

    monkeypatch.setattr(runtime_config, "CONFIG", runtime_config.CONFIG)
    token = runtime_config.CONFIG.set({"booking:servce": '{"cpu": 256}', "aws:region": "us-east-1"})
    try:
        config = read_config()
    finally:
        runtime_config.CONFIG.reset(token)
    assert config == {"booking:servce": {"cpu": 256}, "aws:region": "us-east-1"}
    with pytest.raises(ConfigError, match=r"^booking:servce = \{'cpu': 256\} is invalid: unknown key"):
        parse_settings("booking", "dev", config)
