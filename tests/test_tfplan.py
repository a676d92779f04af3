"""The Pulumi → Terraform plan converter that lets checkov scan the stack (stacks/tfplan.py)."""

from __future__ import annotations

import json

import pytest

from stacks.offline import DeclaredResource, OfflineRun
from stacks.tfplan import TYPES, attributes, plan_json, snake, unmapped_types
from tests.plan.conftest import offline


def declared(type_: str, name: str, **inputs: object) -> DeclaredResource:
    return DeclaredResource(
        urn=f"urn:pulumi:prod::booking::{type_}::{name}",
        type=type_,
        name=name,
        inputs=dict(inputs),
        parent=None,
    )


PROVIDER = declared("pulumi:providers:aws", "aws", defaultTags=json.dumps({"tags": {"Environment": "prod"}}))


def test_names_are_terraform_snake_case() -> None:
    assert snake("enableDeletionProtection") == "enable_deletion_protection"
    assert snake("kmsMasterKeyId") == "kms_master_key_id"
    assert snake("name") == "name"


def test_nested_objects_become_blocks_and_maps_stay_maps() -> None:
    values = attributes(
        {
            "accessLogs": {"bucket": "logs", "enabled": True},
            "tags": {"Team": "x"},
            "rules": [{"name": "a", "overrideAction": {"none": {}}}],
            "policy": '{"Version": "2012-10-17"}',
        }
    )
    assert values["access_logs"] == [{"bucket": "logs", "enabled": True}]
    assert values["tags"] == {"Team": "x"}
    assert values["rule"] == [{"name": "a", "override_action": [{"none": [{}]}]}]
    assert values["policy"] == '{"Version": "2012-10-17"}'  # JSON documents stay strings, as in Terraform


def test_a_plan_carries_type_address_and_the_providers_default_tags() -> None:
    lb = declared("aws:lb/loadBalancer:LoadBalancer", "booking-prod-alb", dropInvalidHeaderFields=True)
    plan = plan_json(OfflineRun("prod", (PROVIDER, lb), {}, None))
    (resource,) = plan["planned_values"]["root_module"]["resources"]
    assert resource["type"] == "aws_lb" and resource["address"] == "aws_lb.booking-prod-alb"
    assert resource["values"] == {"drop_invalid_header_fields": True, "tags_all": {"Environment": "prod"}}
    assert plan["resource_changes"][0]["change"]["actions"] == ["create"]


def test_an_unknown_resource_type_is_an_error_not_a_silent_gap() -> None:
    odd = declared("aws:ec2/instance:Instance", "box")
    with pytest.raises(ValueError, match="aws:ec2/instance:Instance"):
        plan_json(OfflineRun("prod", (PROVIDER, odd), {}, None))


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_resource_the_stacks_declare_converts(stack: str) -> None:
    run = offline(stack)
    assert run.error is None, run.error
    assert unmapped_types(run.resources) == []
    plan = plan_json(run)
    converted = plan["planned_values"]["root_module"]["resources"]
    assert len(converted) == len([r for r in run.resources if r.type in TYPES]) > 80
    if stack == "prod":
        web_acl = next(r for r in converted if r["type"] == "aws_wafv2_web_acl")["values"]
        groups = [
            rule["statement"][0]
            for rule in web_acl["rule"]
            if "managed_rule_group_statement" in rule["statement"][0]
        ]
        assert len(groups) == 3
        db = next(r for r in converted if r["type"] == "aws_db_instance")["values"]
        assert db["monitoring_interval"] == 60 and db["storage_encrypted"] is True


# --- the verdict against docs/security.md (scripts/checkov) -------------------------------------------


def test_the_accepted_list_is_read_from_the_security_doc() -> None:
    from pathlib import Path

    from stacks.tfplan import accepted_checks

    rows = accepted_checks((Path(__file__).resolve().parents[1] / "docs" / "security.md").read_text())
    assert len(rows) >= 20
    assert ("CKV_AWS_145", "aws_s3_bucket") in rows  # SSE-S3 on the ALB log bucket: ALB cannot use KMS
    assert all(
        check.startswith(("CKV_AWS_", "CKV2_AWS_")) and kind.startswith("aws_") for check, kind in rows
    )


def test_the_verdict_names_new_and_stale_findings() -> None:
    from stacks.tfplan import failed_checks, verdict

    report = {
        "check_type": "terraform_plan",
        "results": {
            "failed_checks": [
                {"check_id": "CKV_AWS_145", "resource": "aws_s3_bucket.logs"},
                {"check_id": "CKV_AWS_91", "resource": "aws_lb.alb"},
            ]
        },
    }
    failed = failed_checks(report)
    assert failed == {("CKV_AWS_145", "aws_s3_bucket"), ("CKV_AWS_91", "aws_lb")}
    accepted = {("CKV_AWS_145", "aws_s3_bucket"), ("CKV_AWS_18", "aws_s3_bucket")}
    assert verdict(failed, accepted) == (["CKV_AWS_91 aws_lb"], ["CKV_AWS_18 aws_s3_bucket"])
