"""ECR repository and the API image, always handed on as `repo@sha256:…`.

Two ways to get the image (`RegistryArgs.image_tag`):

* `""`: build the build context with pulumi-docker for the service's CPU architecture and push it to the
  repository during `pulumi up` (needs a Docker daemon where Pulumi runs).
* a tag: an image CI already pushed; the tag is resolved to its digest at deploy time.

Either way the task definition gets a digest, so a new image is a new task-definition revision and a
rolling deployment, and a tag can never silently point somewhere else.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pulumi
import pulumi_aws as aws
import pulumi_docker as docker
from docker.utils.build import PatternMatcher

from components.types import DOCKER_TAG, Architecture

# ECS `runtimePlatform.cpuArchitecture` value → Docker/OCI platform string.
_PLATFORMS: dict[str, str] = {"arm64": "linux/arm64", "x86_64": "linux/amd64"}

# ECR repository name grammar (CreateRepository API).
_REPOSITORY_RE = re.compile(r"^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$")
_DIGEST_RE = re.compile(r"^sha256:[0-9a-f]{64}$")

BUILD_TAG_PREFIX = "build-"


def docker_platform(architecture: str) -> str:
    """The Docker platform to build for an ECS CPU architecture (`arm64` → `linux/arm64`)."""
    try:
        return _PLATFORMS[architecture]
    except KeyError:
        raise ValueError(
            f"architecture = {architecture!r} is invalid: must be one of {', '.join(_PLATFORMS)}"
        ) from None


def lifecycle_policy(untagged_expire_days: int, keep_last_images: int) -> str:
    """ECR lifecycle policy: expire untagged images after N days, keep only the last N images.

    The `any` rule must have the highest `rulePriority` (ECR evaluates it last), so untagged images are
    first handled by the age rule and the count rule caps everything else.
    """
    if untagged_expire_days < 1:
        raise ValueError(f"untagged_expire_days = {untagged_expire_days} is invalid: must be at least 1")
    if keep_last_images < 1:
        raise ValueError(f"keep_last_images = {keep_last_images} is invalid: must be at least 1")
    return json.dumps(
        {
            "rules": [
                {
                    "rulePriority": 1,
                    "description": f"Expire untagged images {untagged_expire_days} days after push",
                    "selection": {
                        "tagStatus": "untagged",
                        "countType": "sinceImagePushed",
                        "countUnit": "days",
                        "countNumber": untagged_expire_days,
                    },
                    "action": {"type": "expire"},
                },
                {
                    "rulePriority": 2,
                    "description": f"Keep only the last {keep_last_images} images",
                    "selection": {
                        "tagStatus": "any",
                        "countType": "imageCountMoreThan",
                        "countNumber": keep_last_images,
                    },
                    "action": {"type": "expire"},
                },
            ]
        },
        sort_keys=True,
    )


def digest_image_uri(repository_url: str, digest: str) -> str:
    """`<repository_url>@sha256:<hex>`; refuses anything that is not a sha256 digest."""
    if not _DIGEST_RE.match(digest):
        raise ValueError(f"image digest {digest!r} is not of the form sha256:<64 hex digits>")
    return f"{repository_url}@{digest}"


def digest_of_repo_digest(repo_digest: str) -> str:
    """The `sha256:…` part of a `repo@sha256:…` reference (what pulumi-docker's `repoDigest` is)."""
    _, sep, digest = repo_digest.rpartition("@")
    if not sep or not _DIGEST_RE.match(digest):
        raise ValueError(f"{repo_digest!r} is not a repo@sha256:<64 hex digits> reference")
    return digest


def _dockerignore_patterns(context: Path, dockerfile: Path) -> list[str]:
    # pulumi-docker reads `<context>/.dockerignore` for a Dockerfile named `Dockerfile`; for any other
    # name we ignore nothing, which can only make the tag change more often than needed, never less.
    ignore_file = context / ".dockerignore"
    if dockerfile.name != "Dockerfile" or not ignore_file.is_file():
        return []
    lines = (line.strip() for line in ignore_file.read_text().splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def build_tag(
    context: str | os.PathLike[str],
    dockerfile: str | os.PathLike[str],
    platform: str,
    build_args: Mapping[str, str] | None = None,
) -> str:
    """A tag that changes whenever pulumi-docker would rebuild the image.

    The repository's tags are immutable, so each build must push a tag that was never pushed before.
    pulumi-docker rebuilds and pushes when any of its inputs change: the content of the build context
    (minus `.dockerignore`), the Dockerfile, the platform, the build args, the paths. All of them go
    into this hash; extra inputs would only cost an extra build, a missing one a failed push.
    """
    context_path = Path(context)
    dockerfile_path = Path(dockerfile)
    if not context_path.is_dir():
        raise ValueError(f"build context {str(context_path)!r} is not a directory")
    if not dockerfile_path.is_file():
        raise ValueError(f"dockerfile {str(dockerfile_path)!r} is not a file")

    digest = hashlib.sha256()

    def feed(*parts: str | bytes) -> None:
        for part in parts:
            digest.update(part.encode() if isinstance(part, str) else part)
            digest.update(b"\0")

    feed("context", str(context), "dockerfile", str(dockerfile), "platform", platform)
    for key, value in sorted((build_args or {}).items()):
        feed("arg", key, value)
    feed("Dockerfile", hashlib.sha256(dockerfile_path.read_bytes()).hexdigest())

    matcher = PatternMatcher(_dockerignore_patterns(context_path, dockerfile_path))
    for relative in sorted(matcher.walk(str(context_path))):
        full = context_path / relative
        mode = full.lstat().st_mode
        if stat.S_ISLNK(mode):
            content = os.readlink(full).encode()
        elif stat.S_ISREG(mode):
            content = hashlib.sha256(full.read_bytes()).digest()
        else:
            continue
        feed(Path(relative).as_posix(), oct(mode), content)
    return BUILD_TAG_PREFIX + digest.hexdigest()[:20]


@dataclass(frozen=True)
class RegistryArgs:
    """Settings for the ECR repository and the image the service runs.

    name_prefix: physical-name prefix, e.g. `booking-dev`; the repository is `<name_prefix>-api`.
    image_tag: `""` builds and pushes `build_context`; otherwise an existing tag in the repository.
    architecture: ECS CPU architecture of the service (`arm64` | `x86_64`); the build targets it.
    build_context: Docker build context (absolute path recommended; the repo root).
    dockerfile: Dockerfile path (absolute, or relative to where Pulumi runs).
    build_args: Docker build args, e.g. `{"PYTHON_IMAGE": …}`; empty uses the Dockerfile defaults.
    keep_last_images: how many images the lifecycle policy keeps.
    untagged_expire_days: days after which untagged images (superseded layers/manifests) expire.
    force_delete: let `pulumi destroy` delete the repository with its images (dev only).
    """

    name_prefix: str
    image_tag: str
    architecture: Architecture
    build_context: str
    dockerfile: str
    build_args: Mapping[str, str] = field(default_factory=dict)
    keep_last_images: int = 20
    untagged_expire_days: int = 7
    force_delete: bool = False

    def __post_init__(self) -> None:
        repository = self.repository_name
        if not _REPOSITORY_RE.match(repository) or not 2 <= len(repository) <= 256:
            raise ValueError(
                f"name_prefix = {self.name_prefix!r} is invalid: the repository name {repository!r} must be "
                "2-256 lowercase letters, digits and . _ - / separators"
            )
        if self.image_tag and not DOCKER_TAG.match(self.image_tag):
            raise ValueError(
                f"image_tag = {self.image_tag!r} is invalid: must be empty (build and push) or a Docker tag "
                "(letters, digits, _ . -, at most 128 characters, not starting with . or -)"
            )
        docker_platform(self.architecture)
        if self.keep_last_images < 1:
            raise ValueError(f"keep_last_images = {self.keep_last_images} is invalid: must be at least 1")
        if self.untagged_expire_days < 1:
            raise ValueError(
                f"untagged_expire_days = {self.untagged_expire_days} is invalid: must be at least 1"
            )

    @property
    def repository_name(self) -> str:
        return f"{self.name_prefix}-api"

    @property
    def platform(self) -> str:
        return docker_platform(self.architecture)


class Registry(pulumi.ComponentResource):
    """ECR repository (scan on push, immutable tags, encrypted, lifecycle) and the image digest."""

    repository: aws.ecr.Repository
    image: docker.Image | None
    repository_url: pulumi.Output[str]
    repository_name: pulumi.Output[str]
    repository_arn: pulumi.Output[str]
    image_tag: pulumi.Output[str]
    image_digest: pulumi.Output[str]
    image_uri: pulumi.Output[str]

    def __init__(self, name: str, args: RegistryArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("booking:components:Registry", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        self.repository = aws.ecr.Repository(
            f"{name}-repo",
            name=args.repository_name,
            image_tag_mutability="IMMUTABLE",
            image_scanning_configuration=aws.ecr.RepositoryImageScanningConfigurationArgs(scan_on_push=True),
            # AES256: encrypted at rest without a KMS key that every puller must be granted.
            encryption_configurations=[
                aws.ecr.RepositoryEncryptionConfigurationArgs(encryption_type="AES256")
            ],
            force_delete=args.force_delete,
            opts=child,
        )
        aws.ecr.LifecyclePolicy(
            f"{name}-lifecycle",
            repository=self.repository.name,
            policy=lifecycle_policy(args.untagged_expire_days, args.keep_last_images),
            opts=child,
        )
        self.repository_url = self.repository.repository_url
        self.repository_name = self.repository.name
        self.repository_arn = self.repository.arn

        if args.image_tag:
            self.image = None
            pushed = aws.ecr.get_image_output(
                repository_name=self.repository.name,
                registry_id=self.repository.registry_id,
                image_tag=args.image_tag,
                opts=pulumi.InvokeOutputOptions(parent=self, depends_on=[self.repository]),
            )
            self.image_tag = pulumi.Output.from_input(args.image_tag)
            self.image_digest = pushed.image_digest
        else:
            tag = build_tag(args.build_context, args.dockerfile, args.platform, args.build_args)
            self.image = self._build_and_push(name, args, tag)
            self.image_tag = pulumi.Output.from_input(tag)
            self.image_digest = self.image.repo_digest.apply(digest_of_repo_digest)

        self.image_uri = pulumi.Output.all(self.repository_url, self.image_digest).apply(
            lambda values: digest_image_uri(values[0], values[1])
        )

        self.register_outputs(
            {
                "repository_url": self.repository_url,
                "repository_name": self.repository_name,
                "repository_arn": self.repository_arn,
                "image_tag": self.image_tag,
                "image_digest": self.image_digest,
                "image_uri": self.image_uri,
            }
        )

    def _build_and_push(self, name: str, args: RegistryArgs, tag: str) -> docker.Image:
        token = aws.ecr.get_authorization_token_output(
            registry_id=self.repository.registry_id,
            opts=pulumi.InvokeOutputOptions(parent=self),
        )
        return docker.Image(
            f"{name}-image",
            image_name=self.repository.repository_url.apply(lambda url: f"{url}:{tag}"),
            build=docker.DockerBuildArgs(
                context=args.build_context,
                dockerfile=args.dockerfile,
                platform=args.platform,
                args=dict(args.build_args) or None,
                builder_version=docker.BuilderVersion.BUILDER_BUILD_KIT,
            ),
            registry=docker.RegistryArgs(
                # The registry host, not the repository path: that is what `docker login` takes.
                server=self.repository.repository_url.apply(lambda url: url.split("/", 1)[0]),
                username=token.user_name,
                password=pulumi.Output.secret(token.password),
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
