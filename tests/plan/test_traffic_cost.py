"""The API's request-driven costs (stacks/plan/traffic.py), each against a figure worked out by hand.

Prices (us-east-1, stacks/prices.json): Lambda $0.20 per million requests, arm64 $0.0000133334 per
GB-second on demand, provisioned concurrency $0.0000033334 per GB-second kept ready and $0.0000077778
per GB-second run on it (aws.amazon.com/lambda/pricing); API Gateway HTTP APIs $1.00 per million
requests of up to 512 KB (aws.amazon.com/api-gateway/pricing); ALB LCU $0.008 per hour, one LCU = 25
new connections/s or 1 GB/h processed, 0.4 GB/h with Lambda targets (/elasticloadbalancing/pricing).
"""

from __future__ import annotations

import pytest

from policies.invariants import Inventory
from stacks.plan import cost
from stacks.plan import traffic as api
from stacks.plan.estimate import HTTP_API, LAMBDA_FUNCTION, PROVISIONED_CONCURRENCY, estimate
from stacks.plan.runtimes import RuntimeCost, render
from stacks.plan.summary import Context
from tests.plan.records import record

TABLE = cost.load_prices()
BUSY = api.Traffic(100_000)
MONTH = 100_000 * 730 / 24  # 3,041,666.7 requests


def test_idle_costs_nothing_per_request() -> None:
    idle = api.idle()
    assert api.lambda_requests_monthly(idle, TABLE) == 0
    assert api.lambda_duration_monthly(1024, "arm64", idle, TABLE) == 0
    assert api.http_api_monthly(idle, TABLE) == 0
    assert api.alb_lcu(idle, TABLE, lambda_targets=True) == 0
    assert api.api_log_gb("lambda", idle, TABLE) == 0
    assert api.api_log_gb("fargate", idle, TABLE) == pytest.approx(0.25)  # health checks + EMF minute records


def test_lambda_requests_and_gb_seconds_on_arm64() -> None:
    assert api.lambda_requests_monthly(BUSY, TABLE) == pytest.approx(MONTH / 1e6 * 0.20)
    # 25 ms x 1 GB per request + 150 cold starts a day x 1 s init x 1 GB
    gb_seconds = MONTH * 0.025 + 150 * (730 / 24) * 1.0
    assert api.lambda_duration_monthly(1024, "arm64", BUSY, TABLE) == pytest.approx(gb_seconds * 0.0000133334)
    half = api.lambda_duration_monthly(512, "arm64", BUSY, TABLE)
    assert half == pytest.approx(gb_seconds / 2 * 0.0000133334)
    x86 = api.lambda_duration_monthly(1024, "x86_64", BUSY, TABLE)
    assert x86 == pytest.approx(gb_seconds * 0.0000166667)


def test_provisioned_concurrency_is_billed_all_month_and_runs_cheaper() -> None:
    # 2 environments x 1 GB kept ready 730 h
    assert api.provisioned_concurrency_monthly(2, 1024, "arm64", TABLE) == pytest.approx(
        2 * 730 * 3600 * 0.0000033334
    )
    on_pc = api.lambda_duration_monthly(1024, "arm64", BUSY, TABLE, provisioned=True)
    assert on_pc == pytest.approx(MONTH * 0.025 * 0.0000077778)  # no cold start on provisioned environments


def test_http_api_requests_are_metered_per_512_kb() -> None:
    assert api.http_api_monthly(BUSY, TABLE) == pytest.approx(MONTH / 1e6 * 1.00)
    large = TABLE.with_assumptions(
        api_traffic={**TABLE.assumptions["api_traffic"], "response_bytes": 600_000}
    )
    assert api.http_api_monthly(BUSY, large) == pytest.approx(2 * MONTH / 1e6 * 1.00)


def test_alb_lcus_take_the_highest_dimension() -> None:
    per_second = 100_000 / 86400
    gb_per_hour = per_second * 3600 * (800 + 2600) / 1e9
    assert api.alb_lcu(BUSY, TABLE, lambda_targets=False) == pytest.approx(
        max(per_second / 25, gb_per_hour / 1)
    )
    assert api.alb_lcu(BUSY, TABLE, lambda_targets=True) == pytest.approx(
        max(per_second / 25, gb_per_hour / 0.4)
    )
    heavy = TABLE.with_assumptions(
        api_traffic={**TABLE.assumptions["api_traffic"], "response_bytes": 200_000}
    )
    bytes_bound = per_second * 3600 * 200_800 / 1e9 / 0.4
    assert api.alb_lcu(BUSY, heavy, lambda_targets=True) == pytest.approx(bytes_bound)


def test_logs_grow_with_requests() -> None:
    assert api.api_log_gb("lambda", BUSY, TABLE) == pytest.approx(MONTH * 1600 / 1e9)
    assert api.api_log_gb("fargate", BUSY, TABLE) == pytest.approx(0.25 + MONTH * 330 / 1e9)


def test_custom_metrics_are_billed_only_for_hours_with_data() -> None:
    assert api.emf_metric_count("fargate", api.idle(), 6, 63) == 6  # the per-minute business record
    assert api.emf_metric_count("lambda", api.idle(), 6, 63) == 0
    assert api.emf_metric_count("lambda", BUSY, 6, 63) == api.emf_metric_count("fargate", BUSY, 6, 63) == 63


def test_the_comparison_states_the_goal_and_what_is_missing() -> None:
    rows = [RuntimeCost("fargate", 80.0, 82.0), RuntimeCost("lambda", 30.0, 45.0)]
    text = "\n".join(render("dev", rows, TABLE))
    assert "$80.00" in text and "$45.00" in text
    assert "lambda idle $30.00 = 38% of fargate idle ($80.00): meets the goal of at most 50%" in text
    assert "= 32% of dev on fargate when issue 14 was filed ($94.02): meets" in text
    missing = [RuntimeCost("fargate", 80.0, 82.0), RuntimeCost("lambda", None, None, "not declared yet")]
    assert "(not declared yet)" in "\n".join(render("dev", missing, TABLE))
    assert "MISSES" in "\n".join(render("dev", [rows[0], RuntimeCost("lambda", 41.0, 50.0)], TABLE))
    prod = "\n".join(render("prod", rows, TABLE))  # prod keeps its ALB, WAF and NAT: no goal to meet
    assert "38% of fargate idle ($80.00)" in prod and "goal" not in prod and "issue 14" not in prod


def _lambda_stack() -> tuple[Context, dict[str, str]]:
    """The priced resources of the cheapest Lambda dev stack, shaped like the program's records."""
    fn_name = "booking-dev-api"
    fn = record(
        LAMBDA_FUNCTION,
        "booking-dev-api",
        {
            "name": fn_name,
            "packageType": "Image",
            "memorySize": 1024,
            "architectures": ["arm64"],
            "environment": {"variables": {"METRICS_NAMESPACE": "Booking/dev"}},
        },
        stack="dev",
    )
    notifier = record(
        LAMBDA_FUNCTION, "notifier", {"memorySize": 256, "architectures": ["arm64"]}, stack="dev"
    )
    pc = record(
        PROVISIONED_CONCURRENCY,
        "live-pc",
        {"functionName": fn_name, "qualifier": "live", "provisionedConcurrentExecutions": 1},
        stack="dev",
    )
    http = record(HTTP_API, "booking-dev-http", {"protocolType": "HTTP"}, stack="dev")
    logs = record(
        "aws:cloudwatch/logGroup:LogGroup", "fn-logs", {"name": f"/aws/lambda/{fn_name}"}, stack="dev"
    )
    # The program's ECR repository has the function's name as its id: a lookup by id would find it.
    repo = record("aws:ecr/repository:Repository", "repo", {"name": fn_name}, stack="dev", id=fn_name)
    access = record(
        "aws:cloudwatch/logGroup:LogGroup", "access", {"name": "booking-dev-http-access"}, stack="dev"
    )
    stage = record(
        "aws:apigatewayv2/stage:Stage",
        "stage",
        {
            "accessLogSettings": {
                "destinationArn": "arn:aws:logs:us-east-1:1:log-group:booking-dev-http-access"
            }
        },
        stack="dev",
    )
    records = [repo, fn, notifier, pc, http, logs, access, stage]
    inventory = Inventory(records)
    outputs = {r.urn: dict(r.props) for r in records}
    outputs[access.urn]["arn"] = "arn:aws:logs:us-east-1:1:log-group:booking-dev-http-access"
    ctx = Context(inventory, outputs, {fn_name: fn})
    return ctx, {r.urn: "LambdaService" for r in records}


def test_the_lambda_resources_are_priced_from_the_traffic() -> None:
    ctx, component = _lambda_stack()
    idle = estimate(ctx, TABLE, component, api.idle())
    items = {line.item: line.monthly for line in idle.lines}
    pc = 730 * 3600 * 0.0000033334  # one 1 GB environment kept ready: $8.76
    assert items["Lambda provisioned concurrency 1 x 1024 MB arm64, 730 h"] == pytest.approx(pc)
    # + the notifier (1000 invocations x 1 s x 256 MB) and ECR's 2 GB; the API and its logs: nothing idle
    assert idle.total == pytest.approx(pc + 1000 / 1e6 * 0.20 + 1000 * 0.25 * 0.0000133334 + 2 * 0.10)
    busy = estimate(ctx, TABLE, component, BUSY)
    by_item = {line.item.split(" ")[0] + line.item.split(" ")[1]: line.monthly for line in busy.lines}
    assert by_item["LambdaAPI"] == pytest.approx(MONTH / 1e6 * 0.20 + MONTH * 0.025 * 0.0000077778)
    assert by_item["APIGateway"] == pytest.approx(MONTH / 1e6)
    assert by_item["CloudWatchcustom"] == pytest.approx(63 * 0.30)
    logs = {
        line.item.split("(")[1]: line.monthly for line in busy.lines if line.item.startswith("log ingestion")
    }
    assert logs["service)"] == pytest.approx(MONTH * 1600 / 1e9 * 0.50)  # the function's log group
    assert logs["HTTP API access)"] == pytest.approx(MONTH * 400 / 1e9 * 0.50)  # one line per request
