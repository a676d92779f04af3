"""The plan tool on the real program: clean plans, exact costs, guardrails that bite, a truthful diagram."""

from __future__ import annotations

import dataclasses
import functools
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from policies.invariants import security_group_roles
from stacks.offline import OfflineRun
from stacks.plan import __main__ as cli
from stacks.plan import runtimes
from stacks.plan.cost import load_prices
from stacks.plan.model import Inventory, build_plan, guardrails, plan_stack, records
from stacks.plan.render import as_json, diff, embedded_diagram, mermaid, text
from tests.plan.conftest import offline

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_both_stacks_plan_cleanly(stack: str) -> None:
    plan = build_plan(offline(stack))
    assert plan.error is None
    assert plan.guardrails is not None and plan.guardrails.violations == ()
    assert not plan.failed
    labels = {c.label for c in plan.components}
    assert {"Network", "SecurityGroups", "LoadBalancer", "Database", "Service"} <= labels
    # every component shows up with its resources, and the text names the verdict
    assert all(any(r.component == label for r in plan.resources) for label in labels)
    level = "mandatory" if stack == "prod" else "advisory"
    assert f"Guardrails ({level} for stack {stack})" in text(plan)
    assert plan.costs is not None and plan.costs.total > 0


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_cli_exits_zero_for_both_stacks(stack: str, monkeypatch: pytest.MonkeyPatch, capsys: Any) -> None:
    monkeypatch.setattr(cli, "plan_stack", lambda *a, **k: build_plan(offline(stack)))
    monkeypatch.setattr(cli, "compare_runtimes", functools.partial(runtimes.compare, runner=offline))
    assert cli.main(["--stack", stack]) == 0
    out = capsys.readouterr().out
    assert "TOTAL at desired task counts" in out and "0 violation(s)" in out
    # both runtimes, idle and busy: the Fargate row is the stack's own run costed twice
    comparison = out[out.index(f"Runtimes compared (stack {stack}") :]
    fargate = next(line for line in comparison.splitlines() if line.strip().startswith("fargate"))
    idle, busy = (float(x.replace(",", "")) for x in re.findall(r"\$([\d,]+\.\d\d)", fargate))
    assert 0 < idle < busy
    assert "lambda" in comparison


def _no_comparison(*_a: Any, **_k: Any) -> list[runtimes.RuntimeCost]:
    return [runtimes.RuntimeCost("fargate", None, None, "skipped")]


def test_guardrails_see_the_real_security_group_chain() -> None:
    """The invariants resolve the program's references (mock ids) — otherwise they would pass vacuously."""
    run = offline("prod")
    roles = security_group_roles(Inventory(records(run)))
    assert [g.name for g in roles.alb] == ["booking-prod-alb"]
    assert [g.name for g in roles.service] == ["booking-prod-service"]
    assert [g.name for g in roles.database] == ["booking-prod-database"]


def test_cli_prod_json_exit_zero() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "stacks.plan", "--stack", "prod", "--json"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    document = json.loads(proc.stdout)
    assert document["ok"] is True and document["stack"] == "prod"
    expected = as_json(build_plan(offline("prod")))
    assert document["cost"]["monthly_total"] == expected["cost"]["monthly_total"]
    assert document["guardrails"]["enforcement"] == "mandatory"


# --- cost of a fixed config, by hand ---------------------------------------------------------------
FIXED: dict[str, object] = {
    "booking:network": {
        "cidrBlock": "10.40.0.0/16",
        "availabilityZones": 2,
        "natGateways": "perAz",
        "flowLogRetentionDays": 7,
    },
    "booking:service": {
        "cpu": 1024,
        "memory": 2048,
        "desiredCount": 2,
        "minCount": 2,
        "maxCount": 4,
        "architecture": "x86_64",
        "spot": False,
        "logRetentionDays": 7,
    },
    "booking:loadBalancer": {
        "deregistrationDelaySeconds": 5,
        "deletionProtection": False,
        "accessLogs": False,
    },
    "booking:database": {
        "instanceClass": "db.t4g.small",
        "engineVersion": "16",
        "allocatedStorageGb": 30,
        "maxAllocatedStorageGb": 60,
        "multiAz": True,
        "backupRetentionDays": 7,
        "deletionProtection": False,
        "finalSnapshot": False,
        "performanceInsights": True,  # its 7-day tier is free: no cost line
    },
}


def lines_by_kind(plan: Any) -> dict[str, float]:
    totals: dict[str, float] = {}
    for line in plan.costs.lines:
        kind = line.item.split(" ")[0]
        totals[kind] = totals.get(kind, 0.0) + line.monthly
    return totals


def test_cost_of_a_fixed_config_equals_the_hand_computation() -> None:
    run = offline("dev", FIXED)
    plan = build_plan(run)
    assert plan.error is None and plan.costs is not None
    h = 730
    # Fargate x86: 2 tasks x (1 vCPU x $0.04048 + 2 GB x $0.004445) per hour, on-demand
    fargate = 2 * (1 * 0.04048 + 2 * 0.004445) * h  # = 72.0804
    fargate_at_max = 4 * (1 * 0.04048 + 2 * 0.004445) * h
    # two NAT gateways (perAz, 2 AZs): $0.045/h + 20 GB x $0.045/GB each; their two Elastic IPs $0.005/h
    nat = 2 * (0.045 * h + 20 * 0.045)  # = 67.50
    eips = 2 * 0.005 * h  # = 7.30
    # ALB: $0.0225/h + 1 LCU x $0.008/h; its two public IPv4 addresses (one per AZ)
    alb = 0.0225 * h + 1 * 0.008 * h  # = 22.265
    alb_ips = 2 * 0.005 * h  # = 7.30
    # RDS db.t4g.small Multi-AZ $0.064/h, 30 GB gp3 Multi-AZ $0.23/GB-month
    rds = 0.064 * h  # = 46.72
    rds_storage = 30 * 0.23  # = 6.90
    # The API's EMF metrics: 6 business counters + 19 routes x (Latency + Requests x 2 status classes)
    # = 63 custom metrics at $0.30; their records, 0.5 GB per task at $0.50/GB ingested.
    custom_metrics = (6 + 19 * (1 + 2)) * 0.30  # = 18.90
    emf_logs, emf_logs_at_max = 2 * 0.5 * 0.50, 4 * 0.5 * 0.50
    assert plan.costs.total_at_max - plan.costs.total == pytest.approx(
        fargate_at_max - fargate + emf_logs_at_max - emf_logs
    )
    kinds = lines_by_kind(plan)
    assert kinds["Fargate"] == pytest.approx(fargate)
    assert kinds["NAT"] == pytest.approx(nat)
    assert kinds["public"] == pytest.approx(eips)
    assert kinds["ALB"] == pytest.approx(alb + alb_ips)
    assert kinds["RDS"] == pytest.approx(rds + rds_storage)
    assert kinds["CloudWatch"] == pytest.approx(
        custom_metrics
        + sum(  # the alarms' lines start with "CloudWatch" too
            line.monthly
            for line in plan.costs.lines
            if line.item.startswith("CloudWatch ") and "alarm" in line.item
        )
        + sum(line.monthly for line in plan.costs.lines if line.item == "CloudWatch dashboard")
    )
    assert kinds["EMF"] == pytest.approx(emf_logs)
    # per-unit items: count x list price (counts come from the program; prices are written here)
    inv = Inventory(records(run))
    count = lambda *types: len(inv.of_type(*types))  # noqa: E731
    secrets = count("aws:secretsmanager/secret:Secret") + count("aws:rds/instance:Instance")  # + RDS-managed
    logs_gb = {"flow_logs": 2, "service": 5, "lambda": 0.1, "other": 0.5}
    log_groups = {line.resource: line for line in plan.costs.lines if line.item.startswith("log ingestion")}
    assert len(log_groups) == count("aws:cloudwatch/logGroup:LogGroup")
    logs = sum(logs_gb[kind] * 0.50 for kind in _log_kinds(log_groups))
    per_unit = (
        secrets * 0.40
        + logs
        + sum(  # $0.10 per metric an alarm evaluates (metric math over 2 metrics = 2)
            0.10 * max(1, len([q for q in a.props.get("metricQueries") or [] if q.get("metric")]))
            for a in inv.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")
        )
        + count("aws:cloudwatch/dashboard:Dashboard") * 3.00
        + count("aws:ecr/repository:Repository") * 2 * 0.10
        + count("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2") * 5 * 0.023
        + count("aws:kms/key:Key") * 1.00
        + count("aws:sns/topic:Topic") * (1000 / 1e6 * 0.50 + 3000 / 1e5 * 2.00)
        + count("aws:sqs/queue:Queue") * (100000 / 1e6 * 0.40)
        + sum(
            1000 / 1e6 * 0.20
            + 1000
            * 1
            * (float(f.props.get("memorySize") or 128) / 1024)
            * (0.0000133334 if (f.props.get("architectures") or ["x86_64"])[0] == "arm64" else 0.0000166667)
            for f in inv.of_type("aws:lambda/function:Function")
        )
        + sum(
            len(e.props.get("subnetIds") or []) * 0.01 * h + 5 * 0.01
            for e in inv.of_type("aws:ec2/vpcEndpoint:VpcEndpoint")
            if e.props.get("vpcEndpointType") == "Interface"
        )
    )
    hand_total = (
        fargate + nat + eips + alb + alb_ips + rds + rds_storage + per_unit + custom_metrics + emf_logs
    )
    assert plan.costs.total == pytest.approx(hand_total)
    assert secrets >= 2 and logs >= 1.0 + 2.5  # the JWT + RDS secrets; flow logs + service logs at least


def _log_kinds(lines: dict[str, Any]) -> list[str]:
    kinds = []
    for line in lines.values():
        kinds.append(line.item.split("(")[1].rstrip(")").replace(" ", "_"))
    return kinds


def test_spot_and_arm_change_the_fargate_line() -> None:
    plan = build_plan(offline("dev"))  # dev: 1 task, 0.25 vCPU / 0.5 GB, arm64, spot
    fargate = [line for line in plan.costs.lines if line.item.startswith("Fargate")]  # type: ignore[union-attr]
    assert len(fargate) == 1
    on_demand = 1 * (0.25 * 0.03238 + 0.5 * 0.00356) * 730
    assert fargate[0].monthly == pytest.approx(on_demand * (1 - 0.70))


# --- guardrails that bite ----------------------------------------------------------------------------
def test_dev_config_deployed_as_production_is_blocked() -> None:
    """A production stack planned from dev's config: no Multi-AZ, no deletion protection, 1-day backups."""
    plan = build_plan(offline("production", config_stack="dev"))
    assert plan.error is None and plan.guardrails is not None
    assert plan.guardrails.enforcement == "mandatory" and plan.failed
    messages = [str(v) for v in plan.guardrails.violations]
    assert any(
        m.startswith(
            "[rds-production-resilience] aws:rds/instance:Instance 'booking-production-instance': multiAz"
        )
        for m in messages
    ), messages
    assert any("[alb-deletion-protection]" in m and "'booking-production-alb'" in m for m in messages)


def mutate(run: OfflineRun, name: str, **changes: object) -> OfflineRun:
    resources = tuple(
        dataclasses.replace(r, inputs={**r.inputs, **changes}) if r.name == name and r.custom else r
        for r in run.resources
    )
    assert resources != run.resources, f"no resource named {name}"
    return dataclasses.replace(run, resources=resources)


def test_a_public_database_fails_the_prod_guardrail() -> None:
    run = mutate(offline("prod"), "booking-prod-instance", publiclyAccessible=True)
    plan = build_plan(run)
    assert plan.failed
    assert [str(v) for v in plan.guardrails.violations] == [  # type: ignore[union-attr]
        "[rds-not-public] aws:rds/instance:Instance 'booking-prod-instance': "
        "publiclyAccessible is true; the database must stay private"
    ]
    assert "ERROR: [rds-not-public]" in text(plan)


def test_an_open_service_security_group_fails_the_prod_guardrail() -> None:
    run = mutate(
        offline("prod"), "booking-prod-service-in-alb", referencedSecurityGroupId=None, cidrIpv4="0.0.0.0/0"
    )
    messages = [str(v) for v in guardrails(run).violations]
    assert any(
        m.startswith(
            "[sg-world-ingress-alb-only] aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule "
            "'booking-prod-service-in-alb': security group 'booking-prod-service' admits 0.0.0.0/0"
        )
        for m in messages
    ), messages
    assert any(m.startswith("[sg-service-ingress-from-alb-only]") for m in messages)


def test_violations_in_dev_are_warnings_and_exit_zero(monkeypatch: pytest.MonkeyPatch, capsys: Any) -> None:
    run = mutate(offline("dev"), "booking-dev-instance", publiclyAccessible=True)
    monkeypatch.setattr(cli, "plan_stack", lambda *a, **k: build_plan(run))
    monkeypatch.setattr(cli, "compare_runtimes", _no_comparison)
    assert cli.main(["--stack", "dev"]) == 0
    assert "WARNING: [rds-not-public]" in capsys.readouterr().out


def test_mandatory_violation_and_program_failure_exit_nonzero(
    monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    monkeypatch.setattr(
        cli, "plan_stack", lambda *a, **k: build_plan(offline("production", config_stack="dev"))
    )
    monkeypatch.setattr(cli, "compare_runtimes", _no_comparison)
    assert cli.main(["--stack", "production", "--config-from", "dev"]) == 1
    assert "ERROR: [rds-production-resilience]" in capsys.readouterr().out
    failing = plan_stack("prod", {"booking:database.multiAz": False})
    assert failing.error is not None and "booking:database.multiAz" in failing.error
    monkeypatch.setattr(cli, "plan_stack", lambda *a, **k: failing)
    assert cli.main(["--stack", "prod", "--set", "booking:database.multiAz=false"]) == 1
    assert "The program FAILED" in capsys.readouterr().out


def test_bad_override_is_a_usage_error(capsys: Any) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["--stack", "dev", "--set", "desiredCount"])
    assert exit_info.value.code == 2
    assert "KEY=VALUE" in capsys.readouterr().err


# --- diff and diagram --------------------------------------------------------------------------------
def test_diff_names_what_prod_adds_and_changes() -> None:
    lines = diff(build_plan(offline("dev")), build_plan(offline("prod")))
    joined = "\n".join(lines)
    assert "+ only in prod: ec2:NatGateway booking-<stack>-nat-2" in joined
    assert any(
        line.startswith("  ~ rds:Instance booking-<stack>-instance:") and "multiAz: off → on" in line
        for line in lines
    ), joined
    assert "cost: $" in joined


def test_embedded_diagram_is_the_generated_one() -> None:
    generated = mermaid(build_plan(offline("dev")))
    assert embedded_diagram((REPO / "docs" / "architecture.md").read_text()) == generated, (
        "docs/architecture.md has a stale diagram: run "
        "`python -m stacks.plan --stack dev --mermaid --write-docs`"
    )


def test_diagram_shows_the_traffic_path() -> None:
    diagram = mermaid(build_plan(offline("dev")))
    assert 'Internet -->|"tcp 80, 443"| LoadBalancer' in diagram
    assert 'LoadBalancer -->|"tcp 8000"| Service' in diagram
    assert 'Service -->|"tcp 5432"| Database' in diagram


def test_price_table_states_its_source_and_date() -> None:
    table = load_prices()
    assert (
        "as published on the AWS pricing pages" in table.statement and table.raw["checked"] in table.statement
    )
    for name, entry in table.prices.items():
        assert str(entry["source"]).startswith("https://aws.amazon.com/"), name
