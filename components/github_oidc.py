"""GithubOidc: GitHub Actions assume AWS roles with short-lived OIDC tokens, never access keys.

One IAM OIDC provider for `token.actions.githubusercontent.com` (audience `sts.amazonaws.com`), one
deploy role per environment trusted only by jobs running in that GitHub environment of this
repository, one permissions boundary per environment that every role of that stack must carry, and
optionally one read-only preview role per environment: the first environment's (dev) for pull
requests, every later one's only for jobs in that GitHub environment (behind its protection rules).

No thumbprint is configured: for GitHub, IAM validates the IdP against its own trusted CA library and
ignores thumbprints, so a pinned one only goes stale.
"""

from __future__ import annotations

import functools
import json
import operator
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from components.deploy_policies import (
    GITHUB_OIDC_URL,
    MANAGED_POLICY_MAX_CHARS,
    STS_AUDIENCE,
    PolicyDocument,
    StackScope,
    assert_least_privilege,
    boundary_policy,
    boundary_policy_name,
    deploy_policy,
    environment_subject,
    github_trust_policy,
    pack,
    policy_json,
    preview_policy,
    pull_request_subject,
    split_by_part,
)
from components.time_budget import ROLE_SESSION_SECONDS


@dataclass(frozen=True)
class GithubOidcArgs:
    repository: str  # owner/name
    project: str  # the Pulumi project the roles deploy, e.g. "booking"
    environments: Sequence[str]  # in promotion order: each one promotes from the one before
    account_id: str
    region: str
    state_bucket_arn: pulumi.Input[str]
    state_key_arn: pulumi.Input[str]
    """The state bucket's SSE-KMS key."""
    stack_key_arns: Mapping[str, pulumi.Input[str]]
    """Each environment's own secrets-provider key: a role may use only its own stack's."""
    preview_roles: bool = True
    # An account has at most one provider per URL; reuse it when something else created it.
    existing_provider_arn: str | None = None
    # environment → (domain name, Route 53 hosted zone id) when the stack creates its certificate.
    domains: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    # The environments that may use the HTTP API front door; None: all of them.
    http_api_environments: Sequence[str] | None = None


def deploy_role_name(project: str, environment: str) -> str:
    # Deliberately outside the `<project>-<env>-` prefix the role may manage, so it cannot edit itself.
    return f"{project}-deploy-{environment}"


def preview_role_name(project: str, environment: str) -> str:
    return f"{project}-preview-{environment}"


def preview_subject(repository: str, environment: str, environments: Sequence[str]) -> str:
    """Who may assume an environment's preview role (it reads that stack's state and secrets).

    Pull requests run code nobody has approved yet, so only the first environment in promotion order
    (dev) is previewed for them. Every later one (prod) is previewed only by a job running in its GitHub
    environment, i.e. behind that environment's protection rules (main branch only, required reviewers).
    """
    if environment == environments[0]:
        return pull_request_subject(repository)
    return environment_subject(repository, environment)


class GithubOidc(pulumi.ComponentResource):
    def __init__(self, name: str, args: GithubOidcArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("booking:components:GithubOidc", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        if args.existing_provider_arn:
            provider_arn: pulumi.Input[str] = args.existing_provider_arn
        else:
            provider = aws.iam.OpenIdConnectProvider(
                f"{name}-provider", url=GITHUB_OIDC_URL, client_id_lists=[STS_AUDIENCE], opts=child
            )
            provider_arn = provider.arn

        self.deploy_role_arns: dict[str, pulumi.Output[str]] = {}
        self.preview_role_arns: dict[str, pulumi.Output[str]] = {}
        self.boundary_arns: dict[str, pulumi.Output[str]] = {}
        previous: str | None = None
        for environment in args.environments:
            scope = pulumi.Output.all(
                args.state_bucket_arn, args.stack_key_arns[environment], args.state_key_arn
            ).apply(functools.partial(_scope, args, environment, previous))
            placeholder = _scope(args, environment, previous, _LONGEST_ARNS(args))
            # Created here, outside what any deploy role may edit; the stack's roles must carry it.
            self.boundary_arns[environment] = aws.iam.Policy(
                f"{name}-boundary-{environment}",
                name=boundary_policy_name(args.project, environment),
                description=f"Boundary of every role the {args.project} {environment} stack creates",
                policy=scope.apply(lambda s: policy_json(_checked(boundary_policy(s)))),
                opts=pulumi.ResourceOptions(parent=self),
            ).arn
            deploy = self._role(
                f"{name}-deploy-{environment}",
                deploy_role_name(args.project, environment),
                provider_arn,
                environment_subject(args.repository, environment),
                scope.apply(deploy_policy),
                policy_parts(deploy_policy(placeholder)),
                f"Deploys the {args.project} {environment} stack from GitHub environment {environment}",
            )
            self.deploy_role_arns[environment] = deploy.arn
            if args.preview_roles:
                preview = self._role(
                    f"{name}-preview-{environment}",
                    preview_role_name(args.project, environment),
                    provider_arn,
                    preview_subject(args.repository, environment, args.environments),
                    scope.apply(preview_policy),
                    policy_parts(preview_policy(placeholder)),
                    f"Previews the {args.project} {environment} stack (read-only)",
                )
                self.preview_role_arns[environment] = preview.arn
            previous = environment

        self.provider_arn = pulumi.Output.from_input(provider_arn)
        self.register_outputs(
            {
                "providerArn": self.provider_arn,
                "deployRoleArns": self.deploy_role_arns,
                "previewRoleArns": self.preview_role_arns,
                "boundaryArns": self.boundary_arns,
            }
        )

    def _role(
        self,
        resource_name: str,
        role_name: str,
        provider_arn: pulumi.Input[str],
        subject: str,
        policy: pulumi.Output[PolicyDocument],
        parts: Mapping[str, Sequence[str]],
        description: str,
    ) -> aws.iam.Role:
        role = aws.iam.Role(
            resource_name,
            name=role_name,
            description=description,
            assume_role_policy=pulumi.Output.from_input(provider_arn).apply(
                lambda arn: json.dumps(github_trust_policy(arn, subject))
            ),
            # Covers the longest `pulumi up` (components/time_budget.py); the workflows request as much.
            max_session_duration=ROLE_SESSION_SECONDS,
            opts=pulumi.ResourceOptions(parent=self),
        )
        documents = policy.apply(lambda document: _parts_json(document, parts))
        for part in parts:
            managed = aws.iam.Policy(
                f"{resource_name}-{part}",
                name=f"{role_name}-{part}",
                description=f"{description}: {part}",
                policy=documents.apply(operator.itemgetter(part)),
                opts=pulumi.ResourceOptions(parent=self),
            )
            aws.iam.RolePolicyAttachment(
                f"{resource_name}-{part}",
                role=role.name,
                policy_arn=managed.arn,
                opts=pulumi.ResourceOptions(parent=self),
            )
        return role


def _scope(args: GithubOidcArgs, environment: str, previous: str | None, arns: list[str]) -> StackScope:
    bucket_arn, key_arn, state_key_arn = arns
    domain, zone = args.domains.get(environment, (None, None))
    return StackScope(
        project=args.project,
        stack=environment,
        account_id=args.account_id,
        region=args.region,
        state_bucket_arn=bucket_arn,
        secrets_key_arn=key_arn,
        state_key_arn=state_key_arn,
        promote_from=previous,
        domain_name=domain,
        hosted_zone_id=zone,
        http_api=args.http_api_environments is None or environment in args.http_api_environments,
    )


def _LONGEST_ARNS(args: GithubOidcArgs) -> list[str]:
    """ARNs as long as real ones can be (63-character bucket, key ids of 36): packing them fits all."""
    key = f"arn:aws:kms:{args.region}:{args.account_id}:key/" + "k" * 36
    return ["arn:aws:s3:::" + "s" * 63, key, key]


def policy_parts(document: PolicyDocument) -> dict[str, tuple[str, ...]]:
    """Part name → Sids, packed from the longest possible document, so the real one always fits."""
    return {
        f"part{index + 1}": tuple(statement["Sid"] for statement in part["Statement"])
        for index, part in enumerate(pack(_checked(document)))
    }


def _parts_json(document: PolicyDocument, parts: Mapping[str, Sequence[str]]) -> dict[str, str]:
    by_part = {name: policy_json(part) for name, part in split_by_part(_checked(document), parts).items()}
    for name, text in by_part.items():
        if len(text) > MANAGED_POLICY_MAX_CHARS:
            raise ValueError(
                f"policy {name} has {len(text)} characters; IAM allows {MANAGED_POLICY_MAX_CHARS}"
            )
    return by_part


def _checked(document: PolicyDocument) -> PolicyDocument:
    """Refused if it grants a whole service or anything is too large for a managed policy."""
    assert_least_privilege(document)
    for part in pack(document, MANAGED_POLICY_MAX_CHARS):
        assert len(policy_json(part)) <= MANAGED_POLICY_MAX_CHARS
    return document
