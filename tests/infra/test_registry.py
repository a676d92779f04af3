from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from components.registry import (
    Registry,
    RegistryArgs,
    build_tag,
    digest_image_uri,
    digest_of_repo_digest,
    docker_platform,
    lifecycle_policy,
)
from stacks.mocks import REGISTRY_HOST, AwsMocks
from tests.infra.mocks import run_component

DIGEST_URI = re.compile(r"^(?P<repo>[^@]+)@sha256:[0-9a-f]{64}$")


@pytest.fixture
def context(tmp_path: Path) -> Path:
    """A small build context shaped like the repo: app/Dockerfile, app code, a .dockerignore."""
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "Dockerfile").write_text("FROM python:3.11-slim\nCOPY app /srv/app\n")
    (tmp_path / "app" / "main.py").write_text("print('hello')\n")
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'booking'\n")
    (tmp_path / ".dockerignore").write_text("# not in the image\n.git\n.venv\n**/__pycache__\nnotes.txt\n")
    (tmp_path / ".venv").mkdir()
    (tmp_path / ".venv" / "big.bin").write_bytes(b"x" * 10)
    return tmp_path


def _args(context: Path, **overrides: Any) -> RegistryArgs:
    values: dict[str, Any] = {
        "name_prefix": "booking-dev",
        "image_tag": "",
        "architecture": "arm64",
        "build_context": str(context),
        "dockerfile": str(context / "app" / "Dockerfile"),
    }
    values.update(overrides)
    return RegistryArgs(**values)


# --- plain functions ---------------------------------------------------------------------------------


def test_lifecycle_policy_expires_untagged_by_age_then_caps_the_image_count() -> None:
    policy = json.loads(lifecycle_policy(untagged_expire_days=3, keep_last_images=15))
    untagged, capped = policy["rules"]
    assert untagged == {
        "rulePriority": 1,
        "description": "Expire untagged images 3 days after push",
        "selection": {
            "tagStatus": "untagged",
            "countType": "sinceImagePushed",
            "countUnit": "days",
            "countNumber": 3,
        },
        "action": {"type": "expire"},
    }
    assert capped["selection"] == {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 15}
    assert capped["action"] == {"type": "expire"}
    # ECR requires the `any` rule to be evaluated last, i.e. to have the highest priority number.
    assert capped["rulePriority"] > untagged["rulePriority"]


@pytest.mark.parametrize(
    ("days", "keep", "message"), [(0, 5, "untagged_expire_days = 0"), (1, 0, "keep_last_images = 0")]
)
def test_lifecycle_policy_rejects_counts_below_one(days: int, keep: int, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        lifecycle_policy(days, keep)


def test_docker_platform_follows_the_ecs_architecture() -> None:
    assert docker_platform("arm64") == "linux/arm64"
    assert docker_platform("x86_64") == "linux/amd64"
    with pytest.raises(ValueError, match=r"architecture = 'amd64' is invalid: must be one of arm64, x86_64"):
        docker_platform("amd64")


def test_digest_references() -> None:
    digest = "sha256:" + "0123456789abcdef" * 4
    assert digest_image_uri("r.example/booking-dev-api", digest) == f"r.example/booking-dev-api@{digest}"
    assert digest_of_repo_digest(f"r.example/booking-dev-api@{digest}") == digest
    with pytest.raises(ValueError, match="sha256"):
        digest_image_uri("r.example/booking-dev-api", "latest")
    with pytest.raises(ValueError, match="repo@sha256"):
        digest_of_repo_digest("r.example/booking-dev-api:latest")


def test_build_tag_is_stable_and_a_valid_docker_tag(context: Path) -> None:
    dockerfile = context / "app" / "Dockerfile"
    tag = build_tag(context, dockerfile, "linux/arm64")
    assert tag == build_tag(context, dockerfile, "linux/arm64")
    assert re.fullmatch(r"build-[0-9a-f]{20}", tag)


def test_build_tag_changes_with_every_input_pulumi_docker_rebuilds_on(context: Path) -> None:
    dockerfile = context / "app" / "Dockerfile"
    base = build_tag(context, dockerfile, "linux/arm64")
    assert build_tag(context, dockerfile, "linux/amd64") != base
    assert build_tag(context, dockerfile, "linux/arm64", {"PYTHON_IMAGE": "python:3.12-slim"}) != base

    (context / "app" / "main.py").write_text("print('changed')\n")
    changed_code = build_tag(context, dockerfile, "linux/arm64")
    assert changed_code != base

    (context / "app" / "new_module.py").write_text("")
    added_file = build_tag(context, dockerfile, "linux/arm64")
    assert added_file != changed_code

    dockerfile.write_text(dockerfile.read_text() + "USER 10001\n")
    assert build_tag(context, dockerfile, "linux/arm64") != added_file


def test_build_tag_ignores_what_dockerignore_keeps_out_of_the_context(context: Path) -> None:
    dockerfile = context / "app" / "Dockerfile"
    base = build_tag(context, dockerfile, "linux/arm64")
    (context / ".venv" / "big.bin").write_bytes(b"y" * 10)
    (context / "notes.txt").write_text("scratch")
    (context / "app" / "__pycache__").mkdir()
    (context / "app" / "__pycache__" / "main.cpython-311.pyc").write_bytes(b"\0")
    assert build_tag(context, dockerfile, "linux/arm64") == base


def test_build_tag_needs_a_context_and_a_dockerfile(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="is not a directory"):
        build_tag(tmp_path / "missing", tmp_path / "Dockerfile", "linux/arm64")
    with pytest.raises(ValueError, match="is not a file"):
        build_tag(tmp_path, tmp_path / "Dockerfile", "linux/arm64")


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"name_prefix": "Booking-Dev"}, r"name_prefix = 'Booking-Dev' is invalid"),
        ({"image_tag": "-bad"}, r"image_tag = '-bad' is invalid"),
        ({"image_tag": "a" * 129}, r"image_tag = 'a+' is invalid"),
        ({"architecture": "amd64"}, r"architecture = 'amd64' is invalid"),
        ({"keep_last_images": 0}, r"keep_last_images = 0 is invalid"),
        ({"untagged_expire_days": 0}, r"untagged_expire_days = 0 is invalid"),
    ],
)
def test_registry_args_reject_bad_values(context: Path, overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        _args(context, **overrides)


# --- the component under mocks --------------------------------------------------------------------------


def _run(args: RegistryArgs) -> tuple[AwsMocks, dict[str, Any], Registry]:
    holder: list[Registry] = []

    def build() -> dict[str, Any]:
        registry = Registry("registry", args)
        holder.append(registry)
        return {
            "repository_url": registry.repository_url,
            "repository_name": registry.repository_name,
            "repository_arn": registry.repository_arn,
            "image_uri": registry.image_uri,
            "image_digest": registry.image_digest,
            "image_tag": registry.image_tag,
        }

    mocks, values = run_component(build)
    return mocks, values, holder[0]


def test_repository_scans_on_push_has_immutable_tags_and_is_encrypted(context: Path) -> None:
    mocks, values, _ = _run(_args(context, force_delete=True))
    repo = mocks.one("aws:ecr/repository:Repository")
    assert repo.inputs["name"] == "booking-dev-api"
    assert repo.inputs["imageTagMutability"] == "IMMUTABLE"
    assert repo.inputs["imageScanningConfiguration"] == {"scanOnPush": True}
    assert repo.inputs["encryptionConfigurations"] == [{"encryptionType": "AES256"}]
    assert repo.inputs["forceDelete"] is True

    policy = mocks.one("aws:ecr/lifecyclePolicy:LifecyclePolicy")
    assert policy.inputs["repository"] == "booking-dev-api"
    assert json.loads(policy.inputs["policy"]) == json.loads(lifecycle_policy(7, 20))

    assert values["repository_url"] == f"{REGISTRY_HOST}/booking-dev-api"
    assert values["repository_name"] == "booking-dev-api"
    assert values["repository_arn"].endswith(":repository/booking-dev-api")


def test_repository_keeps_images_unless_force_delete(context: Path) -> None:
    mocks, _, _ = _run(_args(context))
    assert mocks.one("aws:ecr/repository:Repository").inputs["forceDelete"] is False


@pytest.mark.parametrize(("architecture", "platform"), [("arm64", "linux/arm64"), ("x86_64", "linux/amd64")])
def test_empty_tag_builds_for_the_service_architecture_and_pushes_to_the_repo(
    context: Path, architecture: str, platform: str
) -> None:
    args = _args(context, architecture=architecture, build_args={"PYTHON_IMAGE": "python:3.11-slim"})
    mocks, values, registry = _run(args)

    image = mocks.one("docker:index/image:Image")
    tag = build_tag(args.build_context, args.dockerfile, platform, args.build_args)
    assert image.inputs["imageName"] == f"{REGISTRY_HOST}/booking-dev-api:{tag}"
    assert image.inputs["build"] == {
        "context": str(context),
        "dockerfile": str(context / "app" / "Dockerfile"),
        "platform": platform,
        "args": {"PYTHON_IMAGE": "python:3.11-slim"},
        "builderVersion": "BuilderBuildKit",
    }
    assert image.inputs["registry"]["server"] == REGISTRY_HOST
    assert image.inputs["registry"]["username"] == "AWS"
    assert image.inputs.get("skipPush", False) is False
    # The ECR token is a credential: it must reach the provider as a secret, never as plain state.
    assert image.secrets == ["registry"]

    token = "aws:ecr/getAuthorizationToken:getAuthorizationToken"
    token_calls = [i for i in mocks.invokes if i.token == token]
    assert [c.args.get("registryId") for c in token_calls] == ["123456789012"]
    assert not [i for i in mocks.invokes if i.token == "aws:ecr/getImage:getImage"]

    # The digest ECR reports for the pushed build (docker's repoDigest), not the tag.
    expected_digest = image.outputs["repoDigest"].split("@", 1)[1]
    assert expected_digest.startswith("sha256:")
    assert values["image_digest"] == expected_digest
    assert values["image_uri"] == f"{REGISTRY_HOST}/booking-dev-api@{expected_digest}"
    assert DIGEST_URI.match(values["image_uri"])
    assert registry.image is not None
    assert values["image_tag"] == tag


def test_set_tag_resolves_the_pushed_tag_to_its_digest_without_building(context: Path) -> None:
    mocks, values, registry = _run(_args(context, image_tag="v1.4.2"))

    assert mocks.of_type("docker:index/image:Image") == []
    assert registry.image is None
    lookups = [i for i in mocks.invokes if i.token == "aws:ecr/getImage:getImage"]
    assert len(lookups) == 1
    assert lookups[0].args["repositoryName"] == "booking-dev-api"
    assert lookups[0].args["imageTag"] == "v1.4.2"
    assert not [i for i in mocks.invokes if i.token == "aws:ecr/getAuthorizationToken:getAuthorizationToken"]

    digest = lookups[0].result["imageDigest"]
    assert digest.startswith("sha256:")
    assert values["image_tag"] == "v1.4.2"
    assert values["image_digest"] == digest
    assert values["image_uri"] == f"{REGISTRY_HOST}/booking-dev-api@{digest}"
    assert DIGEST_URI.match(values["image_uri"])


def test_a_tag_mode_run_does_not_need_a_build_context(tmp_path: Path) -> None:
    # CI deploys a pushed tag from a checkout; the context path is not read in that mode.
    args = _args(tmp_path / "nowhere", image_tag="v2")
    mocks, values, _ = _run(args)
    (lookup,) = [i for i in mocks.invokes if i.token == "aws:ecr/getImage:getImage"]
    assert values["image_uri"].endswith("@" + lookup.result["imageDigest"])
