"""ECS: the stack's cluster, service and task definitions."""

from __future__ import annotations

from components.deploy_policies._scope import StackScope, allow
from components.iam_policies import Statement


def statements(scope: StackScope) -> list[Statement]:
    p, base = scope.prefix, scope.base
    return [
        allow(
            "EcsUnscoped",  # DeregisterTaskDefinition has no resource type; bulk reads
            ["ecs:DeregisterTaskDefinition", "ecs:Describe*", "ecs:List*"],
            ["*"],
            scope.in_region(),
        ),
        allow(
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
                "ecs:RegisterTaskDefinition",
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
    ]
