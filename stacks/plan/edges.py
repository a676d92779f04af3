"""The edges of the plan's diagram: which component talks to which (security groups, references)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from policies.invariants import (
    SECURITY_GROUP,
    ingress_rules,
    is_public_cidr,
)
from stacks.plan.summary import Context

# The group of resources declared directly under the stack, outside any component.
STACK_GROUP = "(stack)"


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    label: str
    traffic: bool
    """True for network paths security groups allow; False for "uses" references between components."""


def _users_of_security_groups(ctx: Context, component: Mapping[str, str]) -> dict[str, str]:
    """Security group URN → the component of the resource it protects (LB, service, database...)."""
    users: dict[str, str] = {}
    for record in ctx.inventory.records:
        refs: list[object] = []
        for key in ("securityGroups", "vpcSecurityGroupIds"):
            refs += list(record.props.get(key) or [])
        for key in ("networkConfiguration", "vpcConfig"):
            nested = record.props.get(key)
            if isinstance(nested, Mapping):
                refs += list(nested.get("securityGroups") or nested.get("securityGroupIds") or [])
        for ref in refs:
            sg = ctx.lookup(ref)
            if sg is not None and sg.type == SECURITY_GROUP and record.type != SECURITY_GROUP:
                users.setdefault(sg.urn, component[record.urn])
    return users


def edges(ctx: Context, component: Mapping[str, str]) -> list[Edge]:
    users = _users_of_security_groups(ctx, component)
    traffic: dict[tuple[str, str], set[str]] = {}
    for rule in ingress_rules(ctx.inventory):
        if rule.group is None or rule.group.urn not in users:
            continue
        target = users[rule.group.urn]
        ports = rule.ports_text().replace("port ", "").replace("ports ", "")
        sources = ["Internet" for c in rule.cidrs if is_public_cidr(c)]
        sources += [users[s.urn] for s in rule.sources if s.urn in users]
        for source in set(sources):
            traffic.setdefault((source, target), set()).add(ports)
    result = [
        Edge(s, t, "tcp " + ", ".join(sorted(p, key=lambda x: (len(x), x))), True)
        for (s, t), p in sorted(traffic.items())
    ]
    # "uses" references: a component's inputs name an id or ARN another component declared.
    known: dict[str, str] = {}
    for record in ctx.inventory.records:
        # Only ids that cannot be mistaken for a name (`sg-0abc…`); ids such as a task family are names.
        if record.id and (_AWS_ID.match(record.id) or record.id.startswith("arn:")):
            known[record.id] = component[record.urn]
    for arn, record in ctx.by_arn.items():
        known[arn] = component[record.urn]
    uses: set[tuple[str, str]] = set()
    # ARNs and URLs also appear inside policy documents, container definitions and event patterns.
    embedded = {token: owner for token, owner in known.items() if len(token) >= 20}
    for record in ctx.inventory.records:
        source = component[record.urn]
        for value in _strings({k: v for k, v in record.props.items() if k not in ("tags", "tagsAll")}):
            if value in known:
                targets = {known[value]}
            elif len(value) > 20:
                targets = {owner for token, owner in embedded.items() if token in value}
            else:
                continue
            uses |= {(source, t) for t in targets if t != source and STACK_GROUP not in (source, t)}
    drawn = {(e.source, e.target) for e in result} | {(e.target, e.source) for e in result}
    result += [Edge(s, t, "uses", False) for s, t in sorted(uses) if (s, t) not in drawn]
    return result


_AWS_ID = re.compile(r"^[a-z]+-[0-9a-f]{8,}$")


def _strings(value: object) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _strings(v)
