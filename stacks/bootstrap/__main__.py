"""Bootstrap, once per AWS account: state backend → GitHub OIDC → one deploy role per environment."""

import pulumi
import pulumi_aws as aws

from components.github_oidc import GithubOidc, GithubOidcArgs
from components.state_backend import StateBackend, StateBackendArgs
from stacks.bootstrap import settings

config = settings.load()
account_id = aws.get_caller_identity().account_id

backend = StateBackend(
    "state",
    StateBackendArgs(
        bucket_name=config.bucket_name,
        key_alias=config.key_alias,
        region=config.region,
        stacks=config.environments,
        noncurrent_version_days=config.noncurrent_version_days,
    ),
)

github = GithubOidc(
    "github",
    GithubOidcArgs(
        repository=config.repository,
        project=config.project,
        environments=config.environments,
        account_id=account_id,
        region=config.region,
        state_bucket_arn=backend.bucket.arn,
        state_key_arn=backend.key.arn,
        stack_key_arns={env: key.arn for env, key in backend.stack_keys.items()},
        preview_roles=config.preview_roles,
        existing_provider_arn=config.existing_provider_arn,
        domains=config.domains,
        http_api_environments=config.http_api_environments,
    ),
)

pulumi.export("stateBucketName", backend.bucket.id)
pulumi.export("backendUrl", backend.backend_url)
pulumi.export("stateKeyArn", backend.key.arn)
pulumi.export("secretsProviders", backend.secrets_providers)
pulumi.export("stackKeyArns", {env: key.arn for env, key in backend.stack_keys.items()})
pulumi.export("oidcProviderArn", github.provider_arn)
pulumi.export("deployRoleArns", github.deploy_role_arns)
pulumi.export("previewRoleArns", github.preview_role_arns)
pulumi.export("boundaryArns", github.boundary_arns)
