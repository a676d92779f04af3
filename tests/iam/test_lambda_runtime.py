"""The deploy role and the boundary for the Lambda runtime (issue 14), over concrete calls.

The resources below are shaped like the ones the Lambda components declare (LambdaService, ReleaseGate,
LambdaTarget, HttpApi, the Secrets Manager interface endpoint); their calls come from
tests/iam/lambda_calls.py, the same entries the program-derived test in test_deploy_roles.py uses.
Every create, update and delete of dev (both front doors) and prod (ALB) is allowed; the other
environment's function and API, forged release events, foreign invoke principals, roles outside the
stack and other endpoint services are refused.
"""

from __future__ import annotations

from typing import Any

import pytest

from components.deploy_policies import boundary_policy, deploy_policy
from stacks.aws_answers import ACCOUNT
from stacks.offline import DeclaredResource
from tests.iam.calls import GLOBAL_REGION, Stack
from tests.iam.evaluator import ALLOWED, IMPLICIT_DENY, Request, evaluate
from tests.iam.lambda_calls import LATER, MAKERS, api_arn, function_arn, release_calls, release_event
from tests.iam.test_deploy_roles import REGION, scope


def _resource(type_: str, logical: str, **inputs: Any) -> DeclaredResource:
    return DeclaredResource(
        urn=f"urn:pulumi:x::booking::{type_}::{logical}", type=type_, name=logical, inputs=inputs, parent=None
    )


def stack(env: str) -> Stack:
    return Stack(name=env, region=REGION, tags={"Environment": env, "Project": "booking"})


def lambda_resources(env: str, front_door: str) -> list[DeclaredResource]:
    base, fn = f"booking-{env}", f"booking-{env}-api"
    role = f"arn:aws:iam::{ACCOUNT}:role/{base}-api-fn-1a2b3c4"
    image = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/{base}-api@sha256:{'0' * 64}"
    resources = [
        _resource("aws:cloudwatch/logGroup:LogGroup", f"{fn}-logs", name=f"/aws/lambda/{fn}"),
        _resource(
            "aws:lambda/function:Function",
            fn,
            name=fn,
            role=role,
            packageType="Image",
            imageUri=image,
            publish=True,
            reservedConcurrentExecutions=10,
            vpcConfig={"subnetIds": ["subnet-0a", "subnet-0b"], "securityGroupIds": ["sg-0svc"]},
        ),
        _resource("aws:lambda/alias:Alias", f"{fn}-live", name="live", functionName=fn, functionVersion="3"),
        _resource(
            "aws:lambda/provisionedConcurrencyConfig:ProvisionedConcurrencyConfig",
            f"{fn}-warm",
            functionName=fn,
            qualifier="live",
            provisionedConcurrentExecutions=1,
        ),
        _resource(
            "pulumi-python:dynamic:Resource",
            f"{fn}-release",
            region=REGION,
            environment=env,
            app="booking",
            functionName=fn,
            alias="live",
            version="3",
            imageUri=image,
            timeoutSeconds=30,
        ),
        _resource("aws:ec2/securityGroup:SecurityGroup", f"{base}-service", name=f"{base}-service"),
        _resource("aws:ecr/repositoryPolicy:RepositoryPolicy", f"{base}-pull", repository=f"{base}-api"),
    ]
    if front_door == "alb":
        target_group = (
            f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:targetgroup/{base}-api/0123456789abcdef"
        )
        resources += [
            _resource(
                "aws:lambda/permission:Permission",
                f"{base}-elb-invoke",
                function=fn,
                qualifier="live",
                principal="elasticloadbalancing.amazonaws.com",
                sourceArn=target_group,
            ),
            _resource(
                "aws:lb/targetGroupAttachment:TargetGroupAttachment",
                f"{base}-target",
                targetGroupArn=target_group,
                targetId=function_arn(stack(env), fn, "live"),
            ),
        ]
    else:
        resources += [
            _resource(
                "aws:apigatewayv2/api:Api", f"{base}-http-api", name=f"{base}-api", protocolType="HTTP"
            ),
            _resource("aws:apigatewayv2/integration:Integration", f"{base}-int", apiId="a1b2c3d4e5"),
            _resource(
                "aws:apigatewayv2/route:Route", f"{base}-route", apiId="a1b2c3d4e5", routeKey="$default"
            ),
            _resource(
                "aws:apigatewayv2/stage:Stage",
                f"{base}-stage",
                apiId="a1b2c3d4e5",
                name="$default",
                accessLogSettings={
                    "destinationArn": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{base}-http"
                },
            ),
            _resource("aws:cloudwatch/logGroup:LogGroup", f"{base}-http", name=f"{base}-http-api-access"),
            _resource(
                "aws:lambda/permission:Permission",
                f"{base}-apigw-invoke",
                function=fn,
                qualifier="live",
                principal="apigateway.amazonaws.com",
            ),
            _resource(
                "aws:ec2/vpcEndpoint:VpcEndpoint",
                f"{base}-secretsmanager",
                serviceName=f"com.amazonaws.{REGION}.secretsmanager",
                subnetIds=["subnet-0a", "subnet-0b"],
            ),
        ]
    return resources


def calls(env: str, front_door: str) -> list[tuple[str, Request]]:
    s = stack(env)
    found = []
    for resource in lambda_resources(env, front_door):
        makers = [MAKERS.get(resource.type), LATER.get(resource.type)]
        if resource.type == "pulumi-python:dynamic:Resource":
            makers = [release_calls]
        for maker in filter(None, makers):
            found += [(f"{resource.type} {resource.name}", request) for request in maker(resource, s)]
    return found


def deploy(env: str, request: Request) -> str:
    return evaluate([deploy_policy(scope(env))], request)


SCENARIOS = [("dev", "alb"), ("dev", "httpApi"), ("prod", "alb")]


@pytest.mark.parametrize(("env", "front_door"), SCENARIOS, ids=[f"{e}-{d}" for e, d in SCENARIOS])
def test_create_update_and_delete_of_the_lambda_runtime_are_allowed(env: str, front_door: str) -> None:
    made = calls(env, front_door)
    refused = [
        f"{label}: {r.action} on {r.resource} → {deploy(env, r)}"
        for label, r in made
        if deploy(env, r) != ALLOWED
    ]
    assert refused == [], "\n".join(refused)
    assert {"lambda:InvokeFunction", "events:PutEvents", "iam:PassRole", "lambda:AddPermission"} <= {
        r.action for _, r in made
    }


def test_the_scenarios_exercise_every_catalogue_entry() -> None:
    declared = {r.type for env, door in SCENARIOS for r in lambda_resources(env, door)}
    assert set(MAKERS) <= declared


DEV_FN, PROD_FN = "booking-dev-api", "booking-prod-api"
DEV, PROD = stack("dev"), stack("prod")


def _ctx(**extra: Any) -> dict[str, Any]:
    return {"aws:RequestedRegion": REGION, **extra}


def _pass(role: str, service: str = "lambda.amazonaws.com") -> Request:
    context = {"aws:RequestedRegion": GLOBAL_REGION, "iam:PassedToService": service}
    return Request("iam:PassRole", f"arn:aws:iam::{ACCOUNT}:role/{role}", context)


API = api_arn(DEV, "/apis/a1b2c3d4e5")
REFUSED: list[tuple[str, str, Request]] = [
    (
        "prod invokes dev's function",
        "prod",
        Request("lambda:InvokeFunction", function_arn(PROD, DEV_FN, "3"), _ctx()),
    ),
    (
        "dev updates prod's code",
        "dev",
        Request("lambda:UpdateFunctionCode", function_arn(DEV, PROD_FN), _ctx()),
    ),
    ("dev moves prod's alias", "dev", Request("lambda:UpdateAlias", function_arn(DEV, PROD_FN), _ctx())),
    (
        "dev invokes prod's live alias",
        "dev",
        Request("lambda:InvokeFunction", function_arn(DEV, PROD_FN, "live"), _ctx()),
    ),
    (
        "dev invokes its notifier",
        "dev",
        Request("lambda:InvokeFunction", function_arn(DEV, "booking-dev-deploy-notifier"), _ctx()),
    ),
    (
        "dev invokes its API unqualified",
        "dev",
        Request("lambda:InvokeFunction", function_arn(DEV, DEV_FN), _ctx()),
    ),
    (
        "invoke permission for anyone",
        "dev",
        Request("lambda:AddPermission", function_arn(DEV, DEV_FN, "live"), _ctx(**{"lambda:Principal": "*"})),
    ),
    (
        "invoke permission for another account",
        "dev",
        Request(
            "lambda:AddPermission", function_arn(DEV, DEV_FN), _ctx(**{"lambda:Principal": "210987654321"})
        ),
    ),
    (
        "invoke permission without a principal key",
        "dev",
        Request("lambda:AddPermission", function_arn(DEV, DEV_FN), _ctx()),
    ),
    ("a forged ECS deployment event", "dev", release_event(DEV, source="aws.ecs")),
    (
        "a release event of another detail type",
        "dev",
        release_event(DEV, detail_type="ECS Deployment State Change"),
    ),
    (
        "a release event on another bus",
        "dev",
        Request(
            "events:PutEvents",
            DEV.arn("events", "event-bus/other"),
            _ctx(**{"events:source": "booking.release", "events:detail-type": "Lambda Release State Change"}),
        ),
    ),
    ("pass a role outside the stack", "dev", _pass("admin")),
    ("pass the deploy role itself", "dev", _pass("booking-deploy-dev")),
    ("pass prod's role", "dev", _pass("booking-prod-api-fn-1a2b3c4")),
    ("pass the function role to EC2", "dev", _pass("booking-dev-api-fn-1a2b3c4", "ec2.amazonaws.com")),
    (
        "an HTTP API named for prod",
        "dev",
        Request("apigateway:POST", api_arn(DEV, "/apis"), DEV.new(**{"apigateway:Request/ApiName": PROD_FN})),
    ),
    (
        "an HTTP API tagged for prod",
        "dev",
        Request("apigateway:POST", api_arn(DEV, "/apis"), PROD.new(**{"apigateway:Request/ApiName": DEV_FN})),
    ),
    (
        "an untagged HTTP API",
        "dev",
        Request("apigateway:POST", api_arn(DEV, "/apis"), _ctx(**{"apigateway:Request/ApiName": DEV_FN})),
    ),
    (
        "prod creates an HTTP API (prod keeps the ALB)",
        "prod",
        Request(
            "apigateway:POST", api_arn(PROD, "/apis"), PROD.new(**{"apigateway:Request/ApiName": PROD_FN})
        ),
    ),
    ("delete prod's HTTP API", "dev", Request("apigateway:DELETE", API, PROD.owned())),
    ("a route on prod's HTTP API", "dev", Request("apigateway:POST", f"{API}/routes", PROD.owned())),
    ("change an untagged HTTP API", "dev", Request("apigateway:PATCH", API, _ctx())),
    ("a REST API", "dev", Request("apigateway:POST", api_arn(DEV, "/restapis"), DEV.new())),
    (
        "claim an API by tagging it",
        "dev",
        Request(
            "apigateway:POST",
            api_arn(DEV, "/tags/arn%3Aaws%3Aapigateway%3Aus-east-1%3A%3A%2Fapis%2Fprod1"),
            _ctx(**{"aws:RequestTag/Environment": "dev", "aws:TagKeys": ["Environment"]}),
        ),
    ),
    (
        "remove an API's Environment tag",
        "dev",
        Request("apigateway:DELETE", api_arn(DEV, "/tags/x"), _ctx(**{"aws:TagKeys": ["Environment"]})),
    ),
    (
        "an endpoint to another service",
        "dev",
        Request(
            "ec2:CreateVpcEndpoint",
            DEV.arn("ec2", "vpc-endpoint/vpce-0new"),
            DEV.new(**{"ec2:VpceServiceName": f"com.amazonaws.{REGION}.s3"}),
        ),
    ),
    (
        "a function in another region",
        "dev",
        Request(
            "lambda:CreateFunction",
            f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:{DEV_FN}",
            {"aws:RequestedRegion": "eu-west-1"},
        ),
    ),
]


@pytest.mark.parametrize(("what", "env", "request_"), REFUSED, ids=[r[0] for r in REFUSED])
def test_the_deploy_role_refuses(what: str, env: str, request_: Request) -> None:
    assert deploy(env, request_) == IMPLICIT_DENY, what


def test_the_refusals_are_about_whose_resource_it_is() -> None:
    """The same calls on the role's own function and API are allowed."""
    own = [
        ("prod", Request("lambda:InvokeFunction", function_arn(PROD, PROD_FN, "3"), _ctx())),
        ("dev", Request("lambda:UpdateFunctionCode", function_arn(DEV, DEV_FN), _ctx())),
        ("dev", Request("apigateway:DELETE", API, DEV.owned())),
        ("dev", Request("apigateway:POST", f"{API}/routes", DEV.owned())),
        ("dev", _pass("booking-dev-api-fn-1a2b3c4")),
        ("dev", release_event(DEV)),
    ]
    assert [deploy(env, r) for env, r in own] == [ALLOWED] * len(own)


def test_the_boundary_lets_a_vpc_function_place_interfaces_only_in_its_own_network() -> None:
    boundary = boundary_policy(scope("dev"))
    role_policy = {"Statement": [{"Effect": "Allow", "Action": "ec2:*", "Resource": "*"}]}
    interface = DEV.arn("ec2", "network-interface/*")
    own_subnet = Request("ec2:CreateNetworkInterface", DEV.arn("ec2", "subnet/subnet-0a"), DEV.owned())
    prod_subnet = Request("ec2:CreateNetworkInterface", DEV.arn("ec2", "subnet/subnet-0p"), PROD.owned())
    assert (
        evaluate([role_policy], Request("ec2:CreateNetworkInterface", interface, _ctx()), boundary) == ALLOWED
    )
    assert evaluate([role_policy], own_subnet, boundary) == ALLOWED
    assert evaluate([role_policy], prod_subnet, boundary) == IMPLICIT_DENY
    assert evaluate([role_policy], Request("ec2:RunInstances", interface, _ctx()), boundary) == IMPLICIT_DENY
