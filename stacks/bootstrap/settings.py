"""Typed, validated settings of the bootstrap program (the only place it reads the stack config)."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from stacks.settings._base import NAMESPACE, ConfigError, Section

KEYS = ("github", "environments", "stateBucket", "secretsKey", "oidcProvider", "previewRoles", "project")

_REPOSITORY = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}$")
_ENVIRONMENT = re.compile(r"^[a-z][a-z0-9]{1,11}$")
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_ALIAS = re.compile(r"^[A-Za-z0-9/_-]{1,250}$")
_PROVIDER_ARN = re.compile(
    r"^arn:aws[a-z-]*:iam::\d{12}:oidc-provider/token\.actions\.githubusercontent\.com$"
)
# Role names are <project>-deploy-<env>; an environment with these names would overlap them.
_RESERVED_ENVIRONMENTS = {"deploy", "preview"}


@dataclass(frozen=True)
class BootstrapSettings:
    project: str
    repository: str
    environments: tuple[str, ...]
    region: str
    bucket_name: str | None
    noncurrent_version_days: int
    key_alias: str
    existing_provider_arn: str | None
    preview_roles: bool
    # environment → (domainName, hostedZoneId) from the committed Pulumi.<env>.yaml's booking:https,
    # so each deploy role may change exactly its own DNS names (components/deploy_policies/acm_route53.py).
    domains: Mapping[str, tuple[str, str]] = field(default_factory=dict)

    @property
    def http_api_environments(self) -> tuple[str, ...]:
        """Environments whose stack may take `frontDoor: httpApi`: all but prod (which keeps the ALB)."""
        from stacks.settings.stack import PROD_STACKS

        return tuple(environment for environment in self.environments if environment not in PROD_STACKS)


def parse(raw: Mapping[str, object], region: str | None) -> BootstrapSettings:
    """Validate the `booking:*` keys of a bootstrap stack; raises ConfigError naming the bad key."""
    if not region:
        raise ConfigError("aws:region", region, "is required (e.g. us-east-1)")
    # A misspelt key must not silently fall back to a default (e.g. `environment:` → [dev, prod]).
    unknown = sorted(set(raw) - set(KEYS))
    if unknown:
        allowed = ", ".join(sorted(KEYS))
        first = unknown[0]
        raise ConfigError(f"{NAMESPACE}:{first}", raw[first], f"unknown key; allowed keys are {allowed}")

    github = Section("github", raw.get("github"), ["repository"])
    repository = github.string("repository")
    if not _REPOSITORY.match(repository):
        raise github.error("repository", repository, "must be owner/name of the GitHub repository")

    environments_raw = raw.get("environments", ["dev", "prod"])
    if isinstance(environments_raw, str) or not isinstance(environments_raw, list) or not environments_raw:
        raise ConfigError(
            "booking:environments", environments_raw, "must be a non-empty list such as [dev, prod]"
        )
    environments: list[str] = []
    for value in environments_raw:
        if not isinstance(value, str) or not _ENVIRONMENT.match(value) or value in _RESERVED_ENVIRONMENTS:
            raise ConfigError(
                "booking:environments",
                value,
                "each must be 2-12 lower-case letters/digits starting with a letter, not deploy or preview",
            )
        if value in environments:
            raise ConfigError("booking:environments", value, "must not be listed twice")
        environments.append(value)

    bucket = Section("stateBucket", raw.get("stateBucket"), ["name", "noncurrentVersionDays"])
    bucket_name = bucket.string("name", "")
    if bucket_name and not _BUCKET.match(bucket_name):
        raise bucket.error(
            "name", bucket_name, "must be a valid S3 bucket name (3-63 of a-z 0-9 . -) or empty"
        )
    days = bucket.integer("noncurrentVersionDays", 90, minimum=1, maximum=3650)

    key = Section("secretsKey", raw.get("secretsKey"), ["alias"])
    alias = key.string("alias", "booking-pulumi")
    if alias.startswith("alias/") or alias.startswith("aws/") or not _ALIAS.match(alias):
        raise key.error("alias", alias, "must be a KMS alias name without the alias/ prefix, not under aws/")

    oidc = Section("oidcProvider", raw.get("oidcProvider"), ["existingArn"])
    existing = oidc.string("existingArn", "")
    if existing and not _PROVIDER_ARN.match(existing):
        raise oidc.error(
            "existingArn", existing, "must be the ARN of the token.actions.githubusercontent.com provider"
        )

    preview_roles = raw.get("previewRoles", True)
    if isinstance(preview_roles, str) and preview_roles.lower() in ("true", "false"):
        preview_roles = preview_roles.lower() == "true"
    if not isinstance(preview_roles, bool):
        raise ConfigError("booking:previewRoles", preview_roles, "must be true or false")

    project = raw.get("project", "booking")
    if not isinstance(project, str) or not re.match(r"^[a-z][a-z0-9-]{1,30}$", project):
        raise ConfigError("booking:project", project, "must be the Pulumi project name the roles deploy")

    return BootstrapSettings(
        project=project,
        repository=repository,
        environments=tuple(environments),
        region=region,
        bucket_name=bucket_name or None,
        noncurrent_version_days=days,
        key_alias=alias,
        existing_provider_arn=existing or None,
        preview_roles=preview_roles,
    )


def stack_domains(environments: tuple[str, ...], root: Path | None = None) -> dict[str, tuple[str, str]]:
    """Each environment's `booking:https` domain and zone, read (and validated) from its stack file."""
    from stacks.delivery import REPO_ROOT, stack_config
    from stacks.settings.https import parse_https

    root = root or REPO_ROOT
    domains: dict[str, tuple[str, str]] = {}
    for environment in environments:
        if not (root / f"Pulumi.{environment}.yaml").exists():
            continue
        config = stack_config(environment, root)
        https = parse_https(config.get(f"{NAMESPACE}:https"), str(config.get("aws:region", "")))
        if https.domain_name:
            domains[environment] = (https.domain_name, https.hosted_zone_id)
    return domains


def load() -> BootstrapSettings:
    # read_config decodes only JSON objects and lists: plain strings such as `booking:project` stay strings.
    from stacks.settings.stack import read_config

    config = read_config()
    prefix = f"{NAMESPACE}:"
    raw = {key.removeprefix(prefix): value for key, value in config.items() if key.startswith(prefix)}
    parsed = parse(raw, config.get("aws:region"))
    return dataclasses.replace(parsed, domains=stack_domains(parsed.environments))
