"""Monitoring: CloudWatch alarms to an encrypted SNS topic, a dashboard and saved Logs Insights queries.

The component receives plain names and ARN suffixes (never the other components' classes), so it can be
tested on its own and wired after Service and DeployNotifier. What the alarms are lives in
`components/alarm_catalogue.py` (names and metric maths in `components/alarms.py`), the dashboard body
in `components/dashboard.py`; this file owns the topic, its key and policies, and the declarations.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from components.alarm_catalogue import alarm_definitions
from components.alarms import (
    ALARM_SUFFIXES,
    AlarmDefinition,
    AlarmSettings,
    MetricQuery,
    Watched,
    arn_partition,
    dashboard_name,
    deployment_alarm_names,
    free_storage_threshold_bytes,
    validate_prefix,
)
from components.dashboard import ERRORS_BY_ROUTE_QUERY, LATENCY_BY_ROUTE_QUERY, dashboard_body


def alarm_topic_key_policy(account_id: str, region: str, prefix: str) -> dict[str, Any]:
    """Key policy of the alarms topic's CMK.

    CloudWatch alarms cannot publish to a topic encrypted with the AWS-managed alias/aws/sns key (its
    policy cannot be changed to let cloudwatch.amazonaws.com use it), hence a customer-managed key whose
    policy admits CloudWatch, restricted to this account's alarms of this environment.
    """
    partition = arn_partition(region)
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AccountAdministersTheKey",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:{partition}:iam::{account_id}:root"},
                "Action": "kms:*",
                "Resource": "*",
            },
            {
                "Sid": "CloudWatchAlarmsPublishToTheEncryptedTopic",
                "Effect": "Allow",
                "Principal": {"Service": "cloudwatch.amazonaws.com"},
                "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
                "Resource": "*",
                "Condition": _alarm_source_condition(partition, account_id, region, prefix),
            },
        ],
    }


def alarm_topic_policy(topic_arn: str, account_id: str, region: str, prefix: str) -> dict[str, Any]:
    """Topic policy: the account manages the topic; CloudWatch publishes only for this environment."""
    partition = arn_partition(region)
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AccountManagesTheTopic",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:{partition}:iam::{account_id}:root"},
                "Action": [
                    "sns:GetTopicAttributes",
                    "sns:SetTopicAttributes",
                    "sns:AddPermission",
                    "sns:RemovePermission",
                    "sns:DeleteTopic",
                    "sns:Subscribe",
                    "sns:ListSubscriptionsByTopic",
                    "sns:Publish",
                ],
                "Resource": topic_arn,
            },
            {
                "Sid": "CloudWatchAlarmsPublish",
                "Effect": "Allow",
                "Principal": {"Service": "cloudwatch.amazonaws.com"},
                "Action": "sns:Publish",
                "Resource": topic_arn,
                "Condition": _alarm_source_condition(partition, account_id, region, prefix),
            },
        ],
    }


def _alarm_source_condition(partition: str, account_id: str, region: str, prefix: str) -> dict[str, Any]:
    return {
        "StringEquals": {"aws:SourceAccount": account_id},
        "ArnLike": {"aws:SourceArn": f"arn:{partition}:cloudwatch:{region}:{account_id}:alarm:{prefix}-*"},
    }


@dataclass(frozen=True)
class MonitoringArgs:
    name_prefix: str  # e.g. "booking-dev": alarm names, topic, key alias and dashboard are derived from it
    region: pulumi.Input[str]
    account_id: pulumi.Input[str]
    watched: Watched
    min_healthy_hosts: int  # the service's minimum task count
    db_allocated_storage_gb: pulumi.Input[int]
    app_log_group_name: pulumi.Input[str]  # the API's log group (JSON lines), for the saved queries
    # Where the API writes its EMF metrics (app.core.metric_catalogue.metrics_namespace).
    metrics_namespace: str
    # May be empty (a dev stack without booking:notifications): the topic then has no subscriber until
    # someone subscribes to the alarmTopicArn output; the stack warns about it.
    alarm_emails: tuple[str, ...]
    alarms: AlarmSettings = field(default_factory=AlarmSettings)
    key_deletion_window_days: int = 30
    # Runtime lambda only (watched.function_name set): the duration alarm fires at a share of the timeout,
    # the concurrency alarm at a share of the reserved concurrency.
    function_timeout_seconds: int | None = None
    function_reserved_concurrency: int | None = None

    def __post_init__(self) -> None:
        validate_prefix(self.name_prefix)
        if self.min_healthy_hosts < 1:
            raise ValueError(f"min_healthy_hosts = {self.min_healthy_hosts} is invalid: must be at least 1")
        function_limits = (self.function_timeout_seconds, self.function_reserved_concurrency)
        if self.watched.runtime == "lambda":
            if None in function_limits:
                raise ValueError(
                    "watching a Lambda function needs function_timeout_seconds and "
                    "function_reserved_concurrency (the duration and concurrency alarms' scale)"
                )
        elif function_limits != (None, None):
            raise ValueError(
                "function_timeout_seconds/function_reserved_concurrency are for the lambda runtime"
            )


class Monitoring(pulumi.ComponentResource):
    alarm_topic_arn: pulumi.Output[str]
    dashboard_name: pulumi.Output[str]
    alarm_names: dict[str, pulumi.Output[str]]
    deployment_alarm_names: tuple[str, ...]

    def __init__(self, name: str, args: MonitoringArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("booking:components:Monitoring", name, None, opts)
        prefix = args.name_prefix
        child = pulumi.ResourceOptions(parent=self)

        key = aws.kms.Key(
            f"{name}-alarms-key",
            description=f"Encrypts the {prefix} alarms SNS topic (CloudWatch alarms may use it)",
            enable_key_rotation=True,
            deletion_window_in_days=args.key_deletion_window_days,
            policy=pulumi.Output.all(args.account_id, args.region).apply(
                lambda values: json.dumps(alarm_topic_key_policy(values[0], values[1], prefix))
            ),
            opts=child,
        )
        aws.kms.Alias(
            f"{name}-alarms-key-alias", name=f"alias/{prefix}-alarms", target_key_id=key.key_id, opts=child
        )
        topic = aws.sns.Topic(
            f"{name}-alarms", name=f"{prefix}-alarms", kms_master_key_id=key.arn, opts=child
        )
        topic_policy = aws.sns.TopicPolicy(
            f"{name}-alarms-policy",
            arn=topic.arn,
            policy=pulumi.Output.all(topic.arn, args.account_id, args.region).apply(
                lambda values: json.dumps(alarm_topic_policy(values[0], values[1], values[2], prefix))
            ),
            opts=child,
        )
        for address in args.alarm_emails:
            # Named by the address, not its position, so reordering the list does not recreate subscriptions.
            digest = hashlib.sha256(address.lower().encode()).hexdigest()[:8]
            aws.sns.TopicSubscription(
                f"{name}-alarms-email-{digest}",
                topic=topic.arn,
                protocol="email",
                endpoint=address,
                opts=child,
            )

        percent = args.alarms.database_free_storage.threshold
        definitions = alarm_definitions(
            prefix,
            args.alarms,
            args.watched,
            min_healthy_hosts=args.min_healthy_hosts,
            free_storage_threshold=pulumi.Output.from_input(args.db_allocated_storage_gb).apply(
                lambda gb: free_storage_threshold_bytes(int(gb), percent)
            ),
            metrics_namespace=args.metrics_namespace,
            function_timeout_seconds=args.function_timeout_seconds,
            function_reserved_concurrency=args.function_reserved_concurrency,
        )
        alarms = {
            definition.key: self._alarm(name, definition, topic.arn, topic_policy)
            for definition in definitions
        }

        # Resolve every watched value (None stays None) so the dashboard body is plain JSON.
        watched_fields = {f.name: getattr(args.watched, f.name) for f in dataclasses.fields(Watched)}
        body = pulumi.Output.all(
            pulumi.Output.all(**watched_fields),
            args.region,
            args.app_log_group_name,
            pulumi.Output.all(*[alarm.arn for alarm in alarms.values()]),
        ).apply(
            lambda v: json.dumps(
                dashboard_body(
                    Watched(**v[0]),
                    region=v[1],
                    app_log_group_name=v[2],
                    alarm_arns=v[3],
                    min_healthy_hosts=args.min_healthy_hosts,
                    metrics_namespace=args.metrics_namespace,
                    function_timeout_seconds=args.function_timeout_seconds,
                    function_reserved_concurrency=args.function_reserved_concurrency,
                ),
                sort_keys=True,
            )
        )
        dashboard = aws.cloudwatch.Dashboard(
            f"{name}-dashboard", dashboard_name=dashboard_name(prefix), dashboard_body=body, opts=child
        )

        for query_name, query in (
            ("errors-by-route", ERRORS_BY_ROUTE_QUERY),
            ("latency-by-route", LATENCY_BY_ROUTE_QUERY),
        ):
            aws.cloudwatch.QueryDefinition(
                f"{name}-{query_name}",
                # "/" files the query in a folder per environment in the Logs Insights console.
                name=f"{prefix}/{query_name}",
                query_string=query,
                log_group_names=[args.app_log_group_name],
                opts=child,
            )

        self.alarm_topic_arn = topic.arn
        self.dashboard_name = dashboard.dashboard_name
        self.alarm_names = {key: alarm.name for key, alarm in alarms.items()}
        # ECS rolls a deployment back on these alarms. A Lambda alias has no such hook (that is
        # CodeDeploy's, which this stack does not use): the release gate (/readyz before the alias
        # moves, components/lambda_release.py) stops a bad version instead. See docs/operations.md.
        self.deployment_alarm_names = (
            deployment_alarm_names(prefix) if args.watched.runtime == "fargate" else ()
        )
        self.register_outputs(
            {
                "alarm_topic_arn": self.alarm_topic_arn,
                "dashboard_name": self.dashboard_name,
                "alarm_names": self.alarm_names,
            }
        )

    def _alarm(
        self,
        name: str,
        definition: AlarmDefinition,
        topic_arn: pulumi.Output[str],
        topic_policy: aws.sns.TopicPolicy,
    ) -> aws.cloudwatch.MetricAlarm:
        rule = definition.rule
        single_metric = not definition.queries
        return aws.cloudwatch.MetricAlarm(
            f"{name}-{ALARM_SUFFIXES[definition.key]}",
            name=definition.name,
            alarm_description=definition.description,
            comparison_operator=definition.comparison_operator,
            threshold=definition.threshold,
            evaluation_periods=rule.evaluation_periods,
            datapoints_to_alarm=rule.datapoints_to_alarm,
            treat_missing_data=definition.treat_missing_data,
            namespace=definition.namespace,
            metric_name=definition.metric_name,
            dimensions=definition.dimensions,
            statistic=definition.statistic,
            extended_statistic=definition.extended_statistic,
            evaluate_low_sample_count_percentiles=definition.evaluate_low_sample_count_percentiles,
            # A metric-math alarm takes its period from each query's metric instead.
            period=rule.period_seconds if single_metric else None,
            metric_queries=[_query_args(query) for query in definition.queries] or None,
            actions_enabled=True,
            alarm_actions=[topic_arn],
            ok_actions=[topic_arn],
            # The topic policy must admit CloudWatch before the first state change is published.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[topic_policy]),
        )


def _query_args(query: MetricQuery) -> aws.cloudwatch.MetricAlarmMetricQueryArgs:
    metric = None
    if query.metric is not None:
        metric = aws.cloudwatch.MetricAlarmMetricQueryMetricArgs(
            namespace=query.metric.namespace,
            metric_name=query.metric.metric_name,
            dimensions=query.metric.dimensions,
            stat=query.metric.stat,
            period=query.metric.period,
        )
    return aws.cloudwatch.MetricAlarmMetricQueryArgs(
        id=query.id,
        label=query.label,
        expression=query.expression,
        metric=metric,
        return_data=query.return_data,
    )
