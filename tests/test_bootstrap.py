"""The bootstrap program (stacks/bootstrap) under Pulumi mocks, and its policies as plain functions.

Over 400 lines: the trust, key, bucket and policy checks of one program read the same mocked-run helpers;
they are one contract.
"""

from __future__ import annotations

import fnmatch
import json
import os
import subprocess
import sys
import textwrap
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from components.deploy_policies import (
    MANAGED_POLICIES_PER_ROLE,
    MANAGED_POLICY_MAX_CHARS,
    StackScope,
    assert_least_privilege,
    boundary_policy,
    broad_actions,
    deploy_policy,
    policy_json,
    preview_policy,
    split_by_part,
)
from components.github_oidc import deploy_role_name, policy_parts
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
    keys = {k["name"]: k["outputs"]["arn"] for k in of_type(run, "aws:kms/key:Key")}
    assert default["kmsMasterKeyId"] == keys["state-key"]
    # Off, so S3 encrypts each object under its own ARN and KMS grants can name a stack's objects.
    assert sse["inputs"]["rules"][0]["bucketKeyEnabled"] is False

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


def test_one_secrets_key_per_stack_rotating_with_the_documented_aliases(run: dict[str, Any]) -> None:
    keys = {k["name"]: k["inputs"] for k in of_type(run, "aws:kms/key:Key")}
    assert set(keys) == {"state-key", "state-key-dev", "state-key-prod"}
    assert all(key["enableKeyRotation"] is True for key in keys.values())
    aliases = {a["inputs"]["name"] for a in of_type(run, "aws:kms/alias:Alias")}
    assert aliases == {"alias/booking-pulumi", "alias/booking-pulumi-dev", "alias/booking-pulumi-prod"}
    assert run["outputs"]["secretsProviders"] == {
        stack: f"awskms://alias/booking-pulumi-{stack}?region=us-east-1" for stack in ("dev", "prod")
    }
    assert run["outputs"]["backendUrl"] == "s3://example-org-booking-pulumi-state?region=us-east-1&awssdk=v2"


def test_each_stack_role_may_use_only_its_own_secrets_key(run: dict[str, Any]) -> None:
    for stack, other in (("dev", "prod"), ("prod", "dev")):
        texts = [
            p["inputs"]["policy"]
            for p in of_type(run, "aws:iam/policy:Policy")
            if p["inputs"]["name"].startswith((f"booking-deploy-{stack}-", f"booking-preview-{stack}-"))
        ]
        keys = {k["name"]: k["outputs"]["arn"] for k in of_type(run, "aws:kms/key:Key")}
        assert texts and all(keys[f"state-key-{other}"] not in text for text in texts)
        assert any(keys[f"state-key-{stack}"] in text for text in texts)


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
    boundaries = [p for p in policies if "-boundary-" in p["inputs"]["name"]]
    assert {p["inputs"]["name"] for p in boundaries} == {"booking-boundary-dev", "booking-boundary-prod"}
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
# What each role may do is evaluated call by call in tests/iam/; these check the documents' shape.


def scope(stack: str = "prod", promote_from: str | None = "dev") -> StackScope:
    longest_key = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/" + "k" * 36
    return StackScope(
        project="booking",
        stack=stack,
        account_id=ACCOUNT,
        region="us-east-1",
        state_bucket_arn="arn:aws:s3:::" + "s" * 63,  # the longest bucket name: the size limits hold
        secrets_key_arn=longest_key,
        state_key_arn=longest_key,
        promote_from=promote_from,
        domain_name="api.booking.example.com",
        hosted_zone_id="Z0123456789EXAMPLE",
    )


def test_deploy_policy_has_no_wildcard_action_and_fits_the_managed_policy_limits() -> None:
    document = deploy_policy(scope())
    assert broad_actions(document) == []
    parts = split_by_part(document, policy_parts(document))
    assert 1 < len(parts) <= MANAGED_POLICIES_PER_ROLE
    assert sum(len(p["Statement"]) for p in parts.values()) == len(document["Statement"])
    for name, part in parts.items():
        assert len(policy_json(part)) <= MANAGED_POLICY_MAX_CHARS, name


def test_preview_policy_is_read_only() -> None:
    document = preview_policy(scope())
    assert broad_actions(document) == []
    writes = {
        action
        for statement in document["Statement"]
        if statement["Sid"] not in ("StateLock", "StateBucketKey")
        for action in statement["Action"]
        if not action.split(":")[1].startswith(("Get", "Describe", "List", "Decrypt"))
        # API Gateway's actions are HTTP verbs; GET is its read ("Actions, resources, and condition keys
        # for Amazon API Gateway Management V2").
        and action != "apigateway:GET"
    }
    assert writes == set()
    assert len(policy_parts(document)) == 1


def test_every_regional_allow_is_confined_to_the_stacks_region() -> None:
    """Allows on "*" or on region-less ARNs must name aws:RequestedRegion (IAM and Route 53 are global)."""
    global_services = ("iam:", "route53:")
    for document in (deploy_policy(scope()), preview_policy(scope()), boundary_policy(scope())):
        for statement in document["Statement"]:
            if statement["Effect"] != "Allow" or all(
                a.startswith(global_services) for a in statement["Action"]
            ):
                continue
            unregioned = [r for r in statement["Resource"] if r == "*" or r.split(":")[3] == ""]
            if unregioned and not statement["Sid"].startswith(("State", "AccessLogBuckets")):
                assert statement["Condition"]["StringEquals"]["aws:RequestedRegion"] == "us-east-1", (
                    statement["Sid"]
                )


def test_deploy_role_cannot_edit_itself() -> None:
    own = f"arn:aws:iam::{ACCOUNT}:role/{deploy_role_name('booking', 'prod')}"
    for statement in deploy_policy(scope("prod"))["Statement"]:
        if statement["Effect"] == "Allow" and any(a.startswith("iam:") for a in statement["Action"]):
            assert not any(fnmatch.fnmatchcase(own, pattern) for pattern in statement["Resource"]), statement[
                "Sid"
            ]


def test_pass_role_is_limited_to_the_stacks_services() -> None:
    statement = next(s for s in deploy_policy(scope())["Statement"] if s["Sid"] == "PassStackRoles")
    assert statement["Action"] == ["iam:PassRole"]
    assert set(statement["Condition"]["StringEquals"]["iam:PassedToService"]) == {
        "ecs-tasks.amazonaws.com",
        "lambda.amazonaws.com",
        "vpc-flow-logs.amazonaws.com",
        "monitoring.rds.amazonaws.com",
    }


def test_managed_policies_attachable_are_exactly_the_stacks_ones() -> None:
    from components.database import ENHANCED_MONITORING_POLICY
    from components.task_definition import TASK_EXECUTION_POLICY_ARN

    statement = next(s for s in deploy_policy(scope())["Statement"] if s["Sid"] == "RolePolicyAttachments")
    allowed = statement["Condition"]["ArnLike"]["iam:PolicyARN"]
    assert "arn:aws:iam::aws:policy/AdministratorAccess" not in allowed
    assert {a for a in allowed if a.startswith("arn:aws:iam::aws:")} == {
        ENHANCED_MONITORING_POLICY,
        TASK_EXECUTION_POLICY_ARN,
    }


def test_only_prod_may_read_the_image_it_promotes_from_dev() -> None:
    dev = deploy_policy(scope("dev", promote_from=None))
    prod = deploy_policy(scope("prod", promote_from="dev"))
    assert not [s for s in dev["Statement"] if s["Sid"] == "EcrPromotionSource"]
    source = next(s for s in prod["Statement"] if s["Sid"] == "EcrPromotionSource")
    assert source["Resource"] == [f"arn:aws:ecr:us-east-1:{ACCOUNT}:repository/booking-dev-*"]
    assert all(a.startswith("ecr:") and not a.startswith(("ecr:Put", "ecr:Delete")) for a in source["Action"])


def test_only_stacks_that_may_use_the_http_api_get_api_gateway(run: dict[str, Any]) -> None:
    """Prod keeps the ALB (booking:lambda.frontDoor), so its deploy role has no API Gateway action."""

    def actions(environment: str) -> set[str]:
        return {
            action
            for p in of_type(run, "aws:iam/policy:Policy")
            if p["inputs"]["name"].startswith(f"booking-deploy-{environment}-")
            for s in statements_of(json.loads(p["inputs"]["policy"]))
            for action in s["Action"]
        }

    assert {"apigateway:POST", "apigateway:DELETE"} <= actions("dev")
    assert not {a for a in actions("prod") if a.startswith("apigateway:")}


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


def test_bootstrap_reads_each_stacks_domain_from_its_committed_config() -> None:
    from stacks.bootstrap.settings import stack_domains

    assert stack_domains(("dev", "prod"), ROOT) == {"prod": ("api.booking.example.com", "Z0123456789EXAMPLE")}
    assert stack_config("prod")["booking:https"]["domainName"] == "api.booking.example.com"
