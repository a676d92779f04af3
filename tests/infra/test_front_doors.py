"""The Lambda runtime's front doors and network pieces under the shared AWS mocks.

- LoadBalancer with `target_type="lambda"`: a Lambda target group (no port/protocol/VPC/deregistration
  delay, single-value headers, health checks off unless asked), every listener rule still in place.
- LambdaTarget: ELB may invoke only the alias, only from this target group; the alias is registered
  after the permission exists.
- HttpApi: `$default` route → AWS_PROXY 2.0 → alias, `$default` stage auto-deployed, throttled and
  logged, API Gateway may invoke only the alias and only from this API.
- Network endpoints: tests/infra/test_network_endpoints.py.
- httpApi + `natGateways: none`: the API is the only internet-facing entry (no ALB, NAT or public IP).
"""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pulumi_aws as aws
import pytest

import components.lambda_target as lambda_target_module
from components.http_api import (
    MAX_INTEGRATION_TIMEOUT_MS,
    HttpApi,
    HttpApiArgs,
    access_log_format,
    invoke_source_arn,
)
from components.lambda_target import LambdaTarget, LambdaTargetArgs
from components.load_balancer import LoadBalancer, LoadBalancerArgs, target_group_shape
from components.network import Network, NetworkArgs
from components.security_groups import SecurityGroups, SecurityGroupsArgs
from stacks.front_door import http_api_front_door, http_api_names, interface_endpoints
from stacks.mocks import REGION, AwsMocks
from tests.infra.mocks import run_component

ACCOUNT = "123456789012"
FUNCTION = "booking-dev-api"
ALIAS = "live"
ALIAS_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{FUNCTION}:{ALIAS}"
TG = "aws:lb/targetGroup:TargetGroup"
PERMISSION = "aws:lambda/permission:Permission"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
ENDPOINT = "aws:ec2/vpcEndpoint:VpcEndpoint"


def lb_args(**overrides: Any) -> LoadBalancerArgs:
    base: dict[str, Any] = {
        "vpc_id": "vpc-1",
        "subnet_ids": ["subnet-a", "subnet-b"],
        "region": REGION,
        "account_id": ACCOUNT,
        "security_group_id": "sg-alb",
        "load_balancer_name": "booking-dev",
        "target_group_name": "booking-dev-8000",
        "container_port": 8000,
        "deregistration_delay_seconds": 30,
    }
    return LoadBalancerArgs(**{**base, **overrides})


def _load_balancer(**overrides: Any) -> AwsMocks:
    mocks, _ = run_component(lambda: {"url": LoadBalancer("lb", lb_args(**overrides)).url})
    return mocks


# --- LoadBalancer: the Lambda target group ----------------------------------------------------------


def test_lambda_target_group_has_no_port_protocol_vpc_or_drain_and_checks_off() -> None:
    mocks = _load_balancer(target_type="lambda")
    tg = mocks.one(TG).inputs
    assert tg["targetType"] == "lambda"
    for key in ("port", "protocol", "vpcId", "deregistrationDelay"):
        assert key not in tg, key
    assert tg["lambdaMultiValueHeadersEnabled"] is False
    # pulumi-aws defaults health_check.enabled to true: off must be explicit.
    assert tg["healthCheck"] == {"enabled": False}


def test_lambda_health_checks_when_asked_hit_healthz_at_the_lambda_defaults() -> None:
    check = _load_balancer(target_type="lambda", lambda_health_checks=True).one(TG).inputs["healthCheck"]
    assert check["enabled"] is True and check["path"] == "/healthz" and check["matcher"] == "200"
    assert (check["interval"], check["timeout"]) == (35, 30)
    assert "protocol" not in check and "port" not in check, "not allowed for lambda targets"


def test_ip_target_group_is_unchanged() -> None:
    tg = _load_balancer().one(TG).inputs
    assert (tg["targetType"], tg["port"], tg["protocol"], tg["vpcId"]) == ("ip", 8000, "HTTP", "vpc-1")
    assert tg["deregistrationDelay"] == 30 and tg["healthCheck"]["enabled"] is True
    assert "lambdaMultiValueHeadersEnabled" not in tg


@pytest.mark.parametrize("certificate", [None, "arn:aws:acm:us-east-1:123456789012:certificate/abc"])
def test_listeners_and_metrics_block_apply_to_the_lambda_target_group(certificate: str | None) -> None:
    mocks = _load_balancer(target_type="lambda", certificate_arn=certificate)
    tg_arn = mocks.one(TG).resource_id
    listeners = mocks.of_type("aws:lb/listener:Listener")
    forwarding = [ls for ls in listeners if ls.inputs["defaultActions"][0].get("targetGroupArn") == tg_arn]
    assert len(forwarding) == 1
    assert forwarding[0].inputs["protocol"] == ("HTTPS" if certificate else "HTTP")
    rule = mocks.one("aws:lb/listenerRule:ListenerRule").inputs
    assert rule["conditions"][0]["pathPattern"]["values"] == ["/metrics", "/metrics/*"]
    assert rule["actions"][0]["fixedResponse"]["statusCode"] == "404"


def test_target_group_shape_is_a_plain_function_of_the_target_type() -> None:
    assert set(target_group_shape(lb_args(target_type="lambda"))) == {
        "target_type",
        "lambda_multi_value_headers_enabled",
        "health_check",
    }
    assert target_group_shape(lb_args())["port"] == 8000


# --- LambdaTarget ------------------------------------------------------------------------------------


def test_elb_may_invoke_only_the_alias_and_only_from_the_target_group(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[pulumi.ResourceOptions] = []
    real = aws.lb.TargetGroupAttachment

    class Recording(real):  # type: ignore[misc, valid-type]
        def __init__(self, name: str, *args: Any, opts: pulumi.ResourceOptions, **kwargs: Any) -> None:
            seen.append(opts)
            super().__init__(name, *args, opts=opts, **kwargs)

    monkeypatch.setattr(lambda_target_module.aws.lb, "TargetGroupAttachment", Recording)
    tg_arn = f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:targetgroup/booking-dev-8000/6d0ecf831eec9f09"
    holder: list[LambdaTarget] = []

    def build() -> dict[str, Any]:
        target = LambdaTarget(
            "api-target",
            LambdaTargetArgs(
                function_name=FUNCTION, alias_name=ALIAS, alias_arn=ALIAS_ARN, target_group_arn=tg_arn
            ),
        )
        holder.append(target)
        return {"attachment": target.attachment_id}

    mocks, _ = run_component(build)
    permission = mocks.one(PERMISSION)
    assert permission.inputs == {
        "action": "lambda:InvokeFunction",
        "function": FUNCTION,
        "qualifier": ALIAS,
        "principal": "elasticloadbalancing.amazonaws.com",
        "sourceArn": tg_arn,
    }
    attachment = mocks.one("aws:lb/targetGroupAttachment:TargetGroupAttachment").inputs
    assert attachment == {"targetGroupArn": tg_arn, "targetId": ALIAS_ARN}, "the alias, no port"
    # RegisterTargets checks the permission: the attachment waits for it.
    (opts,) = seen
    depends = opts.depends_on if isinstance(opts.depends_on, list) else [opts.depends_on]
    assert [type(d).__name__ for d in depends] == ["Permission"]


# --- HttpApi -----------------------------------------------------------------------------------------


def _http_api() -> tuple[AwsMocks, dict[str, Any]]:
    def build() -> dict[str, Any]:
        api = http_api_front_door(
            "booking-dev",
            function_name=FUNCTION,
            alias_name=ALIAS,
            alias_arn=ALIAS_ARN,
            log_retention_days=14,
            opts=pulumi.ResourceOptions(),
        )
        return {"url": api.url, "api_id": api.api_id, "stage": api.stage_name}

    return run_component(build)


def test_http_api_routes_everything_to_the_alias_with_payload_2() -> None:
    mocks, values = _http_api()
    api = mocks.one("aws:apigatewayv2/api:Api")
    assert api.inputs["protocolType"] == "HTTP" and api.inputs["name"] == "booking-dev-api"
    integration = mocks.one("aws:apigatewayv2/integration:Integration")
    assert integration.inputs["apiId"] == api.resource_id
    assert integration.inputs["integrationType"] == "AWS_PROXY"
    assert integration.inputs["integrationUri"] == ALIAS_ARN
    assert integration.inputs["payloadFormatVersion"] == "2.0"
    assert integration.inputs["timeoutMilliseconds"] == MAX_INTEGRATION_TIMEOUT_MS
    route = mocks.one("aws:apigatewayv2/route:Route").inputs
    assert route["routeKey"] == "$default"
    assert route["target"] == f"integrations/{integration.resource_id}"
    assert values["url"] == f"https://{api.resource_id}.execute-api.{REGION}.amazonaws.com"
    assert values["api_id"] == api.resource_id and values["stage"] == "$default"


def test_http_api_stage_is_auto_deployed_throttled_and_logged_to_its_own_group() -> None:
    mocks, _ = _http_api()
    stage = mocks.one("aws:apigatewayv2/stage:Stage").inputs
    assert stage["name"] == "$default" and stage["autoDeploy"] is True
    throttle = stage["defaultRouteSettings"]
    assert throttle["throttlingRateLimit"] == 50 and throttle["throttlingBurstLimit"] == 100
    group = mocks.one("aws:cloudwatch/logGroup:LogGroup")
    assert group.inputs == {"name": "booking-dev-http-api-access", "retentionInDays": 14}
    assert stage["accessLogSettings"]["destinationArn"] == group.outputs["arn"]
    fields = json.loads(stage["accessLogSettings"]["format"])
    assert fields["requestId"] == "$context.requestId" and fields["status"] == "$context.status"


def test_api_gateway_may_invoke_only_the_alias_and_only_from_this_api() -> None:
    mocks, _ = _http_api()
    api = mocks.one("aws:apigatewayv2/api:Api")
    permission = mocks.one(PERMISSION).inputs
    assert permission["principal"] == "apigateway.amazonaws.com"
    assert permission["qualifier"] == ALIAS and permission["function"] == FUNCTION
    assert permission["sourceArn"] == f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{api.resource_id}/*"


def test_http_api_plain_helpers() -> None:
    assert invoke_source_arn("arn:aws:execute-api:us-east-1:123456789012:a1b2c3") == (
        "arn:aws:execute-api:us-east-1:123456789012:a1b2c3/*"
    )
    with pytest.raises(ValueError, match="not an execute-api ARN"):
        invoke_source_arn("*")
    assert "\n" not in access_log_format(), "the stage wants a single-line format"
    assert http_api_names("booking-dev") == ("booking-dev-api", "booking-dev-http-api-access")
    with pytest.raises(ValueError, match="integration_timeout_ms"):
        run_component(
            lambda: {
                "x": HttpApi(
                    "x",
                    HttpApiArgs(
                        api_name="a",
                        function_name="f",
                        alias_name="live",
                        alias_arn=ALIAS_ARN,
                        access_log_group_name="g",
                        log_retention_days=1,
                        integration_timeout_ms=31_000,
                    ),
                ).url
            }
        )


# --- httpApi without NAT: the API is the only way in ----------------------------------------------------


def test_http_api_without_nat_has_no_alb_no_nat_and_no_public_ip() -> None:
    """The Lambda httpApi front door with `natGateways: none`: nothing but the API faces the internet."""
    holder: list[Network] = []

    def build() -> dict[str, Any]:
        network = Network(
            "booking-dev",
            NetworkArgs(
                cidr_block="10.20.0.0/16",
                availability_zones=2,
                nat_gateways="none",
                flow_log_retention_days=14,
                region=REGION,
                account_id=ACCOUNT,
                interface_endpoints=interface_endpoints("lambda", "none"),
            ),
        )
        holder.append(network)
        SecurityGroups(
            "booking-dev", SecurityGroupsArgs(vpc_id=network.vpc_id, container_port=8000, load_balancer=False)
        )
        api = http_api_front_door(
            "booking-dev",
            function_name=FUNCTION,
            alias_name=ALIAS,
            alias_arn=ALIAS_ARN,
            log_retention_days=14,
            opts=pulumi.ResourceOptions(),
        )
        return {"url": api.url}

    mocks, values = run_component(build)
    types = {r.type for r in mocks.resources}
    for absent in (
        "aws:lb/loadBalancer:LoadBalancer",
        "aws:ec2/natGateway:NatGateway",
        "aws:ec2/eip:Eip",
        "aws:ec2/instance:Instance",
    ):
        assert absent not in types, absent
    assert all(s.inputs["mapPublicIpOnLaunch"] is False for s in mocks.of_type("aws:ec2/subnet:Subnet"))
    world = [
        r
        for r in mocks.of_type(INGRESS)
        if r.inputs.get("cidrIpv4") == "0.0.0.0/0" or r.inputs.get("cidrIpv6")
    ]
    assert not world, "no security group admits the internet"
    assert values["url"].startswith("https://") and ".execute-api." in values["url"]
    assert [r.inputs["serviceName"] for r in mocks.of_type(ENDPOINT)] == [
        f"com.amazonaws.{REGION}.secretsmanager"
    ]


def test_security_groups_without_a_load_balancer_have_no_alb_group() -> None:
    holder: list[SecurityGroups] = []

    def build() -> dict[str, Any]:
        groups = SecurityGroups(
            "sg", SecurityGroupsArgs(vpc_id="vpc-1", container_port=8000, load_balancer=False)
        )
        holder.append(groups)
        return {"service": groups.service_security_group_id}

    mocks, _ = run_component(build)
    assert sorted(g.name for g in mocks.of_type("aws:ec2/securityGroup:SecurityGroup")) == [
        "sg-database",
        "sg-service",
    ]
    # Only service → database remains on the ingress side.
    assert [r.name for r in mocks.of_type(INGRESS)] == ["sg-database-in-service"]
    with pytest.raises(ValueError, match="no ALB security group"):
        _ = holder[0].alb_security_group_id
