from __future__ import annotations

import json
from typing import Any

import pytest

from components.database import (
    ENHANCED_MONITORING_POLICY,
    Database,
    DatabaseArgs,
    parameter_group_family,
    postgres_parameters,
    valid_performance_insights_retention,
)
from stacks.mocks import AwsMocks, Declared
from tests.infra.mocks import run_component

ISOLATED = ["subnet-iso-a", "subnet-iso-b"]


def _dev(**overrides: Any) -> DatabaseArgs:
    values: dict[str, Any] = {
        "name_prefix": "booking-dev",
        "subnet_ids": ISOLATED,
        "security_group_id": "sg-db",
    }
    values.update(overrides)
    return DatabaseArgs(**values)


def _prod(**overrides: Any) -> DatabaseArgs:
    values: dict[str, Any] = {
        "name_prefix": "booking-prod",
        "instance_class": "db.t4g.small",
        "allocated_storage_gb": 50,
        "max_allocated_storage_gb": 200,
        "multi_az": True,
        "backup_retention_days": 7,
        "deletion_protection": True,
        "final_snapshot": True,
        "performance_insights_retention_days": 31,
        "monitoring_interval_seconds": 60,
    }
    values.update(overrides)
    return _dev(**values)


def _run(args: DatabaseArgs) -> tuple[AwsMocks, dict[str, Any]]:
    def build() -> dict[str, Any]:
        db = Database("database", args)
        return {
            "address": db.address,
            "endpoint": db.endpoint,
            "port": db.port,
            "db_name": db.db_name,
            "identifier": db.identifier,
            "master_username": db.master_username,
            "master_secret_arn": db.master_secret_arn,
        }

    return run_component(build)


def _instance(mocks: AwsMocks) -> Declared:
    return mocks.one("aws:rds/instance:Instance")


# --- plain functions ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("version", "family"), [("16.4", "postgres16"), ("17", "postgres17"), ("13.12", "postgres13")]
)
def test_parameter_group_family_is_the_major_version(version: str, family: str) -> None:
    assert parameter_group_family(version) == family


@pytest.mark.parametrize("version", ["16.4.1", "latest", "", "v16", "11.22"])
def test_parameter_group_family_rejects_other_versions(version: str) -> None:
    with pytest.raises(ValueError, match=f"engine_version = {version!r} is invalid"):
        parameter_group_family(version)


def test_parameters_force_ssl_and_log_slow_queries() -> None:
    assert postgres_parameters(250) == {
        "rds.force_ssl": ("1", "pending-reboot"),
        "log_min_duration_statement": ("250", "immediate"),
    }
    with pytest.raises(ValueError, match="slow_query_ms = -1 is invalid"):
        postgres_parameters(-1)


@pytest.mark.parametrize(("days", "ok"), [(0, False), (7, True), (31, True), (93, True), (731, True),
                                          (713, True), (744, False), (8, False), (30, False)])
def test_performance_insights_retention_values(days: int, ok: bool) -> None:
    assert valid_performance_insights_retention(days) is ok


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"name_prefix": "Booking"}, "name_prefix = 'Booking' is invalid: the instance identifier"),
        ({"name_prefix": "booking--dev"}, "name_prefix = 'booking--dev' is invalid"),
        ({"name_prefix": "b" * 61}, "is invalid: the instance identifier"),
        ({"engine_version": "9.6"}, "engine_version = '9.6' is invalid: RDS supports PostgreSQL 12"),
        ({"instance_class": "t4g.micro"}, "instance_class = 't4g.micro' is invalid"),
        ({"allocated_storage_gb": 10}, "allocated_storage_gb = 10 is invalid: must be between 20 and 65536"),
        ({"max_allocated_storage_gb": 21}, "max_allocated_storage_gb = 21 is invalid: must be between 22"),
        ({"backup_retention_days": 36}, "backup_retention_days = 36 is invalid"),
        ({"db_name": "Booking"}, "db_name = 'Booking' is invalid"),
        ({"master_username": "postgres"}, "master_username = 'postgres' is invalid"),
        ({"master_username": "rds_owner"}, "master_username = 'rds_owner' is invalid"),
        ({"master_username": "pg_owner"}, "master_username = 'pg_owner' is invalid"),
        ({"performance_insights_retention_days": 30}, "performance_insights_retention_days = 30 is invalid"),
        ({"log_exports": ("postgresql", "audit")}, r"log_exports = \('postgresql', 'audit'\) is invalid"),
        ({"log_retention_days": 10}, "log_retention_days = 10 is invalid: must be one of 1, 3"),
        ({"slow_query_ms": -5}, "slow_query_ms = -5 is invalid"),
        ({"monitoring_interval_seconds": 2}, "monitoring_interval_seconds = 2 is invalid"),
    ],
)
def test_database_args_reject_bad_values(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        _dev(**overrides)


# --- the component under mocks ------------------------------------------------------------------------


def test_instance_is_private_encrypted_and_rds_owns_the_password() -> None:
    mocks, _ = _run(_dev())
    inputs = _instance(mocks).inputs
    assert inputs["engine"] == "postgres"
    assert inputs["engineVersion"] == "17"
    assert inputs["publiclyAccessible"] is False
    assert inputs["storageEncrypted"] is True
    assert inputs["storageType"] == "gp3"
    assert inputs["allocatedStorage"] == 20
    assert inputs["maxAllocatedStorage"] == 50
    assert inputs["manageMasterUserPassword"] is True
    assert inputs["username"] == "booking_admin"
    assert inputs["dbName"] == "booking"
    assert inputs["port"] == 5432
    assert inputs["vpcSecurityGroupIds"] == ["sg-db"]
    assert inputs["copyTagsToSnapshot"] is True
    assert inputs["autoMinorVersionUpgrade"] is True
    assert inputs["enabledCloudwatchLogsExports"] == ["postgresql", "upgrade"]
    assert inputs["performanceInsightsEnabled"] is True
    assert inputs["performanceInsightsRetentionPeriod"] == 7


def test_no_password_is_declared_anywhere() -> None:
    mocks, _ = _run(_prod())
    for resource in mocks.resources:
        password_keys = {k for k in resource.inputs if "password" in k.lower()}
        assert password_keys <= {"manageMasterUserPassword"}, (resource.type, password_keys)


def test_instance_lives_in_the_isolated_subnet_group() -> None:
    mocks, _ = _run(_dev())
    group = mocks.one("aws:rds/subnetGroup:SubnetGroup")
    assert group.inputs["subnetIds"] == ISOLATED
    assert _instance(mocks).inputs["dbSubnetGroupName"] == group.outputs["name"]


def test_parameter_group_forces_ssl_and_logs_slow_queries_for_the_engine_family() -> None:
    mocks, _ = _run(_dev(engine_version="16.4", slow_query_ms=1000))
    group = mocks.one("aws:rds/parameterGroup:ParameterGroup")
    assert group.inputs["family"] == "postgres16"
    assert {p["name"]: (p["value"], p["applyMethod"]) for p in group.inputs["parameters"]} == {
        "rds.force_ssl": ("1", "pending-reboot"),
        "log_min_duration_statement": ("1000", "immediate"),
    }
    assert _instance(mocks).inputs["parameterGroupName"] == group.outputs["name"]


def test_exported_logs_get_log_groups_with_retention() -> None:
    mocks, _ = _run(_dev(log_retention_days=14))
    log_groups = mocks.of_type("aws:cloudwatch/logGroup:LogGroup")
    groups = {g.inputs["name"]: g.inputs["retentionInDays"] for g in log_groups}
    assert groups == {
        "/aws/rds/instance/booking-dev-db/postgresql": 14,
        "/aws/rds/instance/booking-dev-db/upgrade": 14,
    }


def test_dev_is_single_az_destroyable_without_final_snapshot() -> None:
    mocks, _ = _run(_dev())
    inputs = _instance(mocks).inputs
    assert inputs["multiAz"] is False
    assert inputs["deletionProtection"] is False
    assert inputs["skipFinalSnapshot"] is True
    assert "finalSnapshotIdentifier" not in inputs
    assert inputs["deleteAutomatedBackups"] is True
    assert inputs["backupRetentionPeriod"] == 1
    assert mocks.of_type("random:index/randomId:RandomId") == []
    assert inputs["monitoringInterval"] == 0
    assert "monitoringRoleArn" not in inputs
    assert mocks.of_type("aws:iam/role:Role") == []


def test_prod_is_multi_az_protected_and_keeps_a_final_snapshot() -> None:
    mocks, _ = _run(_prod())
    inputs = _instance(mocks).inputs
    assert inputs["identifier"] == "booking-prod-db"
    assert inputs["instanceClass"] == "db.t4g.small"
    assert inputs["multiAz"] is True
    assert inputs["deletionProtection"] is True
    assert inputs["skipFinalSnapshot"] is False
    suffix = mocks.one("random:index/randomId:RandomId").outputs["hex"]
    assert inputs["finalSnapshotIdentifier"] == f"booking-prod-db-final-{suffix}"
    assert inputs["deleteAutomatedBackups"] is False
    assert inputs["backupRetentionPeriod"] == 7
    assert inputs["performanceInsightsRetentionPeriod"] == 31
    assert mocks.one("random:index/randomId:RandomId").inputs["byteLength"] == 4


def test_enhanced_monitoring_uses_a_role_rds_monitoring_can_assume() -> None:
    mocks, _ = _run(_prod())
    role = mocks.one("aws:iam/role:Role")
    assert json.loads(role.inputs["assumeRolePolicy"])["Statement"] == [
        {
            "Effect": "Allow",
            "Principal": {"Service": "monitoring.rds.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ]
    attachment = mocks.one("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
    assert attachment.inputs["policyArn"] == ENHANCED_MONITORING_POLICY
    assert attachment.inputs["role"] == role.outputs["name"]
    inputs = _instance(mocks).inputs
    assert inputs["monitoringInterval"] == 60
    assert inputs["monitoringRoleArn"] == role.outputs["arn"]


def test_performance_insights_can_be_switched_off() -> None:
    mocks, _ = _run(_dev(performance_insights=False))
    inputs = _instance(mocks).inputs
    assert inputs["performanceInsightsEnabled"] is False
    assert "performanceInsightsRetentionPeriod" not in inputs


def test_outputs_name_the_endpoint_and_the_rds_managed_secret() -> None:
    mocks, values = _run(_dev())
    answered = _instance(mocks).outputs
    assert answered["address"].startswith("booking-dev-db.")
    assert type(values["port"]) is int
    assert values == {
        "address": answered["address"],
        "endpoint": f"{answered['address']}:5432",
        "port": 5432,
        "db_name": "booking",
        "identifier": "booking-dev-db",
        "master_username": "booking_admin",
        "master_secret_arn": answered["masterUserSecrets"][0]["secretArn"],
    }
