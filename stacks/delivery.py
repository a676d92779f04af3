"""Helpers the delivery workflows (.github/workflows) and the runbook call: `python -m stacks.delivery …`.

    platforms                       Docker platforms to build: every stack's service.architecture
    build-runner                    the GitHub runner label that builds those platforms natively
    repository --stack S            the stack's ECR repository name (as the program names it)
    secrets-check --stack S         fails when the stack would fall back to the passphrase provider
    deployed-tag  < history.json    the image tag of the stack's last successful update ("" if none)
    deployed-tag --require          the same, but exit 3 with a clear message when nothing is deployed
    deployed-tag --previous         the tag before that one: what a rollback puts back
    summary       < history.json    one line: stack, actor, commit, result, resources changed
    attributes    < history.json    SNS message attributes for that line (as `aws sns publish` wants)

`history.json` is `pulumi stack history --json --page-size N` of the stack. Everything here is a pure
function of its input, so the tests exercise it without Pulumi, AWS or GitHub.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from components.registry import RegistryArgs, docker_platform
from stacks.settings._base import NAMESPACE
from stacks.settings.stack import parse_settings

REPO_ROOT = Path(__file__).resolve().parent.parent
PROJECT = "booking"

# Operation names in `resourceChanges`, in the order a reader cares about them, and how to say them.
_VERB = {"update": "up"}  # history says "update" for what people type as `pulumi up`
_CHANGES = {
    "create": "created",
    "update": "updated",
    "replace": "replaced",
    "delete": "deleted",
    "import": "imported",
}


def stack_config(stack: str, root: Path = REPO_ROOT) -> dict[str, Any]:
    """`Pulumi.<stack>.yaml`'s config, keys as in the file (`booking:service`, `aws:region`)."""
    document = yaml.safe_load((root / f"Pulumi.{stack}.yaml").read_text()) or {}
    config = document.get("config") or {}
    if not isinstance(config, dict):
        raise ValueError(f"Pulumi.{stack}.yaml: config must be a mapping")
    return config


def stacks_in(root: Path = REPO_ROOT) -> list[str]:
    return sorted(path.name[len("Pulumi.") : -len(".yaml")] for path in root.glob("Pulumi.*.yaml"))


def image_platforms(stacks: Iterable[str], root: Path = REPO_ROOT) -> list[str]:
    """One image serves every stack, so it is built for each architecture any stack runs on."""
    platforms = {
        docker_platform(parse_settings(PROJECT, stack, stack_config(stack, root)).service.architecture)
        for stack in stacks
    }
    return sorted(platforms)


def repository_name(stack: str, root: Path = REPO_ROOT) -> str:
    """The stack's ECR repository name, derived exactly as the program derives it.

    For the deploy workflow's first prod run: a targeted `pulumi up` creates the repository but does
    not write stack outputs, so `ecrRepositoryUrl` is not there yet.
    """
    settings = parse_settings(PROJECT, stack, stack_config(stack, root))
    args = RegistryArgs(
        name_prefix=settings.names.base,
        image_tag=settings.image.tag,
        architecture=settings.service.architecture,
        build_context="app",
        dockerfile="app/Dockerfile",
    )
    return args.repository_name


# --- secrets provider -------------------------------------------------------------------------------
#
# How the CLI picks a stack's secrets manager (pulumi/pulumi pkg/cmd/pulumi/stack/secrets.go,
# `GetSecretsManager`): a `secretsprovider` other than "", "default" or "passphrase" → the cloud (KMS)
# provider; else an `encryptionsalt` → the passphrase provider; else the backend's default, which for a
# self-managed (S3) backend is the passphrase provider (pkg/backend/diy/backend.go,
# `DefaultSecretManager`), i.e. a prompt for PULUMI_CONFIG_PASSPHRASE. The cloud provider without an
# `encryptedkey` makes a new data key with `kms:Encrypt` on every run (pkg/secrets/cloud/manager.go,
# `NewCloudSecretsManager`): the read-only preview roles may only Decrypt, and `secure:` config values
# written with a throw-away key could never be read again.

_PASSPHRASE_PROVIDERS = ("", "default", "passphrase")
BOOTSTRAP_EXAMPLE = Path("stacks/bootstrap/Pulumi.example.yaml")


def stack_file(stack: str, root: Path = REPO_ROOT) -> dict[str, Any]:
    document = yaml.safe_load((root / f"Pulumi.{stack}.yaml").read_text()) or {}
    if not isinstance(document, dict):
        raise ValueError(f"Pulumi.{stack}.yaml must be a mapping")
    return document


def expected_secrets_provider(stack: str, root: Path = REPO_ROOT) -> str:
    """The stack's own KMS key the bootstrap program creates (`awskms://alias/<alias>-<stack>?region=…`)."""
    from components.state_backend import secrets_provider_url, stack_key_alias
    from stacks.bootstrap.settings import parse as parse_bootstrap

    example = yaml.safe_load((root / BOOTSTRAP_EXAMPLE).read_text())["config"]
    raw = {key.split(":", 1)[1]: value for key, value in example.items() if key.startswith("booking:")}
    bootstrap = parse_bootstrap(raw, example.get("aws:region"))
    region = str(stack_config(stack, root).get("aws:region"))
    return secrets_provider_url(stack_key_alias(bootstrap.key_alias, stack), region)


def _secure_keys(value: object, path: str) -> list[str]:
    if isinstance(value, Mapping):
        if set(value) == {"secure"}:
            return [path]
        return [key for k, v in value.items() for key in _secure_keys(v, f"{path}.{k}")]
    if isinstance(value, list):
        return [key for i, v in enumerate(value) for key in _secure_keys(v, f"{path}[{i}]")]
    return []


def secrets_provider_problems(stack: str, root: Path = REPO_ROOT, *, require_key: bool = False) -> list[str]:
    """Why `Pulumi.<stack>.yaml` would not give the stack the bootstrap's KMS key ([] when it does)."""
    name = f"Pulumi.{stack}.yaml"
    document = stack_file(stack, root)
    provider = str(document.get("secretsprovider") or "")
    expected = expected_secrets_provider(stack, root)
    problems = []
    if provider in _PASSPHRASE_PROVIDERS:
        problems.append(
            f"{name} names no KMS `secretsprovider:` ({provider or 'none'}), so on the S3 backend "
            "Pulumi uses the passphrase provider and asks for PULUMI_CONFIG_PASSPHRASE; "
            f"set `secretsprovider: {expected}`"
        )
    elif provider != expected:
        problems.append(f"{name}: secretsprovider is {provider!r}, the bootstrap's key is {expected!r}")
    if document.get("encryptionsalt"):
        problems.append(f"{name} carries a passphrase `encryptionsalt`: remove it (the KMS key replaces it)")
    has_key = bool(document.get("encryptedkey"))
    secure = _secure_keys(document.get("config") or {}, "config")
    if secure and not has_key:
        problems.append(f"{name}: {', '.join(secure)} are secrets but the file has no `encryptedkey`")
    if require_key and not has_key:
        problems.append(
            f"{name} has no `encryptedkey`: run `pulumi stack init {stack} --secrets-provider "
            f"\"{expected}\"` once (docs/delivery-runbook.md, \"First run\") and commit the file; without "
            "it every run makes a new data key with kms:Encrypt, which the preview roles may not call"
        )
    return problems


# --- image build ----------------------------------------------------------------------------------

# GitHub's standard arm64 Linux runner: free for public repositories (GitHub changelog 2025-08-07,
# "arm64 hosted runners for public repositories are now generally available"); private repositories
# need an arm64 larger runner (GitHub Team / Enterprise Cloud) and set its label in ARM64_RUNNER.
ARM64_RUNNER = "ubuntu-24.04-arm"
X64_RUNNER = "ubuntu-24.04"


def build_runner(platforms: Sequence[str], arm64_runner: str = "") -> str:
    """The runner that builds `platforms` natively; any other platform in the list goes through QEMU."""
    if "linux/arm64" in platforms:
        return arm64_runner or ARM64_RUNNER
    return X64_RUNNER


def _updates(history: object) -> list[Mapping[str, Any]]:
    if not isinstance(history, list):
        raise ValueError("expected the JSON list `pulumi stack history --json` prints")
    return [u for u in history if isinstance(u, Mapping)]


def _latest(history: object) -> Mapping[str, Any]:
    updates = _updates(history)
    if not updates:
        raise ValueError("the stack has no update history yet")
    # Pulumi lists the newest update first; sort anyway so a reordering cannot pick an old one.
    return max(updates, key=lambda u: int(u.get("version", 0)))


def _config_value(config: Mapping[str, Any], key: str) -> Any:
    """A value from an update's recorded config.

    `pulumi stack history --json` (pkg/cmd/pulumi/stack/stack_history.go, `configValueJSON`) prints each
    key as `{"value": <string>, "objectValue": <parsed object, objects only>, "secret": <bool>}`; an
    object's `value` is its JSON text, and a secret shown without --show-secrets has no `value`.
    """
    entry = config.get(key)
    if isinstance(entry, Mapping) and isinstance(entry.get("objectValue"), Mapping):
        return entry["objectValue"]
    value = entry.get("value") if isinstance(entry, Mapping) else entry
    if isinstance(value, str) and value[:1] == "{":
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _succeeded_tags(history: object) -> list[str]:
    """`booking:image.tag` of each successful `pulumi up`, newest first."""
    tags = []
    for update in sorted(_updates(history), key=lambda u: int(u.get("version", 0)), reverse=True):
        if update.get("kind") != "update" or update.get("result") != "succeeded":
            continue
        image = _config_value(update.get("config") or {}, f"{NAMESPACE}:image")
        tags.append(str(image.get("tag") or "") if isinstance(image, Mapping) else "")
    return tags


def deployed_image_tag(history: object) -> str:
    """The image tag of the newest successful `pulumi up`: what the service runs now ("" if none)."""
    tags = _succeeded_tags(history)
    return tags[0] if tags else ""


NOTHING_DEPLOYED_EXIT = 3  # `deployed-tag --require`: the workflows tell this apart from a crash


class NothingDeployed(ValueError):
    """The stack runs no image a tag can name: a preview pinned to "" would build `app/` instead."""


def pinned_image_tag(history: object, stack: str) -> str:
    """`deployed_image_tag`, refusing the cases where it is empty, with the reason.

    An empty tag sends the program down its build path (docker build, `ecr:GetAuthorizationToken`),
    which a read-only preview role may not take. It is empty before the stack's first successful `up`
    (history `[]`, only failed updates, only refreshes), and after an `up` that ran with the committed
    `image.tag: ""`: the runbook's targeted `up` that creates prod's repository, or dev's first `up`
    from a workstation, which built the image itself.
    """
    updates = _updates(history)
    if deployed_image_tag(history):
        return deployed_image_tag(history)
    succeeded = [u for u in updates if u.get("kind") == "update" and u.get("result") == "succeeded"]
    if not succeeded:
        seen = ", ".join(f"{u.get('kind')} {u.get('result')}" for u in updates[:5]) or "no update at all"
        reason = f"no successful `pulumi up` yet (history: {seen})"
    else:
        version = max(int(u.get("version", 0)) for u in succeeded)
        reason = (
            f"its last successful `pulumi up` (version {version}) ran with image.tag \"\": it built app/ "
            "itself or created only part of the stack"
        )
    raise NothingDeployed(
        f"{PROJECT} {stack}: no deployed image to preview against: {reason}. Its first image comes "
        "from the deploy workflow (docs/delivery-runbook.md, \"First run\"); until then there is nothing "
        "to pin, and a preview would try to build app/."
    )


def previous_image_tag(history: object) -> str:
    """The tag that ran before the current one: what a rollback puts back."""
    tags = _succeeded_tags(history)
    current = tags[0] if tags else ""
    for tag in tags[1:]:
        if tag and tag != current:
            return tag
    raise ValueError("no earlier successful update ran a different image tag (widen --page-size?)")


def changes_text(resource_changes: Mapping[str, Any] | None) -> str:
    changes = {k: int(v) for k, v in (resource_changes or {}).items() if isinstance(v, int | str)}
    changed = [f"{changes[op]} {done}" for op, done in _CHANGES.items() if changes.get(op)]
    unchanged = changes.get("same", 0)
    if not changed:
        return f"no resource changed ({unchanged} unchanged)"
    return f"{', '.join(changed)} ({unchanged} unchanged)"


def summary_line(history: object, *, stack: str, actor: str, commit: str) -> str:
    """`booking dev: pulumi up succeeded by @alice at 1a2b3c4 — 1 updated, 1 replaced (40 unchanged)`."""
    update = _latest(history)
    result = str(update.get("result", "unknown"))
    line = (
        f"{PROJECT} {stack}: pulumi {_VERB.get(str(update.get('kind')), update.get('kind'))} {result}"
        f" by @{actor} at {commit[:12]}"
        f" — {changes_text(update.get('resourceChanges'))}"
    )
    return " ".join(line.split())  # one line, whatever the inputs held


def message_attributes(history: object, *, stack: str) -> dict[str, dict[str, str]]:
    """Same attribute names the deploy notifier sets, so the `failures`-only filter works here too."""
    result = str(_latest(history).get("result", "unknown"))
    severity = "info" if result == "succeeded" else "error"
    return {
        name: {"DataType": "String", "StringValue": value}
        for name, value in {
            "environment": stack,
            "status": f"PULUMI_UP_{result.upper()}",
            "severity": severity,
            "source": "pulumi",
        }.items()
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m stacks.delivery", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    platforms = commands.add_parser("platforms", help="comma-separated Docker platforms for the image")
    platforms.add_argument("--stack", action="append", help="default: every Pulumi.<stack>.yaml")
    runner = commands.add_parser("build-runner", help="runner label that builds the platforms natively")
    runner.add_argument("--arm64-runner", default="", help=f"arm64 runner label (default {ARM64_RUNNER})")
    secrets = commands.add_parser("secrets-check", help="fail unless the stack uses the bootstrap's KMS key")
    secrets.add_argument("--stack", required=True)
    secrets.add_argument("--require-key", action="store_true", help="also require a committed encryptedkey")
    repository = commands.add_parser("repository", help="the stack's ECR repository name")
    repository.add_argument("--stack", required=True)
    deployed = commands.add_parser(
        "deployed-tag", help="image tag of the last successful update (history on stdin)"
    )
    deployed.add_argument("--previous", action="store_true", help="the tag before it: the rollback target")
    deployed.add_argument(
        "--require", action="store_true", help="exit 3 with the reason when no deployed image has a tag"
    )
    deployed.add_argument("--stack", default="the stack", help="for the --require message")
    summary = commands.add_parser("summary", help="one-line deploy summary (history on stdin)")
    summary.add_argument("--stack", required=True)
    summary.add_argument("--actor", required=True)
    summary.add_argument("--commit", required=True)
    attributes = commands.add_parser("attributes", help="SNS message attributes JSON (history on stdin)")
    attributes.add_argument("--stack", required=True)
    args = parser.parse_args(argv)

    if args.command == "platforms":
        print(",".join(image_platforms(args.stack or stacks_in())))
        return 0
    if args.command == "build-runner":
        print(build_runner(image_platforms(stacks_in()), args.arm64_runner))
        return 0
    if args.command == "repository":
        print(repository_name(args.stack))
        return 0
    if args.command == "secrets-check":
        problems = secrets_provider_problems(args.stack, require_key=args.require_key)
        for problem in problems:
            print(f"error: {problem}", file=sys.stderr)
        return 1 if problems else 0
    history = json.load(sys.stdin)
    if args.command == "deployed-tag" and args.require:
        try:
            print(pinned_image_tag(history, args.stack))
        except NothingDeployed as nothing:
            print(nothing, file=sys.stderr)
            return NOTHING_DEPLOYED_EXIT
    elif args.command == "deployed-tag":
        print(previous_image_tag(history) if args.previous else deployed_image_tag(history))
    elif args.command == "summary":
        print(summary_line(history, stack=args.stack, actor=args.actor, commit=args.commit))
    else:
        print(json.dumps(message_attributes(history, stack=args.stack)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
