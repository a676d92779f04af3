"""StateBackend: where Pulumi keeps the booking stacks' state and encrypts their secrets.

A versioned, KMS-encrypted, private S3 bucket for `pulumi login s3://…`, and one KMS key per stack
(rotation on) for `--secrets-provider awskms://alias/<alias>-<stack>`: a role can decrypt only its own
stack's secrets. The bucket's own SSE-KMS key encrypts objects at rest; S3 Bucket Keys are off so that
every object is encrypted under its own ARN as encryption context, which lets the deploy roles' KMS
grants name their own stack's objects (components/deploy_policies/state.py).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.deploy_policies import tls_only_bucket_policy


def secrets_provider_url(key_alias: str, region: str) -> str:
    """What `pulumi stack init --secrets-provider` and `secretsprovider:` in Pulumi.<stack>.yaml take."""
    return f"awskms://alias/{key_alias}?region={region}"


def stack_key_alias(key_alias: str, stack: str) -> str:
    """One secrets key per stack: `<alias>-<stack>` (a role may use only its own stack's)."""
    return f"{key_alias}-{stack}"


@dataclass(frozen=True)
class StateBackendArgs:
    # Globally unique S3 name; None lets Pulumi derive one from the component name.
    bucket_name: str | None
    key_alias: str  # without the `alias/` prefix; each stack's key is `<alias>-<stack>`
    region: str
    stacks: Sequence[str] = ()
    noncurrent_version_days: int = 90
    key_deletion_window_days: int = 30


class StateBackend(pulumi.ComponentResource):
    bucket: aws.s3.Bucket
    key: aws.kms.Key

    def __init__(self, name: str, args: StateBackendArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("booking:components:StateBackend", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        # Losing the state bucket or its key orphans every stack: Pulumi refuses to delete either.
        keep = pulumi.ResourceOptions(parent=self, protect=True)

        self.key = aws.kms.Key(
            f"{name}-key",
            description="Encrypts the Pulumi state objects of the booking project at rest (S3 SSE-KMS)",
            enable_key_rotation=True,
            deletion_window_in_days=args.key_deletion_window_days,
            opts=keep,
        )
        self.alias = aws.kms.Alias(
            f"{name}-key-alias", name=f"alias/{args.key_alias}", target_key_id=self.key.key_id, opts=child
        )

        self.stack_keys: dict[str, aws.kms.Key] = {}
        self.secrets_providers: dict[str, str] = {}
        for stack in args.stacks:
            self.stack_keys[stack] = aws.kms.Key(
                f"{name}-key-{stack}",
                description=f"Encrypts the secrets of the booking {stack} stack (Pulumi secrets provider)",
                enable_key_rotation=True,
                deletion_window_in_days=args.key_deletion_window_days,
                opts=keep,
            )
            aws.kms.Alias(
                f"{name}-key-alias-{stack}",
                name=f"alias/{stack_key_alias(args.key_alias, stack)}",
                target_key_id=self.stack_keys[stack].key_id,
                opts=child,
            )
            self.secrets_providers[stack] = secrets_provider_url(
                stack_key_alias(args.key_alias, stack), args.region
            )

        self.bucket = aws.s3.Bucket(
            f"{name}-bucket",
            bucket=args.bucket_name,
            force_destroy=False,
            opts=keep,
        )
        aws.s3.BucketOwnershipControls(
            f"{name}-ownership",
            bucket=self.bucket.id,
            rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"),
            opts=child,
        )
        public_access = aws.s3.BucketPublicAccessBlock(
            f"{name}-public-access",
            bucket=self.bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=child,
        )
        aws.s3.BucketVersioning(
            f"{name}-versioning",
            bucket=self.bucket.id,
            versioning_configuration=aws.s3.BucketVersioningVersioningConfigurationArgs(status="Enabled"),
            opts=child,
        )
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-encryption",
            bucket=self.bucket.id,
            rules=[
                aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                    apply_server_side_encryption_by_default=aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                        sse_algorithm="aws:kms", kms_master_key_id=self.key.arn
                    ),
                    # Off: with a bucket key S3 uses the bucket ARN, not the object's, as context.
                    bucket_key_enabled=False,
                )
            ],
            opts=child,
        )
        aws.s3.BucketLifecycleConfiguration(
            f"{name}-lifecycle",
            bucket=self.bucket.id,
            rules=[
                aws.s3.BucketLifecycleConfigurationRuleArgs(
                    id="expire-old-state-versions",
                    status="Enabled",
                    filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
                    noncurrent_version_expiration=aws.s3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
                        noncurrent_days=args.noncurrent_version_days
                    ),
                    abort_incomplete_multipart_upload=aws.s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
                        days_after_initiation=7
                    ),
                )
            ],
            opts=child,
        )
        aws.s3.BucketPolicy(
            f"{name}-tls-only",
            bucket=self.bucket.id,
            policy=self.bucket.arn.apply(lambda arn: json.dumps(tls_only_bucket_policy(arn))),
            # S3 rejects a bucket policy while the public access block is still being applied.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[public_access]),
        )

        self.backend_url = pulumi.Output.concat("s3://", self.bucket.id, f"?region={args.region}&awssdk=v2")
        self.register_outputs(
            {
                "bucketName": self.bucket.id,
                "keyArn": self.key.arn,
                "backendUrl": self.backend_url,
                "secretsProviders": self.secrets_providers,
            }
        )
