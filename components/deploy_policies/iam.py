"""IAM: the deploy role manages only `<project>-<env>-*` roles, and only with the environment's boundary.

Every role the stack creates must carry the permissions boundary `<project>-boundary-<env>` (created
by the bootstrap program, outside the prefix the deploy role manages). The deploy role may create a
role, write or attach its policies only while that role carries the boundary (`iam:PermissionsBoundary`,
IAM User Guide, "Permissions boundaries for IAM entities" and "IAM condition context keys"), so no
role it mints can do more than the boundary allows, whatever policy it is given. It may never remove a
boundary, nor touch the boundary policy, nor the delivery roles and their policies.
"""

from __future__ import annotations

from components.deploy_policies._scope import PolicyDocument, StackScope, allow, deny
from components.iam_policies import Statement, document

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

# The only AWS managed policies the stack attaches (components/service.py, components/database.py).
ATTACHABLE_AWS_POLICIES: tuple[str, ...] = (
    "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy",
    "arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole",
)

ROLE_WRITES_NEEDING_BOUNDARY = (
    "iam:AttachRolePolicy",
    "iam:CreateRole",
    "iam:DeleteRolePolicy",
    "iam:DetachRolePolicy",
    "iam:PutRolePermissionsBoundary",
    "iam:PutRolePolicy",
)

# Everything that changes a role or a managed policy: refused outright on the protected ones.
IAM_WRITES = (
    *ROLE_WRITES_NEEDING_BOUNDARY,
    "iam:CreatePolicyVersion",
    "iam:DeletePolicy",
    "iam:DeletePolicyVersion",
    "iam:DeleteRole",
    "iam:DeleteRolePermissionsBoundary",
    "iam:SetDefaultPolicyVersion",
    "iam:TagPolicy",
    "iam:TagRole",
    "iam:UntagPolicy",
    "iam:UntagRole",
    "iam:UpdateAssumeRolePolicy",
    "iam:UpdateRole",
    "iam:UpdateRoleDescription",
)


def protected_arns(scope: StackScope) -> list[str]:
    """The delivery roles, their policies and every environment's boundary: never edited by a stack."""
    a, project = scope.account_id, scope.project
    return [
        f"arn:aws:iam::{a}:role/{project}-deploy-*",
        f"arn:aws:iam::{a}:role/{project}-preview-*",
        f"arn:aws:iam::{a}:policy/{project}-deploy-*",
        f"arn:aws:iam::{a}:policy/{project}-preview-*",
        f"arn:aws:iam::{a}:policy/{project}-boundary-*",
    ]


def statements(scope: StackScope) -> list[Statement]:
    role = scope.arn("iam", f"role/{scope.prefix}*", region=False)
    policy = scope.arn("iam", f"policy/{scope.prefix}*", region=False)
    with_boundary = {"StringEquals": {"iam:PermissionsBoundary": scope.boundary_arn}}
    return [
        allow(
            "RolesWithBoundary",
            ["iam:CreateRole", "iam:DeleteRolePolicy", "iam:PutRolePermissionsBoundary", "iam:PutRolePolicy"],
            [role],
            with_boundary,
        ),
        allow(
            "RolePolicyAttachments",
            ["iam:AttachRolePolicy", "iam:DetachRolePolicy"],
            [role],
            {**with_boundary, "ArnLike": {"iam:PolicyARN": [*ATTACHABLE_AWS_POLICIES, policy]}},
        ),
        allow(
            "Roles",
            [
                "iam:DeleteRole",
                "iam:GetRole",
                "iam:GetRolePolicy",
                "iam:ListAttachedRolePolicies",
                "iam:ListInstanceProfilesForRole",
                "iam:ListRolePolicies",
                "iam:ListRoleTags",
                "iam:TagRole",
                "iam:UntagRole",
                "iam:UpdateAssumeRolePolicy",
                "iam:UpdateRole",
                "iam:UpdateRoleDescription",
            ],
            [role],
        ),
        allow(
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
            [policy],
        ),
        allow(
            "PassStackRoles",
            ["iam:PassRole"],
            [role],
            {"StringEquals": {"iam:PassedToService": list(PASS_ROLE_SERVICES)}},
        ),
        allow(
            "ServiceLinkedRoles",
            ["iam:CreateServiceLinkedRole"],
            [scope.arn("iam", "role/aws-service-role/*", region=False)],
            {"StringEquals": {"iam:AWSServiceName": list(SERVICE_LINKED_ROLE_SERVICES)}},
        ),
        # Belt and braces: explicit denies win over any allow a later edit might add.
        deny("DenyBoundaryRemoval", ["iam:DeleteRolePermissionsBoundary"], ["*"]),
        deny("DenyDeliveryAndBoundaryEdits", IAM_WRITES, protected_arns(scope)),
    ]


def boundary_policy(scope: StackScope) -> PolicyDocument:
    """The most any role of the stack may do: what its workloads call, in the stack's region."""
    p, base = scope.prefix, scope.base
    log_groups = [
        scope.arn("logs", f"log-group:{p}*"),
        scope.arn("logs", f"log-group:/aws/lambda/{p}*"),
        scope.arn("logs", f"log-group:/ecs/{base}/*"),
        # Enhanced Monitoring writes to the account-wide RDSOSMetrics group (AmazonRDSEnhancedMonitoringRole).
        scope.arn("logs", "log-group:RDSOSMetrics"),
        scope.arn("logs", "log-group:RDSOSMetrics:*"),
    ]
    in_region = scope.in_region()
    return document(
        [
            allow(
                "WriteLogs",
                [
                    "logs:CreateLogGroup",
                    "logs:CreateLogStream",
                    "logs:DescribeLogStreams",
                    "logs:GetLogEvents",
                    "logs:PutLogEvents",
                    "logs:PutRetentionPolicy",
                ],
                log_groups,
                in_region,
            ),
            allow("FindLogGroups", ["logs:DescribeLogGroups"], ["*"], in_region),
            allow("PullImagesLogin", ["ecr:GetAuthorizationToken"], ["*"], in_region),
            allow(
                "PullImages",
                ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
                [scope.arn("ecr", f"repository/{p}*")],
                in_region,
            ),
            allow(
                "ReadSecrets",
                ["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"],
                [
                    scope.arn("secretsmanager", f"secret:{base}/*"),
                    scope.arn("secretsmanager", f"secret:{p}*"),
                    scope.arn("secretsmanager", "secret:rds!*"),
                ],
                in_region,
            ),
            allow("Notify", ["sns:Publish"], [scope.arn("sns", f"{p}*")], in_region),
            allow("DeadLetters", ["sqs:SendMessage"], [scope.arn("sqs", f"{p}*")], in_region),
            # The notifier reads its service and the service's deployment record (components/notifier.py
            # `deployment_record_statements`: deployments and revisions live under the service's path).
            allow(
                "DescribeService",
                [
                    "ecs:DescribeServiceDeployments",
                    "ecs:DescribeServiceRevisions",
                    "ecs:DescribeServices",
                    "ecs:ListServiceDeployments",
                ],
                [
                    scope.arn("ecs", f"service/{base}/*"),
                    scope.arn("ecs", f"service-deployment/{base}/*"),
                    scope.arn("ecs", f"service-revision/{base}/*"),
                ],
                in_region,
            ),
            # DescribeTaskDefinition has no resource type (ECS service authorization reference).
            allow("DescribeTaskDefinitions", ["ecs:DescribeTaskDefinition"], ["*"], in_region),
            # A Lambda function in the VPC: its execution role creates and releases its network interfaces
            # (Lambda Developer Guide, "Giving Lambda functions access to resources in an Amazon VPC";
            # the actions of AWSLambdaVPCAccessExecutionRole). CreateNetworkInterface is authorised on the
            # new interface and on the subnet and security group it goes into: those must be the stack's.
            allow(
                "FunctionNetworkInterfaces",
                [
                    "ec2:AssignPrivateIpAddresses",
                    "ec2:CreateNetworkInterface",
                    "ec2:DeleteNetworkInterface",
                    "ec2:UnassignPrivateIpAddresses",
                ],
                [scope.arn("ec2", "network-interface/*")],
                in_region,
            ),
            allow(
                "FunctionNetworkPlacement",
                ["ec2:CreateNetworkInterface"],
                [scope.arn("ec2", "subnet/*"), scope.arn("ec2", "security-group/*")],
                scope.tagged(),
            ),
            # No resource-level permissions for these two (EC2 service authorization reference).
            allow(
                "FunctionNetworkDescribe",
                ["ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets"],
                ["*"],
                in_region,
            ),
        ]
    )
