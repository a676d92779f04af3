"""The booking stack, read top to bottom like the architecture diagram (../shared/DESIGN.md)."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from components.load_balancer import LoadBalancer, LoadBalancerArgs
from components.network import Network, NetworkArgs
from components.security_groups import SecurityGroups, SecurityGroupsArgs
from stacks.settings import load_settings

# Config first: a bad value stops the program here, before any resource is declared.
settings = load_settings()

# One explicit provider carries the default tags, so every taggable resource gets them.
aws_provider = aws.Provider(
    "aws",
    region=settings.region,
    default_tags=aws.ProviderDefaultTagsArgs(tags=settings.tags),
)
components = pulumi.ResourceOptions(providers=[aws_provider])

network = Network(
    settings.names.base,
    NetworkArgs(
        cidr_block=settings.network.cidr_block,
        availability_zones=settings.network.availability_zones,
        nat_gateways=settings.network.nat_gateways,
        flow_log_retention_days=settings.network.flow_log_retention_days,
    ),
    opts=components,
)

security_groups = SecurityGroups(
    settings.names.base,
    SecurityGroupsArgs(vpc_id=network.vpc_id, container_port=settings.service.container_port),
    opts=components,
)

load_balancer = LoadBalancer(
    settings.names.base,
    LoadBalancerArgs(
        vpc_id=network.vpc_id,
        subnet_ids=list(network.public_subnet_ids),
        security_group_id=security_groups.alb_security_group_id,
        load_balancer_name=settings.names.load_balancer,
        target_group_name=settings.names.target_group,
        container_port=settings.service.container_port,
        deregistration_delay_seconds=settings.load_balancer.deregistration_delay_seconds,
        idle_timeout_seconds=settings.load_balancer.idle_timeout_seconds,
        certificate_arn=settings.https.certificate_arn,
        deletion_protection=settings.load_balancer.deletion_protection,
        access_logs=settings.load_balancer.access_logs,
        access_log_retention_days=settings.load_balancer.access_log_retention_days,
    ),
    opts=components,
)

pulumi.export("url", load_balancer.url)
