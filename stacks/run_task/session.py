"""Put the runner together: declared task -> plan -> local Secrets Manager -> podman run.

`open_task` is what both `python -m stacks.run_task` and the container tests use, so the tests start
the container only the way the declared task definition says.
"""

from __future__ import annotations

import contextlib
import json
import platform
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

from stacks.run_task import declared as declared_mod
from stacks.run_task.declared import DbTarget, DeclaredTask, redirect_database
from stacks.run_task.plan import PlanError, RunPlan, image_info, plan_task
from stacks.run_task.runner import TaskRun, inspect_image
from stacks.run_task.secrets import SecretsStandIn

_ARCH = {"x86_64": "X86_64", "amd64": "X86_64", "aarch64": "ARM64", "arm64": "ARM64"}

# Always true of a local run, whatever the task definition says (docs/run-task.md "What is not emulated").
STANDING_NOTES = (
    "IAM is not emulated: neither the task execution role (the runner reads the secrets itself) nor the "
    "task role (the container gets stand-in credentials for the local Secrets Manager)",
    "networking: the container shares the host's network namespace instead of its own ENI (awsvpc); "
    "security groups, the ALB and its target-group health checks are not emulated",
    "the ECS service scheduler is not emulated: an UNHEALTHY task is reported, not replaced, and there "
    "is no deployment circuit breaker",
    "task cpu and memory are applied as podman --cpus/--memory (CFS quota and cgroup limit) on this host's "
    "CPUs, which are not Fargate's; Fargate platform version specifics are not modelled",
)


@dataclass
class LocalTask:
    declared: DeclaredTask
    plan: RunPlan
    run: TaskRun
    secrets: SecretsStandIn
    notes: list[str]


def platform_notes(task_definition: Mapping[str, object], inspected: Mapping[str, object]) -> list[str]:
    runtime = task_definition.get("runtimePlatform") or {}
    wanted = str(runtime.get("cpuArchitecture", "X86_64")) if isinstance(runtime, dict) else "X86_64"
    host = _ARCH.get(platform.machine().lower(), platform.machine())
    image_arch = _ARCH.get(str(inspected.get("Architecture", "")).lower(), str(inspected.get("Architecture")))
    notes = []
    if wanted != host or image_arch != wanted:
        notes.append(
            f"runtimePlatform.cpuArchitecture {wanted} is not emulated: the image is {image_arch} and runs "
            f"natively on this {host} host (app/Dockerfile has no architecture-specific step)"
        )
    return notes


def seed_secrets(
    stand_in: SecretsStandIn, task: DeclaredTask, db: DbTarget | None, given: Mapping[str, str]
) -> list[str]:
    """Fill the local Secrets Manager: --db credentials for RDS-managed secrets, the stack's own
    SecretVersion values, and values given explicitly (which win). Returns notes."""
    values: dict[str, str] = dict(task.stack_secret_strings)
    notes = []
    if task.stack_secret_strings:
        notes.append(
            "secrets the stack generates (" + ", ".join(sorted(task.stack_secret_strings)) + ") hold the "
            "offline run's stand-in values"
        )
    for database in task.databases:
        for arn in database.secret_arns:
            if db is not None:
                # RDS-managed master secret: JSON with `username` and `password` (RDS user guide,
                # "Password management with Amazon RDS and AWS Secrets Manager").
                values[arn] = json.dumps({"username": db.username, "password": db.password})
                notes.append(f"RDS-managed secret {arn} holds the --db credentials")
    values.update(given)
    for arn, value in values.items():
        stand_in.put(arn, value)
    return notes


def resolve_environment(
    plan: RunPlan, task: DeclaredTask, stand_in: SecretsStandIn, db: DbTarget | None
) -> tuple[dict[str, str], list[str]]:
    environment, notes = dict(plan.environment), []
    if db is not None:
        for database in task.databases:
            environment, changed = redirect_database(environment, database, db)
            notes += changed
    for name, ref in plan.secrets.items():
        try:
            environment[name] = stand_in.resolve(ref)
        except Exception as exc:
            raise PlanError(
                f"secret {name}: cannot resolve valueFrom {ref.secret_id} from the local Secrets Manager "
                f"({exc}); "
                "pass its value with --secret ARN=VALUE"
            ) from exc
    # "Amazon ECS environment variables": ECS sets these in every Fargate task; a variable the task
    # definition declares wins (AWS_REGION "overrides the AWS_DEFAULT_REGION").
    for key, value in ecs_environment(task.region).items():
        environment.setdefault(key, value)
    extra = stand_in.container_environment()
    environment.update(extra)
    notes.append(
        "added for the local Secrets Manager (stand-in for the task role and the AWS endpoint): "
        + ", ".join(sorted(extra))
    )
    notes.append(
        "not set (no local equivalent): AWS_CONTAINER_CREDENTIALS_RELATIVE_URI, ECS_CONTAINER_METADATA_URI, "
        "ECS_CONTAINER_METADATA_URI_V4, ECS_AGENT_URI"
    )
    return environment, notes


def ecs_environment(region: str) -> dict[str, str]:
    """The plain-valued variables ECS itself sets for a task on Fargate."""
    return {"AWS_EXECUTION_ENV": "AWS_ECS_FARGATE", "AWS_DEFAULT_REGION": region, "AWS_REGION": region}


@contextlib.contextmanager
def open_task(
    stack: str,
    *,
    image: str,
    db: DbTarget | None,
    overrides: Mapping[str, object] | None = None,
    secret_values: Mapping[str, str] | None = None,
    echo: Callable[[str], None] = print,
    container: str | None = None,
    task: DeclaredTask | None = None,
) -> Iterator[LocalTask]:
    """Plan the stack's task for `image` and yield it ready to `run.start()`; cleans up on exit."""
    task = task or declared_mod.load(stack, overrides)
    inspected = inspect_image(image)
    plan = plan_task(task.task_definition, image_info(inspected), image_ref=image, container=container)
    stand_in = SecretsStandIn(task.region)
    run: TaskRun | None = None
    try:
        notes = list(plan.notes) + platform_notes(task.task_definition, inspected) + list(STANDING_NOTES)
        container_def = next(
            d
            for d in json.loads(str(task.task_definition["containerDefinitions"]))
            if d["name"] == plan.container_name
        )
        if container_def.get("image") != image:
            notes.append(f"image: declared {container_def.get('image')}, running the local build {image}")
        notes += seed_secrets(stand_in, task, db, secret_values or {})
        environment, env_notes = resolve_environment(plan, task, stand_in, db)
        notes += env_notes
        run = TaskRun(plan, environment, echo=echo)
        for line in notes:
            run.note(f"note: {line}")
        yield LocalTask(task, plan, run, stand_in, notes)
    finally:
        if run is not None:
            run.close()
        stand_in.stop()
