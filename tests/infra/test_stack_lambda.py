"""The real stack program under mocks with `booking:service.runtime: lambda` behind the ALB, dev and prod:
the security invariants of the Fargate path hold for the function too, and the release order is
version → gate → alias → COMPLETED."""

from __future__ import annotations

import json
from typing import Any

import pytest

from components.deploy_policies import boundary_policy_arn
from components.lambda_release import EVENT_SOURCE
from components.lambda_service import ALIAS_NAME, IMAGE_COMMAND, IMAGE_ENTRY_POINT
from stacks.aws_answers import ACCOUNT
from stacks.offline import DeclaredResource, OfflineRun, run_stack
from stacks.plan import guardrails

FUNCTION = "aws:lambda/function:Function"
ALIAS = "aws:lambda/alias:Alias"
DYNAMIC = "pulumi-python:dynamic:Resource"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
# Actions IAM evaluates only on "*" (Lambda Developer Guide, VPC access; EC2 Service Authorization
# Reference: no resource-level permissions for these Describe calls).
STAR_ONLY = {"ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets"}


def _run(stack: str, **fn: object) -> OfflineRun:
    run = run_stack(stack, {"booking:service.runtime": "lambda", "booking:lambda": dict(fn) or {}})
    assert run.error is None, run.error
    return run


@pytest.fixture(scope="module")
def dev_lambda() -> OfflineRun:
    return _run("dev")


@pytest.fixture(scope="module")
def prod_lambda() -> OfflineRun:
    return _run("prod", reservedConcurrency=100, provisionedConcurrency=2)


@pytest.fixture(params=["dev", "prod"])
def run(request: pytest.FixtureRequest) -> OfflineRun:
    fixture: OfflineRun = request.getfixturevalue(f"{request.param}_lambda")
    return fixture


def api_function(run: OfflineRun) -> DeclaredResource:
    return run.named(f"booking-{run.stack}-function")


def _subnets(run: OfflineRun, tier: str) -> set[str]:
    return {r.id for r in run.of_type("aws:ec2/subnet:Subnet") if f"-{tier}-" in r.name and r.id}


def test_no_ecs_service_and_the_function_is_a_container_image_of_the_same_digest(run: OfflineRun) -> None:
    assert not run.of_type("aws:ecs/service:Service") and not run.of_type("aws:ecs/cluster:Cluster")
    fn = api_function(run).inputs
    assert fn["name"] == f"booking-{run.stack}-api"
    assert fn["packageType"] == "Image" and fn["publish"] is True
    assert fn["imageUri"] == run.outputs["image"] and "@sha256:" in fn["imageUri"]
    assert fn["imageConfig"] == {
        "entryPoints": list(IMAGE_ENTRY_POINT),
        "commands": list(IMAGE_COMMAND),
        "workingDirectory": "/srv",
    }


def test_function_runs_in_the_private_subnets_only(run: OfflineRun) -> None:
    vpc = api_function(run).inputs["vpcConfig"]
    private, public = _subnets(run, "private"), _subnets(run, "public")
    assert private and set(vpc["subnetIds"]) == private
    assert not set(vpc["subnetIds"]) & (public | _subnets(run, "isolated"))
    service_sg = run.named(f"booking-{run.stack}-service").id
    assert vpc["securityGroupIds"] == [service_sg]


def test_no_secret_value_in_the_functions_environment(run: OfflineRun) -> None:
    env: dict[str, str] = api_function(run).inputs["environment"]["variables"]
    assert not {"JWT_SECRET", "DB_PASSWORD", "DB_USERNAME", "DATABASE_URL"} & set(env)
    secrets = {r.outputs["arn"] for r in run.of_type("aws:secretsmanager/secret:Secret")}
    rds_secret = run.outputs["databaseSecretArn"]
    assert env["DB_SECRET_ARN"] == rds_secret and env["JWT_SECRET_ARN"] in secrets
    assert env["METRICS_ENABLED"] == "false" and env["DB_SSLMODE"] == "require"
    # No value the program generated as a secret (random keys, secret strings) appears anywhere.
    generated = {str(r.outputs.get("result")) for r in run.resources if r.type.startswith("random:")}
    generated |= {
        str(r.inputs.get("secretString"))
        for r in run.of_type("aws:secretsmanager/secretVersion:SecretVersion")
    }
    text = json.dumps(api_function(run).inputs)
    assert not [g for g in generated if g and g != "None" and g in text]


def _execution_policy(run: OfflineRun) -> dict[str, Any]:
    found = run.named(f"booking-{run.stack}-execution-policy")
    assert found.type == ROLE_POLICY
    policy: dict[str, Any] = json.loads(found.inputs["policy"])
    return policy


def test_execution_role_has_the_boundary_and_exact_arns(run: OfflineRun) -> None:
    role = run.named(f"booking-{run.stack}-execution")
    assert role.inputs["permissionsBoundary"] == boundary_policy_arn(ACCOUNT, "booking", run.stack)
    assert api_function(run).inputs["role"] == role.outputs["arn"]
    assert json.loads(role.inputs["assumeRolePolicy"])["Statement"][0]["Principal"] == {
        "Service": "lambda.amazonaws.com"
    }
    statements = {s["Sid"]: s for s in _execution_policy(run)["Statement"]}
    assert all(s["Effect"] == "Allow" for s in statements.values())
    jwt = api_function(run).inputs["environment"]["variables"]["JWT_SECRET_ARN"]
    assert statements["ReadAppSecrets"]["Action"] == ["secretsmanager:GetSecretValue"]
    assert set(statements["ReadAppSecrets"]["Resource"]) == {run.outputs["databaseSecretArn"], jwt}
    log_group = run.named(f"booking-{run.stack}-logs")
    assert log_group.inputs["name"] == f"/aws/lambda/booking-{run.stack}-api"
    assert statements["WriteOwnLogs"]["Resource"] == [f"{log_group.outputs['arn']}:*"]
    region_account = f"arn:aws:ec2:us-east-1:{ACCOUNT}"
    create = statements["CreateNetworkInterfacesInOwnSubnets"]["Resource"]
    assert set(create) == {
        f"{region_account}:network-interface/*",
        *(f"{region_account}:subnet/{s}" for s in _subnets(run, "private")),
        f"{region_account}:security-group/{run.named(f'booking-{run.stack}-service').id}",
    }
    assert statements["ManageNetworkInterfaces"]["Resource"] == [f"{region_account}:network-interface/*"]
    for statement in statements.values():
        if statement["Resource"] == ["*"]:
            assert set(statement["Action"]) <= STAR_ONLY, statement
        actions = set(statement["Action"])
        assert not {a for a in actions if a.endswith("*") or a == "*"}, statement


def test_alias_points_at_the_published_version_after_the_gate(run: OfflineRun) -> None:
    fn = api_function(run)
    gate = run.named(f"booking-{run.stack}-release-gate")
    alias = run.one(ALIAS)
    completed = run.named(f"booking-{run.stack}-release-completed")
    assert gate.type == completed.type == DYNAMIC
    assert alias.inputs["name"] == ALIAS_NAME == "live"
    assert alias.inputs["functionVersion"] == fn.outputs["version"] == gate.inputs["version"] == "1"
    assert fn.urn in gate.dependencies, "the gate tests the version the function published"
    assert gate.urn in alias.dependencies, "the alias moves only after the gate passed"
    assert alias.urn in completed.dependencies, "COMPLETED only once the alias moved"
    # depends_on a component means on each of its resources: routes, the SG rules, the DB instance.
    for name in ("Network", "SecurityGroups", "Database"):
        component = run.one(f"booking:components:{name}")
        children = {r.urn for r in run.children(component) if r.custom}
        assert children and children <= set(gate.dependencies), f"the gate's migration needs the {name}"
    assert gate.inputs["functionName"] == f"booking-{run.stack}-api"
    assert gate.inputs["environment"] == run.stack and gate.inputs["alias"] == "live"


def test_alb_is_the_only_public_entry(run: OfflineRun) -> None:
    assert not run.of_type("aws:lambda/functionUrl:FunctionUrl")
    target_group = run.one("aws:lb/targetGroup:TargetGroup")
    assert target_group.inputs["targetType"] == "lambda"
    alias_arn = run.one(ALIAS).outputs["arn"]
    attachment = run.one("aws:lb/targetGroupAttachment:TargetGroupAttachment")
    assert attachment.inputs["targetId"] == alias_arn
    grants = [
        p.inputs
        for p in run.of_type("aws:lambda/permission:Permission")
        if p.inputs["function"] == f"booking-{run.stack}-api"
    ]
    assert grants == [
        {
            **grants[0],
            "principal": "elasticloadbalancing.amazonaws.com",
            "qualifier": "live",
            "sourceArn": target_group.outputs["arn"],
        }
    ]


def test_notifier_listens_to_this_stacks_release_events(run: OfflineRun) -> None:
    patterns = [
        json.loads(r.inputs["eventPattern"]) for r in run.of_type("aws:cloudwatch/eventRule:EventRule")
    ]
    release = [p for p in patterns if p.get("source") == [EVENT_SOURCE]]
    assert release, patterns
    assert run.stack in json.dumps(release), "the rule must match this environment's releases only"


def test_concurrency_settings(dev_lambda: OfflineRun, prod_lambda: OfflineRun) -> None:
    assert api_function(dev_lambda).inputs["reservedConcurrentExecutions"] == 10
    assert not dev_lambda.of_type("aws:lambda/provisionedConcurrencyConfig:ProvisionedConcurrencyConfig")
    assert api_function(prod_lambda).inputs["reservedConcurrentExecutions"] == 100
    provisioned = prod_lambda.one("aws:lambda/provisionedConcurrencyConfig:ProvisionedConcurrencyConfig")
    assert provisioned.inputs["qualifier"] == "live"
    assert provisioned.inputs["provisionedConcurrentExecutions"] == 2
    assert prod_lambda.one(ALIAS).urn in provisioned.dependencies


def test_every_guardrail_holds_on_the_lambda_runtime(run: OfflineRun) -> None:
    """The policy pack's guardrails (mandatory in prod) pass for a Lambda stack, as for Fargate."""
    report = guardrails(run)
    assert report.violations == (), [str(v) for v in report.violations]
