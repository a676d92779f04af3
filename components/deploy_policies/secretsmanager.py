"""Secrets Manager: the app's secrets (`<project>-<env>/…`) and the one RDS manages for the master user."""

from __future__ import annotations

from components.deploy_policies._scope import StackScope, allow
from components.iam_policies import Statement

# RDS names the secrets it manages `rds!db-<uuid>`; the caller of CreateDBInstance with
# ManageMasterUserPassword needs these (RDS User Guide, "Password management with Amazon RDS and
# AWS Secrets Manager", section "Permissions required for Secrets Manager integration").
RDS_MANAGED_SECRET_ACTIONS = (
    "secretsmanager:CreateSecret",
    "secretsmanager:DescribeSecret",
    "secretsmanager:RotateSecret",
    "secretsmanager:TagResource",
)


def statements(scope: StackScope) -> list[Statement]:
    return [
        allow(
            "DatabaseManagedPassword",
            RDS_MANAGED_SECRET_ACTIONS,
            [scope.arn("secretsmanager", "secret:rds!*")],
            scope.in_region(),
        ),
        allow(
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
            [
                scope.arn("secretsmanager", f"secret:{scope.base}/*"),
                scope.arn("secretsmanager", f"secret:{scope.prefix}*"),
            ],
        ),
    ]
