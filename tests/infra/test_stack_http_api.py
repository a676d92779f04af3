"""The real stack program under mocks with the Lambda runtime's cheapest front door, and the pieces the
front-door change wires: `frontDoor: httpApi` with `natGateways: none` (dev), the Secrets Manager endpoint
that replaces the NAT, and the ALB path's registration order.

With httpApi the API is the only internet-facing entry: no load balancer, listener or target group, no NAT
gateway or Elastic IP, no subnet that hands out public IPs, no security group admitting the internet.
"""

from __future__ import annotations

import pytest

from stacks.offline import OfflineRun, run_stack

INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
ENDPOINT = "aws:ec2/vpcEndpoint:VpcEndpoint"
ALIAS = "aws:lambda/alias:Alias"
WORLD = {"0.0.0.0/0", "::/0"}


def _run(**overrides: object) -> OfflineRun:
    run = run_stack("dev", {"booking:service.runtime": "lambda", **overrides})
    assert run.error is None, run.error
    return run


@pytest.fixture(scope="module")
def http_api() -> OfflineRun:
    return _run(**{"booking:lambda": {"frontDoor": "httpApi"}, "booking:network.natGateways": "none"})


@pytest.fixture(scope="module")
def alb_no_nat() -> OfflineRun:
    return _run(**{"booking:lambda": {"frontDoor": "alb"}, "booking:network.natGateways": "none"})


def test_http_api_is_the_only_internet_facing_entry(http_api: OfflineRun) -> None:
    for absent in (
        "aws:lb/loadBalancer:LoadBalancer",
        "aws:lb/listener:Listener",
        "aws:lb/targetGroup:TargetGroup",
        "aws:lb/targetGroupAttachment:TargetGroupAttachment",
        "aws:ec2/natGateway:NatGateway",
        "aws:ec2/eip:Eip",
        "aws:wafv2/webAcl:WebAcl",
        "aws:lambda/functionUrl:FunctionUrl",
        "booking:components:LoadBalancer",
    ):
        assert not http_api.of_type(absent), absent
    assert all(s.inputs["mapPublicIpOnLaunch"] is False for s in http_api.of_type("aws:ec2/subnet:Subnet"))
    world = [
        r.name
        for r in http_api.of_type(INGRESS)
        if {r.inputs.get("cidrIpv4"), r.inputs.get("cidrIpv6")} & WORLD
    ]
    assert not world, world
    api = http_api.one("aws:apigatewayv2/api:Api")
    assert http_api.outputs["url"] == api.outputs["apiEndpoint"]
    assert http_api.outputs["url"].startswith("https://")


def test_http_api_invokes_the_live_alias_only(http_api: OfflineRun) -> None:
    alias = http_api.one(ALIAS)
    integration = http_api.one("aws:apigatewayv2/integration:Integration").inputs
    assert integration["integrationUri"] == alias.outputs["arn"] and alias.inputs["name"] == "live"
    assert integration["payloadFormatVersion"] == "2.0"
    api = http_api.one("aws:apigatewayv2/api:Api")
    grants = [
        p.inputs
        for p in http_api.of_type("aws:lambda/permission:Permission")
        if p.inputs["function"] == "booking-dev-api"
    ]
    assert grants == [
        {
            **grants[0],
            "principal": "apigateway.amazonaws.com",
            "qualifier": "live",
            "sourceArn": f"{api.outputs['executionArn']}/*",
        }
    ]


def test_http_api_is_watched_by_the_api_alarms(http_api: OfflineRun) -> None:
    api_id = http_api.one("aws:apigatewayv2/api:Api").id
    dimensions = [
        metric.get("metric", {}).get("dimensions", {})
        for alarm in http_api.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")
        for metric in [alarm.inputs, *alarm.inputs.get("metricQueries", [])]
    ]
    dimensions += [
        alarm.inputs.get("dimensions", {})
        for alarm in http_api.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")
    ]
    assert any(d.get("ApiId") == api_id for d in dimensions), "no alarm watches the HTTP API"


@pytest.mark.parametrize("fixture", ["http_api", "alb_no_nat"])
def test_without_nat_the_function_reaches_secrets_manager_through_an_endpoint(
    fixture: str, request: pytest.FixtureRequest
) -> None:
    run: OfflineRun = request.getfixturevalue(fixture)
    endpoint = run.one(ENDPOINT).inputs
    assert endpoint["serviceName"] == "com.amazonaws.us-east-1.secretsmanager"
    assert endpoint["privateDnsEnabled"] is True and endpoint["vpcEndpointType"] == "Interface"
    function = run.named("booking-dev-function").inputs["vpcConfig"]
    assert set(endpoint["subnetIds"]) == set(function["subnetIds"]), "in the function's subnets"
    (sg_id,) = endpoint["securityGroupIds"]
    rules = [r.inputs for r in run.of_type(INGRESS) if r.inputs["securityGroupId"] == sg_id]
    vpc_cidr = run.one("aws:ec2/vpc:Vpc").inputs["cidrBlock"]
    assert [(r["fromPort"], r["toPort"], r.get("cidrIpv4")) for r in rules] == [(443, 443, vpc_cidr)]
    # The function's own security group may open HTTPS connections (to the endpoint's private IPs).
    service_sg = run.named("booking-dev-service").id
    assert any(
        r.inputs["securityGroupId"] == service_sg and r.inputs.get("fromPort") == 443
        for r in run.of_type("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule")
    )


def test_with_nat_or_on_fargate_there_is_no_endpoint(dev: OfflineRun) -> None:
    assert not dev.of_type(ENDPOINT), "Fargate: none"
    with_nat = _run(**{"booking:lambda": {"frontDoor": "alb"}})
    assert not with_nat.of_type(ENDPOINT), "a NAT gateway already routes to Secrets Manager"


def test_alb_registers_the_alias_only_after_the_permission(alb_no_nat: OfflineRun) -> None:
    attachment = alb_no_nat.one("aws:lb/targetGroupAttachment:TargetGroupAttachment")
    permission = next(
        p
        for p in alb_no_nat.of_type("aws:lambda/permission:Permission")
        if p.inputs["principal"] == "elasticloadbalancing.amazonaws.com"
    )
    assert permission.urn in attachment.dependencies


def test_alb_reaches_a_lambda_target_without_a_network_rule(alb_no_nat: OfflineRun) -> None:
    """ELB guide, "Lambda functions as targets": the load balancer invokes the function directly, not
    over the network, so neither the ALB's egress nor the function's ingress is opened."""
    groups = {g.name: g.id for g in alb_no_nat.of_type("aws:ec2/securityGroup:SecurityGroup")}
    alb_sg, service_sg = groups["booking-dev-alb"], groups["booking-dev-service"]
    assert not [r.name for r in alb_no_nat.of_type(INGRESS) if r.inputs["securityGroupId"] == service_sg]
    egress = alb_no_nat.of_type("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule")
    assert not [r.name for r in egress if r.inputs["securityGroupId"] == alb_sg]
    world = {
        r.inputs["securityGroupId"] for r in alb_no_nat.of_type(INGRESS) if r.inputs.get("cidrIpv4") in WORLD
    }
    assert world == {alb_sg}, "the ALB stays the one internet-facing group"
