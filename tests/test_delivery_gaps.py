"""The delivery path's first-real-run gaps (issue 21), each pinned by a test that failed before the fix.

1. secrets provider: every committed stack names the bootstrap's KMS key; the workflows refuse to run
   Pulumi on a stack file that would fall back to the passphrase provider;
2. time budgets: in tests/test_delivery_budget.py;
3. previews before anything is deployed: the history shapes `pulumi stack history --json` prints;
4. native arm64 image builds, and promotion within one account.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import stat
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.deploy_policies import StackScope, deploy_policy
from stacks import delivery
from stacks.delivery import (
    ARM64_RUNNER,
    NOTHING_DEPLOYED_EXIT,
    X64_RUNNER,
    NothingDeployed,
    build_runner,
    expected_secrets_provider,
    image_platforms,
    pinned_image_tag,
    secrets_provider_problems,
    stacks_in,
)
from tests.test_workflows import load, steps, uses

ROOT = Path(__file__).resolve().parents[1]
BASH = shutil.which("bash") or "/bin/bash"

# --- 1. secrets provider ----------------------------------------------------------------------------


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_committed_stacks_name_the_bootstraps_kms_key(stack: str) -> None:
    assert stack in stacks_in()
    assert secrets_provider_problems(stack) == []
    document = yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())
    # One key per stack (issue 11): each stack names its own.
    assert document["secretsprovider"] == f"awskms://alias/booking-pulumi-{stack}?region=us-east-1"
    assert expected_secrets_provider(stack) == document["secretsprovider"]


def _stack_copy(tmp_path: Path, stack: str, **top_level: Any) -> Path:
    """A repo root with Pulumi.<stack>.yaml (top-level keys replaced) and the bootstrap example."""
    document = yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())
    for key, value in top_level.items():
        if value is None:
            document.pop(key, None)
        else:
            document[key] = value
    (tmp_path / f"Pulumi.{stack}.yaml").write_text(yaml.safe_dump(document))
    example = tmp_path / delivery.BOOTSTRAP_EXAMPLE
    example.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / delivery.BOOTSTRAP_EXAMPLE, example)
    return tmp_path


@pytest.mark.parametrize("provider", [None, "", "default", "passphrase"])
def test_a_stack_that_would_fall_back_to_a_passphrase_is_refused(
    tmp_path: Path, provider: str | None
) -> None:
    # What Pulumi.dev.yaml / Pulumi.prod.yaml looked like before: no `secretsprovider:` at all.
    root = _stack_copy(tmp_path, "prod", secretsprovider=provider)
    (problem,) = secrets_provider_problems("prod", root)
    assert "passphrase" in problem and "secretsprovider: awskms://alias/booking-pulumi" in problem


def test_a_stack_on_another_key_a_stale_salt_or_orphaned_secrets_is_refused(tmp_path: Path) -> None:
    other = _stack_copy(tmp_path, "dev", secretsprovider="awskms://alias/someone-else?region=us-east-1")
    assert "the bootstrap's key is" in secrets_provider_problems("dev", other)[0]
    salted = _stack_copy(tmp_path, "dev", encryptionsalt="v1:abc:def")
    assert "encryptionsalt" in secrets_provider_problems("dev", salted)[0]
    document = yaml.safe_load((ROOT / "Pulumi.dev.yaml").read_text())
    document["config"]["booking:extra"] = {"secure": "v1:xyz"}
    (tmp_path / "Pulumi.dev.yaml").write_text(yaml.safe_dump(document))
    assert "config.booking:extra are secrets" in secrets_provider_problems("dev", tmp_path)[0]


def test_ci_requires_the_encrypted_data_key_that_stack_init_writes(tmp_path: Path) -> None:
    # Without `encryptedkey` Pulumi calls kms:Encrypt on every run (new data key); preview roles may not.
    (problem,) = secrets_provider_problems("dev", require_key=True)
    assert "pulumi stack init dev --secrets-provider" in problem and "kms:Encrypt" in problem
    keyed = _stack_copy(tmp_path, "dev", encryptedkey="AQICAHh...base64")
    assert secrets_provider_problems("dev", keyed, require_key=True) == []


def test_secrets_check_cli_exit_status(capsys: pytest.CaptureFixture[str]) -> None:
    assert delivery.main(["secrets-check", "--stack", "prod"]) == 0
    assert delivery.main(["secrets-check", "--stack", "prod", "--require-key"]) == 1
    assert "has no `encryptedkey`" in capsys.readouterr().err


def test_every_pulumi_job_checks_the_secrets_provider_before_it_logs_in() -> None:
    deploy = load("deploy.yml")
    plan = next(s for s in steps(deploy["jobs"]["plan"]) if s.get("id") == "plan")
    assert 'secrets-check --stack "$stack" --require-key' in plan["run"]
    assert "for stack in dev prod;" in plan["run"] and set(stacks_in()) == {"dev", "prod"}
    # Every deploy job that runs Pulumi waits for the plan job.
    needs = {name: job.get("needs") for name, job in deploy["jobs"].items()}
    assert needs == {"plan": None, "image": "plan", "dev": "image", "prod": "dev"}
    for name, job in load("preview.yml")["jobs"].items():
        job_steps = steps(job)
        check = next(i for i, s in enumerate(job_steps) if "secrets-check" in str(s.get("run", "")))
        login = next(i for i, s in enumerate(job_steps) if "configure-aws-credentials" in uses(s))
        assert check < login, name
        assert "--require-key" in job_steps[check]["run"]


# --- 3. previews before anything is deployed ----------------------------------------------------------
#
# The JSON `pulumi stack history --json` prints (pkg/cmd/pulumi/stack/stack_history.go, `updateInfoJSON`
# and `configValueJSON`): an object config value is `{"value": "<json text>", "objectValue": {...},
# "secret": false}`; a running update has `result: "in-progress"` and no endTime/resourceChanges; a stack
# that was never updated prints `[]`.


def _config(tag: str | None) -> dict[str, Any]:
    config: dict[str, Any] = {
        "aws:region": {"value": "us-east-1", "secret": False},
        "booking:someSecret": {"secret": True},  # shown without --show-secrets: no value
    }
    if tag is not None:
        config["booking:image"] = {
            "value": json.dumps({"keepImages": 20, "tag": tag}),
            "objectValue": {"keepImages": 20, "tag": tag},
            "secret": False,
        }
    return config


def _entry(version: int, kind: str, result: str, tag: str | None) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "version": version,
        "kind": kind,
        "startTime": "2026-11-30T05:00:00Z",
        "message": "",
        "environment": {"exec.kind": "cli"},
        "config": _config(tag),
        "result": result,
    }
    if result != "in-progress":
        entry["endTime"] = "2026-11-30T05:40:00Z"
        entry["resourceChanges"] = {"create": 3} if kind == "update" else {"same": 3}
    return entry


TARGETED_REPOSITORY_UP = _entry(1, "update", "succeeded", "")  # the runbook's `up --target` of prod's ECR
NOTHING_DEPLOYED = {
    "never updated": [],
    "only the targeted repository up": [TARGETED_REPOSITORY_UP],
    "first full deploy failed": [_entry(2, "update", "failed", "abc123"), TARGETED_REPOSITORY_UP],
    "first full deploy still running": [_entry(2, "update", "in-progress", "abc123"), TARGETED_REPOSITORY_UP],
    "refreshed only": [_entry(1, "refresh", "succeeded", None)],
    "dev built from a workstation": [_entry(1, "update", "succeeded", "")],
}


@pytest.mark.parametrize("case", sorted(NOTHING_DEPLOYED))
def test_nothing_deployed_yet_is_said_plainly(case: str) -> None:
    history = json.loads(json.dumps(NOTHING_DEPLOYED[case]))  # exactly what the CLI would print
    assert delivery.deployed_image_tag(history) == ""
    with pytest.raises(
        NothingDeployed, match=r"^booking prod: no deployed image to preview against: "
    ) as err:
        pinned_image_tag(history, "prod")
    assert "deploy workflow" in str(err.value)


def test_a_deployed_tag_is_pinned_from_the_object_value() -> None:
    history = [
        _entry(4, "update", "failed", "broken"),
        _entry(3, "refresh", "succeeded", "c3"),
        _entry(2, "update", "succeeded", "c2"),
        TARGETED_REPOSITORY_UP,
    ]
    assert pinned_image_tag(history, "prod") == "c2"
    # Only `value` (older CLIs print no objectValue): the JSON text is read instead.
    for entry in history:
        entry["config"]["booking:image"].pop("objectValue", None)
    assert pinned_image_tag(history, "prod") == "c2"


def test_deployed_tag_require_exits_3_with_the_reason(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps([TARGETED_REPOSITORY_UP])))
    assert delivery.main(["deployed-tag", "--require", "--stack", "prod"]) == NOTHING_DEPLOYED_EXIT == 3
    out, err = capsys.readouterr()
    assert out == "" and 'ran with image.tag ""' in err
    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps([_entry(2, "update", "succeeded", "c2")])))
    assert delivery.main(["deployed-tag", "--require", "--stack", "prod"]) == 0
    assert capsys.readouterr().out == "c2\n"


def _pin_step(job: dict[str, Any]) -> dict[str, Any]:
    return next(s for s in steps(job) if s.get("id") == "pin")


def _fake_bin(tmp_path: Path, scripts: dict[str, str]) -> dict[str, str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    for name, body in scripts.items():
        path = bin_dir / name
        path.write_text(f"#!{BASH}\n{body}\n")
        path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}


@pytest.mark.parametrize("job_name", ["dev", "prod"])
def test_the_preview_jobs_skip_with_the_reason_when_nothing_is_deployed(
    tmp_path: Path, job_name: str
) -> None:
    """Run the workflow's own pin script with a fake `pulumi` that prints a real history shape."""
    job = load("preview.yml")["jobs"][job_name]
    script = _pin_step(job)["run"]
    calls = tmp_path / "pulumi-calls"
    history = tmp_path / "history-to-print.json"
    env = _fake_bin(
        tmp_path,
        {"pulumi": f'echo "$*" >> {calls}\nif [ "$1 $2" = "stack history" ]; then cat {history}; fi'},
    )
    (tmp_path / ".venv").symlink_to(ROOT / ".venv")  # the script runs .venv/bin/python from its cwd

    def run(updates: list[dict[str, Any]]) -> dict[str, str]:
        history.write_text(json.dumps(updates))
        output, summary = tmp_path / "out", tmp_path / "summary"
        output.write_text("")
        summary.write_text("")
        calls.write_text("")
        result = subprocess.run(
            [BASH, "-e", "-c", script],
            cwd=tmp_path,
            env={
                **env,
                **job["env"],
                "PULUMI_BACKEND_URL": "s3://b",
                "GITHUB_OUTPUT": str(output),
                "GITHUB_STEP_SUMMARY": str(summary),
                "PYTHONPATH": str(ROOT),
            },
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr
        return {
            "output": output.read_text(),
            "summary": summary.read_text(),
            "calls": calls.read_text(),
            "stdout": result.stdout,
        }

    skipped = run([TARGETED_REPOSITORY_UP])
    assert skipped["output"] == "deployed=false\n"
    assert f"booking {job_name}: no deployed image to preview against" in skipped["summary"]
    assert "::notice::" in skipped["stdout"] and "config set" not in skipped["calls"]
    pinned = run([_entry(5, "update", "succeeded", "abc123")])
    assert pinned["output"] == "deployed=true\n"
    assert f"config set --stack {job_name} --path image.tag abc123" in pinned["calls"]
    preview = next(s for s in steps(job) if uses(s).startswith("pulumi/actions@") and "with" in s)
    assert preview["if"] == "steps.pin.outputs.deployed == 'true'"


# --- 4. native arm64 builds, promotion in one account ----------------------------------------------


def test_the_image_is_built_on_a_runner_of_its_architecture() -> None:
    assert build_runner(["linux/arm64"]) == ARM64_RUNNER == "ubuntu-24.04-arm"
    assert build_runner(["linux/arm64"], "my-org-arm64-larger-runner") == "my-org-arm64-larger-runner"
    assert build_runner(["linux/amd64"]) == X64_RUNNER
    assert build_runner(image_platforms(stacks_in())) == ARM64_RUNNER  # both stacks run arm64
    deploy = load("deploy.yml")
    image = deploy["jobs"]["image"]
    assert image["runs-on"] == "${{ needs.plan.outputs.runner }}"
    plan = next(s for s in steps(deploy["jobs"]["plan"]) if s.get("id") == "plan")
    assert 'build-runner --arm64-runner "$ARM64_RUNNER"' in plan["run"]
    assert plan["env"]["ARM64_RUNNER"] == "${{ vars.ARM64_RUNNER }}"
    qemu = next(s for s in steps(image) if uses(s).startswith("docker/setup-qemu-action@"))
    assert "steps.native.outputs.qemu == 'true'" in qemu["if"]
    # No job but the image job builds, and it is the only one on the computed runner.
    assert [
        name for name, job in deploy["jobs"].items() if "needs.plan.outputs.runner" in job["runs-on"]
    ] == ["image"]


@pytest.mark.parametrize(
    ("runner_arch", "platforms", "qemu"),
    [
        ("ARM64", "linux/arm64", "false"),
        ("X64", "linux/arm64", "true"),
        ("X64", "linux/amd64", "false"),
        ("ARM64", "linux/amd64,linux/arm64", "true"),
    ],
)
def test_qemu_only_for_platforms_the_runner_lacks(
    tmp_path: Path, runner_arch: str, platforms: str, qemu: str
) -> None:
    step = next(s for s in steps(load("deploy.yml")["jobs"]["image"]) if s.get("id") == "native")
    output, summary = tmp_path / "out", tmp_path / "summary"
    subprocess.run(
        [BASH, "-e", "-c", step["run"]],
        env={
            "PATH": os.environ["PATH"],
            "RUNNER_ARCH": runner_arch,
            "PLATFORMS": platforms,
            "GITHUB_OUTPUT": str(output),
            "GITHUB_STEP_SUMMARY": str(summary),
        },
        check=True,
        timeout=30,
    )
    assert output.read_text() == f"qemu={qemu}\n"


DEV_REPOSITORY = "111122223333.dkr.ecr.us-east-1.amazonaws.com/booking-dev-api"
DIGEST = "sha256:" + "a" * 64


def _promote(tmp_path: Path, prod_repository: str) -> tuple[subprocess.CompletedProcess[str], str]:
    step = next(
        s for s in steps(load("deploy.yml")["jobs"]["prod"]) if s.get("name") == "Promote the digest dev runs"
    )
    log = tmp_path / "calls"
    log.write_text("")
    copied = tmp_path / "copied"
    env = _fake_bin(
        tmp_path,
        {
            "pulumi": f'echo "pulumi $*" >> {log}\n'
            f'if [ "$1 $2 $3" = "stack output ecrRepositoryUrl" ]; then echo {prod_repository}; fi',
            "skopeo": f'echo "skopeo $*" >> {log}\ntouch {copied}',
            "aws": f'echo "aws $*" >> {log}\nif [ -e {copied} ]; then echo {DIGEST}; else echo None; fi',
        },
    )
    result = subprocess.run(
        [BASH, "-e", "-c", step["run"]],
        env={
            **env,
            "DEV_DIGEST": DIGEST,
            "DEV_REPOSITORY": DEV_REPOSITORY,
            "IMAGE_TAG": "c0ffee",
            "PULUMI_BACKEND_URL": "s3://b",
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    return result, log.read_text()


def test_promotion_copies_the_digest_within_the_account(tmp_path: Path) -> None:
    prod = "111122223333.dkr.ecr.us-east-1.amazonaws.com/booking-prod-api"
    result, calls = _promote(tmp_path, prod)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (
        f"skopeo copy --all --preserve-digests docker://{DEV_REPOSITORY}@{DIGEST} docker://{prod}:c0ffee"
        in calls
    )
    assert "pulumi config set --stack prod --path image.tag c0ffee" in calls


def test_promotion_across_accounts_is_refused_before_anything_is_copied(tmp_path: Path) -> None:
    other_account = "444455556666.dkr.ecr.us-east-1.amazonaws.com/booking-prod-api"
    result, calls = _promote(tmp_path, other_account)
    assert result.returncode == 1
    assert "promotion across accounts is not supported" in result.stdout
    assert "skopeo" not in calls and "config set" not in calls


def test_the_prod_role_reads_devs_repository_in_its_own_account() -> None:
    scope = StackScope(
        project="booking",
        stack="prod",
        account_id="111122223333",
        region="us-east-1",
        state_bucket_arn="arn:aws:s3:::state",
        secrets_key_arn="arn:aws:kms:us-east-1:111122223333:key/k",
        promote_from="dev",
    )
    (source,) = [s for s in deploy_policy(scope)["Statement"] if s.get("Sid") == "EcrPromotionSource"]
    resources = source["Resource"] if isinstance(source["Resource"], list) else [source["Resource"]]
    assert resources == ["arn:aws:ecr:us-east-1:111122223333:repository/booking-dev-*"]
