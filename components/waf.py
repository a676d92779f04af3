"""WebFirewall: an AWS WAFv2 web ACL in front of the public ALB.

- AWS managed rule groups: the core rule set, known bad inputs, Amazon IP reputation list (WAF
  Developer Guide, "AWS Managed Rules rule groups list": AWSManagedRulesCommonRuleSet,
  AWSManagedRulesKnownBadInputsRuleSet, AWSManagedRulesAmazonIpReputationList).
- A rate-based rule per client IP on `POST /auth/token` and `POST /auth/register` (password guessing
  and sign-up floods), evaluated first.
- Full request logs to CloudWatch Logs. WAF requires the log group name to start with
  `aws-waf-logs-` (WAF API Reference, "LoggingConfiguration"). The `authorization` header (bearer
  tokens) is redacted; passwords travel in the form body, which WAF never logs.
- An alarm when the ACL blocks more requests than usual (metric `BlockedRequests`, namespace
  `AWS/WAFV2`, dimensions WebACL/Region/Rule=ALL: WAF Developer Guide, "AWS WAF metrics and dimensions").
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

import pulumi
import pulumi_aws as aws

LOG_GROUP_PREFIX = "aws-waf-logs-"
MANAGED_RULE_GROUPS: tuple[str, ...] = (
    "AWSManagedRulesCommonRuleSet",
    "AWSManagedRulesKnownBadInputsRuleSet",
    "AWSManagedRulesAmazonIpReputationList",
)
RATE_LIMITED_PATHS: tuple[str, ...] = ("/auth/token", "/auth/register")
# Rate-based rules count over one of these windows (seconds); the limit is per window and per IP.
EVALUATION_WINDOWS = (60, 120, 300, 600)
MIN_RATE_LIMIT = 10
REDACTED_HEADERS: tuple[str, ...] = ("authorization",)


def _visibility(metric: str) -> dict[str, Any]:
    return {"cloudwatch_metrics_enabled": True, "metric_name": metric, "sampled_requests_enabled": True}


def rate_limit_path_regex(paths: Sequence[str]) -> str:
    return "^(" + "|".join(re.escape(path) for path in paths) + ")$"


def web_acl_rules(metric_prefix: str, rate_limit: int, window_seconds: int) -> list[dict[str, Any]]:
    """The ACL's rules as the provider's rule inputs (plain dicts), in evaluation order."""
    if rate_limit < MIN_RATE_LIMIT:
        raise ValueError(f"rate_limit = {rate_limit}: WAF rate-based rules need at least {MIN_RATE_LIMIT}")
    if window_seconds not in EVALUATION_WINDOWS:
        raise ValueError(f"window_seconds = {window_seconds}: must be one of {EVALUATION_WINDOWS}")
    post = {
        "byte_match_statement": {
            "field_to_match": {"method": {}},
            "positional_constraint": "EXACTLY",
            "search_string": "POST",
            "text_transformations": [{"priority": 0, "type": "NONE"}],
        }
    }
    auth_path = {
        "regex_match_statement": {
            "field_to_match": {"uri_path": {}},
            "regex_string": rate_limit_path_regex(RATE_LIMITED_PATHS),
            "text_transformations": [{"priority": 0, "type": "NONE"}],
        }
    }
    rules: list[dict[str, Any]] = [
        {
            "name": "auth-rate-limit",
            "priority": 0,
            "action": {"block": {}},
            "statement": {
                "rate_based_statement": {
                    "aggregate_key_type": "IP",
                    "limit": rate_limit,
                    "evaluation_window_sec": window_seconds,
                    "scope_down_statement": {"and_statement": {"statements": [post, auth_path]}},
                }
            },
            "visibility_config": _visibility(f"{metric_prefix}-auth-rate-limit"),
        }
    ]
    for priority, group in enumerate(MANAGED_RULE_GROUPS, start=1):
        rules.append(
            {
                "name": group,
                "priority": priority,
                # "none": the group's own actions (block) apply; "count" would only observe.
                "override_action": {"none": {}},
                "statement": {"managed_rule_group_statement": {"vendor_name": "AWS", "name": group}},
                "visibility_config": _visibility(f"{metric_prefix}-{group}"),
            }
        )
    return rules


def log_delivery_policy(log_group_arn: str, account_id: str, region: str) -> dict[str, Any]:
    """The log group's resource policy for WAF's log delivery (CloudWatch Logs User Guide, "Logs sent to
    CloudWatch Logs", log group resource policy), for this account's web ACLs only. Declared here, so
    WAF does not grow its shared AWSWAF-LOGS policy on every ACL."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AWSLogDeliveryWrite",
                "Effect": "Allow",
                "Principal": {"Service": "delivery.logs.amazonaws.com"},
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": [f"{log_group_arn}:*"],
                "Condition": {
                    "StringEquals": {"aws:SourceAccount": account_id},
                    "ArnLike": {"aws:SourceArn": f"arn:aws:logs:{region}:{account_id}:*"},
                },
            }
        ],
    }


@dataclass(frozen=True)
class WebFirewallArgs:
    name_prefix: str
    region: str
    account_id: pulumi.Input[str]
    load_balancer_arn: pulumi.Input[str]
    rate_limit: int = 100
    rate_window_seconds: int = 300
    log_retention_days: int = 90
    blocked_alarm_threshold: int = 100
    """Blocked requests in 5 minutes above which the alarm fires."""
    alarm_topic_arn: pulumi.Input[str] | None = None

    def __post_init__(self) -> None:
        web_acl_rules(self.name_prefix, self.rate_limit, self.rate_window_seconds)  # validates
        if self.blocked_alarm_threshold < 1:
            raise ValueError("blocked_alarm_threshold must be at least 1")


class WebFirewall(pulumi.ComponentResource):
    web_acl_arn: pulumi.Output[str]
    log_group_name: pulumi.Output[str]
    alarm_name: pulumi.Output[str]

    def __init__(self, name: str, args: WebFirewallArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("booking:components:WebFirewall", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        acl_name = f"{args.name_prefix}-api"

        acl = aws.wafv2.WebAcl(
            f"{name}-acl",
            name=acl_name,
            description=f"{args.name_prefix}: managed rule groups and a rate limit on sign-in and sign-up",
            scope="REGIONAL",
            default_action=aws.wafv2.WebAclDefaultActionArgs(allow=aws.wafv2.WebAclDefaultActionAllowArgs()),
            # Plain dicts in the provider's input shape (snake_case keys), so the rules are testable data.
            rules=cast(Any, web_acl_rules(args.name_prefix, args.rate_limit, args.rate_window_seconds)),
            visibility_config=cast(Any, _visibility(f"{args.name_prefix}-api")),
            opts=child,
        )
        aws.wafv2.WebAclAssociation(
            f"{name}-association", resource_arn=args.load_balancer_arn, web_acl_arn=acl.arn, opts=child
        )

        log_group = aws.cloudwatch.LogGroup(
            f"{name}-logs",
            name=f"{LOG_GROUP_PREFIX}{args.name_prefix}",
            retention_in_days=args.log_retention_days,
            opts=child,
        )
        policy = aws.cloudwatch.LogResourcePolicy(
            f"{name}-log-delivery",
            policy_name=f"{args.name_prefix}-waf-log-delivery",
            policy_document=pulumi.Output.all(log_group.arn, args.account_id).apply(
                lambda values: json.dumps(log_delivery_policy(values[0], values[1], args.region))
            ),
            opts=child,
        )
        aws.wafv2.WebAclLoggingConfiguration(
            f"{name}-logging",
            resource_arn=acl.arn,
            log_destination_configs=[log_group.arn],
            redacted_fields=[{"single_header": {"name": header}} for header in REDACTED_HEADERS],
            opts=pulumi.ResourceOptions(parent=self, depends_on=[policy]),
        )

        alarm = aws.cloudwatch.MetricAlarm(
            f"{name}-blocked",
            name=f"{args.name_prefix}-waf-blocked-requests",
            alarm_description=(
                f"The {args.name_prefix} web ACL blocked more than {args.blocked_alarm_threshold} requests "
                "in 5 minutes: an attack, or a rule blocking real users (check the aws-waf-logs group)"
            ),
            namespace="AWS/WAFV2",
            metric_name="BlockedRequests",
            dimensions={"WebACL": acl_name, "Region": args.region, "Rule": "ALL"},
            statistic="Sum",
            period=300,
            evaluation_periods=1,
            threshold=args.blocked_alarm_threshold,
            comparison_operator="GreaterThanThreshold",
            treat_missing_data="notBreaching",
            alarm_actions=[args.alarm_topic_arn] if args.alarm_topic_arn else [],
            ok_actions=[args.alarm_topic_arn] if args.alarm_topic_arn else [],
            opts=child,
        )

        self.web_acl_arn = acl.arn
        self.log_group_name = log_group.name
        self.alarm_name = alarm.name
        self.register_outputs(
            {"webAclArn": self.web_acl_arn, "logGroupName": self.log_group_name, "alarmName": self.alarm_name}
        )
