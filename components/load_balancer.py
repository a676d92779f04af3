"""LoadBalancer: internet-facing ALB, the API's target group and the listeners.

The target group holds Fargate tasks (`target_type="ip"`) or the API's Lambda alias (`"lambda"`, registered
by `components/lambda_target.py`); listeners, the HTTPS redirect and the `/metrics` block are the same.

HTTP forwards to the API, or, once `https.certificateArn` is set, redirects to an HTTPS listener with a
TLS 1.3 policy. In prod the ALB is deletion-protected and writes access logs to a private, encrypted S3
bucket that expires them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import pulumi
import pulumi_aws as aws

from components.iam_policies import to_json
from components.shutdown import drain_seconds

# TLS 1.3 and 1.2 with forward-secret ciphers only ("Res"): the console's recommended policy.
# https://docs.aws.amazon.com/elasticloadbalancing/latest/application/describe-ssl-policies.html
TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-Res-2021-06"
HEALTH_CHECK_PATH = "/healthz"
# Served by the app for in-VPC scrapers only; the ALB answers 404 for them.
PRIVATE_PATHS = ("/metrics", "/metrics/*")
ACCESS_LOG_PREFIX = "alb"

TargetType = Literal["ip", "lambda"]
# ELB user guide, "Health checks for your target groups": for target type `lambda` the defaults are a
# 35 s interval and a 30 s timeout (5 s / 30 s for ip); health checks of Lambda targets are off by default
# ("Lambda functions as targets", "Enable health checks") and each one is a billed invocation.
LAMBDA_HEALTH_CHECK_INTERVAL_SECONDS = 35
LAMBDA_HEALTH_CHECK_TIMEOUT_SECONDS = 30

# Regions launched before August 2022 deliver ALB access logs from a regional ELB account; newer
# regions use the log delivery service principal.
# https://docs.aws.amazon.com/elasticloadbalancing/latest/application/enable-access-logging.html
ELB_ACCOUNT_BY_REGION = {
    "us-east-1": "127311923021",
    "us-east-2": "033677994240",
    "us-west-1": "027434742980",
    "us-west-2": "797873946194",
    "af-south-1": "098369216593",
    "ap-east-1": "754344448648",
    "ap-southeast-3": "589379963580",
    "ap-south-1": "718504428378",
    "ap-northeast-3": "383597477331",
    "ap-northeast-2": "600734575887",
    "ap-southeast-1": "114774131450",
    "ap-southeast-2": "783225319266",
    "ap-northeast-1": "582318560864",
    "ca-central-1": "985666609251",
    "eu-central-1": "054676820928",
    "eu-west-1": "156460612806",
    "eu-west-2": "652711504416",
    "eu-south-1": "635631232127",
    "eu-west-3": "009996457667",
    "eu-north-1": "897822967062",
    "me-south-1": "076674570225",
    "sa-east-1": "507241528517",
    "us-gov-west-1": "048591011584",
    "us-gov-east-1": "190560391635",
}


def access_log_bucket_policy(bucket_arn: str, region: str, account_id: str) -> dict[str, Any]:
    """Lets ELB write this account's access logs under the prefix, and refuses any non-TLS access."""
    elb_account = ELB_ACCOUNT_BY_REGION.get(region)
    principal: dict[str, str] = (
        {"AWS": f"arn:aws:iam::{elb_account}:root"}
        if elb_account
        else {"Service": "logdelivery.elasticloadbalancing.amazonaws.com"}
    )
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ElbLogDelivery",
                "Effect": "Allow",
                "Principal": principal,
                "Action": ["s3:PutObject"],
                "Resource": [f"{bucket_arn}/{ACCESS_LOG_PREFIX}/AWSLogs/{account_id}/*"],
            },
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": ["s3:*"],
                "Resource": [bucket_arn, f"{bucket_arn}/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            },
        ],
    }


@dataclass(frozen=True)
class LoadBalancerArgs:
    vpc_id: pulumi.Input[str]
    subnet_ids: list[pulumi.Input[str]]
    region: str
    account_id: pulumi.Input[str]
    security_group_id: pulumi.Input[str]
    load_balancer_name: str
    target_group_name: str
    container_port: int
    deregistration_delay_seconds: int
    idle_timeout_seconds: int = 60
    # An existing certificate's ARN, or the issued one of a DomainCertificate; empty/None: HTTP only.
    certificate_arn: pulumi.Input[str] | None = None
    deletion_protection: bool = False
    access_logs: bool = False
    access_log_retention_days: int = 90
    health_check_interval_seconds: int = 10
    health_check_timeout_seconds: int = 5
    unhealthy_threshold: int = 2
    target_type: TargetType = "ip"
    """`lambda`: the target group takes one Lambda function (alias) instead of task IPs."""
    lambda_health_checks: bool = False
    """Lambda targets only: invoke `/healthz` every 35 s (a billed invocation each, per ALB node); off
    by default, as AWS has it: there is no task to replace, and a failing check changes nothing but DNS
    failover, which this stack does not use."""


def target_group_shape(args: LoadBalancerArgs) -> dict[str, Any]:
    """The target group's arguments for its target type (pure, so the lambda/ip split is tested plainly).

    ip: port, protocol, VPC, deregistration delay and an always-on health check of `/healthz`.
    lambda: none of port, protocol or VPC apply (pulumi-aws `TargetGroup`: "Does not apply when
    `target_type` is `lambda`"); `deregistration_delay.timeout_seconds` "is not supported" for a Lambda
    target (ELB API reference, TargetGroupAttribute); health checks only if asked for, and then without a
    protocol ("Cannot be specified when the `target_type` is `lambda`").
    """
    if args.target_type == "ip":
        return {
            "target_type": "ip",
            "vpc_id": args.vpc_id,
            "protocol": "HTTP",
            "port": args.container_port,
            "deregistration_delay": args.deregistration_delay_seconds,
            "health_check": aws.lb.TargetGroupHealthCheckArgs(
                enabled=True,
                path=HEALTH_CHECK_PATH,
                protocol="HTTP",
                port="traffic-port",
                matcher="200",
                interval=args.health_check_interval_seconds,
                timeout=args.health_check_timeout_seconds,
                healthy_threshold=2,
                unhealthy_threshold=args.unhealthy_threshold,
            ),
        }
    # pulumi-aws defaults `health_check.enabled` to true, so "off" is said explicitly.
    health_check = (
        aws.lb.TargetGroupHealthCheckArgs(
            enabled=True,
            # /healthz never touches the database: a DB blip must not mark the only target unhealthy.
            path=HEALTH_CHECK_PATH,
            matcher="200",
            interval=LAMBDA_HEALTH_CHECK_INTERVAL_SECONDS,
            timeout=LAMBDA_HEALTH_CHECK_TIMEOUT_SECONDS,
            healthy_threshold=2,
            unhealthy_threshold=args.unhealthy_threshold,
        )
        if args.lambda_health_checks
        else aws.lb.TargetGroupHealthCheckArgs(enabled=False)
    )
    return {
        "target_type": "lambda",
        # Single-value mode (the ALB's default): Mangum answers in the mode the request came in, the API
        # has no repeated query keys or cookies, and for a repeated scalar key the ALB passes the last
        # value, which is what FastAPI would pick anyway (docs/lambda-runtime.md).
        "lambda_multi_value_headers_enabled": False,
        "health_check": health_check,
    }


class LoadBalancer(pulumi.ComponentResource):
    arn: pulumi.Output[str]
    arn_suffix: pulumi.Output[str]
    """`app/<name>/<id>`: the `LoadBalancer` dimension of AWS/ApplicationELB metrics."""
    dns_name: pulumi.Output[str]
    zone_id: pulumi.Output[str]
    """The ALB's canonical hosted zone: the target zone of an alias record."""
    url: pulumi.Output[str]
    target_group_arn: pulumi.Output[str]
    target_group_arn_suffix: pulumi.Output[str]
    """`targetgroup/<name>/<id>`: the `TargetGroup` dimension of AWS/ApplicationELB metrics."""
    listener_arn: pulumi.Output[str]
    """The listener that forwards to the API (HTTPS when a certificate is set, else HTTP)."""
    access_log_bucket: pulumi.Output[str] | None
    target_type: TargetType
    drain_seconds: int
    """How long a stopping target must keep serving until this ALB stops routing to it."""

    def __init__(self, name: str, args: LoadBalancerArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("booking:components:LoadBalancer", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.drain_seconds = drain_seconds(args.health_check_interval_seconds, args.unhealthy_threshold)

        access_logs: aws.lb.LoadBalancerAccessLogsArgs | None = None
        log_dependencies: list[pulumi.Resource] = []
        self.access_log_bucket = None
        if args.access_logs:
            bucket = self._access_log_bucket(name, args)
            log_dependencies = [bucket[1]]
            access_logs = aws.lb.LoadBalancerAccessLogsArgs(
                bucket=bucket[0].bucket, prefix=ACCESS_LOG_PREFIX, enabled=True
            )
            self.access_log_bucket = bucket[0].bucket

        alb = aws.lb.LoadBalancer(
            f"{name}-alb",
            name=args.load_balancer_name,
            load_balancer_type="application",
            internal=False,
            ip_address_type="ipv4",
            subnets=args.subnet_ids,
            security_groups=[args.security_group_id],
            drop_invalid_header_fields=True,
            desync_mitigation_mode="strictest",
            enable_deletion_protection=args.deletion_protection,
            idle_timeout=args.idle_timeout_seconds,
            access_logs=access_logs,
            # The bucket policy must exist before ELB checks it can write there.
            opts=pulumi.ResourceOptions(parent=self, depends_on=log_dependencies),
        )

        target_group = aws.lb.TargetGroup(
            f"{name}-tg",
            name=args.target_group_name,
            **target_group_shape(args),
            opts=pulumi.ResourceOptions(parent=self, delete_before_replace=False),
        )
        forward = [aws.lb.ListenerDefaultActionArgs(type="forward", target_group_arn=target_group.arn)]

        if args.certificate_arn:
            https = aws.lb.Listener(
                f"{name}-https",
                load_balancer_arn=alb.arn,
                port=443,
                protocol="HTTPS",
                ssl_policy=TLS_POLICY,
                certificate_arn=args.certificate_arn,
                default_actions=forward,
                opts=child,
            )
            aws.lb.Listener(
                f"{name}-http",
                load_balancer_arn=alb.arn,
                port=80,
                protocol="HTTP",
                default_actions=[
                    aws.lb.ListenerDefaultActionArgs(
                        type="redirect",
                        redirect=aws.lb.ListenerDefaultActionRedirectArgs(
                            protocol="HTTPS", port="443", status_code="HTTP_301"
                        ),
                    )
                ],
                opts=child,
            )
            self.listener_arn = https.arn
            self.url = alb.dns_name.apply(lambda dns: f"https://{dns}")
        else:
            http = aws.lb.Listener(
                f"{name}-http",
                load_balancer_arn=alb.arn,
                port=80,
                protocol="HTTP",
                default_actions=forward,
                opts=child,
            )
            self.listener_arn = http.arn
            self.url = alb.dns_name.apply(lambda dns: f"http://{dns}")

        # Prometheus metrics are for scrapers inside the VPC, never for the internet.
        aws.lb.ListenerRule(
            f"{name}-block-metrics",
            listener_arn=self.listener_arn,
            priority=1,
            conditions=[
                aws.lb.ListenerRuleConditionArgs(
                    path_pattern=aws.lb.ListenerRuleConditionPathPatternArgs(values=list(PRIVATE_PATHS))
                )
            ],
            actions=[
                aws.lb.ListenerRuleActionArgs(
                    type="fixed-response",
                    fixed_response=aws.lb.ListenerRuleActionFixedResponseArgs(
                        content_type="text/plain", message_body="Not Found", status_code="404"
                    ),
                )
            ],
            opts=child,
        )

        self.arn = alb.arn
        self.arn_suffix = alb.arn_suffix
        self.dns_name = alb.dns_name
        self.zone_id = alb.zone_id
        self.target_group_arn = target_group.arn
        self.target_group_arn_suffix = target_group.arn_suffix
        self.target_type = args.target_type
        self.register_outputs(
            {
                "arn": self.arn,
                "arnSuffix": self.arn_suffix,
                "dnsName": self.dns_name,
                "url": self.url,
                "targetGroupArn": self.target_group_arn,
                "targetGroupArnSuffix": self.target_group_arn_suffix,
                "listenerArn": self.listener_arn,
            }
        )

    def _access_log_bucket(
        self, name: str, args: LoadBalancerArgs
    ) -> tuple[aws.s3.Bucket, aws.s3.BucketPolicy]:
        child = pulumi.ResourceOptions(parent=self)
        bucket = aws.s3.Bucket(f"{name}-access-logs", force_destroy=False, opts=child)
        public_access = aws.s3.BucketPublicAccessBlock(
            f"{name}-access-logs",
            bucket=bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=child,
        )
        aws.s3.BucketOwnershipControls(
            f"{name}-access-logs",
            bucket=bucket.id,
            rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"),
            opts=child,
        )
        # ALB access logs support SSE-S3 only (not SSE-KMS).
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-access-logs",
            bucket=bucket.id,
            rules=[
                aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                    apply_server_side_encryption_by_default=aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                        sse_algorithm="AES256"
                    )
                )
            ],
            opts=child,
        )
        aws.s3.BucketLifecycleConfiguration(
            f"{name}-access-logs",
            bucket=bucket.id,
            rules=[
                aws.s3.BucketLifecycleConfigurationRuleArgs(
                    id="expire-access-logs",
                    status="Enabled",
                    filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=f"{ACCESS_LOG_PREFIX}/"),
                    expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(
                        days=args.access_log_retention_days
                    ),
                    abort_incomplete_multipart_upload=aws.s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
                        days_after_initiation=1
                    ),
                )
            ],
            opts=child,
        )
        policy = aws.s3.BucketPolicy(
            f"{name}-access-logs",
            bucket=bucket.id,
            policy=pulumi.Output.all(bucket.arn, args.account_id).apply(
                lambda a: to_json(access_log_bucket_policy(a[0], args.region, a[1]))
            ),
            # S3 rejects a bucket policy while the public access block is still being applied.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[public_access]),
        )
        return bucket, policy
