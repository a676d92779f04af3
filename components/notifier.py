"""DeployNotifier: deployment events -> EventBridge -> Lambda (lambda/deploy_notifier) -> SNS -> e-mail.

Which events depend on the runtime: ECS deployment / service action events for Fargate, the release
gate's own "Lambda Release State Change" events (source `booking.release`) for Lambda. Either way one
rule feeds the same function, topic and dead-letter queue, and the e-mails look alike.

Encryption choices (why these keys):
- SNS topic: the AWS managed key `alias/aws/sns`. Only the Lambda publishes here, with its own role in this
  account, which that key's policy allows through SNS. A service principal publishing *directly*
  (EventBridge, CloudWatch alarms) would need a customer managed key whose key policy grants it
  kms:GenerateDataKey*/kms:Decrypt; nothing does here, so a CMK would only add cost and a key policy.
- Dead-letter queue: SQS managed SSE (SSE-SQS). EventBridge (rule DLQ) and Lambda (on-failure destination)
  can both write to it without any KMS grant; the AWS managed `alias/aws/sqs` key would lock EventBridge
  out, because its key policy cannot be edited to admit events.amazonaws.com.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pulumi
import pulumi_aws as aws

from components.notifier_policies import (
    dead_letter_queue_policy,
    event_pattern,
    failures_filter_policy,
    function_policy,
    lambda_assume_role_policy,
    release_event_pattern,
)
from components.types import EmailSubscription

LAMBDA_SOURCE_DIR = Path(__file__).resolve().parents[1] / "lambda" / "deploy_notifier"
# Pure modules the function shares with the rest of the program; shipped as top-level modules of the zip.
# deployment_record: the ONE decision of what a service deployment's ECS record means, also used by
# DeploymentCheck for `pulumi up` (`lambda` is a Python keyword, so the components cannot import from the
# Lambda's folder; the Lambda imports from here instead, and nothing is copied by hand).
SHARED_MODULES = (Path(__file__).resolve().parent / "deployment_record.py",)
# The runtimes whose deployments the notifier reports (booking:service.runtime).
NotifierRuntime = Literal["fargate", "lambda"]
SNS_KEY = "alias/aws/sns"
DLQ_RETENTION_SECONDS = 14 * 24 * 3600  # the SQS maximum: time to notice the alarm and replay
RULE_RETRY_ATTEMPTS = 20
RULE_MAX_EVENT_AGE_SECONDS = 6 * 3600
LAMBDA_RETRY_ATTEMPTS = 2
LAMBDA_MAX_EVENT_AGE_SECONDS = 6 * 3600


@dataclass(frozen=True)
class DeployNotifierArgs:
    name_prefix: str
    """`<project>-<stack>`, e.g. `booking-prod`: physical names admins look for (queue, function, topic)."""
    environment: str
    subscriptions: tuple[EmailSubscription, ...]
    runtime: NotifierRuntime = "fargate"
    cluster_name: pulumi.Input[str] | None = None
    """Fargate: the ECS cluster (only read for old-format service ARNs)."""
    service_arn: pulumi.Input[str] | None = None
    """Fargate: the ECS service whose deployments are reported (required)."""
    function_name: pulumi.Input[str] | None = None
    """Lambda: the function whose releases are reported (required), e.g. `booking-dev-api`."""
    log_retention_days: int = 30
    lambda_source_dir: Path = LAMBDA_SOURCE_DIR
    app_name: str = "booking"
    permissions_boundary: pulumi.Input[str] | None = None
    """The environment's permissions boundary (bootstrap); every role the component creates carries it."""

    def __post_init__(self) -> None:
        if self.runtime == "fargate" and (self.service_arn is None or self.function_name is not None):
            raise ValueError(
                "DeployNotifierArgs: runtime fargate needs service_arn and takes no function_name"
            )
        if self.runtime == "lambda" and (
            self.function_name is None or self.service_arn is not None or self.cluster_name is not None
        ):
            raise ValueError(
                "DeployNotifierArgs: runtime lambda needs function_name and takes no cluster_name/service_arn"
            )


def subscription_resource_suffix(address: str) -> str:
    """Stable per-address resource name: reordering the config list must not recreate subscriptions
    (each recreation sends admins a new confirmation e-mail)."""
    slug = re.sub(r"[^a-z0-9]+", "-", address.lower()).strip("-")[:40]
    return f"{slug}-{hashlib.sha256(address.lower().encode()).hexdigest()[:8]}"


def lambda_archive(source_dir: Path, shared: tuple[Path, ...] = SHARED_MODULES) -> pulumi.AssetArchive:
    """The function's code: the .py files of its folder plus the shared pure modules, nothing else (no
    caches, no tests). boto3 is not packaged; the Lambda Python runtime provides it."""
    files = {f.name: f for f in sorted(source_dir.glob("*.py"))}
    if "handler.py" not in files:
        raise FileNotFoundError(f"{source_dir}/handler.py is missing")
    for module in shared:
        if module.name in files:
            raise ValueError(f"{module.name} exists both in {source_dir} and as a shared module")
        files[module.name] = module
    return pulumi.AssetArchive({name: pulumi.FileAsset(str(f)) for name, f in sorted(files.items())})


def _json(value: Mapping[str, Any]) -> str:
    return json.dumps(value, sort_keys=True)


# --- the component ------------------------------------------------------------------------------------


class DeployNotifier(pulumi.ComponentResource):
    topic_arn: pulumi.Output[str]
    function_name: pulumi.Output[str]
    function_arn: pulumi.Output[str]
    dead_letter_queue_name: pulumi.Output[str]
    dead_letter_queue_arn: pulumi.Output[str]
    rule_name: pulumi.Output[str]
    log_group_name: pulumi.Output[str]

    def __init__(
        self, name: str, args: DeployNotifierArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("booking:components:DeployNotifier", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        env = args.environment

        prefix = args.name_prefix
        topic = aws.sns.Topic(
            f"{name}-topic",
            name=f"{prefix}-deployments",
            display_name=f"{args.app_name} {env} deployments"[:100],
            kms_master_key_id=SNS_KEY,
            opts=child,
        )
        for subscription in args.subscriptions:
            aws.sns.TopicSubscription(
                f"{name}-email-{subscription_resource_suffix(subscription.address)}",
                topic=topic.arn,
                protocol="email",
                endpoint=subscription.address,
                filter_policy=_json(failures_filter_policy()) if subscription.events == "failures" else None,
                filter_policy_scope="MessageAttributes" if subscription.events == "failures" else None,
                opts=child,
            )

        dead_letter_queue = aws.sqs.Queue(
            f"{name}-dlq",
            name=f"{prefix}-deploy-notifier-dlq",
            sqs_managed_sse_enabled=True,
            message_retention_seconds=DLQ_RETENTION_SECONDS,
            opts=child,
        )
        log_group = aws.cloudwatch.LogGroup(
            f"{name}-logs",
            name=f"/aws/lambda/{prefix}-deploy-notifier",
            retention_in_days=args.log_retention_days,
            opts=child,
        )

        role = aws.iam.Role(
            f"{name}-role",
            assume_role_policy=_json(lambda_assume_role_policy()),
            permissions_boundary=args.permissions_boundary,
            opts=child,
        )
        role_policy = aws.iam.RolePolicy(
            f"{name}-policy",
            role=role.id,
            policy=pulumi.Output.all(topic.arn, args.service_arn, log_group.arn, dead_letter_queue.arn).apply(
                lambda a: _json(
                    function_policy(
                        topic_arn=a[0], service_arn=a[1], log_group_arn=a[2], dead_letter_queue_arn=a[3]
                    )
                )
            ),
            opts=child,
        )

        # Each runtime gets only the variables its code reads (FUNCTION_NAME, or SERVICE_ARN/CLUSTER_NAME).
        runtime_variables = {
            key: value
            for key, value in (
                ("FUNCTION_NAME", args.function_name),
                ("SERVICE_ARN", args.service_arn),
                ("CLUSTER_NAME", args.cluster_name),
            )
            if value is not None
        }
        what = "ECS deployment" if args.runtime == "fargate" else "Lambda release"
        function = aws.lambda_.Function(
            f"{name}-function",
            name=f"{prefix}-deploy-notifier",
            description=f"E-mails {env} {what} events to the admins (SNS)",
            runtime=aws.lambda_.Runtime.PYTHON3D14,
            architectures=["arm64"],
            handler="handler.handler",
            code=lambda_archive(args.lambda_source_dir),
            role=role.arn,
            memory_size=256,
            timeout=30,
            environment=aws.lambda_.FunctionEnvironmentArgs(
                variables={
                    "TOPIC_ARN": topic.arn,
                    "ENVIRONMENT": env,
                    **runtime_variables,
                    "APP_NAME": args.app_name,
                }
            ),
            logging_config=aws.lambda_.FunctionLoggingConfigArgs(
                log_format="JSON",  # the runtime writes stdlib logging records (with `extra`) as JSON
                log_group=log_group.name,
                application_log_level="INFO",
                system_log_level="WARN",
            ),
            # The policy must exist before the first invocation can log or publish.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[role_policy, log_group]),
        )
        aws.lambda_.FunctionEventInvokeConfig(
            f"{name}-async",
            function_name=function.name,
            maximum_retry_attempts=LAMBDA_RETRY_ATTEMPTS,
            maximum_event_age_in_seconds=LAMBDA_MAX_EVENT_AGE_SECONDS,
            destination_config=aws.lambda_.FunctionEventInvokeConfigDestinationConfigArgs(
                on_failure=aws.lambda_.FunctionEventInvokeConfigDestinationConfigOnFailureArgs(
                    destination=dead_letter_queue.arn
                )
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[role_policy]),
        )

        if args.function_name is not None:  # Lambda: no ECS service, only the release gate's events
            rule = aws.cloudwatch.EventRule(
                f"{name}-release-rule",
                name=f"{prefix}-release-notifier",
                description=f"Lambda releases of the {env} {args.app_name} function",
                event_pattern=pulumi.Output.from_input(args.function_name).apply(
                    lambda function_name: _json(
                        release_event_pattern(environment=env, function_name=function_name)
                    )
                ),
                opts=child,
            )
        else:
            assert args.service_arn is not None  # DeployNotifierArgs.__post_init__
            rule = aws.cloudwatch.EventRule(
                f"{name}-rule",
                name=f"{prefix}-deploy-notifier",
                description=f"ECS deployments and service problems of the {env} booking service",
                event_pattern=pulumi.Output.from_input(args.service_arn).apply(
                    lambda arn: _json(event_pattern(arn))
                ),
                opts=child,
            )
        permission = aws.lambda_.Permission(
            f"{name}-invoke",
            action="lambda:InvokeFunction",
            function=function.name,
            principal="events.amazonaws.com",
            source_arn=rule.arn,
            opts=child,
        )
        aws.sqs.QueuePolicy(
            f"{name}-dlq-policy",
            queue_url=dead_letter_queue.url,
            policy=pulumi.Output.all(dead_letter_queue.arn, rule.arn).apply(
                lambda a: _json(dead_letter_queue_policy(queue_arn=a[0], rule_arn=a[1]))
            ),
            opts=child,
        )
        aws.cloudwatch.EventTarget(
            f"{name}-target",
            rule=rule.name,
            arn=function.arn,
            retry_policy=aws.cloudwatch.EventTargetRetryPolicyArgs(
                maximum_retry_attempts=RULE_RETRY_ATTEMPTS,
                maximum_event_age_in_seconds=RULE_MAX_EVENT_AGE_SECONDS,
            ),
            dead_letter_config=aws.cloudwatch.EventTargetDeadLetterConfigArgs(arn=dead_letter_queue.arn),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[permission]),
        )

        self.topic_arn = topic.arn
        self.function_name = function.name
        self.function_arn = function.arn
        self.dead_letter_queue_name = dead_letter_queue.name
        self.dead_letter_queue_arn = dead_letter_queue.arn
        self.rule_name = rule.name
        self.log_group_name = log_group.name
        self.register_outputs(
            {
                "topic_arn": self.topic_arn,
                "function_name": self.function_name,
                "function_arn": self.function_arn,
                "dead_letter_queue_name": self.dead_letter_queue_name,
                "dead_letter_queue_arn": self.dead_letter_queue_arn,
                "rule_name": self.rule_name,
                "log_group_name": self.log_group_name,
            }
        )
