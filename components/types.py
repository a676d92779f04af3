"""Domain types and AWS value sets the components accept; the stack's settings validate config to these.

Components are the lower layer: they own the vocabulary (what an architecture, a NAT layout, an e-mail
subscription or a log retention period is), and `stacks/settings` imports it to check `Pulumi.<stack>.yaml`
before any resource is declared.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

# CloudWatch Logs accepts only these retention periods (days):
# https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutRetentionPolicy.html
LOG_RETENTION_DAYS: tuple[int, ...] = (
    1,
    3,
    5,
    7,
    14,
    30,
    60,
    90,
    120,
    150,
    180,
    365,
    400,
    545,
    731,
    1096,
    1827,
    2192,
    2557,
    2922,
    3288,
    3653,
)

# Docker's tag grammar: https://docs.docker.com/reference/cli/docker/image/tag/
DOCKER_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")

# ECS `runtimePlatform.cpuArchitecture` values for Fargate.
Architecture = Literal["arm64", "x86_64"]
ARCHITECTURES: tuple[Architecture, ...] = ("arm64", "x86_64")

# Where the API runs: ECS Fargate tasks, or a Lambda function built from the same image (issue 14).
Runtime = Literal["fargate", "lambda"]
RUNTIMES: tuple[Runtime, ...] = ("fargate", "lambda")

# What sits in front of a Lambda function: the ALB (Lambda target group; WAF, HTTPS listener) or an API
# Gateway HTTP API (no ALB, no NAT; non-prod only).
FrontDoor = Literal["alb", "httpApi"]
FRONT_DOORS: tuple[FrontDoor, ...] = ("alb", "httpApi")

# How the VPC's private subnets reach the internet: not at all, through one NAT gateway, or one per AZ.
NatGateways = Literal["none", "single", "perAz"]
NAT_GATEWAY_CHOICES: tuple[NatGateways, ...] = ("none", "single", "perAz")

# Which deployment events an e-mail subscriber receives: all of them, or failures/rollbacks only.
EventFilter = Literal["all", "failures"]
EVENT_FILTERS: tuple[EventFilter, ...] = ("all", "failures")


@dataclass(frozen=True)
class EmailSubscription:
    address: str
    events: EventFilter = "all"
