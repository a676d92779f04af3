"""Network: a VPC with public, private and isolated subnets over N AZs, NAT per config and flow logs.

Tiers:
- public: the ALB (and, with `natGateways: none`, the tasks, see `service_subnet_ids`); route to the IGW.
- private: the tasks; default route through a NAT gateway (one shared, or one per AZ).
- isolated: the database; only the VPC-local route, no path to or from the internet.

Interface VPC endpoints (`interface_endpoints`, e.g. `("secretsmanager",)`) put AWS service APIs into the
private subnets, so a Lambda function there reaches them without a NAT gateway (Lambda Developer Guide,
"Configuring a Lambda function to access resources in a VPC": a VPC-connected function "can't access
the internet unless your VPC provides access", and "You can use VPC endpoints to connect to AWS services
from within a VPC without internet access").
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components.iam_policies import assume_role_policy, document, statement, to_json
from components.types import NatGateways

TIERS = ("public", "private", "isolated")
# The VPC is cut into 16 equal blocks; each tier owns 4 consecutive blocks (3 used at most, 1 spare
# per tier so a fourth AZ could be added without renumbering).
BLOCKS_PER_TIER = 4


@dataclass(frozen=True)
class SubnetPlan:
    public: tuple[str, ...]
    private: tuple[str, ...]
    isolated: tuple[str, ...]


def plan_subnets(cidr_block: str, az_count: int) -> SubnetPlan:
    """CIDR blocks per tier and AZ: `10.20.0.0/16` with 2 AZs → public 10.20.0.0/20, 10.20.16.0/20, ..."""
    vpc = ipaddress.IPv4Network(cidr_block, strict=True)
    if not 1 <= az_count <= BLOCKS_PER_TIER:
        raise ValueError(f"az_count must be from 1 to {BLOCKS_PER_TIER}, got {az_count}")
    blocks = list(vpc.subnets(prefixlen_diff=4))
    tiers = [
        tuple(str(blocks[tier * BLOCKS_PER_TIER + az]) for az in range(az_count))
        for tier in range(len(TIERS))
    ]
    return SubnetPlan(public=tiers[0], private=tiers[1], isolated=tiers[2])


def flow_log_role_policy(log_group_arn: str) -> dict[str, Any]:
    """VPC Flow Logs may only write into its own log group."""
    return document(
        [
            statement(
                ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                [log_group_arn, f"{log_group_arn}:log-stream:*"],
            )
        ]
    )


@dataclass(frozen=True)
class NetworkArgs:
    cidr_block: str
    availability_zones: int
    nat_gateways: NatGateways
    flow_log_retention_days: int
    region: str
    account_id: pulumi.Input[str]
    permissions_boundary: pulumi.Input[str] | None = None
    """The environment's permissions boundary (bootstrap); every role the component creates carries it."""
    interface_endpoints: tuple[str, ...] = ()
    """AWS services (`secretsmanager`, `logs`, ...) to reach through interface endpoints in the private
    subnets, with private DNS, so the SDK's default endpoint names resolve to them."""
    endpoint_client_security_group_id: pulumi.Input[str] | None = None
    """Admit HTTPS to the endpoints from this security group only; None: from the whole VPC CIDR."""


def endpoint_service_name(region: str, service: str) -> str:
    """`com.amazonaws.<region>.<service>`: the service name of an AWS service's interface endpoint
    (AWS PrivateLink guide, "AWS services that integrate with AWS PrivateLink")."""
    if not service or not all(c.isalnum() or c in ".-" for c in service):
        raise ValueError(f"not an AWS service endpoint name: {service!r}")
    return f"com.amazonaws.{region}.{service}"


class Network(pulumi.ComponentResource):
    vpc_id: pulumi.Output[str]
    public_subnet_ids: list[pulumi.Output[str]]
    private_subnet_ids: list[pulumi.Output[str]]
    isolated_subnet_ids: list[pulumi.Output[str]]
    service_subnet_ids: list[pulumi.Output[str]]
    """Where the tasks run: private subnets, or public ones when there is no NAT (dev trade-off)."""
    service_assign_public_ip: bool
    """True only with `natGateways: none`: tasks then need a public IP to pull images and reach AWS APIs."""
    flow_log_group_name: pulumi.Output[str]
    endpoint_security_group_id: pulumi.Output[str] | None
    interface_endpoint_ids: dict[str, pulumi.Output[str]]

    def __init__(self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("booking:components:Network", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        plan = plan_subnets(args.cidr_block, args.availability_zones)

        zones = aws.get_availability_zones_output(
            state="available",
            filters=[{"name": "opt-in-status", "values": ["opt-in-not-required"]}],
            opts=pulumi.InvokeOutputOptions(parent=self),
        )

        vpc = aws.ec2.Vpc(
            f"{name}-vpc",
            cidr_block=args.cidr_block,
            enable_dns_support=True,
            enable_dns_hostnames=True,
            tags={"Name": name},
            opts=child,
        )
        # Taking over the default SG with no rules removes its allow-all-within-the-group default.
        aws.ec2.DefaultSecurityGroup(
            f"{name}-default-sg", vpc_id=vpc.id, tags={"Name": f"{name}-default"}, opts=child
        )

        igw = aws.ec2.InternetGateway(f"{name}-igw", vpc_id=vpc.id, tags={"Name": name}, opts=child)

        def subnets(tier: str, cidrs: tuple[str, ...]) -> list[aws.ec2.Subnet]:
            return [
                aws.ec2.Subnet(
                    f"{name}-{tier}-{index}",
                    vpc_id=vpc.id,
                    cidr_block=cidr,
                    availability_zone=zones.names[index],
                    map_public_ip_on_launch=False,
                    tags={"Name": f"{name}-{tier}-{index}", "Tier": tier},
                    opts=child,
                )
                for index, cidr in enumerate(cidrs)
            ]

        public = subnets("public", plan.public)
        private = subnets("private", plan.private)
        isolated = subnets("isolated", plan.isolated)

        public_rt = aws.ec2.RouteTable(
            f"{name}-public-rt", vpc_id=vpc.id, tags={"Name": f"{name}-public"}, opts=child
        )
        aws.ec2.Route(
            f"{name}-public-default",
            route_table_id=public_rt.id,
            destination_cidr_block="0.0.0.0/0",
            gateway_id=igw.id,
            opts=child,
        )
        for index, subnet in enumerate(public):
            aws.ec2.RouteTableAssociation(
                f"{name}-public-{index}", subnet_id=subnet.id, route_table_id=public_rt.id, opts=child
            )

        nat_count = {"none": 0, "single": 1, "perAz": args.availability_zones}[args.nat_gateways]
        nats = []
        for index in range(nat_count):
            eip = aws.ec2.Eip(
                f"{name}-nat-{index}", domain="vpc", tags={"Name": f"{name}-nat-{index}"}, opts=child
            )
            nats.append(
                aws.ec2.NatGateway(
                    f"{name}-nat-{index}",
                    allocation_id=eip.allocation_id,
                    subnet_id=public[index].id,
                    connectivity_type="public",
                    tags={"Name": f"{name}-nat-{index}"},
                    opts=pulumi.ResourceOptions(parent=self, depends_on=[igw]),
                )
            )

        for index, subnet in enumerate(private):
            rt = aws.ec2.RouteTable(
                f"{name}-private-rt-{index}",
                vpc_id=vpc.id,
                tags={"Name": f"{name}-private-{index}"},
                opts=child,
            )
            if nats:
                aws.ec2.Route(
                    f"{name}-private-default-{index}",
                    route_table_id=rt.id,
                    destination_cidr_block="0.0.0.0/0",
                    nat_gateway_id=nats[index % len(nats)].id,
                    opts=child,
                )
            aws.ec2.RouteTableAssociation(
                f"{name}-private-{index}", subnet_id=subnet.id, route_table_id=rt.id, opts=child
            )

        # No routes besides the implicit VPC-local one: the database tier cannot reach the internet.
        isolated_rt = aws.ec2.RouteTable(
            f"{name}-isolated-rt", vpc_id=vpc.id, tags={"Name": f"{name}-isolated"}, opts=child
        )
        for index, subnet in enumerate(isolated):
            aws.ec2.RouteTableAssociation(
                f"{name}-isolated-{index}", subnet_id=subnet.id, route_table_id=isolated_rt.id, opts=child
            )

        flow_logs = aws.cloudwatch.LogGroup(
            f"{name}-flow-logs", retention_in_days=args.flow_log_retention_days, opts=child
        )
        flow_role = aws.iam.Role(
            f"{name}-flow-logs",
            assume_role_policy=pulumi.Output.from_input(args.account_id).apply(
                lambda account: to_json(
                    assume_role_policy(
                        "vpc-flow-logs.amazonaws.com",
                        # Confused-deputy guard: only flow logs of this account and region.
                        {
                            "StringEquals": {"aws:SourceAccount": account},
                            "ArnLike": {
                                "aws:SourceArn": f"arn:aws:ec2:{args.region}:{account}:vpc-flow-log/*"
                            },
                        },
                    )
                )
            ),
            permissions_boundary=args.permissions_boundary,
            opts=child,
        )
        aws.iam.RolePolicy(
            f"{name}-flow-logs",
            role=flow_role.id,
            policy=flow_logs.arn.apply(lambda arn: to_json(flow_log_role_policy(arn))),
            opts=child,
        )
        aws.ec2.FlowLog(
            f"{name}-flow-log",
            vpc_id=vpc.id,
            traffic_type="ALL",
            log_destination_type="cloud-watch-logs",
            log_destination=flow_logs.arn,
            iam_role_arn=flow_role.arn,
            max_aggregation_interval=60,
            opts=child,
        )

        self.endpoint_security_group_id = None
        self.interface_endpoint_ids = {}
        if args.interface_endpoints:
            self._interface_endpoints(name, args, vpc, private)

        self.vpc_id = vpc.id
        self.public_subnet_ids = [s.id for s in public]
        self.private_subnet_ids = [s.id for s in private]
        self.isolated_subnet_ids = [s.id for s in isolated]
        self.service_assign_public_ip = nat_count == 0
        self.service_subnet_ids = self.public_subnet_ids if nat_count == 0 else self.private_subnet_ids
        self.flow_log_group_name = flow_logs.name
        self.register_outputs(
            {
                "vpcId": self.vpc_id,
                "publicSubnetIds": self.public_subnet_ids,
                "privateSubnetIds": self.private_subnet_ids,
                "isolatedSubnetIds": self.isolated_subnet_ids,
            }
        )

    def _interface_endpoints(
        self, name: str, args: NetworkArgs, vpc: aws.ec2.Vpc, private: list[aws.ec2.Subnet]
    ) -> None:
        """AWS PrivateLink guide, "Access an AWS service using an interface VPC endpoint": the endpoint's
        security group must allow HTTPS (443) in from the clients; private DNS needs the VPC attributes
        `enableDnsHostnames` and `enableDnsSupport` (both set on the VPC above) and makes the service's
        default DNS name resolve to the endpoint's private IPs. No egress rule: security groups are
        stateful, and the endpoint never opens connections itself."""
        child = pulumi.ResourceOptions(parent=self)
        sg = aws.ec2.SecurityGroup(
            f"{name}-endpoints",
            vpc_id=vpc.id,
            description="Interface VPC endpoints: HTTPS from inside the VPC only",
            tags={"Name": f"{name}-endpoints"},
            opts=child,
        )
        source = args.endpoint_client_security_group_id
        aws.vpc.SecurityGroupIngressRule(
            f"{name}-endpoints-in-https",
            security_group_id=sg.id,
            ip_protocol="tcp",
            from_port=443,
            to_port=443,
            description="HTTPS to AWS service endpoints",
            referenced_security_group_id=source,
            cidr_ipv4=None if source is not None else args.cidr_block,
            opts=child,
        )
        for service in args.interface_endpoints:
            endpoint = aws.ec2.VpcEndpoint(
                f"{name}-{service}",
                vpc_id=vpc.id,
                service_name=endpoint_service_name(args.region, service),
                vpc_endpoint_type="Interface",
                private_dns_enabled=True,
                subnet_ids=[s.id for s in private],
                security_group_ids=[sg.id],
                tags={"Name": f"{name}-{service}"},
                opts=child,
            )
            self.interface_endpoint_ids[service] = endpoint.id
        self.endpoint_security_group_id = sg.id
