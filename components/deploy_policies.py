"""IAM policy documents for the delivery pipeline, as plain functions of plain strings.

The bootstrap program (`stacks/bootstrap/`) wraps these in Pulumi resources; tests call them directly.

Scope of a deploy role, per environment `<env>` of project `<project>`:
- state: only this stack's objects in the state bucket (`.pulumi/stacks/<project>/<env>.json*`, its
  history, backups and locks), plus the backend's `meta.yaml`; the one KMS key of the backend.
- AWS services the stack manages: every action named explicitly (no `*` and no `service:*`; wildcards
  only for read-only verbs such as `ec2:Describe*`, which Pulumi's refreshes need in bulk), on ARNs
  that start with `<project>-<env>-` wherever the service puts the name in the ARN. EC2 networking
  and Application Auto Scaling have no such ARNs; they are limited to the stack's region and to the
  listed actions (no instance, volume or image actions at all).
- IAM: roles and policies named `<project>-<env>-*` only; `iam:PassRole` only to the services the
  stack hands roles to; managed policies attached only from AWS's `service-role/` path or the
  environment's own prefix.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from components.iam_policies import Statement
from components.iam_policies import document as _document
from components.iam_policies import statement as _statement

PolicyDocument = dict[str, Any]

GITHUB_OIDC_HOST = "token.actions.githubusercontent.com"
GITHUB_OIDC_URL = f"https://{GITHUB_OIDC_HOST}"
STS_AUDIENCE = "sts.amazonaws.com"

# Services the stack hands a role to (task/execution roles, the notifier Lambda, flow logs, RDS
# enhanced monitoring). PassRole to anything else is refused.
PASS_ROLE_SERVICES: tuple[str, ...] = (
    "ecs-tasks.amazonaws.com",
    "lambda.amazonaws.com",
    "vpc-flow-logs.amazonaws.com",
    "monitoring.rds.amazonaws.com",
)

# Service-linked roles AWS creates on first use of these services in an account.
SERVICE_LINKED_ROLE_SERVICES: tuple[str, ...] = (
    "ecs.amazonaws.com",
    "elasticloadbalancing.amazonaws.com",
    "rds.amazonaws.com",
    "ecs.application-autoscaling.amazonaws.com",
)


def _allow(sid: str, actions: Sequence[str], resources: Sequence[str], **condition: Any) -> Statement:
    return _statement(sorted(actions), resources, sid=sid, condition=condition)


# --- trust --------------------------------------------------------------------------------------


def environment_subject(repository: str, environment: str) -> str:
    """The `sub` claim GitHub puts in the OIDC token of a job that runs in a GitHub environment."""
    return f"repo:{repository}:environment:{environment}"


def pull_request_subject(repository: str) -> str:
    """The `sub` claim of a job triggered by `pull_request` (never issued to forks' workflows)."""
    return f"repo:{repository}:pull_request"


def github_trust_policy(provider_arn: str, subject: str) -> PolicyDocument:
    """Who may assume a role: exactly one GitHub subject of one repository, audience STS.

    StringEquals, never StringLike: a wildcard (`repo:owner/*`, `...:environment:*`) would hand prod
    credentials to any branch, fork-synced repository or environment that matches.
    """
    return _document(
        [
            {
                "Sid": "GitHubActionsOidc",
                "Effect": "Allow",
                "Principal": {"Federated": provider_arn},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {
                    "StringEquals": {
                        f"{GITHUB_OIDC_HOST}:aud": STS_AUDIENCE,
                        f"{GITHUB_OIDC_HOST}:sub": subject,
                    }
                },
            }
        ]
    )


# --- state bucket -------------------------------------------------------------------------------


def tls_only_bucket_policy(bucket_arn: str) -> PolicyDocument:
    """Refuse every request to the state bucket that is not over TLS."""
    return _document(
        [
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [bucket_arn, f"{bucket_arn}/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            }
        ]
    )


def stack_state_keys(project: str, stack: str) -> list[str]:
    """Object key patterns the DIY (S3) backend uses for one project-scoped stack."""
    return [
        f".pulumi/stacks/{project}/{stack}.json*",
        f".pulumi/history/{project}/{stack}/*",
        f".pulumi/backups/{project}/{stack}/*",
        f".pulumi/locks/organization/{project}/{stack}/*",
    ]


@dataclass(frozen=True)
class StackScope:
    """What one deploy (or preview) role may touch."""

    project: str
    stack: str
    account_id: str
    region: str
    state_bucket_arn: str
    secrets_key_arn: str
    # Prod pulls the image dev already runs from dev's repository; None for dev itself.
    promote_from: str | None = None

    @property
    def base(self) -> str:
        """`<project>-<stack>`: the physical name (or name prefix) of everything the stack creates."""
        return f"{self.project}-{self.stack}"

    @property
    def prefix(self) -> str:
        return f"{self.base}-"

    def arn(self, service: str, resource: str, *, region: bool = True) -> str:
        return f"arn:aws:{service}:{self.region if region else ''}:{self.account_id}:{resource}"


def _state_statements(scope: StackScope, *, write: bool) -> list[Statement]:
    keys = [f"{scope.state_bucket_arn}/{key}" for key in stack_state_keys(scope.project, scope.stack)]
    lock_keys = [f"{scope.state_bucket_arn}/.pulumi/locks/organization/{scope.project}/{scope.stack}/*"]
    object_actions = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"] if write else ["s3:GetObject"]
    statements = [
        _allow("StateList", ["s3:ListBucket", "s3:GetBucketLocation"], [scope.state_bucket_arn]),
        _allow("StateMeta", ["s3:GetObject"], [f"{scope.state_bucket_arn}/.pulumi/meta.yaml"]),
        _allow("StateObjects", object_actions, keys),
    ]
    if not write:
        # A preview still takes the stack's lock; it never writes the checkpoint.
        statements.append(_allow("StateLock", ["s3:PutObject", "s3:DeleteObject"], lock_keys))
    key_actions = (
        ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey"]
        if write
        else ["kms:Decrypt", "kms:DescribeKey"]
    )
    statements.append(_allow("StateKey", key_actions, [scope.secrets_key_arn]))
    return statements


# --- deploy role --------------------------------------------------------------------------------


def deploy_policy(scope: StackScope) -> PolicyDocument:
    """What `pulumi up` of one stack needs, and nothing named outside that stack."""
    p = scope.prefix
    base = scope.base
    in_region = {"StringEquals": {"aws:RequestedRegion": scope.region}}
    statements = _state_statements(scope, write=True)

    statements += [
        _allow("EcrLogin", ["ecr:GetAuthorizationToken"], ["*"]),
        _allow(
            "EcrRepository",
            [
                "ecr:BatchCheckLayerAvailability",
                "ecr:BatchDeleteImage",
                "ecr:BatchGetImage",
                "ecr:CompleteLayerUpload",
                "ecr:CreateRepository",
                "ecr:DeleteLifecyclePolicy",
                "ecr:DeleteRepository",
                "ecr:DeleteRepositoryPolicy",
                "ecr:DescribeImages",
                "ecr:DescribeRepositories",
                "ecr:GetDownloadUrlForLayer",
                "ecr:GetLifecyclePolicy",
                "ecr:GetRepositoryPolicy",
                "ecr:InitiateLayerUpload",
                "ecr:ListImages",
                "ecr:ListTagsForResource",
                "ecr:PutImage",
                "ecr:PutImageScanningConfiguration",
                "ecr:PutImageTagMutability",
                "ecr:PutLifecyclePolicy",
                "ecr:SetRepositoryPolicy",
                "ecr:TagResource",
                "ecr:UntagResource",
                "ecr:UploadLayerPart",
            ],
            [scope.arn("ecr", f"repository/{p}*")],
        ),
    ]
    if scope.promote_from:
        source = f"{scope.project}-{scope.promote_from}-"
        statements.append(
            _allow(
                "EcrPromotionSource",
                [
                    "ecr:BatchCheckLayerAvailability",
                    "ecr:BatchGetImage",
                    "ecr:DescribeImages",
                    "ecr:GetDownloadUrlForLayer",
                ],
                [scope.arn("ecr", f"repository/{source}*")],
            )
        )

    statements += [
        _allow(
            "EcsUnscoped",  # task-definition (de)registration has no resource-level permissions; reads
            [
                "ecs:DeregisterTaskDefinition",
                "ecs:Describe*",
                "ecs:List*",
                "ecs:RegisterTaskDefinition",
            ],
            ["*"],
            **in_region,
        ),
        _allow(
            "EcsNamed",
            [
                "ecs:CreateCluster",
                "ecs:CreateService",
                "ecs:DeleteCluster",
                "ecs:DeleteService",
                "ecs:DescribeClusters",
                "ecs:DescribeServices",
                "ecs:ListTagsForResource",
                "ecs:PutClusterCapacityProviders",
                "ecs:TagResource",
                "ecs:UntagResource",
                "ecs:UpdateCluster",
                "ecs:UpdateClusterSettings",
                "ecs:UpdateService",
            ],
            [
                scope.arn("ecs", f"cluster/{base}"),
                scope.arn("ecs", f"cluster/{p}*"),
                scope.arn("ecs", f"service/{base}/*"),
                scope.arn("ecs", f"service/{p}*/*"),
                scope.arn("ecs", f"task-definition/{p}*:*"),
            ],
        ),
        _allow(
            "LoadBalancerRead",
            [
                "elasticloadbalancing:Describe*",
            ],
            ["*"],
            **in_region,
        ),
        _allow(
            "LoadBalancerNamed",
            [
                "elasticloadbalancing:AddTags",
                "elasticloadbalancing:CreateListener",
                "elasticloadbalancing:CreateLoadBalancer",
                "elasticloadbalancing:CreateRule",
                "elasticloadbalancing:CreateTargetGroup",
                "elasticloadbalancing:DeleteListener",
                "elasticloadbalancing:DeleteLoadBalancer",
                "elasticloadbalancing:DeleteRule",
                "elasticloadbalancing:DeleteTargetGroup",
                "elasticloadbalancing:ModifyListener",
                "elasticloadbalancing:ModifyListenerAttributes",
                "elasticloadbalancing:ModifyLoadBalancerAttributes",
                "elasticloadbalancing:ModifyRule",
                "elasticloadbalancing:ModifyTargetGroup",
                "elasticloadbalancing:ModifyTargetGroupAttributes",
                "elasticloadbalancing:RemoveTags",
                "elasticloadbalancing:SetSecurityGroups",
                "elasticloadbalancing:SetSubnets",
            ],
            [
                scope.arn("elasticloadbalancing", f"loadbalancer/app/{base}/*"),
                scope.arn("elasticloadbalancing", f"loadbalancer/app/{p}*/*"),
                scope.arn("elasticloadbalancing", f"targetgroup/{p}*/*"),
                scope.arn("elasticloadbalancing", f"listener/app/{base}/*/*"),
                scope.arn("elasticloadbalancing", f"listener/app/{p}*/*/*"),
                scope.arn("elasticloadbalancing", f"listener-rule/app/{base}/*/*/*"),
                scope.arn("elasticloadbalancing", f"listener-rule/app/{p}*/*/*/*"),
            ],
        ),
        _allow(
            "Network",  # VPC resources carry no name in their ARN: region and action list only
            [
                "ec2:AllocateAddress",
                "ec2:AssociateRouteTable",
                "ec2:AttachInternetGateway",
                "ec2:AuthorizeSecurityGroupEgress",
                "ec2:AuthorizeSecurityGroupIngress",
                "ec2:CreateFlowLogs",
                "ec2:CreateInternetGateway",
                "ec2:CreateNatGateway",
                "ec2:CreateRoute",
                "ec2:CreateRouteTable",
                "ec2:CreateSecurityGroup",
                "ec2:CreateSubnet",
                "ec2:CreateTags",
                "ec2:CreateVpc",
                "ec2:CreateVpcEndpoint",
                "ec2:DeleteFlowLogs",
                "ec2:DeleteInternetGateway",
                "ec2:DeleteNatGateway",
                "ec2:DeleteRoute",
                "ec2:DeleteRouteTable",
                "ec2:DeleteSecurityGroup",
                "ec2:DeleteSubnet",
                "ec2:DeleteTags",
                "ec2:DeleteVpc",
                "ec2:DeleteVpcEndpoints",
                "ec2:Describe*",
                "ec2:DisassociateAddress",
                "ec2:DisassociateRouteTable",
                "ec2:DetachInternetGateway",
                "ec2:ModifySecurityGroupRules",
                "ec2:ModifySubnetAttribute",
                "ec2:ModifyVpcAttribute",
                "ec2:ModifyVpcEndpoint",
                "ec2:ReleaseAddress",
                "ec2:ReplaceRoute",
                "ec2:ReplaceRouteTableAssociation",
                "ec2:RevokeSecurityGroupEgress",
                "ec2:RevokeSecurityGroupIngress",
                "ec2:UpdateSecurityGroupRuleDescriptionsEgress",
                "ec2:UpdateSecurityGroupRuleDescriptionsIngress",
            ],
            ["*"],
            **in_region,
        ),
        _allow(
            "DatabaseRead",
            [
                "rds:Describe*",
            ],
            ["*"],
            **in_region,
        ),
        _allow(
            "DatabaseNamed",
            [
                "rds:AddTagsToResource",
                "rds:CreateDBInstance",
                "rds:CreateDBParameterGroup",
                "rds:CreateDBSnapshot",
                "rds:CreateDBSubnetGroup",
                "rds:DeleteDBInstance",
                "rds:DeleteDBParameterGroup",
                "rds:DeleteDBSubnetGroup",
                "rds:ListTagsForResource",
                "rds:ModifyDBInstance",
                "rds:ModifyDBParameterGroup",
                "rds:ModifyDBSubnetGroup",
                "rds:RebootDBInstance",
                "rds:RemoveTagsFromResource",
                "rds:ResetDBParameterGroup",
            ],
            [
                scope.arn("rds", f"db:{base}"),
                scope.arn("rds", f"db:{p}*"),
                scope.arn("rds", f"subgrp:{p}*"),
                scope.arn("rds", f"pg:{p}*"),
                scope.arn("rds", f"snapshot:{p}*"),
                # CreateDBInstance is also authorised against the default option/parameter groups.
                scope.arn("rds", "og:default:*"),
                scope.arn("rds", "pg:default.*"),
            ],
        ),
        _allow(
            "DatabaseManagedPassword",  # RDS creates `rds!db-…` secrets on the caller's behalf
            ["secretsmanager:CreateSecret", "secretsmanager:DescribeSecret", "secretsmanager:TagResource"],
            [scope.arn("secretsmanager", "secret:rds!*")],
        ),
        _allow(
            "AppSecrets",
            [
                "secretsmanager:CreateSecret",
                "secretsmanager:DeleteSecret",
                "secretsmanager:DescribeSecret",
                "secretsmanager:GetResourcePolicy",
                "secretsmanager:GetSecretValue",
                "secretsmanager:PutSecretValue",
                "secretsmanager:RestoreSecret",
                "secretsmanager:TagResource",
                "secretsmanager:UntagResource",
                "secretsmanager:UpdateSecret",
            ],
            [scope.arn("secretsmanager", f"secret:{base}/*"), scope.arn("secretsmanager", f"secret:{p}*")],
        ),
        _allow(
            "Roles",
            [
                "iam:CreateRole",
                "iam:DeleteRole",
                "iam:DeleteRolePolicy",
                "iam:GetRole",
                "iam:GetRolePolicy",
                "iam:ListAttachedRolePolicies",
                "iam:ListInstanceProfilesForRole",
                "iam:ListRolePolicies",
                "iam:ListRoleTags",
                "iam:PutRolePolicy",
                "iam:TagRole",
                "iam:UntagRole",
                "iam:UpdateAssumeRolePolicy",
                "iam:UpdateRole",
            ],
            [scope.arn("iam", f"role/{p}*", region=False)],
        ),
        _allow(
            "RolePolicyAttachments",
            ["iam:AttachRolePolicy", "iam:DetachRolePolicy"],
            [scope.arn("iam", f"role/{p}*", region=False)],
            ArnLike={
                "iam:PolicyARN": [
                    "arn:aws:iam::aws:policy/service-role/*",
                    scope.arn("iam", f"policy/{p}*", region=False),
                ]
            },
        ),
        _allow(
            "ManagedPolicies",
            [
                "iam:CreatePolicy",
                "iam:CreatePolicyVersion",
                "iam:DeletePolicy",
                "iam:DeletePolicyVersion",
                "iam:GetPolicy",
                "iam:GetPolicyVersion",
                "iam:ListPolicyVersions",
                "iam:TagPolicy",
                "iam:UntagPolicy",
            ],
            [scope.arn("iam", f"policy/{p}*", region=False)],
        ),
        _allow(
            "PassStackRoles",
            ["iam:PassRole"],
            [scope.arn("iam", f"role/{p}*", region=False)],
            StringEquals={"iam:PassedToService": list(PASS_ROLE_SERVICES)},
        ),
        _allow(
            "ServiceLinkedRoles",
            ["iam:CreateServiceLinkedRole"],
            [scope.arn("iam", "role/aws-service-role/*", region=False)],
            StringEquals={"iam:AWSServiceName": list(SERVICE_LINKED_ROLE_SERVICES)},
        ),
        _allow(
            "NotifierFunction",
            [
                "lambda:AddPermission",
                "lambda:CreateFunction",
                "lambda:DeleteFunction",
                "lambda:DeleteFunctionConcurrency",
                "lambda:DeleteFunctionEventInvokeConfig",
                "lambda:GetFunction",
                "lambda:GetFunctionCodeSigningConfig",
                "lambda:GetFunctionConfiguration",
                "lambda:GetFunctionEventInvokeConfig",
                "lambda:GetPolicy",
                "lambda:ListTags",
                "lambda:ListVersionsByFunction",
                "lambda:PutFunctionConcurrency",
                "lambda:PutFunctionEventInvokeConfig",
                "lambda:RemovePermission",
                "lambda:TagResource",
                "lambda:UntagResource",
                "lambda:UpdateFunctionCode",
                "lambda:UpdateFunctionConfiguration",
            ],
            [scope.arn("lambda", f"function:{p}*")],
        ),
        _allow(
            "Topics",
            [
                "sns:CreateTopic",
                "sns:DeleteTopic",
                "sns:GetSubscriptionAttributes",
                "sns:GetTopicAttributes",
                "sns:ListSubscriptionsByTopic",
                "sns:ListTagsForResource",
                # The workflow's one-line deploy summary goes to the stack's own topic.
                "sns:Publish",
                "sns:SetSubscriptionAttributes",
                "sns:SetTopicAttributes",
                "sns:Subscribe",
                "sns:TagResource",
                "sns:Unsubscribe",
                "sns:UntagResource",
            ],
            [scope.arn("sns", f"{p}*")],
        ),
        _allow(
            "DeadLetterQueue",
            [
                "sqs:CreateQueue",
                "sqs:DeleteQueue",
                "sqs:GetQueueAttributes",
                "sqs:GetQueueUrl",
                "sqs:ListQueueTags",
                "sqs:SetQueueAttributes",
                "sqs:TagQueue",
                "sqs:UntagQueue",
            ],
            [scope.arn("sqs", f"{p}*")],
        ),
        _allow(
            "DeploymentEvents",
            [
                "events:DeleteRule",
                "events:DescribeRule",
                "events:DisableRule",
                "events:EnableRule",
                "events:ListTagsForResource",
                "events:ListTargetsByRule",
                "events:PutRule",
                "events:PutTargets",
                "events:RemoveTargets",
                "events:TagResource",
                "events:UntagResource",
            ],
            [scope.arn("events", f"rule/{p}*")],
        ),
        _allow(
            "LogGroupsRead",
            ["logs:DescribeLogGroups", "logs:DescribeQueryDefinitions"],
            ["*"],
            **in_region,
        ),
        _allow(
            "SavedQueries",  # query definitions have no ARN of their own
            ["logs:DeleteQueryDefinition", "logs:PutQueryDefinition"],
            ["*"],
            **in_region,
        ),
        _allow(
            "LogGroups",
            [
                "logs:AssociateKmsKey",
                "logs:CreateLogGroup",
                "logs:DeleteLogGroup",
                "logs:DeleteRetentionPolicy",
                "logs:DisassociateKmsKey",
                "logs:ListTagsForResource",
                "logs:ListTagsLogGroup",
                "logs:PutRetentionPolicy",
                "logs:TagLogGroup",
                "logs:TagResource",
                "logs:UntagLogGroup",
                "logs:UntagResource",
            ],
            [
                scope.arn("logs", f"log-group:{p}*"),
                scope.arn("logs", f"log-group:/aws/lambda/{p}*"),
                scope.arn("logs", f"log-group:/ecs/{base}/*"),
                scope.arn("logs", f"log-group:/aws/rds/instance/{p}*"),
                scope.arn("logs", f"log-group:/{scope.project}/{scope.stack}/*"),
            ],
        ),
        _allow(
            "Alarms",
            [
                "cloudwatch:DeleteAlarms",
                "cloudwatch:DeleteDashboards",
                "cloudwatch:DescribeAlarms",
                "cloudwatch:GetDashboard",
                "cloudwatch:ListTagsForResource",
                "cloudwatch:PutDashboard",
                "cloudwatch:PutMetricAlarm",
                "cloudwatch:TagResource",
                "cloudwatch:UntagResource",
            ],
            [
                scope.arn("cloudwatch", f"alarm:{p}*"),
                # Application Auto Scaling creates target-tracking alarms with the caller's permissions.
                scope.arn("cloudwatch", f"alarm:TargetTracking-service/{base}/*"),
                scope.arn("cloudwatch", f"dashboard/{base}", region=False),
                scope.arn("cloudwatch", f"dashboard/{p}*", region=False),
            ],
        ),
        _allow(
            "ServiceAutoscaling",  # Application Auto Scaling has no resource-level permissions
            [
                "application-autoscaling:DeleteScalingPolicy",
                "application-autoscaling:DeregisterScalableTarget",
                "application-autoscaling:DescribeScalableTargets",
                "application-autoscaling:DescribeScalingPolicies",
                "application-autoscaling:ListTagsForResource",
                "application-autoscaling:PutScalingPolicy",
                "application-autoscaling:RegisterScalableTarget",
                "application-autoscaling:TagResource",
            ],
            ["*"],
            **in_region,
        ),
        _allow("Certificates", ["acm:DescribeCertificate"], [scope.arn("acm", "certificate/*")]),
        _allow(
            "AccessLogBuckets",  # the load balancer's access-log bucket, named `<project>-<env>-…`
            [
                "s3:CreateBucket",
                "s3:DeleteBucket",
                "s3:DeleteBucketPolicy",
                "s3:Get*",
                "s3:List*",
                "s3:PutBucketOwnershipControls",
                "s3:PutBucketPolicy",
                "s3:PutBucketPublicAccessBlock",
                "s3:PutBucketTagging",
                "s3:PutBucketVersioning",
                "s3:PutEncryptionConfiguration",
                "s3:PutLifecycleConfiguration",
            ],
            [f"arn:aws:s3:::{p}*"],
        ),
        _allow(
            "KeysCreate",  # a new key has no name: it must carry this environment's tag
            ["kms:CreateKey"],
            ["*"],
            StringEquals={"aws:RequestedRegion": scope.region, "aws:RequestTag/Environment": scope.stack},
        ),
        _allow(
            "KeysOwned",
            [
                "kms:DescribeKey",
                "kms:EnableKeyRotation",
                "kms:GetKeyPolicy",
                "kms:GetKeyRotationStatus",
                "kms:ListResourceTags",
                "kms:PutKeyPolicy",
                "kms:ScheduleKeyDeletion",
                "kms:TagResource",
                "kms:UntagResource",
                "kms:UpdateKeyDescription",
            ],
            [scope.arn("kms", "key/*")],
            StringEquals={"aws:ResourceTag/Environment": scope.stack},
        ),
        _allow(
            "KeyAliases",
            ["kms:CreateAlias", "kms:DeleteAlias", "kms:UpdateAlias"],
            [scope.arn("kms", f"alias/{p}*"), scope.arn("kms", "key/*")],
        ),
        _allow("KeyAliasesRead", ["kms:ListAliases"], ["*"], **in_region),
    ]
    return _document(statements)


# --- preview role -------------------------------------------------------------------------------


def preview_policy(scope: StackScope) -> PolicyDocument:
    """`pulumi preview` for a pull request: read this stack's state, describe what exists, change nothing."""
    in_region = {"StringEquals": {"aws:RequestedRegion": scope.region}}
    statements = _state_statements(scope, write=False)
    statements.append(
        _allow(
            "DescribeStack",
            [
                "acm:DescribeCertificate",
                "application-autoscaling:DescribeScalableTargets",
                "application-autoscaling:DescribeScalingPolicies",
                "cloudwatch:DescribeAlarms",
                "cloudwatch:GetDashboard",
                "ec2:DescribeAvailabilityZones",
                "ec2:DescribeSecurityGroups",
                "ec2:DescribeSubnets",
                "ec2:DescribeVpcs",
                "ecr:DescribeImages",
                "ecr:DescribeRepositories",
                "ecs:DescribeClusters",
                "ecs:DescribeServices",
                "ecs:DescribeTaskDefinition",
                "elasticloadbalancing:DescribeListeners",
                "elasticloadbalancing:DescribeLoadBalancers",
                "elasticloadbalancing:DescribeTargetGroups",
                "events:DescribeRule",
                "lambda:GetFunction",
                "logs:DescribeLogGroups",
                "rds:DescribeDBInstances",
                "secretsmanager:DescribeSecret",
                "sns:GetTopicAttributes",
                "sqs:GetQueueAttributes",
            ],
            ["*"],
            **in_region,
        )
    )
    statements.append(_allow("DescribeRoles", ["iam:GetRole", "iam:GetPolicy"], ["*"]))
    return _document(statements)


# --- invariants, used by the tests and by the bootstrap program before it declares anything ------


# IAM counts a customer managed policy's characters without whitespace; 6,144 is the limit.
MANAGED_POLICY_MAX_CHARS = 6144


def policy_json(document: PolicyDocument) -> str:
    return json.dumps(document, separators=(",", ":"))


# Each role's permissions, split by concern into customer managed policies that each fit the limit.
DEPLOY_POLICY_PARTS: dict[str, tuple[str, ...]] = {
    "state-images-service": (
        "StateList",
        "StateMeta",
        "StateObjects",
        "StateKey",
        "EcrLogin",
        "EcrRepository",
        "EcrPromotionSource",
        "EcsUnscoped",
        "EcsNamed",
        "LoadBalancerRead",
        "LoadBalancerNamed",
    ),
    "network-database": (
        "Network",
        "DatabaseRead",
        "DatabaseNamed",
        "DatabaseManagedPassword",
        "AppSecrets",
    ),
    "identity-notifications": (
        "Roles",
        "RolePolicyAttachments",
        "ManagedPolicies",
        "PassStackRoles",
        "ServiceLinkedRoles",
        "NotifierFunction",
        "Topics",
        "DeadLetterQueue",
        "DeploymentEvents",
        "ServiceAutoscaling",
    ),
    "logs-storage-keys": (
        "LogGroupsRead",
        "SavedQueries",
        "LogGroups",
        "Alarms",
        "Certificates",
        "AccessLogBuckets",
        "KeysCreate",
        "KeysOwned",
        "KeyAliases",
        "KeyAliasesRead",
    ),
}


def split_by_part(document: PolicyDocument, parts: Mapping[str, Sequence[str]]) -> dict[str, PolicyDocument]:
    """The document's statements grouped by `parts` (part name → Sids); every statement lands once."""
    by_sid = {statement["Sid"]: statement for statement in document["Statement"]}
    placed = [sid for sids in parts.values() for sid in sids]
    unplaced = sorted(set(by_sid) - set(placed))
    if unplaced:
        raise ValueError(f"statements not assigned to a policy part: {', '.join(unplaced)}")
    return {name: _document([by_sid[sid] for sid in sids if sid in by_sid]) for name, sids in parts.items()}


def _as_list(value: object) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else [value]


READ_ONLY_VERBS = ("Describe", "Get", "List")


def broad_actions(document: PolicyDocument) -> list[str]:
    """Allowed actions that grant a whole service or everything (`*`, `s3:*`), or any wildcard that is
    not a read-only verb (`ec2:Describe*` is fine, `ec2:Create*` is not)."""
    found = []
    for statement in document["Statement"]:
        if statement.get("Effect") != "Allow":
            continue
        for action in map(str, _as_list(statement.get("Action", []))):
            verb = action.split(":", 1)[1] if ":" in action else action
            if "*" in action and not (verb.startswith(READ_ONLY_VERBS) and verb.index("*") > 0):
                found.append(action)
        if "NotAction" in statement:
            found.append(f"NotAction {statement['NotAction']}")
    return found


def assert_least_privilege(document: PolicyDocument) -> None:
    broad = broad_actions(document)
    if broad:
        raise ValueError(f"policy grants whole services or everything: {', '.join(broad)}")
