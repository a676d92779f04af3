"""RDS: the stack's PostgreSQL instance, subnet group, parameter group and snapshots."""

from __future__ import annotations

from components.deploy_policies._scope import StackScope, allow
from components.iam_policies import Statement


def statements(scope: StackScope) -> list[Statement]:
    p, base = scope.prefix, scope.base
    return [
        allow("DatabaseRead", ["rds:Describe*"], ["*"], scope.in_region()),
        allow(
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
    ]
