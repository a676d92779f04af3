"""ECR: the stack's repository (`<project>-<env>-*`), and for prod read access to dev's images."""

from __future__ import annotations

from components.deploy_policies._scope import StackScope, allow
from components.iam_policies import Statement

PULL = (
    "ecr:BatchCheckLayerAvailability",
    "ecr:BatchGetImage",
    "ecr:DescribeImages",
    "ecr:GetDownloadUrlForLayer",
)


def statements(scope: StackScope) -> list[Statement]:
    result = [
        # GetAuthorizationToken has no resource type (ECR service authorization reference): "*" only.
        allow("EcrLogin", ["ecr:GetAuthorizationToken"], ["*"], scope.in_region()),
        allow(
            "EcrRepository",
            [
                *PULL,
                "ecr:BatchDeleteImage",
                "ecr:CompleteLayerUpload",
                "ecr:CreateRepository",
                "ecr:DeleteLifecyclePolicy",
                "ecr:DeleteRepository",
                "ecr:DeleteRepositoryPolicy",
                "ecr:DescribeRepositories",
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
            [scope.arn("ecr", f"repository/{scope.prefix}*")],
        ),
    ]
    if scope.promote_from:
        source = f"{scope.project}-{scope.promote_from}-"
        result.append(allow("EcrPromotionSource", PULL, [scope.arn("ecr", f"repository/{source}*")]))
    return result
