"""CloudWatch Logs: the stack's log groups, its saved queries, and WAF's vended-log delivery."""

from __future__ import annotations

from components.deploy_policies._scope import StackScope, allow
from components.iam_policies import Statement

# WAF requires its CloudWatch Logs destination to be named `aws-waf-logs-…` (WAF API Reference,
# "LoggingConfiguration": "The name that you give the destination must start with aws-waf-logs-").
WAF_LOG_GROUP_PREFIX = "aws-waf-logs-"


def log_group_patterns(scope: StackScope) -> list[str]:
    p, base = scope.prefix, scope.base
    return [
        scope.arn("logs", f"log-group:{p}*"),
        scope.arn("logs", f"log-group:/aws/lambda/{p}*"),
        scope.arn("logs", f"log-group:/ecs/{base}/*"),
        scope.arn("logs", f"log-group:/aws/rds/instance/{p}*"),
        scope.arn("logs", f"log-group:/{scope.project}/{scope.stack}/*"),
        scope.arn("logs", f"log-group:{WAF_LOG_GROUP_PREFIX}{base}"),
        scope.arn("logs", f"log-group:{WAF_LOG_GROUP_PREFIX}{p}*"),
    ]


def statements(scope: StackScope) -> list[Statement]:
    return [
        allow(
            "LogGroupsRead",
            ["logs:DescribeLogGroups", "logs:DescribeQueryDefinitions"],
            ["*"],
            scope.in_region(),
        ),
        allow(
            "SavedQueries",  # query definitions have no ARN of their own
            ["logs:DeleteQueryDefinition", "logs:PutQueryDefinition"],
            ["*"],
            scope.in_region(),
        ),
        allow(
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
            log_group_patterns(scope),
        ),
        # Vended logs (WAF) need these of the caller; the resource-policy actions on `log-group:*`
        # (CloudWatch Logs User Guide, "Logs sent to CloudWatch Logs", User permissions).
        allow(
            "VendedLogDelivery",
            [
                "logs:CreateLogDelivery",
                "logs:DeleteLogDelivery",
                "logs:GetLogDelivery",
                "logs:ListLogDeliveries",
                "logs:UpdateLogDelivery",
            ],
            ["*"],
            scope.in_region(),
        ),
        allow(
            "VendedLogResourcePolicy",
            ["logs:DeleteResourcePolicy", "logs:DescribeResourcePolicies", "logs:PutResourcePolicy"],
            ["*"],
            scope.in_region(),
        ),
    ]
