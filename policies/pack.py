"""The Pulumi policy pack's policies, built from `policies.invariants` (no rule is restated here).

Single-resource invariants become `ResourceValidationPolicy`s (they see a resource's inputs even before
anything exists); invariants that follow references between resources (security-group rules, NAT
presence, bucket settings) become `StackValidationPolicy`s over every resource of the stack.

Enforcement follows the stack: mandatory for production stacks, advisory elsewhere. The stack comes from
`PULUMI_STACK` (set by the CLI for policy packs) or the runtime; `--policy-pack-config` can still override
a policy's level, which pulumi-policy applies before ours.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import pulumi
from pulumi_policy import (
    EnforcementLevel,
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UnknownValueError

from policies.invariants import (
    INVARIANTS,
    UNKNOWN,
    Invariant,
    Inventory,
    ResourceRecord,
    is_production,
    stack_from_urn,
)

PACK_NAME = "booking-guardrails"


def current_stack() -> str | None:
    stack = os.environ.get("PULUMI_STACK")
    if stack:
        return stack
    try:
        return pulumi.get_stack()
    except Exception:
        return None


def level_for(stack: str | None) -> EnforcementLevel:
    # An unknown stack is treated as production: a guardrail that fails open is no guardrail.
    if stack is not None and not is_production(stack):
        return EnforcementLevel.ADVISORY
    return EnforcementLevel.MANDATORY


def plain(value: Any) -> Any:
    """pulumi-policy's unknown-checking proxies → plain values, with preview unknowns as `UNKNOWN`."""
    if isinstance(value, Mapping):
        result: dict[str, Any] = {}
        for key in value:
            try:
                result[key] = plain(value[key])
            except UnknownValueError:
                result[key] = UNKNOWN
        return result
    if isinstance(value, Sequence) and not isinstance(value, (str, bytes)):
        items: list[Any] = []
        for index in range(len(value)):
            try:
                items.append(plain(value[index]))
            except UnknownValueError:
                items.append(UNKNOWN)
        return items
    return value


def record_from_args(args: ResourceValidationArgs) -> ResourceRecord:
    return ResourceRecord(urn=args.urn, type=args.resource_type, name=args.name, props=plain(args.props))


def record_from_policy_resource(resource: PolicyResource) -> ResourceRecord:
    props = plain(resource.props)
    physical_id = props.get("id")
    return ResourceRecord(
        urn=resource.urn,
        type=resource.resource_type,
        name=resource.name,
        props=props,
        parent=resource.parent.urn if resource.parent is not None else None,
        id=physical_id if isinstance(physical_id, str) else None,
        deps={prop: tuple(dep.urn for dep in deps) for prop, deps in resource.property_dependencies.items()},
    )


class _StackAwareEnforcement:
    """Mixin: the enforcement level is decided when the pack runs, from the stack being previewed."""

    @property
    def enforcement_level(self) -> EnforcementLevel | None:
        return level_for(current_stack())

    @enforcement_level.setter
    def enforcement_level(self, _value: EnforcementLevel | None) -> None:
        pass  # pulumi-policy's constructor assigns None; the level is always derived from the stack


def _report(invariant: Invariant, inventory: Inventory, stack: str, report: ReportViolation) -> None:
    if not invariant.applies_to(stack):
        return
    for violation in invariant.evaluate(inventory):
        report(str(violation), violation.urn)


class GuardrailResourcePolicy(_StackAwareEnforcement, ResourceValidationPolicy):
    def __init__(self, invariant: Invariant) -> None:
        self.invariant = invariant
        super().__init__(invariant.id, invariant.description, self.check)

    def check(self, args: ResourceValidationArgs, report: ReportViolation) -> None:
        if args.resource_type not in self.invariant.types:
            return
        stack = current_stack() or stack_from_urn(args.urn)
        _report(self.invariant, Inventory([record_from_args(args)]), stack, report)


class GuardrailStackPolicy(_StackAwareEnforcement, StackValidationPolicy):
    def __init__(self, invariant: Invariant) -> None:
        self.invariant = invariant
        super().__init__(invariant.id, invariant.description, self.check)

    def check(self, args: StackValidationArgs, report: ReportViolation) -> None:
        records = [record_from_policy_resource(r) for r in args.resources]
        stack = current_stack() or (stack_from_urn(records[0].urn) if records else "")
        _report(self.invariant, Inventory(records), stack, report)


def build_policies() -> list[GuardrailResourcePolicy | GuardrailStackPolicy]:
    return [GuardrailStackPolicy(i) if i.cross_resource else GuardrailResourcePolicy(i) for i in INVARIANTS]
