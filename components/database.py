"""RDS PostgreSQL for the API: private, encrypted, SSL-only, with its password owned by RDS.

`manage_master_user_password` makes RDS generate the master password and keep it (and rotate it) in a
Secrets Manager secret it owns: the password is never in the program, the config or the Pulumi state.
The service reads it through the secret ARN this component outputs.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_random as random

from components.iam_policies import assume_role_policy, to_json
from components.time_budget import RDS_INSTANCE_MINUTES, minutes
from components.types import LOG_RETENTION_DAYS

POSTGRES_PORT = 5432
# Log types RDS for PostgreSQL can export to CloudWatch Logs (CreateDBInstance
# EnableCloudwatchLogsExports).
POSTGRES_LOG_EXPORTS = ("postgresql", "upgrade", "iam-db-auth-error")
MONITORING_INTERVALS = (0, 1, 5, 10, 15, 30, 60)
ENHANCED_MONITORING_POLICY = "arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"

_VERSION_RE = re.compile(r"^(\d+)(?:\.(\d+))?$")
_PG_IDENTIFIER_RE = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
_INSTANCE_ID_RE = re.compile(r"^[a-z](?:[a-z0-9]|-(?!-)){0,62}$")
_RESERVED_USERNAMES = {"postgres", "rdsadmin", "rdsrepladmin", "admin", "root", "user", "public"}


def parameter_group_family(engine_version: str) -> str:
    """The RDS parameter group family of a PostgreSQL engine version: `16.4` and `16` → `postgres16`."""
    match = _VERSION_RE.match(engine_version)
    if not match:
        raise ValueError(
            f"engine_version = {engine_version!r} is invalid: must be a PostgreSQL version such as 17 or 17.2"
        )
    major = int(match.group(1))
    if major < 12:
        raise ValueError(
            f"engine_version = {engine_version!r} is invalid: RDS supports PostgreSQL 12 and later"
        )
    return f"postgres{major}"


def postgres_parameters(slow_query_ms: int) -> dict[str, tuple[str, str]]:
    """Parameters this stack sets on top of the family defaults: name → (value, apply method).

    `rds.force_ssl=1` makes the server refuse unencrypted connections (the app connects with
    `sslmode=require`); `pending-reboot` is accepted whether a version treats it as static or dynamic,
    and a new instance boots with it anyway. `log_min_duration_statement` (dynamic) logs every statement
    slower than the threshold, and a new threshold applies at once.
    """
    if slow_query_ms < 0:
        raise ValueError(f"slow_query_ms = {slow_query_ms} is invalid: must be 0 (log all) or more")
    return {
        "rds.force_ssl": ("1", "pending-reboot"),
        "log_min_duration_statement": (str(slow_query_ms), "immediate"),
    }


def valid_performance_insights_retention(days: int) -> bool:
    """RDS accepts 7 (free tier), 731, or a multiple of 31 (months) up to 23 months."""
    return days in (7, 731) or (days % 31 == 0 and 1 <= days // 31 <= 23)


@dataclass(frozen=True)
class DatabaseArgs:
    """Settings of the RDS PostgreSQL instance.

    name_prefix: physical-name prefix; the instance identifier is `<name_prefix>-db`.
    subnet_ids: the isolated subnets (no route to the internet) for the DB subnet group.
    security_group_id: the database security group (created by SecurityGroups; admits the service only).
    engine_version: PostgreSQL version; a major version alone (`17`) lets RDS apply minor upgrades
        without drift.
    instance_class / allocated_storage_gb / max_allocated_storage_gb: size; storage is gp3 and grows
        automatically up to the maximum.
    multi_az: standby in a second AZ with automatic failover.
    backup_retention_days: automated backups kept (0-35; 0 disables backups).
    deletion_protection: RDS refuses to delete the instance while set.
    final_snapshot: take a snapshot `<identifier>-final-<random>` when the instance is deleted, and keep
        the automated backups; when False the instance and its backups go away with it (dev).
    db_name / master_username: database created at launch and its owner (not `postgres`).
    performance_insights / performance_insights_retention_days: Performance Insights on, kept 7
        (free), 731 or n*31 days.
    log_exports: PostgreSQL logs exported to CloudWatch Logs, kept `log_retention_days`.
    slow_query_ms: statements slower than this are logged (`log_min_duration_statement`).
    monitoring_interval_seconds: Enhanced Monitoring granularity; 0 disables it.
    apply_immediately: apply modifications now instead of in the maintenance window.
    allow_major_version_upgrade: needed to change `engine_version`'s major version.
    backup_window / maintenance_window: UTC windows (`hh24:mi-hh24:mi`, `ddd:hh24:mi-ddd:hh24:mi`);
        None lets RDS choose.
    """

    name_prefix: str
    subnet_ids: pulumi.Input[Sequence[pulumi.Input[str]]]
    security_group_id: pulumi.Input[str]
    engine_version: str = "17"
    instance_class: str = "db.t4g.micro"
    allocated_storage_gb: int = 20
    max_allocated_storage_gb: int = 50
    multi_az: bool = False
    backup_retention_days: int = 1
    deletion_protection: bool = False
    final_snapshot: bool = False
    db_name: str = "booking"
    master_username: str = "booking_admin"
    performance_insights: bool = True
    performance_insights_retention_days: int = 7
    log_exports: tuple[str, ...] = ("postgresql", "upgrade")
    log_retention_days: int = 30
    slow_query_ms: int = 500
    monitoring_interval_seconds: int = 0
    apply_immediately: bool = False
    allow_major_version_upgrade: bool = False
    backup_window: str | None = None
    maintenance_window: str | None = None
    permissions_boundary: pulumi.Input[str] | None = None
    """The environment's permissions boundary (bootstrap); every role the component creates carries it."""

    def __post_init__(self) -> None:
        def bad(field_name: str, allowed: str) -> ValueError:
            return ValueError(f"{field_name} = {getattr(self, field_name)!r} is invalid: {allowed}")

        if not _INSTANCE_ID_RE.match(self.identifier) or self.identifier.endswith("-"):
            raise bad(
                "name_prefix",
                f"the instance identifier {self.identifier!r} must be at most 63 lowercase letters, digits "
                "and single hyphens, starting with a letter",
            )
        parameter_group_family(self.engine_version)
        if not self.instance_class.startswith("db."):
            raise bad("instance_class", "must be an RDS instance class such as db.t4g.micro")
        if not 20 <= self.allocated_storage_gb <= 65536:
            raise bad("allocated_storage_gb", "must be between 20 and 65536 (gp3)")
        # RDS storage autoscaling needs the maximum at least 10 % above the allocated storage.
        minimum_max = math.ceil(self.allocated_storage_gb * 1.1)
        if not minimum_max <= self.max_allocated_storage_gb <= 65536:
            raise bad(
                "max_allocated_storage_gb",
                f"must be between {minimum_max} (allocated storage + 10 %) and 65536",
            )
        if not 0 <= self.backup_retention_days <= 35:
            raise bad("backup_retention_days", "must be between 0 and 35")
        if not _PG_IDENTIFIER_RE.match(self.db_name):
            raise bad("db_name", "must be 1-63 lowercase letters, digits or _, starting with a letter")
        if (
            not _PG_IDENTIFIER_RE.match(self.master_username)
            or self.master_username in _RESERVED_USERNAMES
            or self.master_username.startswith(("pg_", "rds"))
        ):
            raise bad(
                "master_username",
                "must be 1-63 lowercase letters, digits or _, starting with a letter, not a reserved name "
                f"({', '.join(sorted(_RESERVED_USERNAMES))}, pg_*, rds*)",
            )
        if not valid_performance_insights_retention(self.performance_insights_retention_days):
            raise bad("performance_insights_retention_days", "must be 7, 731 or a multiple of 31 up to 713")
        unknown_logs = [log for log in self.log_exports if log not in POSTGRES_LOG_EXPORTS]
        if unknown_logs or len(set(self.log_exports)) != len(self.log_exports):
            raise bad("log_exports", f"must be distinct values among {', '.join(POSTGRES_LOG_EXPORTS)}")
        if self.log_retention_days not in LOG_RETENTION_DAYS:
            raise bad("log_retention_days", f"must be one of {', '.join(map(str, LOG_RETENTION_DAYS))}")
        postgres_parameters(self.slow_query_ms)
        if self.monitoring_interval_seconds not in MONITORING_INTERVALS:
            raise bad(
                "monitoring_interval_seconds", f"must be one of {', '.join(map(str, MONITORING_INTERVALS))}"
            )

    @property
    def identifier(self) -> str:
        return f"{self.name_prefix}-db"


class Database(pulumi.ComponentResource):
    """RDS PostgreSQL in the isolated subnets, reachable only through the database security group."""

    instance: aws.rds.Instance
    address: pulumi.Output[str]
    endpoint: pulumi.Output[str]
    port: pulumi.Output[int]
    db_name: pulumi.Output[str]
    identifier: pulumi.Output[str]
    arn: pulumi.Output[str]
    master_username: pulumi.Output[str]
    master_secret_arn: pulumi.Output[str]

    def __init__(self, name: str, args: DatabaseArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("booking:components:Database", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        subnet_group = aws.rds.SubnetGroup(
            f"{name}-subnets",
            subnet_ids=args.subnet_ids,
            description=f"Isolated subnets of {args.identifier}",
            opts=child,
        )
        parameter_group = aws.rds.ParameterGroup(
            f"{name}-params",
            family=parameter_group_family(args.engine_version),
            description=f"SSL only, slow query log for {args.identifier}",
            parameters=[
                aws.rds.ParameterGroupParameterArgs(name=key, value=value, apply_method=method)
                for key, (value, method) in postgres_parameters(args.slow_query_ms).items()
            ],
            opts=child,
        )
        # RDS would create these on first export with no expiry; creating them first sets the retention.
        log_groups = [
            aws.cloudwatch.LogGroup(
                f"{name}-log-{log}",
                name=f"/aws/rds/instance/{args.identifier}/{log}",
                retention_in_days=args.log_retention_days,
                opts=child,
            )
            for log in args.log_exports
        ]

        monitoring_role_arn: pulumi.Output[str] | None = None
        if args.monitoring_interval_seconds:
            role = aws.iam.Role(
                f"{name}-monitoring",
                assume_role_policy=to_json(assume_role_policy("monitoring.rds.amazonaws.com")),
                permissions_boundary=args.permissions_boundary,
                opts=child,
            )
            attachment = aws.iam.RolePolicyAttachment(
                f"{name}-monitoring-policy",
                role=role.name,
                policy_arn=ENHANCED_MONITORING_POLICY,
                opts=child,
            )
            # RDS checks the role's permissions when the instance is created: attach first.
            monitoring_role_arn = pulumi.Output.all(role.arn, attachment.id).apply(lambda values: values[0])

        final_snapshot_identifier: pulumi.Output[str] | None = None
        if args.final_snapshot:
            # A fresh suffix per instance: a snapshot name left by an earlier instance cannot block a
            # later destroy.
            suffix = random.RandomId(f"{name}-final-snapshot-suffix", byte_length=4, opts=child)
            final_snapshot_identifier = suffix.hex.apply(lambda hex_: f"{args.identifier}-final-{hex_}")

        self.instance = aws.rds.Instance(
            f"{name}-instance",
            identifier=args.identifier,
            engine="postgres",
            engine_version=args.engine_version,
            instance_class=args.instance_class,
            allocated_storage=args.allocated_storage_gb,
            max_allocated_storage=args.max_allocated_storage_gb,
            storage_type="gp3",
            storage_encrypted=True,
            db_name=args.db_name,
            username=args.master_username,
            manage_master_user_password=True,
            port=POSTGRES_PORT,
            db_subnet_group_name=subnet_group.name,
            vpc_security_group_ids=[args.security_group_id],
            publicly_accessible=False,
            parameter_group_name=parameter_group.name,
            multi_az=args.multi_az,
            backup_retention_period=args.backup_retention_days,
            backup_window=args.backup_window,
            maintenance_window=args.maintenance_window,
            copy_tags_to_snapshot=True,
            deletion_protection=args.deletion_protection,
            skip_final_snapshot=not args.final_snapshot,
            final_snapshot_identifier=final_snapshot_identifier,
            delete_automated_backups=not args.final_snapshot,
            auto_minor_version_upgrade=True,
            allow_major_version_upgrade=args.allow_major_version_upgrade,
            apply_immediately=args.apply_immediately,
            enabled_cloudwatch_logs_exports=list(args.log_exports),
            performance_insights_enabled=args.performance_insights,
            performance_insights_retention_period=(
                args.performance_insights_retention_days if args.performance_insights else None
            ),
            monitoring_interval=args.monitoring_interval_seconds,
            monitoring_role_arn=monitoring_role_arn,
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=log_groups,
                # Part of the delivery time budget (components/time_budget.py).
                custom_timeouts=pulumi.CustomTimeouts(
                    create=minutes(RDS_INSTANCE_MINUTES), update=minutes(RDS_INSTANCE_MINUTES)
                ),
            ),
        )

        self.address = self.instance.address
        self.endpoint = self.instance.endpoint
        # The engine hands numbers over as floats; DB_PORT and dimensions want `5432`, not `5432.0`.
        self.port = self.instance.port.apply(int)
        self.db_name = self.instance.db_name
        self.identifier = self.instance.identifier
        self.arn = self.instance.arn
        self.master_username = self.instance.username
        self.master_secret_arn = self.instance.master_user_secrets.apply(_master_secret_arn)

        self.register_outputs(
            {
                "address": self.address,
                "endpoint": self.endpoint,
                "port": self.port,
                "db_name": self.db_name,
                "identifier": self.identifier,
                "arn": self.arn,
                "master_username": self.master_username,
                "master_secret_arn": self.master_secret_arn,
            }
        )


def _master_secret_arn(secrets: Sequence[aws.rds.outputs.InstanceMasterUserSecret]) -> str:
    arns = [secret.secret_arn for secret in secrets if secret.secret_arn]
    if len(arns) != 1:
        raise ValueError(f"expected the RDS-managed master user secret, got {len(arns)} secret ARNs")
    return arns[0]
