"""CloudWatch alarms and dashboards, Application Auto Scaling, and the ALB access-log bucket (S3)."""

from __future__ import annotations

from components.deploy_policies._scope import StackScope, allow
from components.iam_policies import Statement


def statements(scope: StackScope) -> list[Statement]:
    p, base = scope.prefix, scope.base
    return [
        allow(
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
            # Dashboard ARNs carry no region; the calls still go to the stack's regional endpoint.
            scope.in_region(),
        ),
        allow(
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
            scope.in_region(),
        ),
        allow(
            "AccessLogBuckets",  # the load balancer's access-log bucket, named `<project>-<env>-…`
            [
                "s3:CreateBucket",
                "s3:DeleteBucket",
                "s3:DeleteBucketPolicy",
                # What the provider reads back for a bucket (GetBucket*, GetLifecycleConfiguration, ...).
                "s3:GetAccelerateConfiguration",
                "s3:GetBucket*",
                "s3:GetEncryptionConfiguration",
                "s3:GetLifecycleConfiguration",
                "s3:GetReplicationConfiguration",
                "s3:ListBucket",
                "s3:PutBucketOwnershipControls",
                "s3:PutBucketPolicy",
                "s3:PutBucketPublicAccessBlock",
                "s3:PutBucketTagging",
                "s3:PutBucketVersioning",
                "s3:PutEncryptionConfiguration",
                "s3:PutLifecycleConfiguration",
            ],
            [f"arn:aws:s3:::{p}*"],
            scope.in_region(),
        ),
    ]
