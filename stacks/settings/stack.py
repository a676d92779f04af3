"""The whole stack's settings, read from `pulumi.Config` in one place and validated before any resource.

`load_settings()` is the only function in the program that touches config. It enumerates every
`booking:*` key (unknown sections are errors, not ignored), parses each section into a frozen
dataclass, derives physical names from the project and stack and checks them against AWS's limits,
and enforces the prod invariants. Any problem raises `ConfigError` naming the key, the value and what
is allowed; nothing has been declared yet at that point.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from components.shutdown import (
    EXIT_MARGIN_SECONDS,
    FARGATE_MAX_STOP_TIMEOUT_SECONDS,
    drain_seconds,
    minimum_stop_timeout,
)
from stacks.settings._base import NAMESPACE, ConfigError, Section
from stacks.settings.alarms import AlarmSettings, parse_alarms
from stacks.settings.database import DatabaseSettings, parse_database
from stacks.settings.https import HttpsSettings, parse_https
from stacks.settings.image import ImageSettings, parse_image
from stacks.settings.lambda_ import LambdaSettings, check_lambda, parse_lambda
from stacks.settings.load_balancer import LoadBalancerSettings, parse_load_balancer
from stacks.settings.network import NetworkSettings, parse_network
from stacks.settings.notifications import NotificationSettings, parse_notifications
from stacks.settings.service import ServiceSettings, parse_service
from stacks.settings.waf import WafSettings, parse_waf

# Sections other engineers parse (notifications.py, alarms.py) are listed so they are not "unknown".
SECTIONS = (
    "network",
    "service",
    "loadBalancer",
    "database",
    "image",
    "https",
    "notifications",
    "alarms",
    "waf",
    "lambda",
)
REGION = re.compile(r"^[a-z]{2}(?:-[a-z]+)+-\d$")
STACK_NAME = re.compile(r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$")
PROD_STACKS = frozenset({"prod"})

# AWS limits on the physical names derived from `<project>-<stack>`.
ALB_NAME_LIMIT = 32
TARGET_GROUP_NAME_LIMIT = 32


@dataclass(frozen=True)
class Names:
    """Physical names that AWS limits or that people look for in the console."""

    base: str
    """`<project>-<stack>`, e.g. `booking-dev`: the ECS cluster, the RDS identifier, log group paths."""
    load_balancer: str
    target_group: str
    cluster: str
    service: str
    log_group: str
    function: str = ""
    """The Lambda function (runtime lambda), `<project>-<stack>-api`; its alias is `live`."""


def derive_names(project: str, stack: str, container_port: int, runtime: str = "fargate") -> Names:
    base = f"{project}-{stack}"
    return Names(
        base=base,
        load_balancer=base,
        # The port (or `lambda`: a Lambda target group has no port) is part of the name so that a change
        # that replaces the target group (a port change, or switching runtime, which changes its target
        # type) can create the new one before deleting the old one without a name clash.
        target_group=f"{base}-lambda" if runtime == "lambda" else f"{base}-{container_port}",
        cluster=base,
        service="api",
        log_group=f"/ecs/{base}/api",
        function=f"{base}-api",
    )


@dataclass(frozen=True)
class StackSettings:
    project: str
    environment: str
    """The Pulumi stack name (dev, prod, ...), also the Environment tag."""
    region: str
    names: Names
    network: NetworkSettings
    service: ServiceSettings
    load_balancer: LoadBalancerSettings
    database: DatabaseSettings
    image: ImageSettings
    https: HttpsSettings
    notifications: NotificationSettings
    alarms: AlarmSettings = dataclasses.field(default_factory=AlarmSettings)
    waf: WafSettings | None = None
    lambda_: LambdaSettings | None = None
    """The function's settings with `service.runtime: lambda`; None with Fargate."""

    @property
    def is_prod(self) -> bool:
        return self.environment in PROD_STACKS

    @property
    def tags(self) -> dict[str, str]:
        """Default tags the AWS provider puts on every taggable resource."""
        return {"Project": self.project, "Environment": self.environment, "ManagedBy": "pulumi"}


def read_config() -> dict[str, Any]:
    """Every config value of the running stack, keyed `namespace:key`, objects decoded from JSON.

    `pulumi.Config` can only look keys up; the runtime's config map (filled by the language host, or by
    `PULUMI_CONFIG` in the environment) is the one place that lists them all, which is what lets us
    refuse unknown keys.
    """
    from pulumi.runtime import config as runtime_config

    merged: dict[str, Any] = dict(runtime_config.get_config_env())
    merged.update(runtime_config.CONFIG.get())
    return {key: _decode(value) for key, value in merged.items()}


def _decode(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in ("{", "["):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def load_settings(
    project: str | None = None, stack: str | None = None, config: Mapping[str, Any] | None = None
) -> StackSettings:
    """Validated settings; by default for the running program's project, stack and config."""
    import pulumi

    project = project if project is not None else pulumi.get_project()
    stack = stack if stack is not None else pulumi.get_stack()
    config = config if config is not None else read_config()
    return parse_settings(project, stack, config)


def parse_settings(project: str, stack: str, config: Mapping[str, Any]) -> StackSettings:
    prefix = f"{NAMESPACE}:"
    for key in sorted(config):
        if key.startswith(prefix) and key[len(prefix) :] not in SECTIONS:
            raise ConfigError(key, config[key], f"unknown key; allowed keys are {_keys()}")

    region = config.get("aws:region")
    if not isinstance(region, str) or not REGION.match(region):
        raise ConfigError("aws:region", region, "is required: an AWS region name like us-east-1")

    if not STACK_NAME.match(stack):
        raise ConfigError(
            "stack", stack, "must be lowercase letters, digits and single hyphens, starting with a letter"
        )

    def section(name: str) -> object:
        return config.get(f"{prefix}{name}")

    network = parse_network(section("network"))
    service = parse_service(section("service"))
    load_balancer = parse_load_balancer(section("loadBalancer"))
    database = parse_database(section("database"))
    image = parse_image(section("image"))
    https = parse_https(section("https"), region)
    notifications = parse_notifications(section("notifications"))
    alarms = parse_alarms(section("alarms"))
    is_prod = stack in PROD_STACKS
    waf = parse_waf(section("waf"), is_prod=is_prod)
    lambda_ = parse_lambda(section("lambda"), runtime=service.runtime)
    if database.monitoring_interval_seconds is None:
        # Enhanced Monitoring (OS metrics every minute) is on in prod unless the config says 0.
        database = dataclasses.replace(database, monitoring_interval_seconds=60 if is_prod else 0)

    names = derive_names(project, stack, service.container_port, service.runtime)
    longest = max(len(names.load_balancer), len(names.target_group))
    if longest > TARGET_GROUP_NAME_LIMIT:
        room = len(stack) - (longest - TARGET_GROUP_NAME_LIMIT)
        raise ConfigError(
            "stack",
            stack,
            f"must be at most {room} characters: the target group name {names.target_group!r} "
            f"must fit AWS's {TARGET_GROUP_NAME_LIMIT}-character limit",
        )

    service = resolve_stop_timeout(service, load_balancer)
    settings = StackSettings(
        project=project,
        environment=stack,
        region=region,
        names=names,
        network=network,
        service=service,
        load_balancer=load_balancer,
        database=database,
        image=image,
        https=https,
        notifications=notifications,
        alarms=alarms,
        waf=waf,
        lambda_=lambda_,
    )
    check_lambda(settings)
    if settings.is_prod:
        check_prod(settings)
    return settings


def resolve_stop_timeout(service: ServiceSettings, load_balancer: LoadBalancerSettings) -> ServiceSettings:
    """stopTimeout covers the drain and the graceful shutdown; by default exactly that.

    The maths is in components/shutdown.py; the behaviour in app/core/draining.py.
    """
    lb = load_balancer
    drain = drain_seconds(lb.health_check_interval_seconds, lb.unhealthy_threshold)
    needed = minimum_stop_timeout(drain, service.graceful_shutdown_seconds)
    explain = (
        f"a stopping task drains for {drain} s (loadBalancer.healthCheckIntervalSeconds "
        f"{lb.health_check_interval_seconds} x (unhealthyThreshold {lb.unhealthy_threshold} + 1)), "
        f"then finishes in-flight requests for up to {service.graceful_shutdown_seconds} s "
        f"(service.gracefulShutdownSeconds), plus {EXIT_MARGIN_SECONDS} s to exit: {needed} s"
    )
    if needed > FARGATE_MAX_STOP_TIMEOUT_SECONDS:
        raise ConfigError(
            f"{NAMESPACE}:service.gracefulShutdownSeconds",
            service.graceful_shutdown_seconds,
            f"too long: {explain}, over Fargate's {FARGATE_MAX_STOP_TIMEOUT_SECONDS} s stopTimeout limit "
            "(and a Spot interruption's two-minute warning); shorten it or the load balancer health check",
        )
    if not service.stop_timeout_seconds:
        return dataclasses.replace(service, stop_timeout_seconds=needed)
    if service.stop_timeout_seconds < needed:
        raise ConfigError(
            f"{NAMESPACE}:service.stopTimeoutSeconds",
            service.stop_timeout_seconds,
            f"must be at least {needed}: {explain}",
        )
    return service


def check_prod(settings: StackSettings) -> None:
    """Prod is highly available and hard to destroy by accident; refuse a prod config that is not."""
    rules: list[tuple[str, str, object, bool, str]] = [
        (
            "network",
            "natGateways",
            settings.network.nat_gateways,
            settings.network.nat_gateways == "perAz",
            "must be perAz for the prod stack",
        ),
        (
            "service",
            "minCount",
            settings.service.min_count,
            # Fargate keys are ignored with Lambda, which runs as many environments as requests.
            settings.service.min_count >= 2 or settings.lambda_ is not None,
            "must be at least 2 for the prod stack",
        ),
        (
            "database",
            "multiAz",
            settings.database.multi_az,
            settings.database.multi_az,
            "must be true for the prod stack",
        ),
        (
            "database",
            "deletionProtection",
            settings.database.deletion_protection,
            settings.database.deletion_protection,
            "must be true for the prod stack",
        ),
        (
            "database",
            "finalSnapshot",
            settings.database.final_snapshot,
            settings.database.final_snapshot,
            "must be true for the prod stack",
        ),
        (
            "database",
            "backupRetentionDays",
            settings.database.backup_retention_days,
            settings.database.backup_retention_days >= 7,
            "must be at least 7 for the prod stack",
        ),
        (
            "loadBalancer",
            "deletionProtection",
            settings.load_balancer.deletion_protection,
            settings.load_balancer.deletion_protection,
            "must be true for the prod stack",
        ),
        (
            "loadBalancer",
            "accessLogs",
            settings.load_balancer.access_logs,
            settings.load_balancer.access_logs,
            "must be true for the prod stack",
        ),
        (
            "service",
            "logRetentionDays",
            settings.service.log_retention_days,
            settings.service.log_retention_days >= 30,
            "must be at least 30 for the prod stack",
        ),
        (
            "notifications",
            "emails",
            [s.address for s in settings.notifications.subscriptions],
            bool(settings.notifications.subscriptions),
            "must list at least one address for the prod stack (deployment e-mails)",
        ),
    ]
    # Passwords and bearer tokens must never cross the internet in clear text.
    if not settings.https.enabled:
        raise ConfigError(
            f"{NAMESPACE}:https",
            {"certificateArn": "", "domainName": ""},
            "the prod stack must serve HTTPS: set booking:https.domainName and booking:https.hostedZoneId "
            "(the stack creates and validates the certificate) or booking:https.certificateArn",
        )
    rules.append(
        (
            "database",
            "monitoringIntervalSeconds",
            settings.database.monitoring_interval_seconds,
            bool(settings.database.monitoring_interval_seconds),
            "must not be 0 for the prod stack (Enhanced Monitoring)",
        )
    )
    rules.append(
        (
            "waf",
            "enabled",
            settings.waf.enabled if settings.waf else False,
            bool(settings.waf and settings.waf.enabled),
            "must be true for the prod stack",
        )
    )
    for section, field, value, ok, allowed in rules:
        if not ok:
            raise ConfigError(f"{NAMESPACE}:{section}.{field}", value, allowed)


def _keys() -> str:
    return ", ".join(f"{NAMESPACE}:{s}" for s in SECTIONS)


__all__ = [
    "Names",
    "Section",
    "StackSettings",
    "derive_names",
    "load_settings",
    "parse_settings",
    "read_config",
]
