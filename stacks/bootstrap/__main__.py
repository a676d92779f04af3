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
        secrets_key_arn=backend.key.arn,
        preview_roles=config.preview_roles,
        existing_provider_arn=config.existing_provider_arn,
    ),
)

pulumi.export("stateBucketName", backend.bucket.id)
pulumi.export("backendUrl", backend.backend_url)
pulumi.export("secretsProvider", backend.secrets_provider)
pulumi.export("secretsKeyArn", backend.key.arn)
pulumi.export("oidcProviderArn", github.provider_arn)
pulumi.export("deployRoleArns", github.deploy_role_arns)
pulumi.export("previewRoleArns", github.preview_role_arns)
