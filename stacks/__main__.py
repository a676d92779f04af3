"""The booking stack, read top to bottom like the architecture diagram (../shared/DESIGN.md)."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

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
