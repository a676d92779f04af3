"""Helpers the delivery workflows (.github/workflows) and the runbook call: `python -m stacks.delivery …`.

    platforms                       Docker platforms to build: every stack's service.architecture
    repository --stack S            the stack's ECR repository name (as the program names it)
    deployed-tag  < history.json    the image tag of the stack's last successful update ("" if none)
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
    """A value from an update's recorded config; objects may be recorded as JSON strings."""
    entry = config.get(key)
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
    repository = commands.add_parser("repository", help="the stack's ECR repository name")
    repository.add_argument("--stack", required=True)
    deployed = commands.add_parser(
        "deployed-tag", help="image tag of the last successful update (history on stdin)"
    )
    deployed.add_argument("--previous", action="store_true", help="the tag before it: the rollback target")
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
    if args.command == "repository":
        print(repository_name(args.stack))
        return 0
    history = json.load(sys.stdin)
    if args.command == "deployed-tag":
        print(previous_image_tag(history) if args.previous else deployed_image_tag(history))
    elif args.command == "summary":
        print(summary_line(history, stack=args.stack, actor=args.actor, commit=args.commit))
    else:
        print(json.dumps(message_attributes(history, stack=args.stack)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
