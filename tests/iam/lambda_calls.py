"""The calls the Lambda runtime's resources make (issue 14): first `up` (MAKERS) and later updates and
the destroy (LATER), per declared resource type, as IAM authorises them. tests/iam/calls.py merges
MAKERS into its table, so the program-derived test covers them once the stack declares them.

Sources (AWS documentation page titles; provider functions in terraform-provider-aws, which Pulumi's
AWS provider bridges):
- Lambda Developer Guide "Giving Lambda functions access to resources in an Amazon VPC" (the caller's
  ec2:DescribeSecurityGroups/DescribeSubnets/DescribeVpcs for vpc_config; iam:PassRole of the execution
  role); "Create a Lambda function using a container image", Amazon ECR permissions, and AWS re:Post
  "Lambda does not have permission to access the ECR image" (same account: the repository policy must
  admit lambda.amazonaws.com; Lambda writes that statement with the caller's ecr:GetRepositoryPolicy /
  ecr:SetRepositoryPolicy when it is missing); Lambda service authorization reference (alias, version
  and provisioned concurrency calls are authorised on `function:<name>[:<qualifier>]`; AddPermission's
  lambda:Principal).
- ELB User Guide "Lambda functions as targets" (RegisterTargets with the alias ARN as target id).
- "Actions, resources, and condition keys for Amazon API Gateway Management V2" (verbs on /apis paths,
  apigateway:Request/ApiName, aws:ResourceTag on every V2 resource type); API Gateway Developer Guide
  "Configuring logging for an HTTP API" (the caller's logs:CreateLogDelivery family for access logs).
- EC2 service authorization reference, CreateVpcEndpoint (authorised on the endpoint, the VPC, each
  subnet and security group; ec2:VpceServiceName); provider deleteLingeringLambdaENI (the destroy of a
  security group or subnet deletes the interfaces Lambda released).
- EventBridge User Guide "Using IAM policy conditions in Amazon EventBridge" (events:source,
  events:detail-type on PutEvents); components/lambda_release.py for the gate's own calls.
"""

from __future__ import annotations

from typing import Any

from stacks.offline import DeclaredResource
from tests.iam.calls import CallMaker, Calls, Stack, _id, _named, _pass_role
from tests.iam.evaluator import Request

RELEASE_SOURCE, RELEASE_DETAIL_TYPE = "booking.release", "Lambda Release State Change"


def function_arn(s: Stack, name: str, qualifier: str | None = None) -> str:
    return s.arn("lambda", f"function:{name}" + (f":{qualifier}" if qualifier else ""))


def api_arn(s: Stack, path: str) -> str:
    return f"arn:aws:apigateway:{s.region}::{path}"


def _api_id(resource: DeclaredResource) -> str:
    """The HTTP API a route/integration/stage belongs to (the mocks answer with some id)."""
    return str(resource.inputs.get("apiId") or "a1b2c3d4e5")


def _function_name(value: Any) -> str:
    """`function` / `functionName` inputs may be a name or an ARN (optionally qualified)."""
    text = str(value)
    return text.split(":")[6] if text.startswith("arn:") else text


def _function(resource: DeclaredResource, s: Stack) -> Calls:
    name = str(resource.inputs["name"])
    arn = function_arn(s, name)
    yield Request("lambda:CreateFunction", arn, s.new())
    yield Request("lambda:TagResource", arn, s.new())
    yield _pass_role(str(resource.inputs["role"]), "lambda.amazonaws.com")
    if resource.inputs.get("vpcConfig"):
        for action in ("ec2:DescribeSecurityGroups", "ec2:DescribeSubnets", "ec2:DescribeVpcs"):
            yield Request(action, "*", s.ctx())
    if resource.inputs.get("packageType") == "Image":
        repository = str(resource.inputs["imageUri"]).split("/", 1)[1].split("@")[0].split(":")[0]
        for action in ("ecr:GetRepositoryPolicy", "ecr:SetRepositoryPolicy"):
            yield Request(action, s.arn("ecr", f"repository/{repository}"), s.ctx())
    # The provider waits for Active and reads back what it made; publish=True lists the versions.
    for action in (
        "lambda:GetFunction",
        "lambda:GetFunctionCodeSigningConfig",
        "lambda:ListVersionsByFunction",
    ):
        yield Request(action, arn, s.ctx())
    if resource.inputs.get("reservedConcurrentExecutions") not in (None, -1):
        yield Request("lambda:PutFunctionConcurrency", arn, s.ctx())


def _alias(resource: DeclaredResource, s: Stack) -> Calls:
    name = _function_name(resource.inputs["functionName"])
    yield Request("lambda:CreateAlias", function_arn(s, name), s.ctx())
    yield Request("lambda:GetAlias", function_arn(s, name, str(resource.inputs["name"])), s.ctx())


def _provisioned(resource: DeclaredResource, s: Stack) -> Calls:
    arn = function_arn(s, _function_name(resource.inputs["functionName"]), str(resource.inputs["qualifier"]))
    yield Request("lambda:PutProvisionedConcurrencyConfig", arn, s.ctx())
    yield Request("lambda:GetProvisionedConcurrencyConfig", arn, s.ctx())


def _permission(resource: DeclaredResource, s: Stack) -> Calls:
    qualifier = resource.inputs.get("qualifier")
    arn = function_arn(s, _function_name(resource.inputs["function"]), str(qualifier) if qualifier else None)
    yield Request(
        "lambda:AddPermission", arn, s.ctx(**{"lambda:Principal": str(resource.inputs["principal"])})
    )
    yield Request("lambda:GetPolicy", arn, s.ctx())


def _target_attachment(resource: DeclaredResource, s: Stack) -> Calls:
    yield Request("elasticloadbalancing:RegisterTargets", str(resource.inputs["targetGroupArn"]), s.ctx())
    yield Request("elasticloadbalancing:DescribeTargetHealth", "*", s.ctx())


def _api(resource: DeclaredResource, s: Stack) -> Calls:
    name = str(resource.inputs["name"])
    yield Request("apigateway:POST", api_arn(s, "/apis"), s.new(**{"apigateway:Request/ApiName": name}))
    yield Request("apigateway:GET", api_arn(s, f"/apis/{_id(resource, 'api')}"), s.owned())


def _api_child(collection: str) -> CallMaker:
    def calls(resource: DeclaredResource, s: Stack) -> Calls:
        api = _api_id(resource)
        # The API's own tags (Stage also takes its own, sent in the create like the API's).
        yield Request("apigateway:POST", api_arn(s, f"/apis/{api}/{collection}"), {**s.owned(), **s.new()})
        yield Request("apigateway:GET", api_arn(s, f"/apis/{api}/{collection}/x1y2z3"), s.owned())
        if collection == "stages" and resource.inputs.get("accessLogSettings"):
            for action in ("logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:ListLogDeliveries"):
                yield Request(action, "*", s.ctx())
            yield Request("logs:PutResourcePolicy", "*", s.ctx())
            yield Request("logs:DescribeResourcePolicies", "*", s.ctx())

    return calls


def _vpc_endpoint(resource: DeclaredResource, s: Stack) -> Calls:
    endpoint = s.arn("ec2", f"vpc-endpoint/{_id(resource, 'vpce')}")
    service = {"ec2:VpceServiceName": str(resource.inputs["serviceName"])}
    yield Request("ec2:CreateVpcEndpoint", endpoint, s.new(**service))
    yield Request("ec2:CreateTags", endpoint, s.new(**{"ec2:CreateAction": "CreateVpcEndpoint"}))
    yield Request("ec2:CreateVpcEndpoint", s.arn("ec2", "vpc/vpc-0parent"), s.owned())
    for kind, count in (("subnet", len(resource.inputs.get("subnetIds") or [])), ("security-group", 1)):
        for index in range(count):
            yield Request("ec2:CreateVpcEndpoint", s.arn("ec2", f"{kind}/{kind}-0parent{index}"), s.owned())


def release_calls(resource: DeclaredResource, s: Stack) -> Calls:
    """The release gate and its COMPLETED companion (components/lambda_release.py), deployer's credentials."""
    name, version = str(resource.inputs["functionName"]), str(resource.inputs.get("version") or "1")
    yield Request("lambda:GetAlias", function_arn(s, name, str(resource.inputs["alias"])), s.ctx())
    yield Request("lambda:GetFunctionConfiguration", function_arn(s, name, version), s.ctx())
    for _ in ("migrate", "readyz"):
        yield Request("lambda:InvokeFunction", function_arn(s, name, version), s.ctx())
    yield release_event(s)


def release_event(s: Stack, source: str = RELEASE_SOURCE, detail_type: str = RELEASE_DETAIL_TYPE) -> Request:
    return Request(
        "events:PutEvents",
        s.arn("events", "event-bus/default"),
        s.ctx(**{"events:source": source, "events:detail-type": detail_type}),
    )


def is_release(resource: DeclaredResource) -> bool:
    return resource.type == "pulumi-python:dynamic:Resource" and "functionName" in resource.inputs


MAKERS: dict[str, CallMaker] = {
    "aws:lambda/function:Function": _function,
    "aws:lambda/alias:Alias": _alias,
    "aws:lambda/provisionedConcurrencyConfig:ProvisionedConcurrencyConfig": _provisioned,
    "aws:lambda/permission:Permission": _permission,
    "aws:lb/targetGroupAttachment:TargetGroupAttachment": _target_attachment,
    "aws:apigatewayv2/api:Api": _api,
    "aws:apigatewayv2/integration:Integration": _api_child("integrations"),
    "aws:apigatewayv2/route:Route": _api_child("routes"),
    "aws:apigatewayv2/stage:Stage": _api_child("stages"),
    "aws:ec2/vpcEndpoint:VpcEndpoint": _vpc_endpoint,
    # If the registry declares the Lambda pull statement itself instead of leaving it to Lambda.
    "aws:ecr/repositoryPolicy:RepositoryPolicy": _named(
        "ecr:SetRepositoryPolicy", "ecr:repository/{n}", "repository"
    ),
}


# --- later `up`s and the destroy --------------------------------------------------------------------


def _function_later(resource: DeclaredResource, s: Stack) -> Calls:
    arn = function_arn(s, str(resource.inputs["name"]))
    for action in (
        "lambda:UpdateFunctionCode",  # a new image digest
        "lambda:UpdateFunctionConfiguration",
        "lambda:PublishVersion",
        "lambda:PutFunctionConcurrency",
        "lambda:DeleteFunctionConcurrency",
        "lambda:UntagResource",
        "lambda:DeleteFunction",
    ):
        yield Request(action, arn, s.ctx())
    yield _pass_role(str(resource.inputs["role"]), "lambda.amazonaws.com")


def _api_later(resource: DeclaredResource, s: Stack) -> Calls:
    api = api_arn(s, f"/apis/{_id(resource, 'api')}")
    yield Request("apigateway:PATCH", api, s.owned())
    yield Request("apigateway:DELETE", api, s.owned())
    tags = api_arn(s, "/tags/" + api.replace(":", "%3A").replace("/", "%2F"))
    yield Request(
        "apigateway:POST", tags, s.ctx(**{"aws:RequestTag/Owner": "team", "aws:TagKeys": ["Owner"]})
    )


def _api_child_later(collection: str) -> CallMaker:
    def calls(resource: DeclaredResource, s: Stack) -> Calls:
        child = api_arn(s, f"/apis/{_api_id(resource)}/{collection}/x1y2z3")
        yield Request("apigateway:PATCH", child, s.owned())
        yield Request("apigateway:DELETE", child, s.owned())

    return calls


LATER: dict[str, CallMaker] = {
    "aws:lambda/function:Function": _function_later,
    "aws:lambda/alias:Alias": lambda r, s: iter(
        [
            Request(action, function_arn(s, _function_name(r.inputs["functionName"])), s.ctx())
            for action in ("lambda:UpdateAlias", "lambda:DeleteAlias")
        ]
    ),
    "aws:lambda/provisionedConcurrencyConfig:ProvisionedConcurrencyConfig": lambda r, s: iter(
        [
            Request(
                "lambda:DeleteProvisionedConcurrencyConfig",
                function_arn(s, _function_name(r.inputs["functionName"]), str(r.inputs["qualifier"])),
                s.ctx(),
            )
        ]
    ),
    "aws:lambda/permission:Permission": lambda r, s: iter(
        [Request("lambda:RemovePermission", function_arn(s, _function_name(r.inputs["function"])), s.ctx())]
    ),
    "aws:lb/targetGroupAttachment:TargetGroupAttachment": lambda r, s: iter(
        [Request("elasticloadbalancing:DeregisterTargets", str(r.inputs["targetGroupArn"]), s.ctx())]
    ),
    "aws:apigatewayv2/api:Api": _api_later,
    "aws:apigatewayv2/integration:Integration": _api_child_later("integrations"),
    "aws:apigatewayv2/route:Route": _api_child_later("routes"),
    "aws:apigatewayv2/stage:Stage": _api_child_later("stages"),
    "aws:ec2/vpcEndpoint:VpcEndpoint": lambda r, s: iter(
        [
            Request(action, s.arn("ec2", f"vpc-endpoint/{_id(r, 'vpce')}"), s.owned())
            for action in ("ec2:ModifyVpcEndpoint", "ec2:DeleteVpcEndpoints")
        ]
    ),
    # The destroy of the function's security group: the interfaces Lambda released (untagged, Lambda's).
    "aws:ec2/securityGroup:SecurityGroup": lambda r, s: iter(
        [Request("ec2:DeleteNetworkInterface", s.arn("ec2", f"network-interface/{_id(r, 'eni')}"), s.ctx())]
    ),
    "aws:cloudwatch/logGroup:LogGroup": lambda r, s: iter(
        [Request("logs:DeleteLogGroup", s.arn("logs", f"log-group:{r.inputs['name']}"), s.ctx())]
    ),
}
