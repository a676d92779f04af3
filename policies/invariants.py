"""The platform's security and reliability invariants, defined once.

Each invariant is a plain function over resource records (Pulumi type token + camelCase properties, the
names a pulumi-policy `props` mapping and the offline runner's `inputs` both use). The same definitions
are evaluated by the policy pack (`policies/__main__.py`, `pulumi preview --policy-pack policies`), by the
offline plan tool (`python -m stacks.plan`) and by tests/infra, so there is one copy of each rule.

Security-group rules point at other groups by id, so every invariant sees the whole stack through an
`Inventory` that resolves a reference either by physical id (offline mocks, stack state) or, during a
real preview where ids of new resources are still unknown, through Pulumi's property dependencies.

Values the engine cannot know yet (pulumi-policy's unknowns during preview) are `UNKNOWN`; a check never
reports a violation from an unknown value.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

# --- resource types we look at --------------------------------------------------------------------------
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
SECURITY_GROUP_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
DEFAULT_SECURITY_GROUP = "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"
NAT_GATEWAY = "aws:ec2/natGateway:NatGateway"
LOAD_BALANCER_TYPES = ("aws:lb/loadBalancer:LoadBalancer", "aws:alb/loadBalancer:LoadBalancer")
LISTENER_TYPES = ("aws:lb/listener:Listener", "aws:alb/listener:Listener")
RDS_INSTANCE = "aws:rds/instance:Instance"
TASK_DEFINITION = "aws:ecs/taskDefinition:TaskDefinition"
ECS_SERVICE = "aws:ecs/service:Service"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
SNS_TOPIC = "aws:sns/topic:Topic"
SQS_QUEUE = "aws:sqs/queue:Queue"
BUCKET_TYPES = ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2")
BUCKET_PUBLIC_ACCESS_BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
BUCKET_SSE_TYPES = (
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
)
IAM_POLICY_TYPES = {
    "aws:iam/policy:Policy": "policy",
    "aws:iam/rolePolicy:RolePolicy": "policy",
    "aws:iam/userPolicy:UserPolicy": "policy",
    "aws:iam/groupPolicy:GroupPolicy": "policy",
}
IAM_ROLE = "aws:iam/role:Role"
IAM_ROLE_POLICY_ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"

WORLD_PORTS = frozenset({80, 443})
POSTGRES_PORT = 5432
MIN_PROD_BACKUP_DAYS = 7
PRODUCTION_STACKS = frozenset({"prod", "production"})


# --- unknown values --------------------------------------------------------------------------------------
class _Unknown:
    """A value a preview cannot know yet (e.g. the id of a security group that does not exist yet)."""

    _instance: _Unknown | None = None

    def __new__(cls) -> _Unknown:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "<unknown>"

    def __bool__(self) -> bool:
        return False


UNKNOWN: Any = _Unknown()


def is_unknown(value: object) -> bool:
    return isinstance(value, _Unknown)


# --- records ---------------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class ResourceRecord:
    """One resource as every evaluator of the invariants sees it.

    `deps` maps a property name to the URNs it was computed from (pulumi-policy's property dependencies);
    `id` is the physical id when known (mocks and stack state), so references by id can be followed.
    """

    urn: str
    type: str
    name: str
    props: Mapping[str, Any]
    parent: str | None = None
    id: str | None = None
    deps: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class Violation:
    invariant: str
    urn: str
    resource_type: str
    resource_name: str
    message: str

    def __str__(self) -> str:
        return f"[{self.invariant}] {self.resource_type} '{self.resource_name}': {self.message}"


class Inventory:
    """All resources of one stack, with lookups by URN, by type and by physical id."""

    def __init__(self, records: Iterable[ResourceRecord]) -> None:
        self.records: tuple[ResourceRecord, ...] = tuple(records)
        self.by_urn: dict[str, ResourceRecord] = {r.urn: r for r in self.records}
        self.by_id: dict[str, ResourceRecord] = {}
        for record in self.records:
            for candidate in (record.id, record.props.get("id")):
                if isinstance(candidate, str) and candidate:
                    self.by_id.setdefault(candidate, record)

    def of_type(self, *types: str) -> list[ResourceRecord]:
        return [r for r in self.records if r.type in types]

    def resolve_all(
        self, owner: ResourceRecord, prop: str, values: Iterable[object], types: Sequence[str] = ()
    ) -> tuple[list[ResourceRecord], bool]:
        """The resources `values` (ids) of `owner.props[prop]` point at, and whether all were resolved.

        Known ids are looked up directly; unknown ones (preview) fall back to the property's dependencies.
        """
        found: list[ResourceRecord] = []
        complete = True
        needs_deps = False
        for value in values:
            if isinstance(value, str) and value in self.by_id:
                found.append(self.by_id[value])
            else:
                needs_deps = True
        if needs_deps:
            deps = [self.by_urn[u] for u in owner.deps.get(prop, ()) if u in self.by_urn]
            deps = [d for d in deps if not types or d.type in types]
            for dep in deps:
                if dep not in found:
                    found.append(dep)
            complete = bool(deps)
        return found, complete

    def resolve(self, owner: ResourceRecord, prop: str, types: Sequence[str] = ()) -> ResourceRecord | None:
        value = owner.props.get(prop)
        if value is None:
            return None
        found, _ = self.resolve_all(owner, prop, [value], types)
        return found[0] if found else None

    def children_of(self, urn: str) -> list[ResourceRecord]:
        return [r for r in self.records if r.parent == urn]


# --- invariants ------------------------------------------------------------------------------------------
Scope = Literal["all", "production"]
Check = Callable[[Inventory], Iterator[Violation]]


@dataclass(frozen=True)
class Invariant:
    id: str
    description: str
    check: Check
    # Resource types the rule is about; the pack runs single-resource rules as resource policies.
    types: tuple[str, ...]
    # "production" rules (Multi-AZ, deletion protection...) do not apply to development stacks at all.
    scope: Scope = "all"
    # True when the rule needs other resources (security-group references, NAT presence, buckets).
    cross_resource: bool = False

    def applies_to(self, stack: str) -> bool:
        return self.scope == "all" or is_production(stack)

    def evaluate(self, inventory: Inventory) -> list[Violation]:
        return list(self.check(inventory))


def is_production(stack: str) -> bool:
    return stack in PRODUCTION_STACKS or stack.startswith("prod-")


def enforcement(stack: str) -> Literal["mandatory", "advisory"]:
    """Guardrails block production; in any other stack they are warnings."""
    return "mandatory" if is_production(stack) else "advisory"


def stack_from_urn(urn: str) -> str:
    """`urn:pulumi:<stack>::<project>::<type>::<name>` → `<stack>`."""
    parts = urn.split("::", 1)[0].split(":")
    return parts[2] if len(parts) >= 3 else ""


_REGISTRY: list[Invariant] = []


def invariant(
    id: str,
    description: str,
    types: Sequence[str],
    *,
    scope: Scope = "all",
    cross_resource: bool = False,
) -> Callable[[Check], Check]:
    def register(check: Check) -> Check:
        _REGISTRY.append(Invariant(id, description, check, tuple(types), scope, cross_resource))
        return check

    return register


def _violation(invariant_id: str, record: ResourceRecord, message: str) -> Violation:
    return Violation(invariant_id, record.urn, record.type, record.name, message)


# --- small value helpers ---------------------------------------------------------------------------------
def _is(value: object, expected: object) -> bool:
    """Definitely `expected` (unknown counts as compliant elsewhere, so callers negate carefully)."""
    return value == expected and not is_unknown(value)


def _definitely_not_true(value: object) -> bool:
    return value is not True and not is_unknown(value)


def _as_list(value: object) -> list[Any]:
    if value is None or is_unknown(value):
        return []
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]


def _as_int(value: object) -> int | None:
    if isinstance(value, bool) or value is None or is_unknown(value):
        return None
    if isinstance(value, (int, float)):
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return None


def _json(value: object) -> Any:
    """Policy documents and container definitions arrive as JSON strings or already-parsed objects."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return None
    return value


def is_public_cidr(cidr: object) -> bool:
    """A CIDR outside the private ranges (the internet); anything unparsable is not."""
    if not isinstance(cidr, str):
        return False
    try:
        network = ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        return False
    return not network.is_private


# --- security groups -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class IngressRule:
    """One ingress permission, normalised from inline `ingress`, `SecurityGroupRule` or `IngressRule`."""

    declared_by: ResourceRecord
    group: ResourceRecord | None
    protocol: str
    from_port: int | None
    to_port: int | None
    cidrs: tuple[str, ...]
    sources: tuple[ResourceRecord, ...]
    sources_complete: bool
    prefix_lists: tuple[str, ...]
    self_reference: bool

    @property
    def all_ports(self) -> bool:
        return self.protocol in ("-1", "all") or (
            self.from_port in (0, -1, None)
            and self.to_port
            in (
                65535,
                -1,
                None,
            )
        )

    def ports_text(self) -> str:
        if self.all_ports:
            return "all ports"
        if self.from_port == self.to_port:
            return f"port {self.from_port}"
        return f"ports {self.from_port}-{self.to_port}"


def ingress_rules(inv: Inventory) -> list[IngressRule]:
    rules: list[IngressRule] = []
    for sg in inv.of_type(SECURITY_GROUP):
        for item in _as_list(sg.props.get("ingress")):
            if not isinstance(item, Mapping):
                continue
            sources, complete = inv.resolve_all(
                sg, "ingress", _as_list(item.get("securityGroups")), [SECURITY_GROUP]
            )
            if not item.get("securityGroups"):
                sources, complete = [], True
            rules.append(
                IngressRule(
                    sg,
                    sg,
                    str(item.get("protocol", "")).lower(),
                    _as_int(item.get("fromPort")),
                    _as_int(item.get("toPort")),
                    tuple(_as_list(item.get("cidrBlocks")) + _as_list(item.get("ipv6CidrBlocks"))),
                    tuple(sources),
                    complete,
                    tuple(_as_list(item.get("prefixListIds"))),
                    item.get("self") is True,
                )
            )
    for rule in inv.of_type(SECURITY_GROUP_RULE):
        props = rule.props
        if props.get("type") != "ingress":
            continue
        source = props.get("sourceSecurityGroupId")
        sources, complete = ([], True)
        if source is not None:
            sources, complete = inv.resolve_all(rule, "sourceSecurityGroupId", [source], [SECURITY_GROUP])
        rules.append(
            IngressRule(
                rule,
                inv.resolve(rule, "securityGroupId", [SECURITY_GROUP]),
                str(props.get("protocol", "")).lower(),
                _as_int(props.get("fromPort")),
                _as_int(props.get("toPort")),
                tuple(_as_list(props.get("cidrBlocks")) + _as_list(props.get("ipv6CidrBlocks"))),
                tuple(sources),
                complete,
                tuple(_as_list(props.get("prefixListIds"))),
                props.get("self") is True,
            )
        )
    for rule in inv.of_type(INGRESS_RULE):
        props = rule.props
        source = props.get("referencedSecurityGroupId")
        sources, complete = ([], True)
        if source is not None:
            sources, complete = inv.resolve_all(rule, "referencedSecurityGroupId", [source], [SECURITY_GROUP])
        group = inv.resolve(rule, "securityGroupId", [SECURITY_GROUP])
        rules.append(
            IngressRule(
                rule,
                group,
                str(props.get("ipProtocol", "")).lower(),
                _as_int(props.get("fromPort")),
                _as_int(props.get("toPort")),
                tuple(c for c in (props.get("cidrIpv4"), props.get("cidrIpv6")) if isinstance(c, str)),
                tuple(sources),
                complete,
                tuple(_as_list(props.get("prefixListId"))),
                False,
            )
        )
    return rules


@dataclass(frozen=True)
class SecurityGroupRoles:
    """Which security groups play which part, derived from who uses them (not from their names)."""

    alb: tuple[ResourceRecord, ...]
    service: tuple[ResourceRecord, ...]
    database: tuple[ResourceRecord, ...]


def security_group_roles(inv: Inventory) -> SecurityGroupRoles:
    alb: list[ResourceRecord] = []
    for lb in inv.of_type(*LOAD_BALANCER_TYPES):
        found, _ = inv.resolve_all(
            lb, "securityGroups", _as_list(lb.props.get("securityGroups")), [SECURITY_GROUP]
        )
        alb += found
    service: list[ResourceRecord] = []
    for svc in inv.of_type(ECS_SERVICE):
        network = svc.props.get("networkConfiguration")
        groups = _as_list(network.get("securityGroups")) if isinstance(network, Mapping) else []
        found, _ = inv.resolve_all(svc, "networkConfiguration", groups, [SECURITY_GROUP])
        service += found
    database: list[ResourceRecord] = []
    for db in inv.of_type(RDS_INSTANCE):
        found, _ = inv.resolve_all(
            db, "vpcSecurityGroupIds", _as_list(db.props.get("vpcSecurityGroupIds")), [SECURITY_GROUP]
        )
        database += found
    return SecurityGroupRoles(
        tuple(dict.fromkeys(alb)), tuple(dict.fromkeys(service)), tuple(dict.fromkeys(database))
    )


def _describe_group(group: ResourceRecord | None) -> str:
    return f"security group '{group.name}'" if group else "a security group"


@invariant(
    "sg-world-ingress-alb-only",
    "Only the load balancer's security group admits traffic from the internet, and only on ports 80 and 443.",
    [SECURITY_GROUP, SECURITY_GROUP_RULE, INGRESS_RULE],
    cross_resource=True,
)
def _world_ingress(inv: Inventory) -> Iterator[Violation]:
    roles = security_group_roles(inv)
    for rule in ingress_rules(inv):
        public = [c for c in rule.cidrs if is_public_cidr(c)]
        if not public:
            continue
        where = _describe_group(rule.group)
        if rule.group is not None and rule.group not in roles.alb:
            yield _violation(
                "sg-world-ingress-alb-only",
                rule.declared_by,
                f"{where} admits {', '.join(public)} on {rule.ports_text()}; only the load balancer's "
                "security group may be reachable from the internet",
            )
        elif (
            rule.protocol not in ("tcp", "6")
            or rule.from_port != rule.to_port
            or rule.from_port not in WORLD_PORTS
        ):
            yield _violation(
                "sg-world-ingress-alb-only",
                rule.declared_by,
                f"{where} admits {', '.join(public)} on {rule.protocol or '?'} {rule.ports_text()}; "
                "the internet may reach the load balancer on TCP 80 and 443 only",
            )


def _only_from(
    invariant_id: str,
    inv: Inventory,
    targets: Sequence[ResourceRecord],
    allowed: Sequence[ResourceRecord],
    target_label: str,
    allowed_label: str,
    port: int | None,
) -> Iterator[Violation]:
    for rule in ingress_rules(inv):
        if rule.group is None or rule.group not in targets:
            continue
        where = f"the {target_label} security group '{rule.group.name}'"
        if rule.cidrs or rule.prefix_lists or rule.self_reference:
            origin = ", ".join(list(rule.cidrs) + list(rule.prefix_lists)) or "itself"
            yield _violation(
                invariant_id,
                rule.declared_by,
                f"{where} admits {origin} on {rule.ports_text()}; it may admit only the {allowed_label} "
                "security group",
            )
            continue
        if not rule.sources_complete:
            continue  # the referenced group is not knowable yet (preview); nothing to judge
        strangers = [s for s in rule.sources if s not in allowed]
        if strangers or not rule.sources:
            names = ", ".join(f"'{s.name}'" for s in strangers) or "an unresolved source"
            yield _violation(
                invariant_id,
                rule.declared_by,
                f"{where} admits security group {names}; "
                f"it may admit only the {allowed_label} security group",
            )
        elif port is not None and (rule.from_port != port or rule.to_port != port):
            yield _violation(
                invariant_id,
                rule.declared_by,
                f"{where} opens {rule.ports_text()}; only port {port} is needed",
            )


@invariant(
    "sg-service-ingress-from-alb-only",
    "The service's security group admits only the load balancer's security group.",
    [SECURITY_GROUP, SECURITY_GROUP_RULE, INGRESS_RULE],
    cross_resource=True,
)
def _service_ingress(inv: Inventory) -> Iterator[Violation]:
    roles = security_group_roles(inv)
    yield from _only_from(
        "sg-service-ingress-from-alb-only", inv, roles.service, roles.alb, "service", "load balancer", None
    )


@invariant(
    "sg-database-ingress-from-service-only",
    "The database's security group admits only the service's security group, on PostgreSQL's port 5432.",
    [SECURITY_GROUP, SECURITY_GROUP_RULE, INGRESS_RULE],
    cross_resource=True,
)
def _database_ingress(inv: Inventory) -> Iterator[Violation]:
    roles = security_group_roles(inv)
    yield from _only_from(
        "sg-database-ingress-from-service-only",
        inv,
        roles.database,
        roles.service,
        "database",
        "service",
        POSTGRES_PORT,
    )


@invariant(
    "vpc-default-sg-closed",
    "The VPC's default security group has no rules, so nothing lands in it by accident.",
    [DEFAULT_SECURITY_GROUP],
)
def _default_sg(inv: Inventory) -> Iterator[Violation]:
    for sg in inv.of_type(DEFAULT_SECURITY_GROUP):
        for direction in ("ingress", "egress"):
            if _as_list(sg.props.get(direction)):
                yield _violation("vpc-default-sg-closed", sg, f"default security group has {direction} rules")


# --- database --------------------------------------------------------------------------------------------
@invariant("rds-not-public", "The database is not publicly accessible.", [RDS_INSTANCE])
def _rds_not_public(inv: Inventory) -> Iterator[Violation]:
    for db in inv.of_type(RDS_INSTANCE):
        if _is(db.props.get("publiclyAccessible"), True):
            yield _violation(
                "rds-not-public", db, "publiclyAccessible is true; the database must stay private"
            )


@invariant("rds-encrypted", "Database storage is encrypted at rest.", [RDS_INSTANCE])
def _rds_encrypted(inv: Inventory) -> Iterator[Violation]:
    for db in inv.of_type(RDS_INSTANCE):
        if _definitely_not_true(db.props.get("storageEncrypted")):
            yield _violation("rds-encrypted", db, "storageEncrypted is not true")


@invariant(
    "rds-managed-master-password",
    "RDS manages the master password in Secrets Manager; no password passes through Pulumi state.",
    [RDS_INSTANCE],
)
def _rds_password(inv: Inventory) -> Iterator[Violation]:
    for db in inv.of_type(RDS_INSTANCE):
        if db.props.get("replicateSourceDb"):
            continue  # a replica inherits its credentials
        if _definitely_not_true(db.props.get("manageMasterUserPassword")):
            yield _violation("rds-managed-master-password", db, "manageMasterUserPassword is not true")
        if db.props.get("password") is not None or db.props.get("passwordWo") is not None:
            yield _violation("rds-managed-master-password", db, "a master password is set in the program")


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
        if _definitely_not_true(props.get("multiAz")):
            yield _violation("rds-production-resilience", db, "multiAz is not true")
        if _definitely_not_true(props.get("deletionProtection")):
            yield _violation("rds-production-resilience", db, "deletionProtection is not true")
        if _is(props.get("skipFinalSnapshot"), True) or (
            props.get("finalSnapshotIdentifier") is None and not is_unknown(props.get("skipFinalSnapshot"))
        ):
            yield _violation(
                "rds-production-resilience",
                db,
                "no final snapshot on deletion "
                "(skipFinalSnapshot must be false with a finalSnapshotIdentifier)",
            )
        days = _as_int(props.get("backupRetentionPeriod"))
        if not is_unknown(props.get("backupRetentionPeriod")) and (
            days is None or days < MIN_PROD_BACKUP_DAYS
        ):
            yield _violation(
                "rds-production-resilience",
                db,
                f"backupRetentionPeriod is {days}; at least {MIN_PROD_BACKUP_DAYS} days are required",
            )


# --- containers ------------------------------------------------------------------------------------------
_SECRET_NAME = re.compile(
    r"(PASSWORD|PASSWD|SECRET|TOKEN|PRIVATE_?KEY|ACCESS_?KEY|API_?KEY|CREDENTIAL)", re.I
)
# A name that *refers* to a secret (its ARN, its id, a file path) is fine: the value is not the secret.
_SECRET_REFERENCE_SUFFIX = re.compile(r"_(ARN|ID|NAME|FILE|PATH|URL|TTL\w*|MINUTES|SECONDS)$", re.I)
_SECRET_VALUE = re.compile(r"(AKIA[0-9A-Z]{16}|-----BEGIN [A-Z ]*PRIVATE KEY-----)")


def container_definitions(task: ResourceRecord) -> list[Mapping[str, Any]] | None:
    raw = task.props.get("containerDefinitions")
    if is_unknown(raw):
        return None
    parsed = _json(raw)
    if not isinstance(parsed, list):
        return None
    return [c for c in parsed if isinstance(c, Mapping)]


def _is_root_user(user: object) -> bool:
    if user is None or user == "":
        return True
    name = str(user).split(":", 1)[0]
    return name in ("0", "root")


def _containers(inv: Inventory) -> Iterator[tuple[ResourceRecord, Mapping[str, Any]]]:
    for task in inv.of_type(TASK_DEFINITION):
        for container in container_definitions(task) or []:
            yield task, container


@invariant("task-non-root", "Containers run as a non-root user.", [TASK_DEFINITION])
def _task_non_root(inv: Inventory) -> Iterator[Violation]:
    for task, c in _containers(inv):
        if _is_root_user(c.get("user")):
            yield _violation(
                "task-non-root", task, f"container '{c.get('name')}' runs as root (user {c.get('user')!r})"
            )


@invariant("task-read-only-root-fs", "Containers have a read-only root filesystem.", [TASK_DEFINITION])
def _task_read_only(inv: Inventory) -> Iterator[Violation]:
    for task, c in _containers(inv):
        if c.get("readonlyRootFilesystem") is not True:
            yield _violation(
                "task-read-only-root-fs", task, f"container '{c.get('name')}' has a writable root filesystem"
            )


@invariant(
    "task-image-by-digest", "Container images are pinned by digest (repo@sha256:...).", [TASK_DEFINITION]
)
def _task_digest(inv: Inventory) -> Iterator[Violation]:
    for task, c in _containers(inv):
        image = c.get("image")
        if not isinstance(image, str) or not re.search(r"@sha256:[0-9a-f]{64}$", image):
            yield _violation(
                "task-image-by-digest",
                task,
                f"container '{c.get('name')}' image {image!r} is not pinned by digest",
            )


@invariant(
    "task-no-plaintext-secrets",
    "No secret-looking value is passed as a plain container environment variable (use ECS `secrets`).",
    [TASK_DEFINITION],
)
def _task_secrets(inv: Inventory) -> Iterator[Violation]:
    for task, c in _containers(inv):
        for entry in _as_list(c.get("environment")):
            if not isinstance(entry, Mapping):
                continue
            name, value = str(entry.get("name", "")), str(entry.get("value", ""))
            secret_name = _SECRET_NAME.search(name) and not _SECRET_REFERENCE_SUFFIX.search(name)
            if secret_name or _SECRET_VALUE.search(value):
                yield _violation(
                    "task-no-plaintext-secrets",
                    task,
                    f"container '{c.get('name')}' environment variable {name} looks like a secret; "
                    "inject it through `secrets` from Secrets Manager",
                )


@invariant(
    "ecs-deployment-rollback",
    "ECS services use the deployment circuit breaker with automatic rollback.",
    [ECS_SERVICE],
)
def _ecs_rollback(inv: Inventory) -> Iterator[Violation]:
    for svc in inv.of_type(ECS_SERVICE):
        breaker = svc.props.get("deploymentCircuitBreaker")
        if is_unknown(breaker):
            continue
        if (
            not isinstance(breaker, Mapping)
            or breaker.get("enable") is not True
            or breaker.get("rollback") is not True
        ):
            yield _violation(
                "ecs-deployment-rollback",
                svc,
                "deploymentCircuitBreaker must have enable and rollback set to true",
            )


@invariant(
    "ecs-no-public-ip",
    "Tasks get no public IP when the VPC has NAT gateways for egress.",
    [ECS_SERVICE, NAT_GATEWAY],
    cross_resource=True,
)
def _ecs_public_ip(inv: Inventory) -> Iterator[Violation]:
    if not inv.of_type(NAT_GATEWAY):
        return
    for svc in inv.of_type(ECS_SERVICE):
        network = svc.props.get("networkConfiguration")
        if isinstance(network, Mapping) and _is(network.get("assignPublicIp"), True):
            yield _violation(
                "ecs-no-public-ip", svc, "assignPublicIp is true although NAT gateways provide egress"
            )


# --- IAM -------------------------------------------------------------------------------------------------
# Actions AWS only authorises against Resource "*" (no resource-level permissions).
WILDCARD_RESOURCE_ACTIONS = frozenset(
    {
        "ecr:getauthorizationtoken",
        "ecs:describetaskdefinition",
        "ecs:listtaskdefinitions",
        "ecs:registertaskdefinition",
        "ecs:deregistertaskdefinition",
        "cloudwatch:putmetricdata",
        "cloudwatch:getmetricdata",
        "cloudwatch:listmetrics",
        "logs:describeloggroups",
        "xray:puttracesegments",
        "xray:puttelemetryrecords",
        "ec2:createnetworkinterface",
        "ec2:describenetworkinterfaces",
        "ec2:deletenetworkinterface",
        "ec2:assignprivateipaddresses",
        "ec2:unassignprivateipaddresses",
        "ssmmessages:createcontrolchannel",
        "ssmmessages:createdatachannel",
        "ssmmessages:openmessagechannel",
        "ssmmessages:opendatachannel",
        "sns:listtopics",
        "secretsmanager:getrandompassword",
        "secretsmanager:listsecrets",
        "sts:getcalleridentity",
    }
)
BROAD_MANAGED_POLICY = re.compile(
    r"arn:aws:iam::aws:policy/(AdministratorAccess|PowerUserAccess|\w*FullAccess)$"
)


def policy_statements(document: object) -> list[Mapping[str, Any]]:
    parsed = _json(document)
    if not isinstance(parsed, Mapping):
        return []
    statements = parsed.get("Statement")
    return [s for s in _as_list(statements) if isinstance(s, Mapping)]


def _policy_documents(inv: Inventory) -> Iterator[tuple[ResourceRecord, str, object]]:
    for record in inv.records:
        prop = IAM_POLICY_TYPES.get(record.type)
        if prop is not None:
            yield record, "policy", record.props.get(prop)
        elif record.type == IAM_ROLE:
            for inline in _as_list(record.props.get("inlinePolicies")):
                if isinstance(inline, Mapping):
                    yield record, f"inline policy {inline.get('name')!r}", inline.get("policy")


def statement_problems(statement: Mapping[str, Any]) -> list[str]:
    """Why an Allow statement is too broad (empty when it is fine)."""
    if statement.get("Effect") != "Allow":
        return []
    problems: list[str] = []
    actions = [str(a) for a in _as_list(statement.get("Action"))]
    if statement.get("NotAction") is not None:
        problems.append("uses NotAction in an Allow statement")
    wild_actions = [a for a in actions if "*" in a]
    if wild_actions:
        problems.append(f"allows wildcard actions {', '.join(wild_actions)}")
    resources = [r for r in _as_list(statement.get("Resource")) if isinstance(r, str)]
    if "*" in resources:
        unscoped = [a for a in actions if a.lower() not in WILDCARD_RESOURCE_ACTIONS]
        if unscoped:
            problems.append(
                f'grants {", ".join(unscoped)} on Resource "*" although AWS supports scoping them to ARNs'
            )
    if statement.get("NotResource") is not None:
        problems.append("uses NotResource in an Allow statement")
    return problems


@invariant(
    "iam-least-privilege",
    'IAM statements name their actions (no `*`) and use Resource "*" only for actions AWS cannot scope.',
    [IAM_ROLE, *IAM_POLICY_TYPES, IAM_ROLE_POLICY_ATTACHMENT],
)
def _iam(inv: Inventory) -> Iterator[Violation]:
    for record, where, document in _policy_documents(inv):
        if is_unknown(document):
            continue
        for index, statement in enumerate(policy_statements(document)):
            sid = statement.get("Sid") or f"#{index}"
            for problem in statement_problems(statement):
                yield _violation("iam-least-privilege", record, f"{where} statement {sid} {problem}")
    for attachment in inv.of_type(IAM_ROLE_POLICY_ATTACHMENT):
        arn = attachment.props.get("policyArn")
        if isinstance(arn, str) and BROAD_MANAGED_POLICY.match(arn):
            yield _violation("iam-least-privilege", attachment, f"attaches the broad managed policy {arn}")


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
            yield _violation("s3-private-encrypted", bucket, "has no public access block")
        else:
            off = [f for f in flags if _definitely_not_true(access_block.props.get(f))]
            if off:
                yield _violation(
                    "s3-private-encrypted", bucket, f"public access block leaves {', '.join(off)} off"
                )
        if bucket.urn not in encrypted and not bucket.props.get("serverSideEncryptionConfiguration"):
            yield _violation("s3-private-encrypted", bucket, "has no default encryption configuration")


@invariant("sns-encrypted", "SNS topics are encrypted with KMS.", [SNS_TOPIC])
def _sns(inv: Inventory) -> Iterator[Violation]:
    for topic in inv.of_type(SNS_TOPIC):
        if not topic.props.get("kmsMasterKeyId") and not is_unknown(topic.props.get("kmsMasterKeyId")):
            yield _violation("sns-encrypted", topic, "kmsMasterKeyId is not set")


@invariant("sqs-encrypted", "SQS queues are encrypted (SSE-SQS or KMS).", [SQS_QUEUE])
def _sqs(inv: Inventory) -> Iterator[Violation]:
    for queue in inv.of_type(SQS_QUEUE):
        props = queue.props
        if is_unknown(props.get("kmsMasterKeyId")) or is_unknown(props.get("sqsManagedSseEnabled")):
            continue
        if not props.get("kmsMasterKeyId") and props.get("sqsManagedSseEnabled") is not True:
            yield _violation("sqs-encrypted", queue, "neither kmsMasterKeyId nor sqsManagedSseEnabled is set")


@invariant("logs-retention", "Log groups have a retention period (logs do not pile up forever).", [LOG_GROUP])
def _logs(inv: Inventory) -> Iterator[Violation]:
    for group in inv.of_type(LOG_GROUP):
        value = group.props.get("retentionInDays")
        days = _as_int(value)
        if not is_unknown(value) and (days is None or days <= 0):
            yield _violation("logs-retention", group, "retentionInDays is not set (logs would never expire)")


# --- load balancer ---------------------------------------------------------------------------------------
def _application_lbs(inv: Inventory) -> list[ResourceRecord]:
    return [
        lb
        for lb in inv.of_type(*LOAD_BALANCER_TYPES)
        if lb.props.get("loadBalancerType") in (None, "application")
    ]


@invariant(
    "alb-drop-invalid-headers",
    "The application load balancer drops invalid HTTP header fields (request smuggling defence).",
    LOAD_BALANCER_TYPES,
)
def _alb_headers(inv: Inventory) -> Iterator[Violation]:
    for lb in _application_lbs(inv):
        if _definitely_not_true(lb.props.get("dropInvalidHeaderFields")):
            yield _violation("alb-drop-invalid-headers", lb, "dropInvalidHeaderFields is not true")


@invariant(
    "alb-deletion-protection",
    "The production load balancer has deletion protection.",
    LOAD_BALANCER_TYPES,
    scope="production",
)
def _alb_protection(inv: Inventory) -> Iterator[Violation]:
    for lb in _application_lbs(inv):
        if _definitely_not_true(lb.props.get("enableDeletionProtection")):
            yield _violation("alb-deletion-protection", lb, "enableDeletionProtection is not true")


# TLS 1.2+ only: the TLS13-*, TLS-1-2-* and FS-1-2-* families (ELBSecurityPolicy-2016-08 still allows 1.0).
MODERN_TLS_POLICY = re.compile(r"^ELBSecurityPolicy-(TLS13-|TLS-1-2-|FS-1-2-)")


@invariant(
    "alb-https-modern-tls",
    "HTTPS listeners use a TLS 1.2+ security policy, and with HTTPS on, plain HTTP only redirects to it.",
    LISTENER_TYPES,
    cross_resource=True,
)
def _alb_tls(inv: Inventory) -> Iterator[Violation]:
    listeners = inv.of_type(*LISTENER_TYPES)
    https_lbs: set[str] = set()
    for listener in listeners:
        if listener.props.get("protocol") != "HTTPS":
            continue
        lb = inv.resolve(listener, "loadBalancerArn", LOAD_BALANCER_TYPES)
        https_lbs.add(lb.urn if lb else "?")
        policy = listener.props.get("sslPolicy")
        if not is_unknown(policy) and not (isinstance(policy, str) and MODERN_TLS_POLICY.match(policy)):
            yield _violation(
                "alb-https-modern-tls",
                listener,
                f"sslPolicy {policy!r} is not a TLS 1.2+ (TLS13-*/TLS-1-2-*) policy",
            )
    for listener in listeners:
        if listener.props.get("protocol") != "HTTP":
            continue
        lb = inv.resolve(listener, "loadBalancerArn", LOAD_BALANCER_TYPES)
        if (lb.urn if lb else "?") not in https_lbs:
            continue
        actions = [a for a in _as_list(listener.props.get("defaultActions")) if isinstance(a, Mapping)]
        redirects = all(
            a.get("type") == "redirect" and (a.get("redirect") or {}).get("protocol") == "HTTPS"
            for a in actions
        )
        if not actions or not redirects:
            yield _violation(
                "alb-https-modern-tls",
                listener,
                "HTTP listener serves traffic instead of redirecting to HTTPS",
            )


# --- evaluation ------------------------------------------------------------------------------------------
INVARIANTS: tuple[Invariant, ...] = tuple(_REGISTRY)
BY_ID: dict[str, Invariant] = {i.id: i for i in INVARIANTS}


@dataclass(frozen=True)
class GuardrailReport:
    stack: str
    enforcement: Literal["mandatory", "advisory"]
    violations: tuple[Violation, ...]
    evaluated: tuple[str, ...]

    @property
    def blocking(self) -> bool:
        return self.enforcement == "mandatory" and bool(self.violations)


def evaluate(inventory: Inventory, stack: str, only: Iterable[str] | None = None) -> GuardrailReport:
    """Every invariant that applies to `stack` over the whole inventory."""
    wanted = list(only) if only is not None else list(BY_ID)
    unknown = [i for i in wanted if i not in BY_ID]
    if unknown:
        raise ValueError(f"unknown invariant id(s) {', '.join(unknown)}; known: {', '.join(BY_ID)}")
    chosen = [BY_ID[i] for i in wanted]
    applicable = [i for i in chosen if i.applies_to(stack)]
    violations = [v for i in applicable for v in i.evaluate(inventory)]
    return GuardrailReport(stack, enforcement(stack), tuple(violations), tuple(i.id for i in applicable))
