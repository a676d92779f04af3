"""Data invariants: the database (private, encrypted, managed password, resilient in production) and
storage, messaging and logs (S3, SNS, SQS encrypted; log groups expire)."""

from __future__ import annotations

from collections.abc import Iterator

from policies.invariants.core import (
    BUCKET_PUBLIC_ACCESS_BLOCK,
    BUCKET_SSE_TYPES,
    BUCKET_TYPES,
    LOG_GROUP,
    MIN_PROD_BACKUP_DAYS,
    RDS_INSTANCE,
    SNS_TOPIC,
    SQS_QUEUE,
    Inventory,
    ResourceRecord,
    Violation,
    as_int,
    definitely_not_true,
    invariant,
    is_exactly,
    is_unknown,
    report,
)


# --- database --------------------------------------------------------------------------------------------
@invariant("rds-not-public", "The database is not publicly accessible.", [RDS_INSTANCE])
def _rds_not_public(inv: Inventory) -> Iterator[Violation]:
    for db in inv.of_type(RDS_INSTANCE):
        if is_exactly(db.props.get("publiclyAccessible"), True):
            yield report("rds-not-public", db, "publiclyAccessible is true; the database must stay private")


@invariant("rds-encrypted", "Database storage is encrypted at rest.", [RDS_INSTANCE])
def _rds_encrypted(inv: Inventory) -> Iterator[Violation]:
    for db in inv.of_type(RDS_INSTANCE):
        if definitely_not_true(db.props.get("storageEncrypted")):
            yield report("rds-encrypted", db, "storageEncrypted is not true")


@invariant(
    "rds-managed-master-password",
    "RDS manages the master password in Secrets Manager; no password passes through Pulumi state.",
    [RDS_INSTANCE],
)
def _rds_password(inv: Inventory) -> Iterator[Violation]:
    for db in inv.of_type(RDS_INSTANCE):
        if db.props.get("replicateSourceDb"):
            continue  # a replica inherits its credentials
        if definitely_not_true(db.props.get("manageMasterUserPassword")):
            yield report("rds-managed-master-password", db, "manageMasterUserPassword is not true")
        if db.props.get("password") is not None or db.props.get("passwordWo") is not None:
            yield report("rds-managed-master-password", db, "a master password is set in the program")


@invariant(
    "rds-production-resilience",
    f"Production databases are Multi-AZ, deletion-protected, keep a final snapshot and "
    f"at least {MIN_PROD_BACKUP_DAYS} days of backups.",
    [RDS_INSTANCE],
    scope="production",
)
def _rds_resilience(inv: Inventory) -> Iterator[Violation]:
    for db in inv.of_type(RDS_INSTANCE):
        props = db.props
        if definitely_not_true(props.get("multiAz")):
            yield report("rds-production-resilience", db, "multiAz is not true")
        if definitely_not_true(props.get("deletionProtection")):
            yield report("rds-production-resilience", db, "deletionProtection is not true")
        if is_exactly(props.get("skipFinalSnapshot"), True) or (
            props.get("finalSnapshotIdentifier") is None and not is_unknown(props.get("skipFinalSnapshot"))
        ):
            yield report(
                "rds-production-resilience",
                db,
                "no final snapshot on deletion "
                "(skipFinalSnapshot must be false with a finalSnapshotIdentifier)",
            )
        days = as_int(props.get("backupRetentionPeriod"))
        if not is_unknown(props.get("backupRetentionPeriod")) and (
            days is None or days < MIN_PROD_BACKUP_DAYS
        ):
            yield report(
                "rds-production-resilience",
                db,
                f"backupRetentionPeriod is {days}; at least {MIN_PROD_BACKUP_DAYS} days are required",
            )


# --- storage, messaging, logs ----------------------------------------------------------------------------
@invariant(
    "s3-private-encrypted",
    "S3 buckets block all public access and have default encryption configured.",
    [*BUCKET_TYPES, BUCKET_PUBLIC_ACCESS_BLOCK, *BUCKET_SSE_TYPES],
    cross_resource=True,
)
def _s3(inv: Inventory) -> Iterator[Violation]:
    blocks: dict[str, ResourceRecord] = {}
    for block in inv.of_type(BUCKET_PUBLIC_ACCESS_BLOCK):
        blocked = inv.resolve(block, "bucket", BUCKET_TYPES)
        if blocked is not None:
            blocks[blocked.urn] = block
    encrypted: set[str] = set()
    for config in inv.of_type(*BUCKET_SSE_TYPES):
        configured = inv.resolve(config, "bucket", BUCKET_TYPES)
        if configured is not None:
            encrypted.add(configured.urn)
    flags = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
    for bucket in inv.of_type(*BUCKET_TYPES):
        access_block = blocks.get(bucket.urn)
        if access_block is None:
            yield report("s3-private-encrypted", bucket, "has no public access block")
        else:
            off = [f for f in flags if definitely_not_true(access_block.props.get(f))]
            if off:
                yield report(
                    "s3-private-encrypted", bucket, f"public access block leaves {', '.join(off)} off"
                )
        if bucket.urn not in encrypted and not bucket.props.get("serverSideEncryptionConfiguration"):
            yield report("s3-private-encrypted", bucket, "has no default encryption configuration")


@invariant("sns-encrypted", "SNS topics are encrypted with KMS.", [SNS_TOPIC])
def _sns(inv: Inventory) -> Iterator[Violation]:
    for topic in inv.of_type(SNS_TOPIC):
        if not topic.props.get("kmsMasterKeyId") and not is_unknown(topic.props.get("kmsMasterKeyId")):
            yield report("sns-encrypted", topic, "kmsMasterKeyId is not set")


@invariant("sqs-encrypted", "SQS queues are encrypted (SSE-SQS or KMS).", [SQS_QUEUE])
def _sqs(inv: Inventory) -> Iterator[Violation]:
    for queue in inv.of_type(SQS_QUEUE):
        props = queue.props
        if is_unknown(props.get("kmsMasterKeyId")) or is_unknown(props.get("sqsManagedSseEnabled")):
            continue
        if not props.get("kmsMasterKeyId") and props.get("sqsManagedSseEnabled") is not True:
            yield report("sqs-encrypted", queue, "neither kmsMasterKeyId nor sqsManagedSseEnabled is set")


@invariant("logs-retention", "Log groups have a retention period (logs do not pile up forever).", [LOG_GROUP])
def _logs(inv: Inventory) -> Iterator[Violation]:
    for group in inv.of_type(LOG_GROUP):
        value = group.props.get("retentionInDays")
        days = as_int(value)
        if not is_unknown(value) and (days is None or days <= 0):
            yield report("logs-retention", group, "retentionInDays is not set (logs would never expire)")
