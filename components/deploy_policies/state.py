"""The Pulumi state backend: each role reads and decrypts only its own stack's state.

Two KMS keys guard a stack's state:
- the bucket's SSE-KMS key encrypts every object at rest. S3 Bucket Keys are off on the state bucket,
  so S3 asks KMS with the *object* ARN as encryption context (S3 User Guide, "Using Amazon S3 Bucket
  Keys": with a bucket key the context is the bucket ARN instead). That lets the grant below say
  "decrypt only objects under this stack's keys" (`kms:EncryptionContext:aws:s3:arn`), via S3 only.
- the stack's own secrets-provider key (`awskms://alias/<alias>-<stack>`) encrypts the secrets inside
  the checkpoint (JWT signing key, ...). One key per stack; no role may use another stack's key.
"""

from __future__ import annotations

from components.deploy_policies._scope import PolicyDocument, StackScope, allow
from components.iam_policies import Statement, document


def tls_only_bucket_policy(bucket_arn: str) -> PolicyDocument:
    """Refuse every request to the state bucket that is not over TLS."""
    return document(
        [
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [bucket_arn, f"{bucket_arn}/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            }
        ]
    )


def stack_state_keys(project: str, stack: str) -> list[str]:
    """Object key patterns the DIY (S3) backend uses for one project-scoped stack."""
    return [
        f".pulumi/stacks/{project}/{stack}.json*",
        f".pulumi/history/{project}/{stack}/*",
        f".pulumi/backups/{project}/{stack}/*",
        f".pulumi/locks/organization/{project}/{stack}/*",
    ]


def statements(scope: StackScope, *, write: bool) -> list[Statement]:
    bucket = scope.state_bucket_arn
    keys = [f"{bucket}/{key}" for key in stack_state_keys(scope.project, scope.stack)]
    lock_keys = [f"{bucket}/.pulumi/locks/organization/{scope.project}/{scope.stack}/*"]
    object_actions = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"] if write else ["s3:GetObject"]
    result = [
        allow("StateList", ["s3:ListBucket", "s3:GetBucketLocation"], [bucket]),
        allow("StateMeta", ["s3:GetObject"], [f"{bucket}/.pulumi/meta.yaml"]),
        allow("StateObjects", object_actions, keys),
    ]
    if not write:
        # A preview still takes the stack's lock; it never writes the checkpoint.
        result.append(allow("StateLock", ["s3:PutObject", "s3:DeleteObject"], lock_keys))
    if scope.state_key_arn:
        # meta.yaml is read by every stack; its context is its own object ARN.
        readable = [*keys, f"{bucket}/.pulumi/meta.yaml"]
        # Writing an object (even a preview's lock) asks for a data key; reading asks to decrypt it.
        result.append(
            allow(
                "StateBucketKey",
                ["kms:Decrypt", "kms:GenerateDataKey"],
                [scope.state_key_arn],
                {
                    "StringEquals": {"kms:ViaService": f"s3.{scope.region}.amazonaws.com"},
                    "StringLike": {"kms:EncryptionContext:aws:s3:arn": readable},
                },
            )
        )
    key_actions = (
        ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey"]
        if write
        else ["kms:Decrypt", "kms:DescribeKey"]
    )
    result.append(allow("StateKey", key_actions, [scope.secrets_key_arn]))
    return result
