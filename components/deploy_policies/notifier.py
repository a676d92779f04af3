"""SNS, SQS and EventBridge rules: the deploy notifier and the alarm topic (named ARNs).

The notifier function itself is granted with the stack's other functions (awslambda.py)."""

from __future__ import annotations

from components.deploy_policies._scope import StackScope, allow
from components.iam_policies import Statement


def statements(scope: StackScope) -> list[Statement]:
    p = scope.prefix
    return [
        allow(
            "Topics",
            [
                "sns:CreateTopic",
                "sns:DeleteTopic",
                "sns:GetTopicAttributes",
                "sns:ListSubscriptionsByTopic",
                "sns:ListTagsForResource",
                # The workflow's one-line deploy summary goes to the stack's own topic.
                "sns:Publish",
                "sns:SetTopicAttributes",
                "sns:Subscribe",
                "sns:TagResource",
                "sns:UntagResource",
            ],
            [scope.arn("sns", f"{p}*")],
        ),
        # These act on a subscription, not a topic; the SNS service authorization reference lists no
        # resource type for them, so IAM only evaluates them against "*" (a topic-ARN grant never
        # matches and the provider's read of every new e-mail subscription would be refused).
        allow(
            "Subscriptions",
            ["sns:GetSubscriptionAttributes", "sns:SetSubscriptionAttributes", "sns:Unsubscribe"],
            ["*"],
            scope.in_region(),
        ),
        allow(
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
        allow(
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
    ]
