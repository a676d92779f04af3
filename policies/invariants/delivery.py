"""Delivery invariants: what runs and how it is rolled out (non-root, read-only, digest-pinned containers,
secrets by reference, ECS rollback, no public task IPs)."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from policies.invariants.core import (
    ECS_SERVICE,
    NAT_GATEWAY,
    TASK_DEFINITION,
    Inventory,
    ResourceRecord,
    Violation,
    as_list,
    invariant,
    is_exactly,
    is_unknown,
    parse_json,
    report,
)

# --- containers ------------------------------------------------------------------------------------------
_SECRET_NAME = re.compile(
    r"(PASSWORD|PASSWD|SECRET|TOKEN|PRIVATE_?KEY|ACCESS_?KEY|API_?KEY|CREDENTIAL)", re.I
)
# A name that *refers* to a secret (its ARN, its id, a file path) is fine: the value is not the secret.
_SECRET_REFERENCE_SUFFIX = re.compile(r"_(ARN|ID|NAME|FILE|PATH|URL|TTL\w*|MINUTES|SECONDS)$", re.I)
_SECRET_VALUE = re.compile(r"(AKIA[0-9A-Z]{16}|-----BEGIN [A-Z ]*PRIVATE KEY-----)")


def container_definitions(task: ResourceRecord) -> list[Mapping[str, Any]] | None:
    raw = task.props.get("containerDefinitions")
    if is_unknown(raw):
        return None
    parsed = parse_json(raw)
    if not isinstance(parsed, list):
        return None
    return [c for c in parsed if isinstance(c, Mapping)]


def _is_root_user(user: object) -> bool:
    if user is None or user == "":
        return True
    name = str(user).split(":", 1)[0]
    return name in ("0", "root")


def _containers(inv: Inventory) -> Iterator[tuple[ResourceRecord, Mapping[str, Any]]]:
    for task in inv.of_type(TASK_DEFINITION):
        for container in container_definitions(task) or []:
            yield task, container


@invariant("task-non-root", "Containers run as a non-root user.", [TASK_DEFINITION])
def _task_non_root(inv: Inventory) -> Iterator[Violation]:
    for task, c in _containers(inv):
        if _is_root_user(c.get("user")):
            yield report(
                "task-non-root", task, f"container '{c.get('name')}' runs as root (user {c.get('user')!r})"
            )


@invariant("task-read-only-root-fs", "Containers have a read-only root filesystem.", [TASK_DEFINITION])
def _task_read_only(inv: Inventory) -> Iterator[Violation]:
    for task, c in _containers(inv):
        if c.get("readonlyRootFilesystem") is not True:
            yield report(
                "task-read-only-root-fs", task, f"container '{c.get('name')}' has a writable root filesystem"
            )


@invariant(
    "task-image-by-digest", "Container images are pinned by digest (repo@sha256:...).", [TASK_DEFINITION]
)
def _task_digest(inv: Inventory) -> Iterator[Violation]:
    for task, c in _containers(inv):
        image = c.get("image")
        if not isinstance(image, str) or not re.search(r"@sha256:[0-9a-f]{64}$", image):
            yield report(
                "task-image-by-digest",
                task,
                f"container '{c.get('name')}' image {image!r} is not pinned by digest",
            )


@invariant(
    "task-no-plaintext-secrets",
    "No secret-looking value is passed as a plain container environment variable (use ECS `secrets`).",
    [TASK_DEFINITION],
)
def _task_secrets(inv: Inventory) -> Iterator[Violation]:
    for task, c in _containers(inv):
        for entry in as_list(c.get("environment")):
            if not isinstance(entry, Mapping):
                continue
            name, value = str(entry.get("name", "")), str(entry.get("value", ""))
            secret_name = _SECRET_NAME.search(name) and not _SECRET_REFERENCE_SUFFIX.search(name)
            if secret_name or _SECRET_VALUE.search(value):
                yield report(
                    "task-no-plaintext-secrets",
                    task,
                    f"container '{c.get('name')}' environment variable {name} looks like a secret; "
                    "inject it through `secrets` from Secrets Manager",
                )


@invariant(
    "ecs-deployment-rollback",
    "ECS services use the deployment circuit breaker with automatic rollback.",
    [ECS_SERVICE],
)
def _ecs_rollback(inv: Inventory) -> Iterator[Violation]:
    for svc in inv.of_type(ECS_SERVICE):
        breaker = svc.props.get("deploymentCircuitBreaker")
        if is_unknown(breaker):
            continue
        if (
            not isinstance(breaker, Mapping)
            or breaker.get("enable") is not True
            or breaker.get("rollback") is not True
        ):
            yield report(
                "ecs-deployment-rollback",
                svc,
                "deploymentCircuitBreaker must have enable and rollback set to true",
            )


@invariant(
    "ecs-no-public-ip",
    "Tasks get no public IP when the VPC has NAT gateways for egress.",
    [ECS_SERVICE, NAT_GATEWAY],
    cross_resource=True,
)
def _ecs_public_ip(inv: Inventory) -> Iterator[Violation]:
    if not inv.of_type(NAT_GATEWAY):
        return
    for svc in inv.of_type(ECS_SERVICE):
        network = svc.props.get("networkConfiguration")
        if isinstance(network, Mapping) and is_exactly(network.get("assignPublicIp"), True):
            yield report(
                "ecs-no-public-ip", svc, "assignPublicIp is true although NAT gateways provide egress"
            )
