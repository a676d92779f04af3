"""Task definition → podman run plan: the pure half of the local task runner (no subprocesses).

Every Fargate behaviour reproduced here names its AWS source (ECS developer guide page titles and the
ECS API reference, as shipped in botocore's `ecs/*/service-2.json` docstrings). The runner
(`stacks/run_task/runner.py`) turns a `RunPlan` into podman calls.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from stacks.run_task.health import HealthCheckSpec, health_check_spec

# ECS API reference, ContainerDefinition.stopTimeout: "For tasks that use the Fargate launch type, the
# max stop timeout value is 120 seconds and if the parameter is not specified, the default value of
# 30 seconds is used."
FARGATE_DEFAULT_STOP_TIMEOUT = 30
FARGATE_MAX_STOP_TIMEOUT = 120
# ECS developer guide, "Use bind mounts with Amazon ECS": "By default, the volume permissions are set
# to 0755 and the owner as root."
BIND_MOUNT_DEFAULT_MODE = 0o755
BIND_MOUNT_DEFAULT_OWNER = (0, 0)


class PlanError(ValueError):
    """The task definition asks for something this runner cannot run at all."""


@dataclass(frozen=True)
class TaskVolume:
    """One task volume used by the container, and how Fargate would initialise it."""

    name: str
    container_path: str
    read_only: bool
    copy_from_image: bool
    """True when the image declares `VOLUME` at `container_path` (its content and ownership are copied
    in); else the volume starts as an empty root:root 0755 directory."""


@dataclass(frozen=True)
class SecretRef:
    """A parsed `secrets[].valueFrom` pointing at Secrets Manager."""

    secret_id: str
    """The secret's ARN (without the json-key/version suffix), as passed to GetSecretValue."""
    json_key: str | None
    version_stage: str | None
    version_id: str | None


@dataclass(frozen=True)
class ImageInfo:
    """What the runner needs from `podman image inspect`."""

    user: str = ""
    working_dir: str = ""
    volumes: frozenset[str] = frozenset()
    stop_signal: str = ""


@dataclass(frozen=True)
class RunPlan:
    container_name: str
    image: str
    essential: bool
    user: str | None
    read_only_root: bool
    working_directory: str | None
    init_process: bool
    stop_timeout: int
    environment: dict[str, str]
    """`environment` exactly as declared (the runner adds resolved `secrets` and its own stand-ins)."""
    secrets: dict[str, SecretRef]
    volumes: tuple[TaskVolume, ...]
    tmpfs: tuple[tuple[str, str], ...]
    """(containerPath, podman --tmpfs options) from `linuxParameters.tmpfs`."""
    ports: tuple[tuple[int, str], ...]
    """(containerPort, protocol) from `portMappings`."""
    ulimits: tuple[tuple[str, int, int], ...]
    entry_point: tuple[str, ...] | None
    command: tuple[str, ...] | None
    health_check: HealthCheckSpec | None
    cpu_units: int | None
    memory_mib: int | None
    notes: tuple[str, ...] = field(default_factory=tuple)
    """What the runner does not reproduce for this task definition, one line each."""


def parse_value_from(value_from: str) -> SecretRef:
    """Split `valueFrom` the way ECS reads it.

    ECS developer guide, "Pass Secrets Manager secrets through Amazon ECS environment variables": the
    full form is
    `arn:aws:secretsmanager:region:aws_account_id:secret:secret-name:json-key:version-stage:version-id`;
    an omitted json-key injects the whole SecretString, omitted stage/id mean AWSCURRENT. A secret ARN
    has 7 colon-separated fields; the optional three follow it.
    """
    parts = value_from.split(":")
    if value_from.startswith("arn:") and len(parts) >= 7 and parts[2] == "secretsmanager":
        arn = ":".join(parts[:7])
        extra = parts[7:]
        if len(extra) not in (0, 3):
            raise PlanError(
                f"valueFrom {value_from!r}: after the secret ARN ECS expects exactly "
                "`:json-key:version-stage:version-id` (each part may be empty)"
            )
        key, stage, version = [*extra, "", "", ""][:3]
        return SecretRef(arn, key or None, stage or None, version or None)
    if value_from.startswith("arn:") and len(parts) >= 3 and parts[2] == "ssm":
        raise PlanError(f"valueFrom {value_from!r}: SSM Parameter Store secrets are not supported here")
    raise PlanError(f"valueFrom {value_from!r} is not a Secrets Manager ARN")


def secret_value(ref: SecretRef, secret_string: str) -> str:
    """What ECS injects for `ref` given the secret's SecretString (the whole string, or one JSON key)."""
    if ref.json_key is None:
        return secret_string
    try:
        document = json.loads(secret_string)
    except ValueError as exc:
        raise PlanError(
            f"secret {ref.secret_id} is not JSON, so json-key {ref.json_key!r} cannot be read"
        ) from exc
    if not isinstance(document, dict) or ref.json_key not in document:
        raise PlanError(f"secret {ref.secret_id} has no JSON key {ref.json_key!r}")
    value = document[ref.json_key]
    return value if isinstance(value, str) else json.dumps(value)


def image_info(inspected: Mapping[str, Any]) -> ImageInfo:
    """The fields of one `podman image inspect` entry the plan depends on."""
    config = inspected.get("Config") or {}
    return ImageInfo(
        user=str(config.get("User") or ""),
        working_dir=str(config.get("WorkingDir") or ""),
        volumes=frozenset((config.get("Volumes") or {}).keys()),
        stop_signal=str(config.get("StopSignal") or ""),
    )


def _container_definitions(task_definition: Mapping[str, Any]) -> list[dict[str, Any]]:
    raw = task_definition.get("containerDefinitions")
    definitions = json.loads(raw) if isinstance(raw, str) else raw
    if not isinstance(definitions, list) or not definitions:
        raise PlanError("the task definition has no containerDefinitions")
    return definitions


def plan_task(
    task_definition: Mapping[str, Any], image: ImageInfo, *, image_ref: str, container: str | None = None
) -> RunPlan:
    """The run plan for one container of a declared `aws.ecs.TaskDefinition` (its camelCase inputs)."""
    definitions = _container_definitions(task_definition)
    if container is None:
        if len(definitions) != 1:
            names = [d.get("name") for d in definitions]
            raise PlanError(f"the task has {len(definitions)} containers {names}: name the one to run")
        definition = definitions[0]
    else:
        found = [d for d in definitions if d.get("name") == container]
        if not found:
            raise PlanError(f"no container named {container!r} in the task definition")
        definition = found[0]
    notes: list[str] = []
    if len(definitions) > 1:
        notes.append(f"only container {definition['name']!r} runs; the task's other containers do not")

    if "FARGATE" not in (task_definition.get("requiresCompatibilities") or []):
        notes.append("the task definition does not require FARGATE; it is run with Fargate semantics anyway")
    if task_definition.get("networkMode", "awsvpc") != "awsvpc":
        raise PlanError("Fargate tasks must use networkMode awsvpc")

    stop_timeout = int(definition.get("stopTimeout") or FARGATE_DEFAULT_STOP_TIMEOUT)
    if not 0 <= stop_timeout <= FARGATE_MAX_STOP_TIMEOUT:
        raise PlanError(f"stopTimeout {stop_timeout} is outside Fargate's 0-{FARGATE_MAX_STOP_TIMEOUT} s")

    for mapping in definition.get("portMappings") or []:
        # PortMapping.hostPort: with awsvpc "the hostPort can either be left blank or set to the same
        # value as the containerPort".
        if mapping.get("hostPort") not in (None, mapping.get("containerPort")):
            raise PlanError(f"portMappings: awsvpc needs hostPort == containerPort, got {mapping}")

    linux = definition.get("linuxParameters") or {}
    plan_notes = notes + _unsupported_notes(definition, linux)
    return RunPlan(
        container_name=str(definition["name"]),
        image=image_ref,
        essential=bool(definition.get("essential", True)),
        # ContainerDefinition.user: "The user to use inside the container" (overrides the image's USER).
        user=str(definition["user"]) if definition.get("user") else None,
        read_only_root=bool(definition.get("readonlyRootFilesystem", False)),
        working_directory=definition.get("workingDirectory") or None,
        init_process=bool(linux.get("initProcessEnabled", False)),
        stop_timeout=stop_timeout,
        environment={e["name"]: str(e["value"]) for e in definition.get("environment") or []},
        secrets={s["name"]: parse_value_from(s["valueFrom"]) for s in definition.get("secrets") or []},
        volumes=_volumes(task_definition, definition, image),
        tmpfs=tuple(_tmpfs(t) for t in linux.get("tmpfs") or []),
        ports=tuple(
            (int(p["containerPort"]), str(p.get("protocol", "tcp")))
            for p in definition.get("portMappings") or []
        ),
        ulimits=tuple(
            (str(u["name"]), int(u["softLimit"]), int(u["hardLimit"]))
            for u in definition.get("ulimits") or []
        ),
        entry_point=tuple(definition["entryPoint"]) if definition.get("entryPoint") else None,
        command=tuple(definition["command"]) if definition.get("command") else None,
        health_check=health_check_spec(definition["healthCheck"]) if definition.get("healthCheck") else None,
        cpu_units=int(task_definition["cpu"]) if task_definition.get("cpu") else None,
        memory_mib=int(task_definition["memory"]) if task_definition.get("memory") else None,
        notes=tuple(plan_notes),
    )


def _volumes(
    task_definition: Mapping[str, Any], definition: Mapping[str, Any], image: ImageInfo
) -> tuple[TaskVolume, ...]:
    declared = {v["name"]: v for v in task_definition.get("volumes") or []}
    volumes = []
    for mount in definition.get("mountPoints") or []:
        name = mount["sourceVolume"]
        if name not in declared:
            raise PlanError(f"mountPoints names volume {name!r}, which the task definition does not declare")
        volume = declared[name]
        other = sorted(k for k in volume if k != "name" and volume[k])
        if other:
            raise PlanError(
                f"volume {name!r} uses {other}: only plain task (bind mount) volumes are supported"
            )
        path = mount["containerPath"]
        volumes.append(
            TaskVolume(
                name=name,
                container_path=path,
                read_only=bool(mount.get("readOnly", False)),
                # "Use bind mounts with Amazon ECS": to expose files from a Dockerfile to a data volume
                # "the Amazon ECS data plane looks for a VOLUME directive. If the absolute path that's
                # specified in the VOLUME directive is the same as the containerPath that's specified in
                # the task definition, the data in the VOLUME directive path is copied to the data volume."
                copy_from_image=path.rstrip("/") in {v.rstrip("/") for v in image.volumes},
            )
        )
    return tuple(volumes)


def _tmpfs(entry: Mapping[str, Any]) -> tuple[str, str]:
    # Tmpfs: containerPath, size (MiB), mountOptions (the tmpfs mount options).
    options = [f"size={int(entry['size'])}m", *(entry.get("mountOptions") or [])]
    return str(entry["containerPath"]), ",".join(options)


def _unsupported_notes(definition: Mapping[str, Any], linux: Mapping[str, Any]) -> list[str]:
    notes = []
    log = definition.get("logConfiguration") or {}
    if log.get("logDriver"):
        notes.append(
            f"logConfiguration {log['logDriver']} is not emulated: the container's stdout/stderr stay in "
            "`podman logs` instead of going to "
            + str((log.get("options") or {}).get("awslogs-group", "the log destination"))
        )
    for key in ("dependsOn", "environmentFiles", "firelensConfiguration", "repositoryCredentials"):
        if definition.get(key):
            notes.append(f"{key} is not emulated")
    for key in ("capabilities", "devices", "sharedMemorySize", "swappiness", "maxSwap"):
        if linux.get(key):
            notes.append(f"linuxParameters.{key} is not emulated")
    return notes
