"""From an offline run (stacks.offline) to a reviewable plan: components, settings, costs, guardrails.

This module owns the plan's data types and its assembly (`build_plan`, `plan_stack`); the per-resource
settings are in `summary.py`, the cost quantities in `estimate.py`, the diagram's edges in `edges.py`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from policies.invariants import (
    GuardrailReport,
    Inventory,
    ResourceRecord,
    evaluate,
)
from stacks.offline import DeclaredResource, OfflineRun, run_stack, stack_config
from stacks.plan import cost
from stacks.plan.cost import CostReport, PriceTable
from stacks.plan.edges import STACK_GROUP, Edge, edges
from stacks.plan.estimate import estimate
from stacks.plan.summary import Context, settings_of
from stacks.plan.traffic import Traffic

COMPONENT_PREFIX = "booking:components:"
# Other resources refer to these by name rather than ARN (metric dimensions, ECS deployment alarms).
NAMED_BY_DIMENSION: dict[str, tuple[str, ...]] = {
    "aws:cloudwatch/metricAlarm:MetricAlarm": ("name",),
    "aws:rds/instance:Instance": ("identifier",),
    "aws:lambda/function:Function": ("name",),
    "aws:sqs/queue:Queue": ("name",),
    "aws:ecs/cluster:Cluster": ("name",),
}
# The architecture's reading order (stacks/__main__.py); components not listed follow alphabetically.
COMPONENT_ORDER = (
    "Network",
    "SecurityGroups",
    "LoadBalancer",
    "Registry",
    "AppSecrets",
    "Database",
    "Service",
    "DeployNotifier",
    "Monitoring",
)


@dataclass(frozen=True)
class Component:
    urn: str
    type: str
    name: str

    @property
    def kind(self) -> str:
        return self.type.removeprefix(COMPONENT_PREFIX)

    label: str = ""
    """The component's kind (`Network`), with its name only when the stack has several of that kind."""


@dataclass(frozen=True)
class PlannedResource:
    urn: str
    type: str
    name: str
    component: str
    """Label of the nearest `booking:components:*` ancestor, or `(stack)`."""
    settings: Mapping[str, object]
    inputs: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Plan:
    stack: str
    region: str
    error: str | None
    components: tuple[Component, ...]
    resources: tuple[PlannedResource, ...]
    outputs: Mapping[str, Any]
    guardrails: GuardrailReport | None
    costs: CostReport | None
    edges: tuple[Edge, ...] = field(default_factory=tuple)
    references: Mapping[str, str] = field(default_factory=dict)
    """Physical id or ARN → logical name, to compare inputs across stacks."""
    run: OfflineRun | None = field(default=None, compare=False, repr=False)
    """The offline run the plan was built from (to cost it again, e.g. under other traffic)."""

    @property
    def failed(self) -> bool:
        return self.error is not None or (self.guardrails is not None and self.guardrails.blocking)


# --- ids -----------------------------------------------------------------------------------------------
def region_of(run: OfflineRun) -> str:
    for r in run.resources:
        if r.type == "pulumi:providers:aws" and isinstance(r.inputs.get("region"), str):
            return str(r.inputs["region"])
    region = stack_config(run.stack).get("aws:region")
    return region if isinstance(region, str) else "us-east-1"


def records(run: OfflineRun) -> list[ResourceRecord]:
    """The run's resources as the invariants see them (inputs, and the mock ids references use)."""
    return [ResourceRecord(r.urn, r.type, r.name, dict(r.inputs), r.parent, r.id) for r in run.resources]


def guardrails(run: OfflineRun, only: Iterable[str] | None = None) -> GuardrailReport:
    """Evaluate the invariants of policies/invariants.py (all, or the ids in `only`) over an offline run.

    tests/infra uses this too, so the rules exist once: `assert guardrails(run).violations == ()`.
    """
    return evaluate(Inventory(records(run)), run.stack, only)


# --- components ----------------------------------------------------------------------------------------
def component_of(
    resource: DeclaredResource, by_urn: Mapping[str, DeclaredResource]
) -> DeclaredResource | None:
    parent = resource.parent
    while parent is not None and parent in by_urn:
        candidate = by_urn[parent]
        if candidate.type.startswith(COMPONENT_PREFIX):
            return candidate
        parent = candidate.parent
    return None


def _component_rank(component: Component) -> tuple[int, str]:
    kind = component.kind
    return (COMPONENT_ORDER.index(kind) if kind in COMPONENT_ORDER else len(COMPONENT_ORDER), component.label)


def component_labels(resources: Iterable[DeclaredResource]) -> dict[str, str]:
    """Component URN → label: `Network`, or `Network (name)` when there are several Networks."""
    components = [r for r in resources if r.type.startswith(COMPONENT_PREFIX)]
    kinds = Counter(r.type for r in components)
    return {
        r.urn: r.type.removeprefix(COMPONENT_PREFIX) + (f" ({r.name})" if kinds[r.type] > 1 else "")
        for r in components
    }


# --- the plan ------------------------------------------------------------------------------------------
def build_plan(run: OfflineRun, table: PriceTable | None = None, traffic: Traffic | None = None) -> Plan:
    region = region_of(run)
    by_urn = {r.urn: r for r in run.resources}
    labels = component_labels(run.resources)
    components = tuple(
        sorted(
            (Component(r.urn, r.type, r.name, labels[r.urn]) for r in run.resources if r.urn in labels),
            key=_component_rank,
        )
    )
    if run.error is not None:
        return Plan(run.stack, region, run.error, components, (), run.outputs, None, None, run=run)
    recs = records(run)
    inventory = Inventory(recs)
    by_arn = {}
    for r in run.resources:
        # ARNs, the repository URL an image reference starts with, and the names CloudWatch dimensions use.
        keys = ["arn", "repositoryUrl", "arnSuffix", *NAMED_BY_DIMENSION.get(r.type, ())]
        for key in keys:
            handle = r.outputs.get(key)
            if isinstance(handle, str) and r.urn in inventory.by_urn:
                by_arn[handle] = inventory.by_urn[r.urn]
    ctx = Context(inventory, {r.urn: r.outputs for r in run.resources}, by_arn)
    owners = {r.urn: component_of(r, by_urn) for r in run.resources}
    component = {urn: labels[owner.urn] if owner else STACK_GROUP for urn, owner in owners.items()}
    planned = tuple(
        PlannedResource(rec.urn, rec.type, rec.name, component[rec.urn], settings_of(rec, ctx), rec.props)
        for rec in recs
        if not rec.type.startswith(COMPONENT_PREFIX) and not rec.type.startswith("pulumi:providers:")
    )
    report = evaluate(inventory, run.stack)
    costs = estimate(ctx, table or cost.load_prices(), component, traffic)
    references = {**{i: r.name for i, r in inventory.by_id.items()}, **{a: r.name for a, r in by_arn.items()}}
    return Plan(
        run.stack,
        region,
        None,
        components,
        planned,
        run.outputs,
        report,
        costs,
        tuple(edges(ctx, component)),
        references,
        run=run,
    )


def plan_stack(
    stack: str,
    config: Mapping[str, object] | None = None,
    table: PriceTable | None = None,
    *,
    config_stack: str | None = None,
) -> Plan:
    """Run the real program offline for `stack` (optionally with config overrides) and plan it."""
    return build_plan(run_stack(stack, config, config_stack=config_stack), table)
