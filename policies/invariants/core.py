"""Invariant machinery: resource types, unknown values, records, the inventory, the registry, helpers.

Every concern module (network, data, delivery, identity) registers its rules with `@invariant`;
`policies/invariants/__init__.py` imports them in a fixed order and evaluates them.
"""

from __future__ import annotations

import ipaddress
import json
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
LAMBDA_FUNCTION = "aws:lambda/function:Function"
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


REGISTRY: list[Invariant] = []


def invariant(
    id: str,
    description: str,
    types: Sequence[str],
    *,
    scope: Scope = "all",
    cross_resource: bool = False,
) -> Callable[[Check], Check]:
    def register(check: Check) -> Check:
        REGISTRY.append(Invariant(id, description, check, tuple(types), scope, cross_resource))
        return check

    return register


def report(invariant_id: str, record: ResourceRecord, message: str) -> Violation:
    return Violation(invariant_id, record.urn, record.type, record.name, message)


# --- small value helpers ---------------------------------------------------------------------------------
def is_exactly(value: object, expected: object) -> bool:
    """Definitely `expected` (unknown counts as compliant elsewhere, so callers negate carefully)."""
    return value == expected and not is_unknown(value)


def definitely_not_true(value: object) -> bool:
    return value is not True and not is_unknown(value)


def as_list(value: object) -> list[Any]:
    if value is None or is_unknown(value):
        return []
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]


def as_int(value: object) -> int | None:
    if isinstance(value, bool) or value is None or is_unknown(value):
        return None
    if isinstance(value, (int, float)):
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return None


def parse_json(value: object) -> Any:
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
