"""The policy pack runs the invariants of policies/invariants.py through pulumi-policy's argument types."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from pulumi_policy import (
    EnforcementLevel,
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    StackValidationArgs,
)
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, unknown_checking_proxy

from policies.invariants import INVARIANTS
from policies.pack import (
    GuardrailResourcePolicy,
    GuardrailStackPolicy,
    build_policies,
    level_for,
)
from tests.plan.records import good_stack, urn

OPTS = PolicyResourceOptions(False, [], None, [], PolicyCustomTimeouts(0, 0, 0), [])


@pytest.fixture
def stack(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    def use(name: str) -> None:
        monkeypatch.setenv("PULUMI_STACK", name)

    yield use


def by_name() -> dict[str, GuardrailResourcePolicy | GuardrailStackPolicy]:
    return {p.name: p for p in build_policies()}


def run_resource_policy(
    name: str, type_: str, props: dict[str, Any], stack_name: str = "prod"
) -> list[tuple[str, str | None]]:
    policy = by_name()[name]
    assert isinstance(policy, GuardrailResourcePolicy)
    reported: list[tuple[str, str | None]] = []
    args = ResourceValidationArgs(
        type_, unknown_checking_proxy(props), urn(type_, "db", stack_name), "db", OPTS, None
    )
    policy.validate(args, lambda message, u: reported.append((message, u)))
    return reported


def test_every_invariant_is_one_policy_of_the_right_kind() -> None:
    policies = build_policies()
    assert [p.name for p in policies] == [i.id for i in INVARIANTS]
    for policy, invariant in zip(policies, INVARIANTS, strict=True):
        assert policy.description == invariant.description
        expected = GuardrailStackPolicy if invariant.cross_resource else GuardrailResourcePolicy
        assert isinstance(policy, expected)
        assert policy.invariant is invariant  # the pack calls the shared definition, not a copy


def test_enforcement_follows_the_stack(stack: Any) -> None:
    policy = build_policies()[0]
    stack("prod")
    assert policy.enforcement_level == EnforcementLevel.MANDATORY
    stack("dev")
    assert policy.enforcement_level == EnforcementLevel.ADVISORY
    assert level_for(None) == EnforcementLevel.MANDATORY


def test_resource_policy_reports_a_public_database(stack: Any) -> None:
    stack("prod")
    reported = run_resource_policy(
        "rds-not-public", "aws:rds/instance:Instance", {"publiclyAccessible": True}
    )
    assert len(reported) == 1
    message, reported_urn = reported[0]
    assert message.startswith("[rds-not-public] aws:rds/instance:Instance 'db': publiclyAccessible is true")
    assert reported_urn == urn("aws:rds/instance:Instance", "db")


def test_resource_policy_ignores_other_types_and_unknowns(stack: Any) -> None:
    stack("prod")
    assert run_resource_policy("rds-not-public", "aws:sns/topic:Topic", {"publiclyAccessible": True}) == []
    unknown = {"storageEncrypted": UNKNOWN_STRING_VALUE}
    assert run_resource_policy("rds-encrypted", "aws:rds/instance:Instance", unknown) == []


def test_production_only_policy_is_silent_in_dev(stack: Any) -> None:
    stack("dev")
    props = {"multiAz": False, "deletionProtection": False, "backupRetentionPeriod": 1}
    assert run_resource_policy("rds-production-resilience", "aws:rds/instance:Instance", props, "dev") == []
    stack("prod")
    assert len(run_resource_policy("rds-production-resilience", "aws:rds/instance:Instance", props)) >= 3


def _hide_ids(value: Any, ids: dict[str, str], found: set[str]) -> Any:
    """Replace references to other resources' ids by preview unknowns, remembering what was referenced."""
    if isinstance(value, str) and value in ids:
        found.add(ids[value])
        return UNKNOWN_STRING_VALUE
    if isinstance(value, list):
        return [_hide_ids(v, ids, found) for v in value]
    if isinstance(value, dict):
        return {k: _hide_ids(v, ids, found) for k, v in value.items()}
    return value


def policy_resources(overrides: dict[str, dict[str, Any]], preview: bool = False) -> list[PolicyResource]:
    """The synthetic stack as pulumi-policy hands it to a stack policy.

    After an update, props carry every resource's `id`. In a first `preview` nothing exists yet: ids are
    unknown and Pulumi reports, per property, which resources the value came from.
    """
    records = good_stack()
    ids = {r.id: name for name, r in records.items() if r.id}
    resources: dict[str, PolicyResource] = {}
    pending: dict[str, dict[str, set[str]]] = {}
    for name, r in records.items():
        props = json.loads(json.dumps({**r.props, **overrides.get(name, {})}))
        if preview:
            pending[name] = {}
            for key in list(props):
                found: set[str] = set()
                props[key] = _hide_ids(props[key], ids, found)
                if found:
                    pending[name][key] = found
        else:
            props["id"] = r.id
        resources[name] = PolicyResource(
            r.type, unknown_checking_proxy(props), r.urn, r.name, OPTS, None, None, [], {}
        )
    for name, deps in pending.items():
        for key, targets in deps.items():
            resources[name].property_dependencies[key] = [resources[t] for t in sorted(targets)]
    return list(resources.values())


def run_stack_policy(name: str, resources: list[PolicyResource]) -> list[tuple[str, str | None]]:
    policy = by_name()[name]
    assert isinstance(policy, GuardrailStackPolicy)
    reported: list[tuple[str, str | None]] = []
    policy.validate(StackValidationArgs(resources), lambda message, u: reported.append((message, u)))
    return reported


def test_stack_policy_passes_the_compliant_stack(stack: Any) -> None:
    stack("prod")
    for policy in build_policies():
        if isinstance(policy, GuardrailStackPolicy):
            assert run_stack_policy(policy.name, policy_resources({})) == []


def test_stack_policy_reports_an_open_service_group_with_its_urn(stack: Any) -> None:
    stack("prod")
    resources = policy_resources(
        {"service-from-alb": {"referencedSecurityGroupId": None, "cidrIpv4": "0.0.0.0/0"}}
    )
    reported = run_stack_policy("sg-world-ingress-alb-only", resources)
    assert len(reported) == 1
    assert "'service-from-alb'" in reported[0][0] and "'service-sg' admits 0.0.0.0/0" in reported[0][0]
    assert reported[0][1] == urn(
        "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "service-from-alb"
    )


def test_stack_policy_follows_property_dependencies_during_preview(stack: Any) -> None:
    """New resources have unknown ids in a preview; the pack resolves references via property dependencies."""
    stack("prod")
    assert run_stack_policy("sg-database-ingress-from-service-only", policy_resources({}, preview=True)) == []
    resources = policy_resources(
        {"db-from-service": {"referencedSecurityGroupId": "alb-sg-id"}}, preview=True
    )
    reported = run_stack_policy("sg-database-ingress-from-service-only", resources)
    assert reported and "admits security group 'alb-sg'" in reported[0][0]
