"""The Lambda runtime's network and front-door choices, as plain functions `stacks/__main__.py` calls.

    runtime lambda, frontDoor alb      ALB ─► Lambda target group ─► function:live   (LambdaTarget)
    runtime lambda, frontDoor httpApi  HTTP API ($default) ─────────► function:live   (HttpApi)
    runtime lambda, natGateways none   + a Secrets Manager interface endpoint in the private subnets

Kept apart from `__main__` so the program still reads like the diagram, and so the choices are tested
without running the program.
"""

from __future__ import annotations

import pulumi

from components.http_api import HttpApi, HttpApiArgs

# What the function calls over the network besides PostgreSQL: Secrets Manager only (the DB credentials
# in app/core/db.py and the JWT key in app/lambda_handler.py are its only boto3 clients). Logs and EMF
# metrics need no endpoint: the function writes to stdout and Lambda itself delivers it to CloudWatch
# Logs ("Lambda automatically ... sends logs to CloudWatch Logs", Lambda Developer Guide, "Working with
# Lambda function logs"), outside the function's VPC network interfaces. The image is pulled by Lambda
# when a version is created, not by the function.
LAMBDA_ENDPOINT_SERVICES: tuple[str, ...] = ("secretsmanager",)


def interface_endpoints(runtime: str, nat_gateways: str) -> tuple[str, ...]:
    """The interface endpoints the VPC needs: only a Lambda function without a NAT gateway needs any.

    Fargate with `natGateways: none` runs its tasks in public subnets with a public IP, so it reaches the
    AWS APIs directly; a Lambda function never gets a public IP ("Connecting a function to a public subnet
    doesn't give it internet access or a public IP address", Lambda Developer Guide), so without a NAT
    its private subnets need the endpoints. With a NAT the endpoint would only add cost ($0.01/h per AZ).
    """
    if runtime == "lambda" and nat_gateways == "none":
        return LAMBDA_ENDPOINT_SERVICES
    return ()


def uses_load_balancer(runtime: str, front_door: str | None) -> bool:
    """The ALB exists for Fargate and for Lambda behind `frontDoor: alb`; `httpApi` replaces it (and its
    security group, so nothing in the VPC admits the internet)."""
    return not (runtime == "lambda" and front_door == "httpApi")


def http_api_names(base: str) -> tuple[str, str]:
    """(API name, access-log group name): inside the deploy role's `booking-<env>-*` log-group scope."""
    return f"{base}-api", f"{base}-http-api-access"


def http_api_front_door(
    base: str,
    *,
    function_name: pulumi.Input[str],
    alias_name: pulumi.Input[str],
    alias_arn: pulumi.Input[str],
    log_retention_days: int,
    opts: pulumi.ResourceOptions,
) -> HttpApi:
    """The `frontDoor: httpApi` entry: its `url` is the stack's `url` output (no ALB, no DomainAlias)."""
    api_name, log_group = http_api_names(base)
    return HttpApi(
        f"{base}-http-api",
        HttpApiArgs(
            api_name=api_name,
            function_name=function_name,
            alias_name=alias_name,
            alias_arn=alias_arn,
            access_log_group_name=log_group,
            log_retention_days=log_retention_days,
        ),
        opts=opts,
    )
