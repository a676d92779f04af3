"""What the stack program declares for the API task, read from an offline run (`stacks.offline`).

Only `run_stack` and the run's resource list are used, so the offline runner can be reorganised freely.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

from stacks.offline import OfflineRun, run_stack

TASK_DEFINITION = "aws:ecs/taskDefinition:TaskDefinition"
RDS_INSTANCE = "aws:rds/instance:Instance"
SECRET_VERSION = "aws:secretsmanager/secretVersion:SecretVersion"  # noqa: S105 - a type token


class DeclarationError(RuntimeError):
    """The stack program failed offline, or does not declare what the runner needs."""


@dataclass(frozen=True)
class Database:
    """The RDS instance the task talks to, as declared (address/port/name) and its managed secret."""

    address: str
    port: int
    name: str
    secret_arns: tuple[str, ...]


@dataclass(frozen=True)
class DeclaredTask:
    stack: str
    task_definition: dict[str, Any]
    """The `aws.ecs.TaskDefinition`'s inputs, camelCase (containerDefinitions is a JSON string)."""
    databases: tuple[Database, ...]
    region: str = "us-east-1"
    """The Region the task definition is registered in (from its ARN)."""
    stack_secret_strings: dict[str, str] = field(default_factory=dict)
    """SecretString of every `aws.secretsmanager.SecretVersion` the program declares, by secret ARN.
    Offline these are the mocks' stand-in values (pulumi-random results are invented offline)."""


def declared_task(run: OfflineRun) -> DeclaredTask:
    if run.error:
        raise DeclarationError(f"the stack program failed offline:\n{run.error}")
    task_definitions = run.of_type(TASK_DEFINITION)
    if len(task_definitions) != 1:
        raise DeclarationError(
            f"expected one {TASK_DEFINITION}, the program declares {len(task_definitions)}"
        )
    databases = []
    for instance in run.of_type(RDS_INSTANCE):
        out = instance.outputs
        databases.append(
            Database(
                address=str(out.get("address", "")),
                port=int(out.get("port") or instance.inputs.get("port") or 5432),
                name=str(instance.inputs.get("dbName") or out.get("dbName") or ""),
                secret_arns=tuple(
                    s["secretArn"] for s in out.get("masterUserSecrets") or [] if s.get("secretArn")
                ),
            )
        )
    strings = {}
    for version in run.of_type(SECRET_VERSION):
        secret_id, value = version.inputs.get("secretId"), version.inputs.get("secretString")
        if isinstance(secret_id, str) and isinstance(value, str):
            strings[secret_id] = value
    arn = str(task_definitions[0].outputs.get("arn", ""))
    region = arn.split(":")[3] if arn.count(":") >= 5 else "us-east-1"
    return DeclaredTask(run.stack, dict(task_definitions[0].inputs), tuple(databases), region, strings)


def load(stack: str, overrides: Mapping[str, object] | None = None) -> DeclaredTask:
    """Run `stacks/__main__.py` offline as `stack` (config overrides like `--set`) and read the task."""
    return declared_task(run_stack(stack, overrides))


@dataclass(frozen=True)
class DbTarget:
    """A PostgreSQL the local task should use instead of the declared RDS instance (`--db URL`)."""

    host: str
    port: int
    name: str
    username: str
    password: str

    @classmethod
    def from_url(cls, url: str) -> DbTarget:
        parts = urlsplit(url)
        if not parts.scheme.startswith("postgres"):
            raise ValueError(f"--db must be a postgresql:// URL, got scheme {parts.scheme!r}")
        if not (parts.hostname and parts.username and parts.password and parts.path.strip("/")):
            raise ValueError(
                "--db needs user, password, host and database: postgresql://USER:PASS@HOST:PORT/DB"
            )
        return cls(
            host=parts.hostname,
            port=parts.port or 5432,
            name=unquote(parts.path.strip("/")),
            username=unquote(parts.username),
            password=unquote(parts.password),
        )


def redirect_database(
    environment: Mapping[str, str], database: Database, target: DbTarget
) -> tuple[dict[str, str], list[str]]:
    """Point the declared environment's RDS endpoint at `target`; every change is returned as a note.

    Only variables whose value *is* the declared instance's address, port or database name change: the
    RDS endpoint does not exist here, everything else stays exactly as declared.
    """
    replacements = {
        database.address: target.host,
        str(database.port): str(target.port),
        database.name: target.name,
    }
    changed, notes = dict(environment), []
    for key, value in environment.items():
        if value in replacements and value and replacements[value] != value:
            changed[key] = replacements[value]
            notes.append(f"{key}: declared {value!r} (RDS) -> {replacements[value]!r} (--db)")
    return changed, notes
