"""HttpApi: the cheapest front door for the Lambda runtime, an API Gateway HTTP API (no ALB, no NAT).

    internet ──HTTPS──► execute-api ($default stage) ──$default route──► AWS_PROXY 2.0 ──► function:live

One `$default` route sends every method and path to the function's alias (Mangum routes inside the app),
with payload format 2.0 (API Gateway developer guide, "Create AWS Lambda proxy integrations for HTTP
APIs": "If you create a Lambda integration by using the AWS CLI, CloudFormation, or an SDK, you must
specify a payloadFormatVersion"). The `$default` stage is served at the API's root URL, auto-deployed,
throttled on its default route, and writes JSON access logs to its own log group. The default
`execute-api` endpoint is HTTPS only; there is no WAF (WAF cannot be associated with an HTTP API) and no
`/metrics` block: the function does not serve `/metrics` on Lambda (METRICS_ENABLED=false).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

APIGATEWAY_PRINCIPAL = "apigateway.amazonaws.com"
DEFAULT = "$default"
PAYLOAD_FORMAT_VERSION = "2.0"
# pulumi-aws `apigatewayv2.Integration.timeout_milliseconds`: "between 50 and 30,000 milliseconds for HTTP
# APIs. The default timeout is ... 30 seconds for HTTP APIs"; the settings cap the function at 30 s.
MAX_INTEGRATION_TIMEOUT_MS = 30_000

# The HTTP API access-log example of the API Gateway developer guide ("Configure logging for HTTP APIs"),
# plus why an integration failed: `$context` variables of "Customize HTTP API access logs".
ACCESS_LOG_FIELDS = {
    "requestId": "$context.requestId",
    "ip": "$context.identity.sourceIp",
    "requestTime": "$context.requestTime",
    "httpMethod": "$context.httpMethod",
    "routeKey": "$context.routeKey",
    "path": "$context.path",
    "status": "$context.status",
    "protocol": "$context.protocol",
    "responseLength": "$context.responseLength",
    "integrationErrorMessage": "$context.integrationErrorMessage",
}


def access_log_format() -> str:
    """One JSON object per request (single line, as the stage's `access_log_settings.format` requires)."""
    return json.dumps(ACCESS_LOG_FIELDS, separators=(",", ":"))


def invoke_source_arn(execution_arn: str) -> str:
    """The permission's `source_arn`: any stage and route of this one API (`arn:aws:execute-api:<region>:
    <account>:<api-id>/<stage>/<route>`), never another API or account."""
    if not execution_arn.startswith("arn:aws") or ":execute-api:" not in execution_arn:
        raise ValueError(f"not an execute-api ARN: {execution_arn!r}")
    return f"{execution_arn}/*"


@dataclass(frozen=True)
class HttpApiArgs:
    api_name: str
    function_name: pulumi.Input[str]
    alias_name: pulumi.Input[str]
    alias_arn: pulumi.Input[str]
    """The integration target: the alias, so a release moves traffic by moving the alias."""
    access_log_group_name: str
    log_retention_days: int
    throttling_rate_limit: float = 50.0
    """Steady requests per second for the whole stage (API Gateway answers 429 above it)."""
    throttling_burst_limit: int = 100
    integration_timeout_ms: int = MAX_INTEGRATION_TIMEOUT_MS


class HttpApi(pulumi.ComponentResource):
    url: pulumi.Output[str]
    """`https://<api-id>.execute-api.<region>.amazonaws.com` (the `$default` stage serves the root)."""
    api_id: pulumi.Output[str]
    stage_name: pulumi.Output[str]
    execution_arn: pulumi.Output[str]
    access_log_group_name: pulumi.Output[str]

    def __init__(self, name: str, args: HttpApiArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("booking:components:HttpApi", name, None, opts)
        if not 50 <= args.integration_timeout_ms <= MAX_INTEGRATION_TIMEOUT_MS:
            raise ValueError(f"integration_timeout_ms must be 50..{MAX_INTEGRATION_TIMEOUT_MS}")
        child = pulumi.ResourceOptions(parent=self)

        api = aws.apigatewayv2.Api(
            f"{name}-api",
            name=args.api_name,
            protocol_type="HTTP",
            description="booking API (Lambda runtime)",
            opts=child,
        )
        integration = aws.apigatewayv2.Integration(
            f"{name}-lambda",
            api_id=api.id,
            integration_type="AWS_PROXY",
            integration_method="POST",
            integration_uri=args.alias_arn,
            payload_format_version=PAYLOAD_FORMAT_VERSION,
            timeout_milliseconds=args.integration_timeout_ms,
            opts=child,
        )
        aws.apigatewayv2.Route(
            f"{name}-default-route",
            api_id=api.id,
            route_key=DEFAULT,
            target=integration.id.apply(lambda i: f"integrations/{i}"),
            opts=child,
        )
        access_logs = aws.cloudwatch.LogGroup(
            f"{name}-access-logs",
            name=args.access_log_group_name,
            retention_in_days=args.log_retention_days,
            opts=child,
        )
        stage = aws.apigatewayv2.Stage(
            f"{name}-stage",
            api_id=api.id,
            name=DEFAULT,
            auto_deploy=True,
            access_log_settings=aws.apigatewayv2.StageAccessLogSettingsArgs(
                destination_arn=access_logs.arn, format=access_log_format()
            ),
            default_route_settings=aws.apigatewayv2.StageDefaultRouteSettingsArgs(
                throttling_rate_limit=args.throttling_rate_limit,
                throttling_burst_limit=args.throttling_burst_limit,
                detailed_metrics_enabled=False,
            ),
            opts=child,
        )
        aws.lambda_.Permission(
            f"{name}-apigw-invoke",
            action="lambda:InvokeFunction",
            function=args.function_name,
            qualifier=args.alias_name,
            principal=APIGATEWAY_PRINCIPAL,
            source_arn=api.execution_arn.apply(invoke_source_arn),
            opts=child,
        )

        self.url = api.api_endpoint
        self.api_id = api.id
        self.stage_name = stage.name
        self.execution_arn = api.execution_arn
        self.access_log_group_name = access_logs.name
        self.register_outputs(
            {
                "url": self.url,
                "apiId": self.api_id,
                "stageName": self.stage_name,
                "executionArn": self.execution_arn,
                "accessLogGroupName": self.access_log_group_name,
            }
        )
