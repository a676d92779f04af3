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

The rules live by concern: `network.py` (security groups, load balancer), `data.py` (database, storage,
messaging, logs), `delivery.py` (containers, ECS deployments), `identity.py` (IAM); the machinery
(records, inventory, registry) in `core.py`. This module registers them in a fixed order and evaluates.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

# Importing a concern module registers its rules; this order is the order of INVARIANTS.
from policies.invariants import data, delivery, identity, network  # noqa: F401
from policies.invariants.core import (
    ECS_SERVICE,
    LOAD_BALANCER_TYPES,
    RDS_INSTANCE,
    REGISTRY,
    SECURITY_GROUP,
    UNKNOWN,
    Invariant,
    Inventory,
    ResourceRecord,
    Violation,
    enforcement,
    is_production,
    is_public_cidr,
    stack_from_urn,
)
from policies.invariants.delivery import container_definitions
from policies.invariants.network import ingress_rules, security_group_roles

# --- evaluation ------------------------------------------------------------------------------------------
INVARIANTS: tuple[Invariant, ...] = tuple(REGISTRY)
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


__all__ = [
    "BY_ID",
    "ECS_SERVICE",
    "INVARIANTS",
    "LOAD_BALANCER_TYPES",
    "RDS_INSTANCE",
    "SECURITY_GROUP",
    "UNKNOWN",
    "GuardrailReport",
    "Invariant",
    "Inventory",
    "ResourceRecord",
    "Violation",
    "container_definitions",
    "enforcement",
    "evaluate",
    "ingress_rules",
    "is_production",
    "is_public_cidr",
    "security_group_roles",
    "stack_from_urn",
]
