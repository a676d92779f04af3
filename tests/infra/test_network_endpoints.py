"""Interface VPC endpoints in the Network component and the plain choice of which ones a stack needs.

Secrets Manager is the one AWS API the Lambda function calls; without a NAT gateway it gets an interface
endpoint with private DNS in the private subnets, behind a security group admitting HTTPS from the VPC.
"""

from __future__ import annotations

from typing import Any

import pytest

from components.network import Network, NetworkArgs, endpoint_service_name
from stacks.front_door import interface_endpoints, uses_load_balancer
from stacks.mocks import REGION, AwsMocks
from tests.infra.mocks import run_component

ACCOUNT = "123456789012"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
ENDPOINT = "aws:ec2/vpcEndpoint:VpcEndpoint"


# --- Network: interface endpoints ---------------------------------------------------------------------


def _network(**overrides: Any) -> tuple[AwsMocks, Network]:
    holder: list[Network] = []
    args = NetworkArgs(
        **{
            "cidr_block": "10.20.0.0/16",
            "availability_zones": 2,
            "nat_gateways": "none",
            "flow_log_retention_days": 14,
            "region": REGION,
            "account_id": ACCOUNT,
            **overrides,
        }
    )

    def build() -> dict[str, Any]:
        network = Network("booking-dev", args)
        holder.append(network)
        return {"vpc": network.vpc_id}

    mocks, _ = run_component(build)
    return mocks, holder[0]


def test_secretsmanager_endpoint_in_the_private_subnets_with_private_dns() -> None:
    mocks, _ = _network(interface_endpoints=("secretsmanager",))
    endpoint = mocks.one(ENDPOINT).inputs
    assert endpoint["serviceName"] == f"com.amazonaws.{REGION}.secretsmanager"
    assert endpoint["vpcEndpointType"] == "Interface" and endpoint["privateDnsEnabled"] is True
    private = {s.resource_id for s in mocks.of_type("aws:ec2/subnet:Subnet") if "-private-" in s.name}
    assert set(endpoint["subnetIds"]) == private and len(private) == 2
    vpc = mocks.one("aws:ec2/vpc:Vpc").inputs
    assert vpc["enableDnsHostnames"] is True and vpc["enableDnsSupport"] is True, "private DNS needs both"


def test_endpoint_security_group_admits_only_https_from_the_vpc() -> None:
    mocks, _ = _network(interface_endpoints=("secretsmanager",))
    (sg,) = [s for s in mocks.of_type("aws:ec2/securityGroup:SecurityGroup") if s.name.endswith("endpoints")]
    assert mocks.one(ENDPOINT).inputs["securityGroupIds"] == [sg.resource_id]
    rules = [r.inputs for r in mocks.of_type(INGRESS) if r.inputs["securityGroupId"] == sg.resource_id]
    assert rules == [
        {
            "securityGroupId": sg.resource_id,
            "ipProtocol": "tcp",
            "fromPort": 443,
            "toPort": 443,
            "description": "HTTPS to AWS service endpoints",
            "cidrIpv4": "10.20.0.0/16",
        }
    ]
    assert not mocks.of_type("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule")


def test_endpoint_security_group_can_admit_one_client_group_instead() -> None:
    mocks, _ = _network(interface_endpoints=("secretsmanager",), endpoint_client_security_group_id="sg-fn")
    (rule,) = mocks.of_type(INGRESS)
    assert rule.inputs["referencedSecurityGroupId"] == "sg-fn" and "cidrIpv4" not in rule.inputs


def test_no_endpoints_no_endpoint_resources() -> None:
    mocks, network = _network()
    assert not mocks.of_type(ENDPOINT) and not mocks.of_type("aws:ec2/securityGroup:SecurityGroup")
    assert network.endpoint_security_group_id is None


@pytest.mark.parametrize(
    ("runtime", "nat", "expected"),
    [
        ("lambda", "none", ("secretsmanager",)),
        ("lambda", "single", ()),
        ("lambda", "perAz", ()),
        ("fargate", "none", ()),
        ("fargate", "single", ()),
    ],
)
def test_only_a_lambda_without_nat_gets_endpoints(runtime: str, nat: str, expected: tuple[str, ...]) -> None:
    assert interface_endpoints(runtime, nat) == expected


@pytest.mark.parametrize(
    ("runtime", "front_door", "expected"),
    [("fargate", None, True), ("lambda", "alb", True), ("lambda", "httpApi", False)],
)
def test_only_http_api_drops_the_load_balancer(runtime: str, front_door: str | None, expected: bool) -> None:
    assert uses_load_balancer(runtime, front_door) is expected


def test_endpoint_service_name() -> None:
    assert endpoint_service_name("eu-west-1", "secretsmanager") == "com.amazonaws.eu-west-1.secretsmanager"
    with pytest.raises(ValueError):
        endpoint_service_name("eu-west-1", "secrets manager")
