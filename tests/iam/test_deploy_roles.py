"""The delivery roles, evaluated as IAM would (tests/iam/evaluator.py), against real calls.

- every call the first `pulumi up` of dev and prod makes (tests/iam/calls.py, derived from what the
  stack program declares) is allowed to that stack's deploy role;
- the calls that must never succeed are refused: users, admin policies, the delivery roles' own
  policies, roles without the boundary, the other environment's resources, state and keys;
- every role the stack creates, constrained by the boundary, can still make its own calls.

Over 400 lines: the allowed and the refused calls stay side by side, so a reviewer sees both sides of
each grant.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import pytest

from components.deploy_policies import (
    StackScope,
    boundary_policy,
    boundary_policy_arn,
    deploy_policy,
    preview_policy,
    stack_state_keys,
)
from stacks.aws_answers import ACCOUNT
from stacks.offline import OfflineRun, run_stack
from tests.iam.calls import GLOBAL_REGION, first_up
from tests.iam.evaluator import ALLOWED, EXPLICIT_DENY, IMPLICIT_DENY, Request, evaluate

REGION = "us-east-1"
BUCKET = "arn:aws:s3:::example-org-booking-pulumi-state"
STATE_KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/00000000-0000-0000-0000-5ta7e0000000"
STACK_KEYS = {
    "dev": f"arn:aws:kms:{REGION}:{ACCOUNT}:key/00000000-0000-0000-0000-000000000dev",
    "prod": f"arn:aws:kms:{REGION}:{ACCOUNT}:key/00000000-0000-0000-0000-00000000prod",
}


def scope(stack: str) -> StackScope:
    return StackScope(
        project="booking",
        stack=stack,
        account_id=ACCOUNT,
        region=REGION,
        state_bucket_arn=BUCKET,
        secrets_key_arn=STACK_KEYS[stack],
        state_key_arn=STATE_KEY,
        promote_from="dev" if stack == "prod" else None,
        domain_name="api.booking.example.com" if stack == "prod" else None,
        hosted_zone_id="Z0123456789EXAMPLE" if stack == "prod" else None,
        http_api=stack != "prod",  # as the bootstrap program sets it (prod keeps the ALB)
    )


@cache
def _run(stack: str) -> OfflineRun:
    run = run_stack(stack)
    assert run.error is None, run.error
    return run


def deploy(stack: str, request: Request) -> str:
    return evaluate([deploy_policy(scope(stack))], request)


def ctx(**extra: Any) -> dict[str, Any]:
    return {"aws:RequestedRegion": REGION, **extra}


def iam_ctx(**extra: Any) -> dict[str, Any]:
    return {"aws:RequestedRegion": GLOBAL_REGION, **extra}


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_deploy_role_can_make_every_call_of_the_first_up(stack: str) -> None:
    calls, unmapped = first_up(_run(stack))
    assert unmapped == [], f"resource types with no entry in tests/iam/calls.py: {unmapped}"
    assert len(calls) > 100
    refused = [
        f"{label}: {r.action} on {r.resource} → {deploy(stack, r)}"
        for label, r in calls
        if deploy(stack, r) != ALLOWED
    ]
    assert refused == [], "\n".join(refused)


def test_the_first_up_of_prod_covers_https_waf_and_enhanced_monitoring() -> None:
    actions = {request.action for _, request in first_up(_run("prod"))[0]}
    assert {"acm:RequestCertificate", "route53:ChangeResourceRecordSets", "wafv2:CreateWebACL"} <= actions
    assert {"kms:TagResource", "kms:DescribeKey", "sns:GetSubscriptionAttributes", "iam:PassRole"} <= actions


# --- the three defects of the old, hand-kept list (issue 11), each with the old statement ----------


OLD_KMS_TAG = {  # tag permission only on keys already tagged for the environment
    "Effect": "Allow",
    "Action": ["kms:TagResource"],
    "Resource": [f"arn:aws:kms:{REGION}:{ACCOUNT}:key/*"],
    "Condition": {"StringEquals": {"aws:ResourceTag/Environment": "prod"}},
}
OLD_TOPICS = {
    "Effect": "Allow",
    "Action": ["sns:GetSubscriptionAttributes", "sns:SetSubscriptionAttributes", "sns:Unsubscribe"],
    "Resource": [f"arn:aws:sns:{REGION}:{ACCOUNT}:booking-prod-*"],
}
OLD_KEYS_OWNED = {
    "Effect": "Allow",
    "Action": ["kms:DescribeKey"],
    "Resource": [f"arn:aws:kms:{REGION}:{ACCOUNT}:key/*"],
    "Condition": {"StringEquals": {"aws:ResourceTag/Environment": "prod"}},
}
TAGS = {
    "aws:RequestTag/Environment": "prod",
    "aws:RequestTag/Project": "booking",
    "aws:TagKeys": ["Environment", "Project"],
}
DEFECTS = [
    (OLD_KMS_TAG, Request("kms:TagResource", "*", ctx(**TAGS))),
    (
        OLD_KEYS_OWNED,
        Request(
            "kms:DescribeKey",
            f"arn:aws:kms:{REGION}:{ACCOUNT}:key/aws-managed",
            ctx(**{"kms:ResourceAliases": ["alias/aws/secretsmanager"]}),
        ),
    ),
    (OLD_TOPICS, Request("sns:GetSubscriptionAttributes", "*", ctx())),
]


@pytest.mark.parametrize(
    ("old", "request_"), DEFECTS, ids=["CreateKey-tags", "aws/secretsmanager", "subscriptions"]
)
def test_each_defect_of_the_old_policy_is_fixed(old: dict[str, Any], request_: Request) -> None:
    assert evaluate([{"Statement": [old]}], request_) == IMPLICIT_DENY  # the old grant: refused
    assert deploy("prod", request_) == ALLOWED


# --- what must be refused -------------------------------------------------------------------------

BOUNDARY = boundary_policy_arn(ACCOUNT, "booking", "prod")
DEV_BOUNDARY = boundary_policy_arn(ACCOUNT, "booking", "dev")
OWN_ROLE = f"arn:aws:iam::{ACCOUNT}:role/booking-prod-task-1a2b3c"
ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"

REFUSED: list[tuple[str, Request, str]] = [
    (
        "create a user",
        Request("iam:CreateUser", f"arn:aws:iam::{ACCOUNT}:user/booking-prod-x", iam_ctx()),
        IMPLICIT_DENY,
    ),
    (
        "access keys",
        Request("iam:CreateAccessKey", f"arn:aws:iam::{ACCOUNT}:user/ci", iam_ctx()),
        IMPLICIT_DENY,
    ),
    (
        "attach AdministratorAccess to a stack role",
        Request(
            "iam:AttachRolePolicy",
            OWN_ROLE,
            iam_ctx(**{"iam:PolicyARN": ADMIN, "iam:PermissionsBoundary": BOUNDARY}),
        ),
        IMPLICIT_DENY,
    ),
    (
        "attach AdministratorAccess to the deploy role",
        Request(
            "iam:AttachRolePolicy",
            f"arn:aws:iam::{ACCOUNT}:role/booking-deploy-prod",
            iam_ctx(**{"iam:PolicyARN": ADMIN}),
        ),
        EXPLICIT_DENY,
    ),
    (
        "inline policy on the deploy role",
        Request("iam:PutRolePolicy", f"arn:aws:iam::{ACCOUNT}:role/booking-deploy-prod", iam_ctx()),
        EXPLICIT_DENY,
    ),
    (
        "new version of the deploy role's own policy",
        Request(
            "iam:CreatePolicyVersion", f"arn:aws:iam::{ACCOUNT}:policy/booking-deploy-prod-part1", iam_ctx()
        ),
        EXPLICIT_DENY,
    ),
    (
        "trust policy of the deploy role",
        Request("iam:UpdateAssumeRolePolicy", f"arn:aws:iam::{ACCOUNT}:role/booking-deploy-prod", iam_ctx()),
        EXPLICIT_DENY,
    ),
    ("edit the boundary", Request("iam:CreatePolicyVersion", BOUNDARY, iam_ctx()), EXPLICIT_DENY),
    ("delete the boundary", Request("iam:DeletePolicy", BOUNDARY, iam_ctx()), EXPLICIT_DENY),
    (
        "remove a role's boundary",
        Request(
            "iam:DeleteRolePermissionsBoundary", OWN_ROLE, iam_ctx(**{"iam:PermissionsBoundary": BOUNDARY})
        ),
        EXPLICIT_DENY,
    ),
    ("create a role without the boundary", Request("iam:CreateRole", OWN_ROLE, iam_ctx()), IMPLICIT_DENY),
    (
        "create a role with dev's boundary",
        Request("iam:CreateRole", OWN_ROLE, iam_ctx(**{"iam:PermissionsBoundary": DEV_BOUNDARY})),
        IMPLICIT_DENY,
    ),
    (
        "inline policy on a role without boundary",
        Request("iam:PutRolePolicy", OWN_ROLE, iam_ctx()),
        IMPLICIT_DENY,
    ),
    (
        "a role outside the prefix",
        Request(
            "iam:CreateRole",
            f"arn:aws:iam::{ACCOUNT}:role/other-app",
            iam_ctx(**{"iam:PermissionsBoundary": BOUNDARY}),
        ),
        IMPLICIT_DENY,
    ),
    (
        "pass a stack role to EC2",
        Request("iam:PassRole", OWN_ROLE, iam_ctx(**{"iam:PassedToService": "ec2.amazonaws.com"})),
        IMPLICIT_DENY,
    ),
    # The other environment.
    (
        "delete dev's database",
        Request("rds:DeleteDBInstance", f"arn:aws:rds:{REGION}:{ACCOUNT}:db:booking-dev-db", ctx()),
        IMPLICIT_DENY,
    ),
    (
        "delete dev's VPC",
        Request(
            "ec2:DeleteVpc",
            f"arn:aws:ec2:{REGION}:{ACCOUNT}:vpc/vpc-0dev",
            ctx(**{"aws:ResourceTag/Environment": "dev"}),
        ),
        IMPLICIT_DENY,
    ),
    (
        "a subnet in dev's VPC",
        Request(
            "ec2:CreateSubnet",
            f"arn:aws:ec2:{REGION}:{ACCOUNT}:vpc/vpc-0dev",
            ctx(**{"aws:ResourceTag/Environment": "dev", "aws:RequestTag/Environment": "prod"}),
        ),
        IMPLICIT_DENY,
    ),
    (
        "retag dev's subnet as prod",
        Request(
            "ec2:CreateTags",
            f"arn:aws:ec2:{REGION}:{ACCOUNT}:subnet/subnet-0dev",
            ctx(**{"aws:ResourceTag/Environment": "dev", "aws:RequestTag/Environment": "prod"}),
        ),
        IMPLICIT_DENY,
    ),
    (
        "a VPC tagged for dev",
        Request(
            "ec2:CreateVpc",
            f"arn:aws:ec2:{REGION}:{ACCOUNT}:vpc/vpc-0new",
            ctx(**{"aws:RequestTag/Environment": "dev"}),
        ),
        IMPLICIT_DENY,
    ),
    (
        "untagged VPC",
        Request("ec2:CreateVpc", f"arn:aws:ec2:{REGION}:{ACCOUNT}:vpc/vpc-0new", ctx()),
        IMPLICIT_DENY,
    ),
    (
        "an instance",
        Request(
            "ec2:RunInstances",
            f"arn:aws:ec2:{REGION}:{ACCOUNT}:instance/*",
            ctx(**{"aws:RequestTag/Environment": "prod"}),
        ),
        IMPLICIT_DENY,
    ),
    (
        "dev's secret",
        Request(
            "secretsmanager:GetSecretValue",
            f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:booking-dev/jwt-AbCdEf",
            ctx(),
        ),
        IMPLICIT_DENY,
    ),
    (
        "push to dev's repository",
        Request("ecr:PutImage", f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/booking-dev-api", ctx()),
        IMPLICIT_DENY,
    ),
    (
        "dev's state",
        Request("s3:GetObject", f"{BUCKET}/.pulumi/stacks/booking/dev.json", ctx()),
        IMPLICIT_DENY,
    ),
    ("dev's secrets key", Request("kms:Decrypt", STACK_KEYS["dev"], ctx()), IMPLICIT_DENY),
    (
        "dev's state through the bucket key",
        Request(
            "kms:Decrypt",
            STATE_KEY,
            ctx(
                **{
                    "kms:ViaService": f"s3.{REGION}.amazonaws.com",
                    "kms:EncryptionContext:aws:s3:arn": f"{BUCKET}/.pulumi/stacks/booking/dev.json",
                }
            ),
        ),
        IMPLICIT_DENY,
    ),
    ("the bucket key outside S3", Request("kms:Decrypt", STATE_KEY, ctx()), IMPLICIT_DENY),
    (
        "dev's DNS name",
        Request(
            "route53:ChangeResourceRecordSets",
            "arn:aws:route53:::hostedzone/Z0123456789EXAMPLE",
            iam_ctx(**{"route53:ChangeResourceRecordSetsNormalizedRecordNames": ["www.booking.example.com"]}),
        ),
        IMPLICIT_DENY,
    ),
    # Outside the region.
    (
        "a cluster in another region",
        Request(
            "ecs:CreateCluster",
            f"arn:aws:ecs:eu-west-1:{ACCOUNT}:cluster/booking-prod",
            {"aws:RequestedRegion": "eu-west-1"},
        ),
        IMPLICIT_DENY,
    ),
    (
        "a VPC in another region",
        Request(
            "ec2:CreateVpc",
            f"arn:aws:ec2:eu-west-1:{ACCOUNT}:vpc/vpc-0new",
            {"aws:RequestedRegion": "eu-west-1", "aws:RequestTag/Environment": "prod"},
        ),
        IMPLICIT_DENY,
    ),
]


@pytest.mark.parametrize(("what", "request_", "expected"), REFUSED, ids=[r[0] for r in REFUSED])
def test_the_prod_deploy_role_refuses(what: str, request_: Request, expected: str) -> None:
    assert deploy("prod", request_) == expected, what


def test_the_same_calls_on_prod_own_resources_are_allowed() -> None:
    """The refusals above are about whose resource it is, not about the action."""
    own = [
        Request("rds:DeleteDBInstance", f"arn:aws:rds:{REGION}:{ACCOUNT}:db:booking-prod-db", ctx()),
        Request(
            "ec2:DeleteVpc",
            f"arn:aws:ec2:{REGION}:{ACCOUNT}:vpc/vpc-0p",
            ctx(**{"aws:ResourceTag/Environment": "prod"}),
        ),
        Request("s3:GetObject", f"{BUCKET}/.pulumi/stacks/booking/prod.json", ctx()),
        Request("kms:Decrypt", STACK_KEYS["prod"], ctx()),
        Request(
            "kms:Decrypt",
            STATE_KEY,
            ctx(
                **{
                    "kms:ViaService": f"s3.{REGION}.amazonaws.com",
                    "kms:EncryptionContext:aws:s3:arn": f"{BUCKET}/.pulumi/stacks/booking/prod.json",
                }
            ),
        ),
        Request("ecr:BatchGetImage", f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/booking-dev-api", ctx()),
        Request("iam:PutRolePolicy", OWN_ROLE, iam_ctx(**{"iam:PermissionsBoundary": BOUNDARY})),
    ]
    assert [deploy("prod", r) for r in own] == [ALLOWED] * len(own)


def test_dev_cannot_touch_prod() -> None:
    for request_ in [
        Request("s3:PutObject", f"{BUCKET}/.pulumi/stacks/booking/prod.json", ctx()),
        Request("kms:Decrypt", STACK_KEYS["prod"], ctx()),
        Request("rds:ModifyDBInstance", f"arn:aws:rds:{REGION}:{ACCOUNT}:db:booking-prod-db", ctx()),
        Request("ecr:BatchGetImage", f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/booking-prod-api", ctx()),
        Request(
            "iam:CreateRole",
            f"arn:aws:iam::{ACCOUNT}:role/booking-prod-x",
            iam_ctx(**{"iam:PermissionsBoundary": BOUNDARY}),
        ),
    ]:
        assert deploy("dev", request_) == IMPLICIT_DENY, request_


# --- preview roles -----------------------------------------------------------------------------------


def test_a_preview_role_reads_its_own_state_only_and_writes_no_checkpoint() -> None:
    policy = preview_policy(scope("dev"))
    own = f"{BUCKET}/{stack_state_keys('booking', 'dev')[0].rstrip('*')}"
    assert evaluate([policy], Request("s3:GetObject", own, ctx())) == ALLOWED
    assert evaluate([policy], Request("s3:PutObject", own, ctx())) == IMPLICIT_DENY
    assert (
        evaluate([policy], Request("s3:GetObject", f"{BUCKET}/.pulumi/stacks/booking/prod.json", ctx()))
        == IMPLICIT_DENY
    )
    assert evaluate([policy], Request("kms:Decrypt", STACK_KEYS["prod"], ctx())) == IMPLICIT_DENY


# --- the roles the stack creates, inside the boundary ------------------------------------------------


def _role_policies(run: OfflineRun) -> dict[str, list[dict[str, Any]]]:
    by_role: dict[str, list[dict[str, Any]]] = {}
    for resource in run.of_type("aws:iam/rolePolicy:RolePolicy"):
        by_role.setdefault(str(resource.inputs["role"]), []).append(json.loads(resource.inputs["policy"]))
    return by_role


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_role_the_stack_declares_carries_its_boundary(stack: str) -> None:
    roles = _run(stack).of_type("aws:iam/role:Role")
    assert len(roles) >= 4
    assert {r.name: r.inputs.get("permissionsBoundary") for r in roles} == {
        r.name: boundary_policy_arn(ACCOUNT, "booking", stack) for r in roles
    }


def test_the_stack_roles_can_still_do_their_jobs_inside_the_boundary() -> None:
    run = _run("prod")
    boundary = boundary_policy(scope("prod"))
    topic = next(str(r.inputs["arn"]) for r in run.of_type("aws:sns/topicPolicy:TopicPolicy"))
    # Every action on every resource each role's own policy names must survive the boundary.
    refused = []
    for role, policies in _role_policies(run).items():
        for policy in policies:
            for statement in policy["Statement"]:
                for action in statement["Action"]:
                    for resource in statement["Resource"]:
                        request_ = Request(action, resource.replace(":log-stream:*", ":log-stream:x"), ctx())
                        if evaluate(policies, request_, boundary) != ALLOWED:
                            refused.append(f"{role}: {action} on {resource}")
    assert refused == []
    assert len(_role_policies(run)) == 4
    # Whatever policy a role is given, the boundary caps it: admin inside the boundary is not admin.
    admin = [{"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}]
    for request_ in [
        Request("iam:CreateUser", f"arn:aws:iam::{ACCOUNT}:user/x", iam_ctx()),
        Request("s3:GetObject", f"{BUCKET}/.pulumi/stacks/booking/prod.json", ctx()),
        Request("sns:Publish", topic.replace("prod", "dev"), ctx()),
        Request(
            "secretsmanager:GetSecretValue",
            f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:booking-dev/jwt-AbCdEf",
            ctx(),
        ),
    ]:
        assert evaluate(admin, request_, boundary) == IMPLICIT_DENY, request_
