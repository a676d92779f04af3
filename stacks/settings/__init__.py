"""Typed, validated stack settings: the only place that reads `pulumi.Config`."""

from stacks.settings._base import ConfigError, Section

__all__ = ["ConfigError", "Section"]
