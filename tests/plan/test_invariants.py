"""Each invariant passes on a compliant stack and catches the specific mistake it exists for."""

from __future__ import annotations

import json
from typing import Any

import pytest

from policies.invariants import (
    BY_ID,
    INVARIANTS,
    UNKNOWN,
    Inventory,
    ResourceRecord,
    enforcement,
    evaluate,
    stack_from_urn,
)
from tests.plan.records import good_stack, inventory, record, with_props


def violations(records: dict[str, ResourceRecord], invariant_id: str) -> list[str]:
    return [str(v) for v in BY_ID[invariant_id].evaluate(inventory(records))]


def test_compliant_stack_has_no_violations() -> None:
    report = evaluate(inventory(good_stack()), "prod")
    assert report.violations == ()
    assert set(report.evaluated) == {i.id for i in INVARIANTS}


def test_ids_are_unique_and_described() -> None:
    assert len({i.id for i in INVARIANTS}) == len(INVARIANTS)
    assert all(i.description.endswith(".") for i in INVARIANTS)


def test_enforcement_is_mandatory_only_for_production() -> None:
    assert enforcement("prod") == "mandatory"
    assert enforcement("dev") == "advisory"
    assert stack_from_urn("urn:pulumi:dev::booking::aws:rds/instance:Instance::db") == "dev"


def test_production_only_rules_skip_dev() -> None:
    records = with_props(good_stack("dev"), "db", multiAz=False, deletionProtection=False)
    dev = evaluate(inventory(records), "dev")
    assert "rds-production-resilience" not in dev.evaluated
    assert dev.violations == ()
    assert not dev.blocking


def test_advisory_report_does_not_block_but_mandatory_does() -> None:
    records = with_props(good_stack(), "db", publiclyAccessible=True)
    assert evaluate(inventory(records), "dev").blocking is False
    assert evaluate(inventory(records), "prod").blocking is True


def add(records: dict[str, ResourceRecord], *extra: ResourceRecord) -> dict[str, ResourceRecord]:
    return {**records, **{r.name: r for r in extra}}


def ingress(name: str, **props: Any) -> ResourceRecord:
    return record(
        "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", name, {"ipProtocol": "tcp", **props}
    )


def test_world_ingress_on_the_service_group_is_caught() -> None:
    records = add(
        good_stack(),
        ingress("open", securityGroupId="service-sg-id", cidrIpv4="0.0.0.0/0", fromPort=8000, toPort=8000),
    )
    found = violations(records, "sg-world-ingress-alb-only")
    assert found == [
        "[sg-world-ingress-alb-only] aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule 'open': "
        "security group 'service-sg' admits 0.0.0.0/0 on port 8000; only the load balancer's security group "
        "may be reachable from the internet"
    ]
    # the same rule also breaks "service only from the ALB"
    assert any("'open'" in v for v in violations(records, "sg-service-ingress-from-alb-only"))


def test_world_ingress_on_alb_other_port_is_caught() -> None:
    records = add(
        good_stack(),
        ingress("ssh", securityGroupId="alb-sg-id", cidrIpv4="0.0.0.0/0", fromPort=22, toPort=22),
    )
    assert "TCP 80 and 443 only" in violations(records, "sg-world-ingress-alb-only")[0]


def test_private_cidr_is_not_world() -> None:
    records = add(
        good_stack(),
        ingress("vpc", securityGroupId="alb-sg-id", cidrIpv4="10.0.0.0/16", fromPort=22, toPort=22),
    )
    assert violations(records, "sg-world-ingress-alb-only") == []


def test_database_admitting_the_alb_or_a_cidr_is_caught() -> None:
    from_alb = add(
        good_stack(),
        ingress(
            "db-from-alb",
            securityGroupId="db-sg-id",
            referencedSecurityGroupId="alb-sg-id",
            fromPort=5432,
            toPort=5432,
        ),
    )
    assert (
        "admits security group 'alb-sg'" in violations(from_alb, "sg-database-ingress-from-service-only")[0]
    )
    from_cidr = add(
        good_stack(),
        ingress("db-vpc", securityGroupId="db-sg-id", cidrIpv4="10.0.0.0/8", fromPort=5432, toPort=5432),
    )
    assert "admits 10.0.0.0/8" in violations(from_cidr, "sg-database-ingress-from-service-only")[0]


def test_database_wrong_port_is_caught() -> None:
    records = with_props(good_stack(), "db-from-service", fromPort=0, toPort=65535)
    assert "only port 5432" in violations(records, "sg-database-ingress-from-service-only")[0]


def test_inline_and_legacy_rules_are_understood() -> None:
    records = with_props(
        good_stack(),
        "db-sg",
        ingress=[{"protocol": "tcp", "fromPort": 5432, "toPort": 5432, "cidrBlocks": ["0.0.0.0/0"]}],
    )
    assert violations(records, "sg-world-ingress-alb-only")
    legacy = add(
        good_stack(),
        record(
            "aws:ec2/securityGroupRule:SecurityGroupRule",
            "legacy",
            {
                "type": "ingress",
                "securityGroupId": "service-sg-id",
                "sourceSecurityGroupId": "db-sg-id",
                "protocol": "tcp",
                "fromPort": 8000,
                "toPort": 8000,
            },
        ),
    )
    assert "admits security group 'db-sg'" in violations(legacy, "sg-service-ingress-from-alb-only")[0]


def test_references_resolve_through_dependencies_when_ids_are_unknown() -> None:
    """A real preview knows no ids of new resources; property dependencies still name the groups."""
    base = good_stack()
    rule = ingress(
        "db-from-alb", securityGroupId=UNKNOWN, referencedSecurityGroupId=UNKNOWN, fromPort=5432, toPort=5432
    )
    rule = ResourceRecord(
        rule.urn,
        rule.type,
        rule.name,
        rule.props,
        id=None,
        deps={"securityGroupId": (base["db-sg"].urn,), "referencedSecurityGroupId": (base["alb-sg"].urn,)},
    )
    assert violations(add(base, rule), "sg-database-ingress-from-service-only")


def test_unknown_reference_without_dependencies_is_not_a_violation() -> None:
    base = good_stack()
    rule = ingress(
        "later", securityGroupId="db-sg-id", referencedSecurityGroupId=UNKNOWN, fromPort=5432, toPort=5432
    )
    assert violations(add(base, rule), "sg-database-ingress-from-service-only") == []


@pytest.mark.parametrize(
    ("change", "invariant_id", "text"),
    [
        ({"publiclyAccessible": True}, "rds-not-public", "publiclyAccessible is true"),
        ({"storageEncrypted": False}, "rds-encrypted", "storageEncrypted is not true"),
        ({"manageMasterUserPassword": None, "password": "x"}, "rds-managed-master-password", "password"),
        ({"multiAz": False}, "rds-production-resilience", "multiAz"),
        ({"deletionProtection": False}, "rds-production-resilience", "deletionProtection"),
        ({"skipFinalSnapshot": True}, "rds-production-resilience", "final snapshot"),
        ({"backupRetentionPeriod": 1}, "rds-production-resilience", "backupRetentionPeriod is 1"),
    ],
)
def test_database_rules(change: dict[str, Any], invariant_id: str, text: str) -> None:
    found = violations(with_props(good_stack(), "db", **change), invariant_id)
    assert found and text in found[0] and "'db'" in found[0]


def container_with(**changes: Any) -> str:
    base = json.loads(good_stack()["task"].props["containerDefinitions"])[0]
    return json.dumps([{**base, **changes}])


@pytest.mark.parametrize(
    ("change", "invariant_id"),
    [
        ({"user": None}, "task-non-root"),
        ({"user": "0:0"}, "task-non-root"),
        ({"user": "root"}, "task-non-root"),
        ({"readonlyRootFilesystem": False}, "task-read-only-root-fs"),
        ({"image": "123.dkr.ecr.us-east-1.amazonaws.com/booking:latest"}, "task-image-by-digest"),
        ({"environment": [{"name": "DB_PASSWORD", "value": "hunter2"}]}, "task-no-plaintext-secrets"),
        ({"environment": [{"name": "JWT_SECRET", "value": "x"}]}, "task-no-plaintext-secrets"),
        ({"environment": [{"name": "X", "value": "AKIAABCDEFGHIJKLMNOP"}]}, "task-no-plaintext-secrets"),
    ],
)
def test_task_definition_rules(change: dict[str, Any], invariant_id: str) -> None:
    records = with_props(good_stack(), "task", containerDefinitions=container_with(**change))
    found = violations(records, invariant_id)
    assert found and "container 'api'" in found[0]


def test_ecs_service_rules() -> None:
    no_rollback = with_props(
        good_stack(), "service", deploymentCircuitBreaker={"enable": True, "rollback": False}
    )
    assert violations(no_rollback, "ecs-deployment-rollback")
    public = with_props(
        good_stack(),
        "service",
        networkConfiguration={"assignPublicIp": True, "securityGroups": ["service-sg-id"]},
    )
    assert violations(public, "ecs-no-public-ip")
    without_nat = {k: v for k, v in public.items() if k != "nat-a"}
    assert violations(without_nat, "ecs-no-public-ip") == []


@pytest.mark.parametrize(
    ("statement", "text"),
    [
        ({"Effect": "Allow", "Action": "*", "Resource": "arn:aws:x"}, "wildcard actions *"),
        ({"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:x"}, "wildcard actions s3:*"),
        ({"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": "*"}, 'Resource "*"'),
        ({"Effect": "Allow", "NotAction": "iam:*", "Resource": "arn:aws:x"}, "NotAction"),
    ],
)
def test_iam_rules(statement: dict[str, Any], text: str) -> None:
    doc = json.dumps({"Version": "2012-10-17", "Statement": [statement]})
    found = violations(with_props(good_stack(), "execution-policy", policy=doc), "iam-least-privilege")
    assert found and text in found[0]


def test_iam_inline_role_policy_and_broad_attachment() -> None:
    doc = json.dumps({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})
    role = record("aws:iam/role:Role", "role", {"inlinePolicies": [{"name": "all", "policy": doc}]})
    attach = record(
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
        "admin",
        {"policyArn": "arn:aws:iam::aws:policy/AdministratorAccess", "role": "role-id"},
    )
    found = violations(add(good_stack(), role, attach), "iam-least-privilege")
    assert len(found) == 3  # wildcard action, unscoped resource, admin attachment
    assert "inline policy 'all'" in found[0] and "AdministratorAccess" in found[2]


def test_deny_statements_with_wildcards_are_fine() -> None:
    doc = json.dumps({"Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}]})
    assert violations(with_props(good_stack(), "execution-policy", policy=doc), "iam-least-privilege") == []


def test_storage_messaging_and_logs_rules() -> None:
    assert violations(with_props(good_stack(), "logs", retentionInDays=None), "logs-retention")
    assert violations(with_props(good_stack(), "topic", kmsMasterKeyId=None), "sns-encrypted")
    assert violations(with_props(good_stack(), "dlq", sqsManagedSseEnabled=False), "sqs-encrypted")
    open_bucket = with_props(good_stack(), "logs-bucket-block", blockPublicPolicy=False)
    assert "blockPublicPolicy" in violations(open_bucket, "s3-private-encrypted")[0]
    no_block = {k: v for k, v in good_stack().items() if k not in ("logs-bucket-block", "logs-bucket-sse")}
    assert len(violations(no_block, "s3-private-encrypted")) == 2


def test_load_balancer_rules() -> None:
    assert violations(
        with_props(good_stack(), "alb", dropInvalidHeaderFields=False), "alb-drop-invalid-headers"
    )
    assert violations(
        with_props(good_stack(), "alb", enableDeletionProtection=False), "alb-deletion-protection"
    )


def test_unknown_values_never_violate() -> None:
    records = with_props(
        good_stack(),
        "db",
        publiclyAccessible=UNKNOWN,
        storageEncrypted=UNKNOWN,
        backupRetentionPeriod=UNKNOWN,
        multiAz=UNKNOWN,
        deletionProtection=UNKNOWN,
        skipFinalSnapshot=UNKNOWN,
    )
    records = with_props(records, "task", containerDefinitions=UNKNOWN)
    assert evaluate(Inventory(records.values()), "prod").violations == ()


def test_unknown_invariant_ids_are_refused_by_name() -> None:
    with pytest.raises(ValueError, match=r"unknown invariant id.*rds-is-fast"):
        evaluate(inventory(good_stack()), "prod", only=["rds-not-public", "rds-is-fast"])


def listener(name: str, **props: Any) -> ResourceRecord:
    return record("aws:lb/listener:Listener", name, {"loadBalancerArn": "alb-id", **props})


def test_https_listeners_need_modern_tls_and_http_must_redirect() -> None:
    forward = [{"type": "forward", "targetGroupArn": "tg"}]
    redirect = [
        {"type": "redirect", "redirect": {"protocol": "HTTPS", "port": "443", "statusCode": "HTTP_301"}}
    ]
    good = add(
        good_stack(),
        listener(
            "https",
            protocol="HTTPS",
            port=443,
            sslPolicy="ELBSecurityPolicy-TLS13-1-2-Res-2021-06",
            defaultActions=forward,
        ),
        listener("http", protocol="HTTP", port=80, defaultActions=redirect),
    )
    assert violations(good, "alb-https-modern-tls") == []
    old_tls = with_props(good, "https", sslPolicy="ELBSecurityPolicy-2016-08")
    assert "'ELBSecurityPolicy-2016-08' is not a TLS 1.2+" in violations(old_tls, "alb-https-modern-tls")[0]
    serving = with_props(good, "http", defaultActions=forward)
    assert "instead of redirecting" in violations(serving, "alb-https-modern-tls")[0]
    # without a certificate there is no HTTPS listener, and HTTP may forward
    http_only = add(good_stack(), listener("http", protocol="HTTP", port=80, defaultActions=forward))
    assert violations(http_only, "alb-https-modern-tls") == []


def test_a_vpc_lambda_function_is_the_service_for_the_database_rule() -> None:
    """Runtime lambda: the function's VPC security group is the one the database may admit."""
    base = {k: v for k, v in good_stack().items() if v.type != "aws:ecs/service:Service"}
    assert violations(base, "sg-database-ingress-from-service-only"), "no service: the rule flags it"
    function = record(
        "aws:lambda/function:Function",
        "api-function",
        {"vpcConfig": {"securityGroupIds": ["service-sg-id"], "subnetIds": ["private-a-id"]}},
    )
    assert violations(add(base, function), "sg-database-ingress-from-service-only") == []
    outside = record("aws:lambda/function:Function", "notifier", {})
    assert violations(add(base, outside), "sg-database-ingress-from-service-only"), "no VPC, no service role"
