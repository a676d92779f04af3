"""KMS: keys the stack creates (the alarms topic key) carry this environment's tag; aliases by name."""

from __future__ import annotations

from components.deploy_policies._scope import StackScope, allow
from components.iam_policies import Statement


def statements(scope: StackScope) -> list[Statement]:
    return [
        # A new key has no name: it must carry this environment's tag.
        allow("KeysCreate", ["kms:CreateKey"], ["*"], scope.tagged("aws:RequestTag")),
        # "To add tags when creating a KMS key, the caller must have kms:TagResource permission in an
        # IAM policy. At a minimum, the permission must cover all KMS keys in the account and Region"
        # (KMS Developer Guide, "Managing KMS key tags with API operations"; "Controlling access to
        # tags"). The tags must still say this environment.
        allow(
            "KeysTagOnCreate",
            ["kms:TagResource"],
            ["*"],
            scope.tagged("aws:RequestTag"),
        ),
        allow(
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
            scope.tagged(),
        ),
        # ManageMasterUserPassword without a key of ours encrypts the secret with the AWS managed key
        # aws/secretsmanager, which RDS describes with the caller's permissions (RDS User Guide,
        # "Password management with Amazon RDS and AWS Secrets Manager"). AWS managed keys carry no
        # tags of ours; the alias names it (kms:ResourceAliases, KMS Developer Guide "ABAC for AWS KMS").
        allow(
            "KeysSecretsManagerDefault",
            ["kms:DescribeKey"],
            [scope.arn("kms", "key/*")],
            {
                **scope.in_region(),
                "ForAnyValue:StringEquals": {"kms:ResourceAliases": "alias/aws/secretsmanager"},
            },
        ),
        # CreateAlias is authorised on the alias and on its target key: the key must be ours.
        allow(
            "KeyAliases",
            ["kms:CreateAlias", "kms:DeleteAlias", "kms:UpdateAlias"],
            [scope.arn("kms", f"alias/{scope.prefix}*")],
        ),
        allow(
            "KeyAliasTargets",
            ["kms:CreateAlias", "kms:DeleteAlias", "kms:UpdateAlias"],
            [scope.arn("kms", "key/*")],
            scope.tagged(),
        ),
        allow("KeyAliasesRead", ["kms:ListAliases"], ["*"], scope.in_region()),
    ]
