"""The deploy notifier's pure parts: EventBridge patterns, IAM and SNS policies (tested without Pulumi).

components/notifier.py declares the resources from these; the patterns are also run under moto's
EventBridge matcher (tests/infra/test_notifier.py).
"""

from __future__ import annotations

import re
from typing import Any

from components.iam_policies import Statement, assume_role_policy, document, statement
from components.lambda_release import EVENT_DETAIL_TYPE, EVENT_SOURCE

DEPLOYMENT_DETAIL_TYPE = "ECS Deployment State Change"
SERVICE_ACTION_DETAIL_TYPE = "ECS Service Action"
# The release gate's events (EVENT_SOURCE, EVENT_DETAIL_TYPE from the gate itself; docs/notifier.md).
RELEASE_EVENT_NAMES = ("STARTED", "COMPLETED", "FAILED")
# What "failures" subscribers receive: failed deployments, rollbacks and WARN/ERROR service actions.
FAILURE_SEVERITIES = ("warning", "error")


def event_pattern(service_arn: str) -> dict[str, Any]:
    """Every deployment state change of this one service, and its WARN/ERROR service actions.

    ECS puts the service ARN (which includes the cluster name) in `resources`, so matching it exactly
    excludes other clusters and other services."""
    return {
        "source": ["aws.ecs"],
        "resources": [service_arn],
        "$or": [
            {"detail-type": [DEPLOYMENT_DETAIL_TYPE]},
            {"detail-type": [SERVICE_ACTION_DETAIL_TYPE], "detail": {"eventType": ["WARN", "ERROR"]}},
        ],
    }


def release_event_pattern(*, environment: str, function_name: str) -> dict[str, Any]:
    """The release gate's events for this environment's function, nothing else.

    EventBridge user guide, "Event pattern syntax": every field named in the pattern must be in the event
    with the same nesting, and a value matches if it equals one of the array's values, so nested `detail`
    fields restrict the rule to this environment and this function. Any principal with events:PutEvents
    on the default bus can send this source: who may is IAM's business (the deploy role's policy)."""
    return {
        "source": [EVENT_SOURCE],
        "detail-type": [EVENT_DETAIL_TYPE],
        "detail": {
            "eventName": list(RELEASE_EVENT_NAMES),
            "environment": [environment],
            "functionName": [function_name],
        },
    }


def failures_filter_policy() -> dict[str, Any]:
    """SNS filter policy (scope MessageAttributes) for subscribers who only want failures."""
    return {"severity": list(FAILURE_SEVERITIES)}


def function_policy(
    *, topic_arn: str, service_arn: str | None, log_group_arn: str, dead_letter_queue_arn: str
) -> dict[str, Any]:
    """Least privilege for the notifier function. Without an ECS service (Lambda runtime) it reads
    nothing: the release event carries all the e-mail shows."""
    ecs: list[Statement] = []
    if service_arn is not None:
        ecs = [
            statement(["ecs:DescribeServices"], [service_arn], sid="DescribeThisService"),
            *deployment_record_statements(service_arn),
            # The ECS service authorization reference lists no resource type for DescribeTaskDefinition:
            # it cannot be scoped, "*" is the only form IAM evaluates. It reads task-definition metadata.
            statement(["ecs:DescribeTaskDefinition"], ["*"], sid="DescribeTaskDefinitions"),
        ]
    return document(
        [
            statement(["sns:Publish"], [topic_arn], sid="PublishNotifications"),
            *ecs,
            statement(
                ["logs:CreateLogStream", "logs:PutLogEvents"], [f"{log_group_arn}:*"], sid="WriteOwnLogs"
            ),
            # Lambda sends failed async invocations to the on-failure destination with this role.
            statement(["sqs:SendMessage"], [dead_letter_queue_arn], sid="OnFailureDestination"),
        ]
    )


def deployment_record_statements(service_arn: str) -> list[Statement]:
    """Read this service's deployment record, nothing else.

    Service Authorization Reference, "Actions, resources, and condition keys for Amazon Elastic Container
    Service": ListServiceDeployments requires `service`; DescribeServiceDeployments requires `service` AND
    `service-deployment` (arn:${Partition}:ecs:${Region}:${Account}:service-deployment/${ClusterName}/
    ${ServiceName}/${ServiceDeploymentId}); DescribeServiceRevisions requires `service` AND
    `service-revision` (…:service-revision/${ClusterName}/${ServiceName}/${ServiceRevisionId}). Deployment
    and revision ids are only known at run time, hence the `/*` under this one service's path."""
    match = re.fullmatch(r"(arn:[^:]+:ecs:[^:]+:\d{12}):service/([^/]+)/([^/]+)", service_arn)
    if match is None:
        raise ValueError(f"not a new-format ECS service ARN (service/<cluster>/<service>): {service_arn}")
    prefix, cluster, service = match.groups()
    return [
        statement(["ecs:ListServiceDeployments"], [service_arn], sid="ListThisServiceDeployments"),
        statement(
            ["ecs:DescribeServiceDeployments"],
            [service_arn, f"{prefix}:service-deployment/{cluster}/{service}/*"],
            sid="DescribeThisServiceDeployments",
        ),
        statement(
            ["ecs:DescribeServiceRevisions"],
            [service_arn, f"{prefix}:service-revision/{cluster}/{service}/*"],
            sid="DescribeThisServiceRevisions",
        ),
    ]


def dead_letter_queue_policy(*, queue_arn: str, rule_arn: str) -> dict[str, Any]:
    """Only this rule's EventBridge target may drop undeliverable events into the queue."""
    return document(
        [
            {
                "Sid": "EventBridgeRuleDeadLetters",
                "Effect": "Allow",
                "Principal": {"Service": "events.amazonaws.com"},
                "Action": "sqs:SendMessage",
                "Resource": queue_arn,
                "Condition": {"ArnEquals": {"aws:SourceArn": rule_arn}},
            },
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "sqs:*",
                "Resource": queue_arn,
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            },
        ]
    )


def lambda_assume_role_policy() -> dict[str, Any]:
    # No aws:SourceAccount condition: Lambda is not documented to send it when it assumes an execution
    # role, and a positive condition on a missing key denies, so the function could never start. The
    # confused-deputy path is closed anyway: only a function configured with this role (iam:PassRole
    # in this account) makes Lambda assume it.
    return assume_role_policy("lambda.amazonaws.com")
