"""The bootstrap program (stacks/bootstrap) under Pulumi mocks, and its policies as plain functions."""

from __future__ import annotations

import fnmatch
import json
import os
import re
import subprocess
import sys
import textwrap
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from components.deploy_policies import (
    DEPLOY_POLICY_PARTS,
    MANAGED_POLICY_MAX_CHARS,
    StackScope,
    assert_least_privilege,
    broad_actions,
    deploy_policy,
    policy_json,
    preview_policy,
    split_by_part,
)
from components.github_oidc import PREVIEW_POLICY_PARTS, deploy_role_name
from stacks.bootstrap.settings import parse
from stacks.delivery import stack_config
from stacks.settings import ConfigError

ROOT = Path(__file__).resolve().parents[1]
ACCOUNT = "123456789012"
REPO = "example-org/booking"

# Runs stacks/bootstrap/__main__.py in a fresh interpreter under mocks and prints what it declared.
_RUNNER = textwrap.dedent(
    """
    import json, runpy, sys
    import pulumi
    from pulumi.runtime.stack import run_pulumi_func
    from pulumi.runtime.sync_await import _sync_await
    from stacks.mocks import AwsMocks

    config, program = json.loads(sys.argv[1]), sys.argv[2]

    mocks = AwsMocks(config.get("aws:region", "us-east-1"))
    pulumi.runtime.set_mocks(mocks, project="booking-bootstrap", stack="main", preview=False)
    pulumi.runtime.set_all_config({k: v if isinstance(v, str) else json.dumps(v) for k, v in config.items()})
    exports = {}
    pulumi.export = lambda name, value: exports.__setitem__(name, value)
    error = None
    try:
        _sync_await(run_pulumi_func(lambda: runpy.run_path(program, run_name="__main__")))
        resolved = {k: _sync_await(pulumi.Output.from_input(v).future()) for k, v in exports.items()}
    except Exception as exc:  # noqa: BLE001 - reported to the test as data
        error, resolved = f"{type(exc).__name__}: {exc}", {}
    declared = [
        {"type": r.type, "name": r.name, "inputs": r.raw_inputs, "outputs": r.raw_outputs}
        for r in mocks.resources
    ]
    print(json.dumps({"resources": declared, "outputs": resolved, "error": error}, default=str))
    """
)

BASE_CONFIG: dict[str, Any] = {
    "aws:region": "us-east-1",
    "booking:github": {"repository": REPO},
    "booking:environments": ["dev", "prod"],
    "booking:stateBucket": {"name": "example-org-booking-pulumi-state", "noncurrentVersionDays": 30},
    "booking:secretsKey": {"alias": "booking-pulumi"},
}


def run_bootstrap(config: dict[str, Any]) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, "-c", _RUNNER, json.dumps(config), str(ROOT / "stacks/bootstrap/__main__.py")],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT / "stacks/bootstrap",
        # The shared venv's editable install may point at another checkout: import this one.
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert result.returncode == 0, result.stderr
    parsed: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return parsed


@cache
def _default_run() -> str:
    return json.dumps(run_bootstrap(BASE_CONFIG))


@pytest.fixture()
def run() -> dict[str, Any]:
    parsed: dict[str, Any] = json.loads(_default_run())
    assert parsed["error"] is None, parsed["error"]
    return parsed


def of_type(run: dict[str, Any], type_token: str) -> list[dict[str, Any]]:
    return [r for r in run["resources"] if r["type"] == type_token]


def one(run: dict[str, Any], type_token: str) -> dict[str, Any]:
    found = of_type(run, type_token)
    assert len(found) == 1, f"{type_token}: {len(found)} declared"
    return found[0]


def statements_of(document: dict[str, Any]) -> list[dict[str, Any]]:
    return list(document["Statement"])


# --- the program under mocks ----------------------------------------------------------------------


def test_state_bucket_is_versioned_encrypted_private_and_tls_only(run: dict[str, Any]) -> None:
    bucket = one(run, "aws:s3/bucket:Bucket")
    assert bucket["inputs"]["bucket"] == "example-org-booking-pulumi-state"
    assert bucket["inputs"].get("forceDestroy") in (None, False)

    versioning = one(run, "aws:s3/bucketVersioning:BucketVersioning")["inputs"]
    assert versioning["versioningConfiguration"]["status"] == "Enabled"

    sse = one(run, "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration")
    default = sse["inputs"]["rules"][0]["applyServerSideEncryptionByDefault"]
    assert default["sseAlgorithm"] == "aws:kms"
    assert default["kmsMasterKeyId"] == one(run, "aws:kms/key:Key")["outputs"]["arn"]

    block = one(run, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")["inputs"]
    for flag in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"):
        assert block[flag] is True, flag

    ownership = one(run, "aws:s3/bucketOwnershipControls:BucketOwnershipControls")["inputs"]
    assert ownership["rule"]["objectOwnership"] == "BucketOwnerEnforced"

    policy = json.loads(one(run, "aws:s3/bucketPolicy:BucketPolicy")["inputs"]["policy"])
    deny = [s for s in statements_of(policy) if s["Effect"] == "Deny"]
    assert deny and deny[0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert "arn:aws:s3:::example-org-booking-pulumi-state/*" in deny[0]["Resource"]

    lifecycle = one(run, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration")["inputs"]
    rule = lifecycle["rules"][0]
    assert rule["status"] == "Enabled"
    assert rule["noncurrentVersionExpiration"]["noncurrentDays"] == 30
    # Only old versions expire: the current state object never does.
    assert "expiration" not in rule


def test_secrets_key_rotates_and_has_the_documented_alias(run: dict[str, Any]) -> None:
    key = one(run, "aws:kms/key:Key")["inputs"]
    assert key["enableKeyRotation"] is True
    alias = one(run, "aws:kms/alias:Alias")["inputs"]
    assert alias["name"] == "alias/booking-pulumi"
    assert run["outputs"]["secretsProvider"] == "awskms://alias/booking-pulumi?region=us-east-1"
    assert run["outputs"]["backendUrl"] == "s3://example-org-booking-pulumi-state?region=us-east-1&awssdk=v2"


def test_oidc_provider_trusts_github_for_sts_without_a_pinned_thumbprint(run: dict[str, Any]) -> None:
    provider = one(run, "aws:iam/openIdConnectProvider:OpenIdConnectProvider")["inputs"]
    assert provider["url"] == "https://token.actions.githubusercontent.com"
    assert provider["clientIdLists"] == ["sts.amazonaws.com"]
    assert not provider.get("thumbprintLists")


def test_each_environment_role_trusts_only_its_github_environment(run: dict[str, Any]) -> None:
    roles = {r["inputs"]["name"]: r["inputs"] for r in of_type(run, "aws:iam/role:Role")}
    assert set(roles) == {
        "booking-deploy-dev",
        "booking-deploy-prod",
        "booking-preview-dev",
        "booking-preview-prod",
    }
    for environment in ("dev", "prod"):
        trust = json.loads(roles[f"booking-deploy-{environment}"]["assumeRolePolicy"])
        (statement,) = statements_of(trust)
        assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
        provider = one(run, "aws:iam/openIdConnectProvider:OpenIdConnectProvider")
        assert statement["Principal"]["Federated"] == provider["outputs"]["arn"]
        # Exact match on both claims; no StringLike anywhere, so no wildcard subject can slip in.
        assert statement["Condition"] == {
            "StringEquals": {
                "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
                "token.actions.githubusercontent.com:sub": f"repo:{REPO}:environment:{environment}",
            }
        }
    # Pull requests (their own, unreviewed code) may preview dev only; prod's preview role trusts only
    # jobs in the prod GitHub environment, i.e. behind its protection rules (issue 11, item 2).
    subjects = {"dev": f"repo:{REPO}:pull_request", "prod": f"repo:{REPO}:environment:prod"}
    for environment, subject in subjects.items():
        preview = json.loads(roles[f"booking-preview-{environment}"]["assumeRolePolicy"])
        assert statements_of(preview)[0]["Condition"]["StringEquals"] == {
            "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
            "token.actions.githubusercontent.com:sub": subject,
        }


def test_role_sessions_cover_the_longest_up(run: dict[str, Any]) -> None:
    from components.time_budget import BUDGET, ROLE_SESSION_SECONDS

    roles = of_type(run, "aws:iam/role:Role")
    assert roles and {r["inputs"]["maxSessionDuration"] for r in roles} == {ROLE_SESSION_SECONDS}
    assert max(2 * 3600, BUDGET.waits_minutes * 60) <= ROLE_SESSION_SECONDS


def test_roles_get_no_admin_policy_and_no_whole_service_action(run: dict[str, Any]) -> None:
    attachments = of_type(run, "aws:iam/rolePolicyAttachment:RolePolicyAttachment")
    assert attachments
    for attachment in attachments:
        assert not str(attachment["inputs"]["policyArn"]).startswith("arn:aws:iam::aws:policy/"), attachment
    policies = of_type(run, "aws:iam/policy:Policy")
    assert len(policies) == 2 * len(DEPLOY_POLICY_PARTS) + 2 * len(PREVIEW_POLICY_PARTS)
    for policy in policies:
        document = json.loads(policy["inputs"]["policy"])
        assert broad_actions(document) == [], policy["name"]
        assert len(policy_json(document)) <= MANAGED_POLICY_MAX_CHARS
    assert not of_type(run, "aws:iam/rolePolicy:RolePolicy")


def test_prod_role_state_access_is_limited_to_the_prod_stack(run: dict[str, Any]) -> None:
    prod = [
        json.loads(p["inputs"]["policy"])
        for p in of_type(run, "aws:iam/policy:Policy")
        if p["inputs"]["name"].startswith("booking-deploy-prod-")
    ]
    objects = next(s for doc in prod for s in statements_of(doc) if s["Sid"] == "StateObjects")
    bucket = "arn:aws:s3:::example-org-booking-pulumi-state"
    assert f"{bucket}/.pulumi/stacks/booking/prod.json*" in objects["Resource"]
    assert not any("/dev" in resource for resource in objects["Resource"])


def test_existing_oidc_provider_is_reused_not_duplicated() -> None:
    arn = f"arn:aws:iam::{ACCOUNT}:oidc-provider/token.actions.githubusercontent.com"
    result = run_bootstrap(
        {**BASE_CONFIG, "booking:oidcProvider": {"existingArn": arn}, "booking:previewRoles": False}
    )
    assert result["error"] is None, result["error"]
    assert not of_type(result, "aws:iam/openIdConnectProvider:OpenIdConnectProvider")
    roles = of_type(result, "aws:iam/role:Role")
    assert {r["inputs"]["name"] for r in roles} == {"booking-deploy-dev", "booking-deploy-prod"}
    assert all(arn in r["inputs"]["assumeRolePolicy"] for r in roles)


def test_plain_string_settings_are_read_as_strings() -> None:
    # `booking:project: booking` is no JSON document: it must not be decoded as one.
    result = run_bootstrap({**BASE_CONFIG, "booking:project": "booking", "booking:previewRoles": "false"})
    assert result["error"] is None, result["error"]
    assert {r["inputs"]["name"] for r in of_type(result, "aws:iam/role:Role")} == {
        "booking-deploy-dev",
        "booking-deploy-prod",
    }


def test_invalid_config_stops_before_any_resource() -> None:
    result = run_bootstrap({**BASE_CONFIG, "booking:github": {"repository": "not a repo"}})
    assert result["error"] is not None and "booking:github.repository" in result["error"]
    assert result["resources"] == []


# --- settings -------------------------------------------------------------------------------------


def test_settings_defaults_and_values() -> None:
    settings = parse({"github": {"repository": REPO}}, "eu-west-1")
    assert settings.environments == ("dev", "prod")
    assert settings.bucket_name is None and settings.key_alias == "booking-pulumi"
    assert settings.preview_roles is True and settings.noncurrent_version_days == 90


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ({}, "booking:github.repository"),
        ({"github": {"repository": "owner/*"}}, "booking:github.repository"),
        ({"github": {"repository": REPO, "branch": "main"}}, "booking:github.branch"),
        ({"github": {"repository": REPO}, "environment": ["dev"]}, "booking:environment"),
        ({"github": {"repository": REPO}, "environments": ["dev", "dev"]}, "booking:environments"),
        ({"github": {"repository": REPO}, "environments": ["Prod!"]}, "booking:environments"),
        ({"github": {"repository": REPO}, "environments": ["deploy"]}, "booking:environments"),
        ({"github": {"repository": REPO}, "stateBucket": {"name": "Bad_Bucket"}}, "booking:stateBucket.name"),
        ({"github": {"repository": REPO}, "secretsKey": {"alias": "alias/x"}}, "booking:secretsKey.alias"),
        (
            {"github": {"repository": REPO}, "oidcProvider": {"existingArn": "arn:x"}},
            "booking:oidcProvider.existingArn",
        ),
    ],
)
def test_settings_reject_bad_values_naming_the_key(raw: dict[str, Any], key: str) -> None:
    with pytest.raises(ConfigError) as error:
        parse(raw, "us-east-1")
    assert error.value.key == key


def test_a_misspelt_key_in_the_stack_file_stops_the_program() -> None:
    result = run_bootstrap({**BASE_CONFIG, "booking:environment": ["dev"]})
    assert result["error"] is not None
    assert "booking:environment = ['dev'] is invalid: unknown key" in result["error"]
    assert result["resources"] == []


def test_settings_require_a_region() -> None:
    with pytest.raises(ConfigError, match="aws:region"):
        parse({"github": {"repository": REPO}}, None)


# --- policies as plain functions --------------------------------------------------------------------


def scope(stack: str = "prod", promote_from: str | None = "dev") -> StackScope:
    return StackScope(
        project="booking",
        stack=stack,
        account_id=ACCOUNT,
        region="us-east-1",
        state_bucket_arn="arn:aws:s3:::" + "s" * 63,  # the longest bucket name: the size limits hold
        secrets_key_arn=f"arn:aws:kms:us-east-1:{ACCOUNT}:key/" + "k" * 36,
        promote_from=promote_from,
    )


def test_deploy_policy_has_no_wildcard_action_and_fits_the_managed_policy_limit() -> None:
    document = deploy_policy(scope())
    assert broad_actions(document) == []
    parts = split_by_part(document, DEPLOY_POLICY_PARTS)
    assert sum(len(p["Statement"]) for p in parts.values()) == len(document["Statement"])
    for name, part in parts.items():
        assert len(policy_json(part)) <= MANAGED_POLICY_MAX_CHARS, name


def test_preview_policy_is_read_only() -> None:
    document = preview_policy(scope())
    assert broad_actions(document) == []
    writes = {
        action
        for statement in document["Statement"]
        if statement["Sid"] != "StateLock"
        for action in statement["Action"]
        if not action.split(":")[1].startswith(("Get", "Describe", "List", "Decrypt"))
    }
    assert writes == set()
    assert len(policy_json(split_by_part(document, PREVIEW_POLICY_PARTS)["read"])) <= MANAGED_POLICY_MAX_CHARS


def test_named_resources_are_confined_to_the_environment_prefix() -> None:
    own_name = re.compile(r"booking-prod(?:$|[-/:])|/booking/prod/")
    shared_rds_groups = {
        f"arn:aws:rds:us-east-1:{ACCOUNT}:og:default:*",
        f"arn:aws:rds:us-east-1:{ACCOUNT}:pg:default.*",
    }
    for statement in deploy_policy(scope("prod"))["Statement"]:
        sid, condition = statement["Sid"], statement.get("Condition", {})
        if sid.startswith(("State", "EcrPromotionSource", "DatabaseManagedPassword", "Certificates")):
            continue  # the backend's own bucket and key, dev's images, RDS's secrets: tested elsewhere
        if sid == "ServiceLinkedRoles":
            assert condition["StringEquals"]["iam:AWSServiceName"]
            continue
        for resource in statement["Resource"]:
            if own_name.search(resource):
                assert "booking-dev" not in resource
            elif resource == "*":
                # Unscoped only where the service has no resource-level permissions, then in-region.
                assert sid == "EcrLogin" or condition["StringEquals"]["aws:RequestedRegion"] == "us-east-1", (
                    sid
                )
            elif resource.endswith(":key/*"):
                # KMS keys have no names: only keys tagged with this environment (or the alias' target).
                assert (
                    sid == "KeyAliases" or condition["StringEquals"]["aws:ResourceTag/Environment"] == "prod"
                )
            else:
                assert resource in shared_rds_groups, (sid, resource)


def test_deploy_role_cannot_edit_itself() -> None:
    roles = next(s for s in deploy_policy(scope("prod"))["Statement"] if s["Sid"] == "Roles")
    own = f"arn:aws:iam::{ACCOUNT}:role/{deploy_role_name('booking', 'prod')}"
    assert not any(fnmatch.fnmatchcase(own, pattern) for pattern in roles["Resource"])


def test_pass_role_is_limited_to_the_stacks_services() -> None:
    statement = next(s for s in deploy_policy(scope())["Statement"] if s["Sid"] == "PassStackRoles")
    assert statement["Action"] == ["iam:PassRole"]
    assert set(statement["Condition"]["StringEquals"]["iam:PassedToService"]) == {
        "ecs-tasks.amazonaws.com",
        "lambda.amazonaws.com",
        "vpc-flow-logs.amazonaws.com",
        "monitoring.rds.amazonaws.com",
    }


def test_managed_policies_attachable_only_from_service_role_path_or_own_prefix() -> None:
    statement = next(s for s in deploy_policy(scope())["Statement"] if s["Sid"] == "RolePolicyAttachments")
    allowed = statement["Condition"]["ArnLike"]["iam:PolicyARN"]
    assert "arn:aws:iam::aws:policy/AdministratorAccess" not in allowed
    assert all(
        a.startswith("arn:aws:iam::aws:policy/service-role/") or "policy/booking-prod-" in a for a in allowed
    )


def test_only_prod_may_read_the_image_it_promotes_from_dev() -> None:
    dev = deploy_policy(scope("dev", promote_from=None))
    prod = deploy_policy(scope("prod", promote_from="dev"))
    assert not [s for s in dev["Statement"] if s["Sid"] == "EcrPromotionSource"]
    source = next(s for s in prod["Statement"] if s["Sid"] == "EcrPromotionSource")
    assert source["Resource"] == [f"arn:aws:ecr:us-east-1:{ACCOUNT}:repository/booking-dev-*"]
    assert all(a.startswith("ecr:") and not a.startswith(("ecr:Put", "ecr:Delete")) for a in source["Action"])


def test_the_admin_guard_allows_read_only_wildcards() -> None:
    read = {"Effect": "Allow", "Action": ["ec2:Describe*", "s3:Get*", "ecs:List*"], "Resource": "*"}
    assert broad_actions({"Version": "2012-10-17", "Statement": [read]}) == []


@pytest.mark.parametrize("action", ["*", "s3:*", "iam:*", "ec2:Create*", "iam:*Role", "iam:Put*"])
def test_the_admin_guard_rejects_whole_service_grants(action: str) -> None:
    document = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": action, "Resource": "*"}],
    }
    with pytest.raises(ValueError, match="whole services"):
        assert_least_privilege(document)


# --- the deploy policy against what the real stack declares -------------------------------------------

_AUTONAME = "-a1b2c3d"  # Pulumi appends a random suffix to the logical name when no name is given

# type token → (the action that creates it, ARN of the resource from its physical name)
_CREATES: dict[str, tuple[str, str]] = {
    "aws:ecr/repository:Repository": ("ecr:CreateRepository", "arn:aws:ecr:{r}:{a}:repository/{n}"),
    "aws:ecs/cluster:Cluster": ("ecs:CreateCluster", "arn:aws:ecs:{r}:{a}:cluster/{n}"),
    "aws:ecs/taskDefinition:TaskDefinition": ("ecs:TagResource", "arn:aws:ecs:{r}:{a}:task-definition/{n}:1"),
    "aws:lb/loadBalancer:LoadBalancer": (
        "elasticloadbalancing:CreateLoadBalancer",
        "arn:aws:elasticloadbalancing:{r}:{a}:loadbalancer/app/{n}/0123456789abcdef",
    ),
    "aws:lb/targetGroup:TargetGroup": (
        "elasticloadbalancing:CreateTargetGroup",
        "arn:aws:elasticloadbalancing:{r}:{a}:targetgroup/{n}/0123456789abcdef",
    ),
    "aws:rds/instance:Instance": ("rds:CreateDBInstance", "arn:aws:rds:{r}:{a}:db:{n}"),
    "aws:rds/subnetGroup:SubnetGroup": ("rds:CreateDBSubnetGroup", "arn:aws:rds:{r}:{a}:subgrp:{n}"),
    "aws:rds/parameterGroup:ParameterGroup": ("rds:CreateDBParameterGroup", "arn:aws:rds:{r}:{a}:pg:{n}"),
    "aws:secretsmanager/secret:Secret": (
        "secretsmanager:CreateSecret",
        "arn:aws:secretsmanager:{r}:{a}:secret:{n}",
    ),
    "aws:iam/role:Role": ("iam:CreateRole", "arn:aws:iam::{a}:role/{n}"),
    "aws:iam/policy:Policy": ("iam:CreatePolicy", "arn:aws:iam::{a}:policy/{n}"),
    "aws:lambda/function:Function": ("lambda:CreateFunction", "arn:aws:lambda:{r}:{a}:function:{n}"),
    "aws:sns/topic:Topic": ("sns:CreateTopic", "arn:aws:sns:{r}:{a}:{n}"),
    "aws:sqs/queue:Queue": ("sqs:CreateQueue", "arn:aws:sqs:{r}:{a}:{n}"),
    "aws:cloudwatch/eventRule:EventRule": ("events:PutRule", "arn:aws:events:{r}:{a}:rule/{n}"),
    "aws:cloudwatch/logGroup:LogGroup": ("logs:CreateLogGroup", "arn:aws:logs:{r}:{a}:log-group:{n}"),
    "aws:cloudwatch/metricAlarm:MetricAlarm": (
        "cloudwatch:PutMetricAlarm",
        "arn:aws:cloudwatch:{r}:{a}:alarm:{n}",
    ),
    "aws:cloudwatch/dashboard:Dashboard": (
        "cloudwatch:PutDashboard",
        "arn:aws:cloudwatch::{a}:dashboard/{n}",
    ),
    "aws:s3/bucket:Bucket": ("s3:CreateBucket", "arn:aws:s3:::{n}"),
    "aws:kms/alias:Alias": ("kms:CreateAlias", "arn:aws:kms:{r}:{a}:{n}"),
}
_NAME_INPUTS = ("name", "namePrefix", "identifier", "bucket", "family", "dashboardName", "functionName")


def _physical_name(resource: Any) -> str:
    for key in _NAME_INPUTS:
        value = resource.inputs.get(key)
        if isinstance(value, str) and value and not (key == "family" and resource.type.startswith("aws:rds")):
            return value + ("a1b2c3-XyZ123" if key == "namePrefix" else "")
    name: str = resource.name
    return name.lower() + _AUTONAME


def _allows(document: dict[str, Any], action: str, arn: str) -> bool:
    return any(
        action in statement["Action"]
        and any(fnmatch.fnmatchcase(arn, pattern) for pattern in statement["Resource"])
        for statement in document["Statement"]
    )


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_deploy_policy_covers_every_named_resource_the_stack_declares(stack: str) -> None:
    from stacks.offline import run_stack

    run = run_stack(stack)
    assert run.error is None, run.error
    region: str = stack_config(stack)["aws:region"]
    policy = deploy_policy(
        StackScope("booking", stack, "123456789012", region, "arn:aws:s3:::state", "arn:aws:kms:::key/k")
    )
    checked, uncovered = 0, []
    for resource in run.resources:
        if resource.type not in _CREATES:
            continue
        action, template = _CREATES[resource.type]
        arn = template.format(r=region, a="123456789012", n=_physical_name(resource))
        checked += 1
        if not _allows(policy, action, arn):
            uncovered.append(f"{action} on {arn} ({resource.type} {resource.name})")
    assert checked >= 10
    assert uncovered == [], "the deploy role could not create:\n" + "\n".join(uncovered)
