"""LambdaService: the booking API as a container-image Lambda function in the private subnets, released
through a gate (components/lambda_release.py) and served by the `live` alias.

Every `pulumi up` that changes the image or the configuration publishes a version (`publish=True`:
pulumi_aws "Whether to publish creation/change as new Lambda Function Version"; the function's `version`
output is the latest published one). The gate migrates the database from that version and asks its
`/readyz`; only then does the alias move (it depends on the gate), and `ReleaseCompleted` announces it.
Front doors (ALB target group, HTTP API) point at the alias, never at `$LATEST` or a bare version.

Concurrency: `reserved_concurrent_executions` caps the function's concurrent environments, and so its
database connections (pulumi_aws: "A value of `0` disables lambda from being triggered and `-1` removes
any concurrency limitations"; the settings keep it at 1 or more). Provisioned concurrency goes on the
alias (Lambda API reference, PutProvisionedConcurrencyConfig: "Adds a provisioned concurrency
configuration to a function's alias or version", `Qualifier` "The version number or alias name"), so it
follows `live` to each released version; the gate has already initialised that version once, so a
version whose init fails never becomes the alias's target.

Image (docs/lambda-runtime.md, "What the stack must set on the function"): `package_type="Image"`, the
ECR image by digest the Fargate service would run, ImageConfig entry point / command / working directory
(Lambda API reference, "ImageConfig"). Lambda runs single-architecture images only, hence `architecture`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from app.core.lambda_pool import LAMBDA_POOL_DEFAULTS
from components.iam_policies import assume_role_policy, document, statement, to_json
from components.lambda_release import ReleaseArgs, ReleaseCompleted, ReleaseGate
from components.types import Architecture

ALIAS_NAME = "live"
IMAGE_ENTRY_POINT = ("/opt/venv/bin/python", "-m", "awslambdaric")
IMAGE_COMMAND = ("app.lambda_handler.handler",)
IMAGE_WORKING_DIRECTORY = "/srv"
GET_SECRET_VALUE = "secretsmanager:GetSecretValue"  # noqa: S105 - an IAM action name


@dataclass(frozen=True)
class LambdaServiceArgs:
    function_name: str
    region: str
    account_id: pulumi.Input[str]
    subnet_ids: Sequence[pulumi.Input[str]]
    """Private subnets only: the function reaches RDS there, and Secrets Manager through a NAT gateway
    or an interface endpoint. A function in a VPC never gets a public IP, so public subnets would not
    give it the internet either (Lambda Developer Guide, "Giving Lambda functions access to a VPC")."""
    security_group_id: pulumi.Input[str]
    image: pulumi.Input[str]
    """`<repository url>@sha256:<digest>`: the image the Fargate service would run."""
    db_host: pulumi.Input[str]
    db_port: pulumi.Input[int]
    db_name: pulumi.Input[str]
    db_secret_arn: pulumi.Input[str]
    jwt_secret_arn: pulumi.Input[str]
    environment: str
    """The stack's environment (`dev`, `prod`): in the release events the notifier filters on."""
    architecture: Architecture = "arm64"
    memory_mb: int = 1024
    timeout_seconds: int = 30
    reserved_concurrency: int = 10
    provisioned_concurrency: int = 0
    log_retention_days: int = 14
    log_level: str = "INFO"
    metrics_namespace: str | None = None
    app_name: str = "booking"
    permissions_boundary: pulumi.Input[str] | None = None
    """The environment's permissions boundary (bootstrap); the execution role carries it."""
    release_after: Sequence[pulumi.Resource] = ()
    """What must exist before the gate invokes the new version: the routes and security group rules
    to RDS and Secrets Manager (e.g. the Network, SecurityGroups and Database components)."""


# --- pure builders (tested without Pulumi) ------------------------------------------------------------


def function_environment(
    *,
    db_host: str,
    db_port: int,
    db_name: str,
    db_secret_arn: str,
    jwt_secret_arn: str,
    log_level: str,
    metrics_namespace: str | None,
) -> dict[str, str]:
    """The function's plain environment: ARNs of the secrets, never their values (anyone allowed
    lambda:GetFunctionConfiguration reads this). AWS_REGION is set by Lambda itself (a reserved
    variable, Lambda Developer Guide, "Defined runtime environment variables")."""
    env = {
        "DB_HOST": db_host,
        "DB_PORT": str(db_port),
        "DB_NAME": db_name,
        "DB_SSLMODE": "require",
        "DB_SECRET_ARN": db_secret_arn,
        "JWT_SECRET_ARN": jwt_secret_arn,
        "LOG_LEVEL": log_level,
        # One request per environment (the pool the connection budget in stacks/settings counts) and
        # no Prometheus scraper: app.core.config's lambda_settings, stated here too.
        **{key: str(value) for key, value in LAMBDA_POOL_DEFAULTS.items()},
        "METRICS_ENABLED": "false",
    }
    if metrics_namespace:
        env["METRICS_NAMESPACE"] = metrics_namespace
    return env


def lambda_trust_policy() -> dict[str, Any]:
    # No aws:SourceAccount condition: Lambda is not documented to send it when it assumes an execution
    # role (same reasoning as components/notifier.py); only a function configured with this role
    # (iam:PassRole in this account) makes Lambda assume it.
    return assume_role_policy("lambda.amazonaws.com")


def execution_role_policy(
    *,
    region: str,
    account_id: str,
    log_group_arn: str,
    db_secret_arn: str,
    jwt_secret_arn: str,
    subnet_ids: Sequence[str],
    security_group_id: str,
) -> dict[str, Any]:
    """Least privilege for the function: its two secrets, its own log group, its VPC network interfaces.

    The VPC actions are AWSLambdaVPCAccessExecutionRole's (AWS managed policy reference: logs:Create*/
    PutLogEvents, ec2:CreateNetworkInterface, DescribeNetworkInterfaces, DescribeSubnets,
    DeleteNetworkInterface, Assign/UnassignPrivateIpAddresses, all on "*"), scoped as far as the Lambda
    Developer Guide ("Giving Lambda functions access to resources in an Amazon VPC") allows:
    DescribeNetworkInterfaces "only works if it's allowed on all resources"; DeleteNetworkInterface needs
    "a unique resource ID, or all resource IDs" (here: every network interface of this account and
    region, since Lambda picks the ids); CreateNetworkInterface is authorized on the network interface,
    the subnet and the security group (Service Authorization Reference, EC2), so it names exactly the
    function's subnets and security group. ec2:DescribeSubnets has no resource-level permissions.
    """
    ec2 = f"arn:aws:ec2:{region}:{account_id}"
    interfaces = f"{ec2}:network-interface/*"
    return document(
        [
            statement([GET_SECRET_VALUE], sorted({db_secret_arn, jwt_secret_arn}), sid="ReadAppSecrets"),
            statement(
                ["logs:CreateLogStream", "logs:PutLogEvents"], [f"{log_group_arn}:*"], sid="WriteOwnLogs"
            ),
            statement(
                ["ec2:CreateNetworkInterface"],
                [
                    interfaces,
                    *(f"{ec2}:subnet/{subnet}" for subnet in sorted(subnet_ids)),
                    f"{ec2}:security-group/{security_group_id}",
                ],
                sid="CreateNetworkInterfacesInOwnSubnets",
            ),
            statement(
                [
                    "ec2:DeleteNetworkInterface",
                    "ec2:AssignPrivateIpAddresses",
                    "ec2:UnassignPrivateIpAddresses",
                ],
                [interfaces],
                sid="ManageNetworkInterfaces",
            ),
            statement(
                ["ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets"],
                ["*"],
                sid="DescribeNetworkNoResourceLevel",
            ),
        ]
    )


# --- the component ------------------------------------------------------------------------------------


class LambdaService(pulumi.ComponentResource):
    function_name: pulumi.Output[str]
    function_arn: pulumi.Output[str]
    alias_name: pulumi.Output[str]
    alias_arn: pulumi.Output[str]
    version: pulumi.Output[str]
    log_group_name: pulumi.Output[str]
    role_arn: pulumi.Output[str]

    def __init__(
        self, name: str, args: LambdaServiceArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("booking:components:LambdaService", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        log_group = aws.cloudwatch.LogGroup(
            f"{name}-logs",
            name=f"/aws/lambda/{args.function_name}",
            retention_in_days=args.log_retention_days,
            opts=child,
        )
        role = aws.iam.Role(
            f"{name}-execution",
            description=f"The booking API on Lambda ({args.function_name}): secrets, logs, VPC interfaces",
            assume_role_policy=to_json(lambda_trust_policy()),
            permissions_boundary=args.permissions_boundary,
            opts=child,
        )
        role_policy = aws.iam.RolePolicy(
            f"{name}-execution-policy",
            role=role.id,
            policy=pulumi.Output.all(
                args.account_id,
                log_group.arn,
                args.db_secret_arn,
                args.jwt_secret_arn,
                args.security_group_id,
                *args.subnet_ids,
            ).apply(
                lambda v: to_json(
                    execution_role_policy(
                        region=args.region,
                        account_id=v[0],
                        log_group_arn=v[1],
                        db_secret_arn=v[2],
                        jwt_secret_arn=v[3],
                        security_group_id=v[4],
                        subnet_ids=v[5:],
                    )
                )
            ),
            opts=child,
        )
        variables = pulumi.Output.all(
            args.db_host, args.db_port, args.db_name, args.db_secret_arn, args.jwt_secret_arn
        ).apply(
            lambda v: function_environment(
                db_host=v[0],
                db_port=int(v[1]),
                db_name=v[2],
                db_secret_arn=v[3],
                jwt_secret_arn=v[4],
                log_level=args.log_level,
                metrics_namespace=args.metrics_namespace,
            )
        )
        function = aws.lambda_.Function(
            f"{name}-function",
            name=args.function_name,
            description="The booking API (Mangum) from the same image as the Fargate service",
            package_type="Image",
            image_uri=args.image,
            image_config=aws.lambda_.FunctionImageConfigArgs(
                entry_points=list(IMAGE_ENTRY_POINT),
                commands=list(IMAGE_COMMAND),
                working_directory=IMAGE_WORKING_DIRECTORY,
            ),
            architectures=[args.architecture],
            role=role.arn,
            memory_size=args.memory_mb,
            timeout=args.timeout_seconds,
            reserved_concurrent_executions=args.reserved_concurrency,
            publish=True,
            vpc_config=aws.lambda_.FunctionVpcConfigArgs(
                subnet_ids=list(args.subnet_ids), security_group_ids=[args.security_group_id]
            ),
            environment=aws.lambda_.FunctionEnvironmentArgs(variables=variables),
            logging_config=aws.lambda_.FunctionLoggingConfigArgs(
                # Text: the app's own JSON log lines and EMF records reach CloudWatch unchanged.
                log_format="Text",
                log_group=log_group.name,
            ),
            # The role must be able to create the network interfaces and read the secrets before the
            # first version starts.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[role_policy, log_group]),
        )

        release = ReleaseArgs(
            region=args.region,
            environment=args.environment,
            app=args.app_name,
            function_name=function.name,
            alias=ALIAS_NAME,
            version=function.version,
            image_uri=args.image,
            timeout_seconds=args.timeout_seconds,
        )
        gate = ReleaseGate(
            f"{name}-release-gate",
            release,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[function, *args.release_after]),
        )
        alias = aws.lambda_.Alias(
            f"{name}-alias",
            name=ALIAS_NAME,
            description="The version that passed the release gate (migrated, /readyz 200)",
            function_name=function.name,
            # Only the version the gate passed: the gate's verdict exists only after it succeeded.
            function_version=pulumi.Output.all(function.version, gate.verdict).apply(lambda v: str(v[0])),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[gate]),
        )
        if args.provisioned_concurrency:
            aws.lambda_.ProvisionedConcurrencyConfig(
                f"{name}-provisioned",
                function_name=function.name,
                qualifier=alias.name,
                provisioned_concurrent_executions=args.provisioned_concurrency,
                opts=pulumi.ResourceOptions(parent=self, depends_on=[alias]),
            )
        ReleaseCompleted(
            f"{name}-release-completed",
            release,
            previous_version=gate.previous_version,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[alias]),
        )

        self.function_name = function.name
        self.function_arn = function.arn
        self.alias_name = alias.name
        self.alias_arn = alias.arn
        self.version = alias.function_version
        self.log_group_name = log_group.name
        self.role_arn = role.arn
        self.register_outputs(
            {
                "function_name": self.function_name,
                "function_arn": self.function_arn,
                "alias_name": self.alias_name,
                "alias_arn": self.alias_arn,
                "version": self.version,
                "log_group_name": self.log_group_name,
                "role_arn": self.role_arn,
            }
        )


__all__ = [
    "ALIAS_NAME",
    "LambdaService",
    "LambdaServiceArgs",
    "execution_role_policy",
    "function_environment",
]
