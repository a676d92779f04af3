"""IAM policy documents for the delivery pipeline, as plain functions of plain strings.

The bootstrap program (`stacks/bootstrap/`) wraps these in Pulumi resources; tests call them directly
and evaluate them (tests/iam_evaluator.py) against the calls a first `pulumi up` makes.

A deploy role is assembled from one module per AWS service the stack uses. Each grants:
- regional actions only in the stack's region (`aws:RequestedRegion`);
- named resources only under `<project>-<env>-` (ECR, ECS, ELB, RDS, Secrets Manager, Lambda, SNS,
  SQS, EventBridge, Logs, CloudWatch, S3, WAF); unnamed ones only when tagged `Environment=<env>`
  (EC2 networking, KMS keys, ACM certificates, API Gateway HTTP APIs);
- IAM only on `<project>-<env>-*` roles and policies, and only while the role carries the
  environment's permissions boundary (iam.py).
Read-only wildcards (`ec2:Describe*`) are the only wildcard actions; see `broad_actions`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from components.deploy_policies import (
    acm_route53,
    apigateway,
    awslambda,
    ec2,
    ecr,
    ecs,
    elb,
    iam,
    kms,
    logs,
    monitoring,
    notifier,
    rds,
    secretsmanager,
    state,
    wafv2,
)
from components.deploy_policies._scope import (
    ENVIRONMENT_TAG,
    PolicyDocument,
    StackScope,
    allow,
    boundary_policy_arn,
    boundary_policy_name,
)
from components.deploy_policies.github import (
    GITHUB_OIDC_HOST,
    GITHUB_OIDC_URL,
    STS_AUDIENCE,
    environment_subject,
    github_trust_policy,
    pull_request_subject,
)
from components.deploy_policies.iam import PASS_ROLE_SERVICES, SERVICE_LINKED_ROLE_SERVICES, boundary_policy
from components.deploy_policies.state import stack_state_keys, tls_only_bucket_policy
from components.iam_policies import document

# In the order the statements appear; each contributes the permissions for one AWS service.
SERVICES = (
    ecr,
    ecs,
    elb,
    ec2,
    rds,
    secretsmanager,
    iam,
    awslambda,
    notifier,
    apigateway,
    logs,
    monitoring,
    kms,
    acm_route53,
    wafv2,
)


def deploy_policy(scope: StackScope) -> PolicyDocument:
    """What `pulumi up` of one stack needs, and nothing named outside that stack."""
    statements = state.statements(scope, write=True)
    for service in SERVICES:
        if service is apigateway and not scope.http_api:
            continue
        statements += service.statements(scope)
    return document(statements)


def preview_policy(scope: StackScope) -> PolicyDocument:
    """`pulumi preview`: read this stack's state, describe what exists, change nothing."""
    statements = state.statements(scope, write=False)
    statements.append(
        allow(
            "DescribeStack",
            [
                "acm:DescribeCertificate",
                # The HTTP API front door: GET is API Gateway's only read verb.
                "apigateway:GET",
                "application-autoscaling:DescribeScalableTargets",
                "application-autoscaling:DescribeScalingPolicies",
                "cloudwatch:DescribeAlarms",
                "cloudwatch:GetDashboard",
                "ec2:DescribeAvailabilityZones",
                "ec2:DescribeSecurityGroups",
                "ec2:DescribeSubnets",
                "ec2:DescribeVpcEndpoints",
                "ec2:DescribeVpcs",
                "ecr:DescribeImages",
                "ecr:DescribeRepositories",
                "ecs:DescribeClusters",
                "ecs:DescribeServices",
                "ecs:DescribeTaskDefinition",
                "elasticloadbalancing:DescribeListeners",
                "elasticloadbalancing:DescribeLoadBalancers",
                "elasticloadbalancing:DescribeTargetGroups",
                "elasticloadbalancing:DescribeTargetHealth",
                "events:DescribeRule",
                "lambda:GetAlias",
                "lambda:GetFunction",
                "lambda:GetFunctionConcurrency",
                "lambda:GetPolicy",
                "lambda:GetProvisionedConcurrencyConfig",
                "lambda:ListVersionsByFunction",
                "logs:DescribeLogGroups",
                "rds:DescribeDBInstances",
                "secretsmanager:DescribeSecret",
                "sns:GetTopicAttributes",
                "sqs:GetQueueAttributes",
                "wafv2:GetWebACL",
            ],
            ["*"],
            scope.in_region(),
        )
    )
    statements.append(
        allow(
            "DescribeRoles",
            ["iam:GetPolicy", "iam:GetRole"],
            [
                scope.arn("iam", f"role/{scope.prefix}*", region=False),
                scope.arn("iam", f"policy/{scope.prefix}*", region=False),
            ],
        )
    )
    return document(statements)


# --- invariants, used by the tests and by the bootstrap program before it declares anything ------

# IAM counts a customer managed policy's characters without whitespace; 6,144 is the limit.
MANAGED_POLICY_MAX_CHARS = 6144
# Managed policies attached to one role: 10 by default (IAM and AWS STS quotas).
MANAGED_POLICIES_PER_ROLE = 10


def policy_json(doc: PolicyDocument) -> str:
    return json.dumps(doc, separators=(",", ":"))


def pack(doc: PolicyDocument, limit: int = MANAGED_POLICY_MAX_CHARS) -> list[PolicyDocument]:
    """The statements, in order, packed into as few managed policies as fit the size limit.

    Statements are never split or reordered, so a given policy always packs the same way.
    """
    parts: list[list[dict[str, Any]]] = [[]]
    for statement in doc["Statement"]:
        if len(policy_json(document([statement]))) > limit:
            raise ValueError(f"statement {statement.get('Sid')} alone exceeds {limit} characters")
        if parts[-1] and len(policy_json(document([*parts[-1], statement]))) > limit:
            parts.append([])
        parts[-1].append(statement)
    if len(parts) > MANAGED_POLICIES_PER_ROLE:
        raise ValueError(
            f"{len(parts)} managed policies needed; a role may carry {MANAGED_POLICIES_PER_ROLE}"
        )
    return [document(part) for part in parts]


def split_by_part(doc: PolicyDocument, parts: Mapping[str, Sequence[str]]) -> dict[str, PolicyDocument]:
    """The document's statements grouped by `parts` (part name → Sids); every statement lands once."""
    by_sid = {statement["Sid"]: statement for statement in doc["Statement"]}
    placed = [sid for sids in parts.values() for sid in sids]
    unplaced = sorted(set(by_sid) - set(placed))
    if unplaced:
        raise ValueError(f"statements not assigned to a policy part: {', '.join(unplaced)}")
    return {name: document([by_sid[sid] for sid in sids if sid in by_sid]) for name, sids in parts.items()}


def _as_list(value: object) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else [value]


READ_ONLY_VERBS = ("Describe", "Get", "List")


def broad_actions(doc: PolicyDocument) -> list[str]:
    """Allowed actions that grant a whole service or everything (`*`, `s3:*`), or any wildcard that is
    not a read-only verb (`ec2:Describe*` is fine, `ec2:Create*` is not)."""
    found = []
    for statement in doc["Statement"]:
        if statement.get("Effect") != "Allow":
            continue
        for action in map(str, _as_list(statement.get("Action", []))):
            verb = action.split(":", 1)[1] if ":" in action else action
            if "*" in action and not (verb.startswith(READ_ONLY_VERBS) and verb.index("*") > 0):
                found.append(action)
        if "NotAction" in statement:
            found.append(f"NotAction {statement['NotAction']}")
    return found


def assert_least_privilege(doc: PolicyDocument) -> None:
    broad = broad_actions(doc)
    if broad:
        raise ValueError(f"policy grants whole services or everything: {', '.join(broad)}")


__all__ = [
    "ENVIRONMENT_TAG",
    "GITHUB_OIDC_HOST",
    "GITHUB_OIDC_URL",
    "MANAGED_POLICIES_PER_ROLE",
    "MANAGED_POLICY_MAX_CHARS",
    "PASS_ROLE_SERVICES",
    "SERVICE_LINKED_ROLE_SERVICES",
    "STS_AUDIENCE",
    "PolicyDocument",
    "StackScope",
    "assert_least_privilege",
    "boundary_policy",
    "boundary_policy_arn",
    "boundary_policy_name",
    "broad_actions",
    "deploy_policy",
    "environment_subject",
    "github_trust_policy",
    "pack",
    "policy_json",
    "preview_policy",
    "pull_request_subject",
    "split_by_part",
    "stack_state_keys",
    "tls_only_bucket_policy",
]
