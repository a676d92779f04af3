"""Issue 11 in the real program: the WAF web ACL, HTTPS by domain, Enhanced Monitoring in prod."""

from __future__ import annotations

import json
import re

import pytest

from components.waf import (
    EVALUATION_WINDOWS,
    MANAGED_RULE_GROUPS,
    MIN_RATE_LIMIT,
    rate_limit_path_regex,
    web_acl_rules,
)
from stacks.offline import OfflineRun
from stacks.settings import waf as waf_settings
from tests.plan.conftest import offline

ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"


# --- the web ACL's rules, as data ------------------------------------------------------------------


def test_the_rate_limit_comes_first_then_the_three_managed_groups() -> None:
    rules = web_acl_rules("booking-prod", 100, 300)
    assert [r["name"] for r in rules] == ["auth-rate-limit", *MANAGED_RULE_GROUPS]
    assert [r["priority"] for r in rules] == sorted({r["priority"] for r in rules})
    assert MANAGED_RULE_GROUPS == (
        "AWSManagedRulesCommonRuleSet",
        "AWSManagedRulesKnownBadInputsRuleSet",
        "AWSManagedRulesAmazonIpReputationList",
    )
    # Managed groups keep their own block actions ("none" overrides nothing); "count" would only watch.
    assert all(r["override_action"] == {"none": {}} for r in rules[1:])


def test_the_rate_limit_counts_posts_to_sign_in_and_sign_up_per_ip() -> None:
    statement = web_acl_rules("p", 150, 60)[0]["statement"]["rate_based_statement"]
    assert (statement["limit"], statement["evaluation_window_sec"], statement["aggregate_key_type"]) == (
        150,
        60,
        "IP",
    )
    method, path = statement["scope_down_statement"]["and_statement"]["statements"]
    assert method["byte_match_statement"]["search_string"] == "POST"
    assert method["byte_match_statement"]["positional_constraint"] == "EXACTLY"
    regex = re.compile(path["regex_match_statement"]["regex_string"])
    assert regex.pattern == rate_limit_path_regex(("/auth/token", "/auth/register"))
    assert [
        bool(regex.match(p)) for p in ("/auth/token", "/auth/register", "/auth/tokens", "/x/auth/token")
    ] == [
        True,
        True,
        False,
        False,
    ]


@pytest.mark.parametrize(("limit", "window"), [(MIN_RATE_LIMIT - 1, 300), (100, 30)])
def test_limits_waf_refuses_are_refused_here(limit: int, window: int) -> None:
    with pytest.raises(ValueError):
        web_acl_rules("p", limit, window)


def test_settings_and_component_agree_on_waf_limits() -> None:
    assert waf_settings.EVALUATION_WINDOWS == EVALUATION_WINDOWS
    assert waf_settings.MIN_RATE_LIMIT == MIN_RATE_LIMIT


# --- in the program ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def prod() -> OfflineRun:
    run = offline("prod")
    assert run.error is None, run.error
    return run


def test_prod_puts_the_web_acl_on_its_load_balancer(prod: OfflineRun) -> None:
    acl = prod.one("aws:wafv2/webAcl:WebAcl")
    assert acl.inputs["scope"] == "REGIONAL" and acl.inputs["name"] == "booking-prod-api"
    assert [r["name"] for r in acl.inputs["rules"]] == ["auth-rate-limit", *MANAGED_RULE_GROUPS]
    assert acl.inputs["rules"][0]["statement"]["rateBasedStatement"]["limit"] == 100  # Pulumi.prod.yaml
    association = prod.one("aws:wafv2/webAclAssociation:WebAclAssociation")
    assert association.inputs["resourceArn"] == prod.one("aws:lb/loadBalancer:LoadBalancer").outputs["arn"]
    assert association.inputs["webAclArn"] == acl.outputs["arn"]


def test_waf_logs_go_to_an_aws_waf_logs_group_without_the_authorization_header(prod: OfflineRun) -> None:
    logging = prod.one("aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration")
    (destination,) = logging.inputs["logDestinationConfigs"]
    group = next(
        g for g in prod.of_type("aws:cloudwatch/logGroup:LogGroup") if g.outputs["arn"] == destination
    )
    assert group.inputs["name"].startswith("aws-waf-logs-")
    assert group.inputs["retentionInDays"] == 90
    assert logging.inputs["redactedFields"] == [{"singleHeader": {"name": "authorization"}}]
    policy = json.loads(
        prod.one("aws:cloudwatch/logResourcePolicy:LogResourcePolicy").inputs["policyDocument"]
    )
    assert policy["Statement"][0]["Resource"] == [f"{destination}:*"]
    assert policy["Statement"][0]["Principal"] == {"Service": "delivery.logs.amazonaws.com"}


def test_blocked_request_spikes_page_the_alarm_topic(prod: OfflineRun) -> None:
    firewall = prod.one("booking:components:WebFirewall")
    (alarm,) = [a for a in prod.of_type(ALARM) if a.parent == firewall.urn]
    inputs = alarm.inputs
    assert (inputs["namespace"], inputs["metricName"], inputs["statistic"]) == (
        "AWS/WAFV2",
        "BlockedRequests",
        "Sum",
    )
    assert inputs["dimensions"] == {"WebACL": "booking-prod-api", "Region": "us-east-1", "Rule": "ALL"}
    assert inputs["threshold"] == 100 and inputs["comparisonOperator"] == "GreaterThanThreshold"
    assert inputs["alarmActions"] == inputs["okActions"] == [prod.outputs["alarmTopicArn"]]


def test_dev_runs_without_a_waf_unless_asked() -> None:
    assert offline("dev").of_type("aws:wafv2/webAcl:WebAcl") == []
    with_waf = offline("dev", {"booking:waf.enabled": True})
    assert with_waf.error is None, with_waf.error
    assert len(with_waf.of_type("aws:wafv2/webAcl:WebAcl")) == 1


def test_prod_serves_https_under_its_domain(prod: OfflineRun) -> None:
    assert prod.outputs["url"] == "https://api.booking.example.com"
    certificate = prod.one("aws:acm/certificate:Certificate")
    assert certificate.inputs == {"domainName": "api.booking.example.com", "validationMethod": "DNS"}
    validation = prod.one("aws:acm/certificateValidation:CertificateValidation")
    https = next(x for x in prod.of_type("aws:lb/listener:Listener") if x.inputs["port"] == 443)
    # The listener takes the ARN from the validation: it waits until ACM has issued the certificate.
    assert (
        https.inputs["certificateArn"] == validation.outputs["certificateArn"] == certificate.outputs["arn"]
    )
    records = {r.inputs["type"]: r.inputs for r in prod.of_type("aws:route53/record:Record")}
    option = certificate.outputs["domainValidationOptions"][0]
    assert records["CNAME"]["name"] == option["resourceRecordName"]
    assert records["CNAME"]["records"] == [option["resourceRecordValue"]]
    assert validation.inputs["validationRecordFqdns"] == [option["resourceRecordName"].rstrip(".")]
    lb = prod.one("aws:lb/loadBalancer:LoadBalancer")
    alias = records["A"]
    assert alias["name"] == "api.booking.example.com" and alias["zoneId"] == "Z0123456789EXAMPLE"
    assert alias["aliases"][0]["name"] == lb.outputs["dnsName"]
    assert alias["aliases"][0]["zoneId"] == lb.outputs["zoneId"]


def test_enhanced_monitoring_is_on_in_prod_and_off_in_dev(prod: OfflineRun) -> None:
    database = prod.one("aws:rds/instance:Instance").inputs
    assert database["monitoringInterval"] == 60
    assert database["monitoringRoleArn"].startswith("arn:aws:iam::123456789012:role/booking-prod-monitoring")
    assert offline("dev").one("aws:rds/instance:Instance").inputs.get("monitoringInterval", 0) == 0
