"""Every IAM policy document the programs generate, linted by parliament (PyPI, Duo Labs).

Each statement is analysed on its own, so a finding names its statement. Zero findings, except the
ones listed in ACCEPTED, each with the reason it is right for this stack.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import cache
from typing import Any

import pytest
from parliament import analyze_policy_string

from components.deploy_policies import StackScope, boundary_policy, deploy_policy, preview_policy
from components.deploy_policies.state import tls_only_bucket_policy
from stacks.aws_answers import ACCOUNT
from stacks.offline import run_stack

# (document, Sid, parliament issue) → why it is accepted.
ACCEPTED: dict[tuple[str, str, str], str] = {
    # Read-only wildcards: parliament expands Describe*/List* and lists the few that could be scoped.
    # Pulumi's refreshes call many of them; they are read-only and confined to the stack's region.
    ("deploy", "EcsUnscoped", "RESOURCE_STAR"): "ecs:Describe*/List* read-only, in-region",
    ("deploy", "Ec2Read", "RESOURCE_STAR"): "ec2:Describe* read-only, in-region",
    ("deploy", "DatabaseRead", "RESOURCE_STAR"): "rds:Describe* read-only, in-region",
    ("preview", "DescribeStack", "RESOURCE_STAR"): "the preview role's reads, in-region, read-only",
    # Scalable targets and policies get generated ids; nothing to name before they exist.
    (
        "deploy",
        "ServiceAutoscaling",
        "RESOURCE_STAR",
    ): "Application Auto Scaling ids are generated, in-region",
    # ELB lists app and net listeners as alternatives; parliament wants both. The stack has ALBs only.
    ("deploy", "LoadBalancerNamed", "RESOURCE_MISMATCH"): "listener/net alternatives: the stack has no NLB",
    # Multi-resource actions split on purpose: the NEW resource must carry this environment's tag in the
    # request (aws:RequestTag); its PARENTS (VPC, subnet, address, group) must already carry it
    # (aws:ResourceTag, statement Ec2Owned). One statement cannot say both.
    ("deploy", "Ec2NewNatgateway", "RESOURCE_MISMATCH"): "parent subnet/address granted by Ec2Owned",
    ("deploy", "Ec2NewRouteTable", "RESOURCE_MISMATCH"): "parent VPC granted by Ec2Owned",
    ("deploy", "Ec2NewSecurityGroupRule", "RESOURCE_MISMATCH"): "parent security group granted by Ec2Owned",
    ("deploy", "Ec2NewSubnet", "RESOURCE_MISMATCH"): "parent VPC granted by Ec2Owned",
    ("deploy", "Ec2NewVpcEndpoint", "RESOURCE_MISMATCH"): "parent VPC granted by Ec2Owned",
    # The execution role of a VPC function creates interfaces (any new one) only in the stack's subnets and
    # security groups (tagged): the same split, in the boundary.
    ("boundary", "FunctionNetworkInterfaces", "RESOURCE_MISMATCH"): "see FunctionNetworkPlacement",
    ("boundary", "FunctionNetworkPlacement", "RESOURCE_MISMATCH"): "see FunctionNetworkInterfaces",
    # The Service Authorization Reference lists apigateway:Request/ApiName on the `Apis` resource type that
    # `POST /apis` (CreateApi) is authorised on ("Actions, resources, and condition keys for Amazon API
    # Gateway Management V2"); parliament looks for it on the action only.
    ("deploy", "HttpApiCreate", "UNKNOWN_CONDITION_FOR_ACTION"): "resource-type key of `Apis`",
    # CreateAlias is authorised on the alias (named, untagged) and on the key (tagged): two statements,
    # because a tag condition on the alias part could never hold.
    ("deploy", "KeyAliases", "RESOURCE_MISMATCH"): "key part granted by KeyAliasTargets (tagged keys)",
    ("deploy", "KeyAliasTargets", "RESOURCE_MISMATCH"): "alias part granted by KeyAliases (own names)",
    # AWS's own example for delegating with a boundary uses StringEquals on iam:PermissionsBoundary (IAM
    # User Guide, "Permissions boundaries for IAM entities"); an exact string match is what we want.
    ("deploy", "RolesWithBoundary", "MISMATCHED_TYPE_BUT_USABLE"): "AWS's documented form",
    ("deploy", "RolePolicyAttachments", "MISMATCHED_TYPE_BUT_USABLE"): "AWS's documented form",
    # kms:ResourceAliases applies to key resources (KMS Developer Guide, "kms:ResourceAliases"); parliament's
    # bundled catalogue predates it. It names the AWS managed aws/secretsmanager key, which has no tags.
    ("deploy", "KeysSecretsManagerDefault", "UNKNOWN_CONDITION_FOR_ACTION"): "catalogue predates the key",
    # "To add tags when creating a KMS key ... the permission must cover all KMS keys in the account and
    # Region" (KMS Developer Guide, "Managing KMS key tags with API operations"); the request tags must
    # still say this environment, and it is in-region.
    ("deploy", "KeysTagOnCreate", "RESOURCE_STAR"): "KMS requires it for tags on CreateKey",
    # The access-log bucket's policy is how ELB gets to write logs; the deploy role sets it on its own
    # `<project>-<env>-` buckets only, and could already delete them.
    ("deploy", "AccessLogBuckets", "RESOURCE_POLICY_PRIVILEGE_ESCALATION"): "own buckets only, by name",
}

REGION = "us-east-1"


def _scope(stack: str) -> StackScope:
    key = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/00000000-0000-0000-0000-000000000000"
    return StackScope(
        project="booking",
        stack=stack,
        account_id=ACCOUNT,
        region=REGION,
        state_bucket_arn="arn:aws:s3:::example-org-booking-pulumi-state",
        secrets_key_arn=key,
        state_key_arn=key,
        promote_from="dev" if stack == "prod" else None,
        domain_name="api.booking.example.com" if stack == "prod" else None,
        hosted_zone_id="Z0123456789EXAMPLE" if stack == "prod" else None,
    )


@cache
def _stack_documents(stack: str) -> tuple[tuple[str, str], ...]:
    """Identity policies the stack program itself declares (role inline policies)."""
    run = run_stack(stack)
    assert run.error is None, run.error
    return tuple(
        (f"{stack} {r.name}", str(r.inputs["policy"])) for r in run.of_type("aws:iam/rolePolicy:RolePolicy")
    )


def documents() -> Iterator[tuple[str, dict[str, Any]]]:
    for stack in ("dev", "prod"):
        yield "deploy", deploy_policy(_scope(stack))
        yield "preview", preview_policy(_scope(stack))
        yield "boundary", boundary_policy(_scope(stack))
    # Trust policies have no Resource: parliament audits permission policies only, so they are not here.
    yield "bucket", tls_only_bucket_policy("arn:aws:s3:::example-org-booking-pulumi-state")


def findings(kind: str, document: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    found = []
    for statement in document["Statement"]:
        policy = analyze_policy_string(json.dumps({"Version": "2012-10-17", "Statement": [statement]}))
        for finding in policy.findings:
            found.append((kind, str(statement.get("Sid", "")), finding.issue, str(finding.detail)[:200]))
    return found


def test_generated_policies_have_no_unexplained_parliament_findings() -> None:
    seen = set()
    unexplained = []
    for kind, document in documents():
        for kind_, sid, issue, detail in findings(kind, document):
            if (kind_, sid, issue) in ACCEPTED:
                seen.add((kind_, sid, issue))
            else:
                unexplained.append(f"{kind_} {sid}: {issue} {detail}")
    assert unexplained == [], "\n".join(unexplained)
    # An exception that no longer fires is stale: drop it, so the list stays a true record.
    assert sorted(set(ACCEPTED) - seen) == []


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_stacks_own_role_policies_have_no_parliament_findings(stack: str) -> None:
    found = []
    for name, text in _stack_documents(stack):
        found += [f"{name}: {f.issue} {f.detail}" for f in analyze_policy_string(text).findings]
    assert found == []


def test_parliament_does_flag_what_it_is_trusted_to_flag() -> None:
    """The linter is live: a topic-ARN grant of the subscription actions is a mismatch (issue 11)."""
    bad = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["sns:GetSubscriptionAttributes"],
                "Resource": [f"arn:aws:sns:{REGION}:{ACCOUNT}:booking-prod-alarms"],
            }
        ],
    }
    assert [f.issue for f in analyze_policy_string(json.dumps(bad)).findings] == ["RESOURCE_MISMATCH"]
