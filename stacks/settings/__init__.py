"""Typed, validated stack settings: the only place that reads `pulumi.Config`."""

from stacks.settings._base import ConfigError, Section
from stacks.settings.database import DatabaseSettings
from stacks.settings.https import HttpsSettings
from stacks.settings.image import ImageSettings
from stacks.settings.lambda_ import LambdaSettings
from stacks.settings.load_balancer import LoadBalancerSettings
from stacks.settings.network import NetworkSettings
from stacks.settings.service import FARGATE_MEMORY_BY_CPU, ServiceSettings
from stacks.settings.stack import Names, StackSettings, load_settings, parse_settings

__all__ = [
    "FARGATE_MEMORY_BY_CPU",
    "ConfigError",
    "DatabaseSettings",
    "HttpsSettings",
    "ImageSettings",
    "LambdaSettings",
    "LoadBalancerSettings",
    "Names",
    "NetworkSettings",
    "Section",
    "ServiceSettings",
    "StackSettings",
    "load_settings",
    "parse_settings",
]
