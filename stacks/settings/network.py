"""`booking:network`: the VPC's address space, how many AZs it spans and how it reaches the internet."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from components.types import LOG_RETENTION_DAYS, NAT_GATEWAY_CHOICES, NatGateways
from stacks.settings._base import Section
from stacks.settings.retention import retention_days

# Subnet layout (components/network.py) cuts the VPC into 16 equal blocks: /16 → /20 subnets, /22 → /26.
# /26 (59 usable addresses) is the smallest subnet that still fits an ALB (needs /27 and 8 free IPs)
# plus a handful of tasks during a 200 % rolling deployment.
MIN_PREFIX = 16
MAX_PREFIX = 22
PRIVATE_RANGES = tuple(ipaddress.IPv4Network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"))


@dataclass(frozen=True)
class NetworkSettings:
    cidr_block: str
    availability_zones: int
    nat_gateways: NatGateways
    flow_log_retention_days: int


def parse_network(raw: object) -> NetworkSettings:
    s = Section(
        "network",
        raw,
        ["cidrBlock", "availabilityZones", "natGateways", "flowLogRetentionDays"],
    )
    cidr = s.string("cidrBlock", "10.20.0.0/16")
    allowed_cidr = (
        f"must be an IPv4 network from /{MIN_PREFIX} to /{MAX_PREFIX} inside 10.0.0.0/8, "
        "172.16.0.0/12 or 192.168.0.0/16, written with its network address (e.g. 10.20.0.0/16)"
    )
    try:
        network = ipaddress.IPv4Network(cidr, strict=True)
    except ValueError:
        raise s.error("cidrBlock", cidr, allowed_cidr) from None
    if not MIN_PREFIX <= network.prefixlen <= MAX_PREFIX or not any(
        network.subnet_of(r) for r in PRIVATE_RANGES
    ):
        raise s.error("cidrBlock", cidr, allowed_cidr)
    return NetworkSettings(
        cidr_block=str(network),
        availability_zones=s.integer("availabilityZones", 2, minimum=2, maximum=3),
        nat_gateways=s.choice("natGateways", NAT_GATEWAY_CHOICES, "single"),
        flow_log_retention_days=retention_days(s, "flowLogRetentionDays", 14),
    )


__all__ = ["LOG_RETENTION_DAYS", "NAT_GATEWAY_CHOICES", "NatGateways", "NetworkSettings", "parse_network"]
