"""Cost maths as plain functions, each checked against a figure worked out by hand."""

from __future__ import annotations

import pytest

from stacks.plan import cost
from stacks.plan.estimate import alarm_metrics

TABLE = cost.load_prices()


def test_spot_share_honours_base_then_weight() -> None:
    strategies = [
        {"capacityProvider": "FARGATE", "base": 1, "weight": 1},
        {"capacityProvider": "FARGATE_SPOT", "weight": 3},
    ]
    # 1 on-demand base task, the other 4 split 1:3 → 3 on Spot
    assert cost.spot_task_share(5, strategies) == pytest.approx(3.0)
    assert cost.spot_task_share(1, strategies) == 0.0
    assert cost.spot_task_share(4, [{"capacityProvider": "FARGATE_SPOT", "weight": 1}]) == 4.0
    assert cost.spot_task_share(4, []) == 0.0


def test_fargate_monthly_mixes_on_demand_and_spot() -> None:
    # 2 x86 tasks of 1 vCPU / 2 GB, one on Spot at 70 % off
    hourly = 1 * 0.04048 + 2 * 0.004445
    assert cost.fargate_monthly(1, 2, "X86_64", 2, 1, TABLE) == pytest.approx((hourly + hourly * 0.3) * 730)
    arm_hourly = 0.5 * 0.03238 + 1 * 0.00356
    assert cost.fargate_monthly(0.5, 1, "ARM64", 3, 0, TABLE) == pytest.approx(3 * arm_hourly * 730)


def test_rds_prices_single_and_multi_az() -> None:
    assert cost.rds_instance_monthly("db.t4g.micro", False, TABLE) == pytest.approx(0.016 * 730)
    assert cost.rds_instance_monthly("db.t4g.medium", True, TABLE) == pytest.approx(0.13 * 730)
    assert cost.rds_storage_monthly(50, "gp3", True, TABLE) == pytest.approx(50 * 0.23)


def test_an_unpriced_instance_class_is_named() -> None:
    with pytest.raises(cost.UnpricedError, match=r"db\.r8g\.48xlarge"):
        cost.rds_instance_monthly("db.r8g.48xlarge", False, TABLE)


def test_network_items() -> None:
    assert cost.nat_gateway_monthly(TABLE) == pytest.approx(0.045 * 730 + 20 * 0.045)
    assert cost.public_ipv4_monthly(3, TABLE) == pytest.approx(3 * 0.005 * 730)
    assert cost.alb_monthly(TABLE) == pytest.approx((0.0225 + 0.008) * 730)
    assert cost.interface_endpoint_monthly(2, TABLE) == pytest.approx(2 * 0.01 * 730 + 5 * 0.01)


def test_assumptions_are_data_not_code() -> None:
    busier = TABLE.with_assumptions(nat_gb_processed_per_gateway=1000)
    assert cost.nat_gateway_monthly(busier) == pytest.approx(0.045 * 730 + 1000 * 0.045)


def test_alarms_are_billed_per_metric_and_resolution() -> None:
    math = {
        "metricQueries": [
            {"id": "e", "metric": {"period": 60}},
            {"id": "r", "metric": {"period": 60}},
            {"id": "rate", "expression": "e/r"},
        ]
    }
    assert alarm_metrics(math) == (2, False)
    assert alarm_metrics({"metricName": "CPUUtilization", "period": 10}) == (1, True)
    assert cost.alarm_monthly(2, False, TABLE) == pytest.approx(0.20)
    assert cost.alarm_monthly(1, True, TABLE) == pytest.approx(0.30)


def test_near_zero_services_are_still_priced() -> None:
    assert cost.sqs_monthly(TABLE) == pytest.approx(100000 / 1e6 * 0.40)
    assert cost.sns_monthly(TABLE) == pytest.approx(1000 / 1e6 * 0.50 + 3000 / 1e5 * 2.00)
    assert 0 < cost.lambda_monthly(256, "arm64", TABLE) < 0.01


def test_the_web_acl_and_its_logs_are_priced_by_hand() -> None:
    """WAF: $5 per web ACL + $1 per rule (a managed group is one) + $0.60 per million requests; its logs
    are CloudWatch Logs ingestion (aws.amazon.com/waf/pricing, /cloudwatch/pricing)."""
    from stacks.plan.model import build_plan
    from tests.plan.conftest import offline

    plan = build_plan(offline("dev", {"booking:waf.enabled": True}))
    assert plan.costs is not None
    acl = [line for line in plan.costs.lines if line.item.startswith("WAF web ACL")]
    # 1 rate-based rule + 3 AWS managed rule groups; 5 M requests assumed.
    assert [line.monthly for line in acl] == [pytest.approx(5.00 + 4 * 1.00 + 5 * 0.60)]
    logs = [line for line in plan.costs.lines if line.item == "log ingestion 1 GB (waf)"]
    assert [line.monthly for line in logs] == [pytest.approx(1 * 0.50)]
    without = build_plan(offline("dev"))
    assert without.costs is not None
    assert plan.costs.total - without.costs.total == pytest.approx(12.00 + 0.50 + 0.10)  # + the alarm
