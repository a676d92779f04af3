"""Both runtimes side by side: the stack on Fargate and on Lambda, idle and under traffic (issue 14).

The real program runs once per runtime (config overrides, like `--set`), and each run is costed twice:
with no request at all and with the price table's busy day (`api_traffic.busy_requests_per_day`).
For non-prod stacks the Lambda column is the cheapest documented configuration: `runtime: lambda`,
`frontDoor: httpApi` (no ALB), `natGateways: none` (the function reaches Secrets Manager through an
interface endpoint) and no WAF. Prod keeps its ALB, WAF and NAT gateways (stacks/settings).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from stacks.offline import OfflineRun, run_stack, stack_config
from stacks.plan import traffic as api
from stacks.plan.cost import PriceTable, load_prices
from stacks.plan.estimate import LAMBDA_FUNCTION
from stacks.plan.model import build_plan
from stacks.plan.render import money
from stacks.settings.stack import PROD_STACKS

GOAL_SHARE = 0.5  # issue 14: Lambda dev idle at most half of Fargate dev
# What the issue measured against: dev on Fargate when it was filed (the plan's typical month then,
# before the EMF metrics came). Also shown: the share of Fargate idle in the same run of the plan.
ISSUE_BASELINE = {"dev": 94.02}

FARGATE: dict[str, object] = {"booking:service.runtime": "fargate", "booking:lambda": None}
LAMBDA_CHEAPEST: dict[str, object] = {
    "booking:service.runtime": "lambda",
    "booking:lambda": {"frontDoor": "httpApi"},
    "booking:network.natGateways": "none",
    "booking:waf.enabled": False,
}
LAMBDA_BEHIND_ALB: dict[str, object] = {"booking:service.runtime": "lambda"}


@dataclass(frozen=True)
class RuntimeCost:
    label: str
    idle: float | None
    busy: float | None
    note: str = ""
    """Why there is no figure (the program failed, or did not declare the runtime yet)."""


def variants(stack: str) -> list[tuple[str, dict[str, object]]]:
    if stack in PROD_STACKS:
        return [("fargate", FARGATE), ("lambda behind the ALB", LAMBDA_BEHIND_ALB)]
    return [("fargate", FARGATE), ("lambda, httpApi, natGateways none, no WAF", LAMBDA_CHEAPEST)]


def declares_runtime(run: OfflineRun, runtime: str) -> bool:
    """Whether the program really declared the runtime's compute (not only accepted its config)."""
    if runtime == "fargate":
        return bool(run.of_type("aws:ecs/service:Service"))
    return any(r.inputs.get("packageType") == "Image" for r in run.of_type(LAMBDA_FUNCTION))


def cost_of(run: OfflineRun, runtime: str, label: str, table: PriceTable) -> RuntimeCost:
    if run.error is not None:
        return RuntimeCost(label, None, None, f"the program failed: {run.error}")
    if not declares_runtime(run, runtime):
        return RuntimeCost(label, None, None, f"the program does not declare the {runtime} runtime yet")
    totals = []
    for traffic in (api.idle(), api.busy(table)):
        plan = build_plan(run, table, traffic)
        assert plan.costs is not None
        totals.append(plan.costs.total)
    return RuntimeCost(label, totals[0], totals[1])


def compare(
    stack: str,
    overrides: Mapping[str, object] | None = None,
    *,
    config_stack: str | None = None,
    table: PriceTable | None = None,
    runner: Callable[..., OfflineRun] = run_stack,
    known: OfflineRun | None = None,
) -> list[RuntimeCost]:
    """`known`: a run of the stack's own config, reused for the variant that config already is."""
    table = table or load_prices()
    own = stack_config(config_stack or stack, overrides)
    own_runtime = (own.get("booking:service") or {}).get("runtime", "fargate")
    rows = []
    for label, variant in variants(stack):
        runtime = str(variant["booking:service.runtime"])
        if (
            known is not None
            and variant is FARGATE
            and own_runtime == "fargate"
            and "booking:lambda" not in own
        ):
            run = known
        else:
            run = runner(stack, {**(overrides or {}), **variant}, config_stack=config_stack)
        rows.append(cost_of(run, runtime, label, table))
    return rows


def render(stack: str, rows: list[RuntimeCost], table: PriceTable | None = None) -> list[str]:
    table = table or load_prices()
    busy = api.busy(table)
    out = [
        f"Runtimes compared (stack {stack}, monthly USD; the program run once per runtime)",
        f"  {'':44} {'idle':>10} {busy.label:>24}",
    ]
    for row in rows:
        if row.idle is None or row.busy is None:
            out.append(f"  {row.label:44} {'—':>10} {'—':>24}  ({row.note})")
        else:
            out.append(f"  {row.label:44} {money(row.idle):>10} {money(row.busy):>24}")
    fargate, lam = rows[0], rows[-1]
    references = [("fargate idle", fargate.idle)]
    if stack in ISSUE_BASELINE:
        references.append((f"{stack} on fargate when issue 14 was filed", ISSUE_BASELINE[stack]))
    for name, reference in references:
        if reference and lam.idle is not None:
            share = lam.idle / reference
            line = f"  lambda idle {money(lam.idle)} = {share:.0%} of {name} ({money(reference)})"
            if stack not in PROD_STACKS:  # the goal is for the cheap non-prod configuration
                verdict = "meets" if share <= GOAL_SHARE else "MISSES"
                line += f": {verdict} the goal of at most {GOAL_SHARE:.0%}"
            out.append(line)
    t = table.assumptions["api_traffic"]
    out.append(
        f"  idle: no request all month (Fargate keeps its task, ALB health checks and per-minute business "
        f"metrics; Lambda bills nothing per request). Busy: {busy.label} of {t['mean_duration_ms']} ms, "
        f"{t['request_bytes']} + {t['response_bytes']} bytes each, {t['lambda_cold_starts_per_day']} cold "
        f"starts a day; the per-request figures are stacks/prices.json's api_traffic"
    )
    return out
