"""Network invariants: who may reach what (security groups) and how the load balancer faces the internet."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from policies.invariants.core import (
    DEFAULT_SECURITY_GROUP,
    ECS_SERVICE,
    INGRESS_RULE,
    LAMBDA_FUNCTION,
    LISTENER_TYPES,
    LOAD_BALANCER_TYPES,
    POSTGRES_PORT,
    RDS_INSTANCE,
    SECURITY_GROUP,
    SECURITY_GROUP_RULE,
    WORLD_PORTS,
    Inventory,
    ResourceRecord,
    Violation,
    as_int,
    as_list,
    definitely_not_true,
    invariant,
    is_public_cidr,
    is_unknown,
    report,
)


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
        for item in as_list(sg.props.get("ingress")):
            if not isinstance(item, Mapping):
                continue
            sources, complete = inv.resolve_all(
                sg, "ingress", as_list(item.get("securityGroups")), [SECURITY_GROUP]
            )
            if not item.get("securityGroups"):
                sources, complete = [], True
            rules.append(
                IngressRule(
                    sg,
                    sg,
                    str(item.get("protocol", "")).lower(),
                    as_int(item.get("fromPort")),
                    as_int(item.get("toPort")),
                    tuple(as_list(item.get("cidrBlocks")) + as_list(item.get("ipv6CidrBlocks"))),
                    tuple(sources),
                    complete,
                    tuple(as_list(item.get("prefixListIds"))),
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
                as_int(props.get("fromPort")),
                as_int(props.get("toPort")),
                tuple(as_list(props.get("cidrBlocks")) + as_list(props.get("ipv6CidrBlocks"))),
                tuple(sources),
                complete,
                tuple(as_list(props.get("prefixListIds"))),
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
                as_int(props.get("fromPort")),
                as_int(props.get("toPort")),
                tuple(c for c in (props.get("cidrIpv4"), props.get("cidrIpv6")) if isinstance(c, str)),
                tuple(sources),
                complete,
                tuple(as_list(props.get("prefixListId"))),
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
            lb, "securityGroups", as_list(lb.props.get("securityGroups")), [SECURITY_GROUP]
        )
        alb += found
    service: list[ResourceRecord] = []
    for svc in inv.of_type(ECS_SERVICE):
        network = svc.props.get("networkConfiguration")
        groups = as_list(network.get("securityGroups")) if isinstance(network, Mapping) else []
        found, _ = inv.resolve_all(svc, "networkConfiguration", groups, [SECURITY_GROUP])
        service += found
    # The Lambda runtime: the API function's VPC security groups play the service's part (a function
    # outside a VPC, like the deploy notifier, has none and reaches no database).
    for fn in inv.of_type(LAMBDA_FUNCTION):
        vpc = fn.props.get("vpcConfig")
        groups = as_list(vpc.get("securityGroupIds")) if isinstance(vpc, Mapping) else []
        if groups:
            found, _ = inv.resolve_all(fn, "vpcConfig", groups, [SECURITY_GROUP])
            service += found
    database: list[ResourceRecord] = []
    for db in inv.of_type(RDS_INSTANCE):
        found, _ = inv.resolve_all(
            db, "vpcSecurityGroupIds", as_list(db.props.get("vpcSecurityGroupIds")), [SECURITY_GROUP]
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
            yield report(
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
            yield report(
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
            yield report(
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
            yield report(
                invariant_id,
                rule.declared_by,
                f"{where} admits security group {names}; "
                f"it may admit only the {allowed_label} security group",
            )
        elif port is not None and (rule.from_port != port or rule.to_port != port):
            yield report(
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
            if as_list(sg.props.get(direction)):
                yield report("vpc-default-sg-closed", sg, f"default security group has {direction} rules")


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
        if definitely_not_true(lb.props.get("dropInvalidHeaderFields")):
            yield report("alb-drop-invalid-headers", lb, "dropInvalidHeaderFields is not true")


@invariant(
    "alb-deletion-protection",
    "The production load balancer has deletion protection.",
    LOAD_BALANCER_TYPES,
    scope="production",
)
def _alb_protection(inv: Inventory) -> Iterator[Violation]:
    for lb in _application_lbs(inv):
        if definitely_not_true(lb.props.get("enableDeletionProtection")):
            yield report("alb-deletion-protection", lb, "enableDeletionProtection is not true")


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
            yield report(
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
        actions = [a for a in as_list(listener.props.get("defaultActions")) if isinstance(a, Mapping)]
        redirects = all(
            a.get("type") == "redirect" and (a.get("redirect") or {}).get("protocol") == "HTTPS"
            for a in actions
        )
        if not actions or not redirects:
            yield report(
                "alb-https-modern-tls",
                listener,
                "HTTP listener serves traffic instead of redirecting to HTTPS",
            )
