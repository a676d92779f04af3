"""What AWS would answer: the one Pulumi `Mocks` implementation, for the offline runner and every test.

`AwsMocks` gives each resource the id and computed outputs AWS (through pulumi-aws) would, from
`stacks/aws_answers.py` (ids, ARNs in each service's format, RDS `masterUserSecrets`, ALB `arnSuffix`,
ECR `repositoryUrl`, availability zones, image digests), and records what was declared and invoked, so
component tests read `mocks.one(type).inputs` and `.outputs`.

    mocks = AwsMocks()
    pulumi.runtime.set_mocks(mocks, project="booking", stack="test", preview=False)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pulumi

from stacks.aws_answers import ACCOUNT, invoke_answer, resource_answer

REGION = "us-east-1"
REGISTRY_HOST = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com"

# How the Pulumi runtime hands a secret value to the mocks: {SECRET_SIG_KEY: SECRET_SIG, "value": …}.
SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d"  # noqa: S105 - Pulumi wire-format marker
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"  # noqa: S105 - Pulumi wire-format marker


def is_secret_wrapper(value: Any) -> bool:
    return isinstance(value, dict) and value.get(SECRET_SIG_KEY) == SECRET_SIG


def unwrap_secrets(value: Any) -> Any:
    """The plain value, with every secret wrapper replaced by what it wraps."""
    if is_secret_wrapper(value):
        return unwrap_secrets(value.get("value"))
    if isinstance(value, dict):
        return {k: unwrap_secrets(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unwrap_secrets(v) for v in value]
    return value


def secret_paths(value: Any, path: str = "") -> list[str]:
    """Dotted paths of the values the runtime marked secret, e.g. `["registry", "secretString"]`."""
    if is_secret_wrapper(value):
        return [path]
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in secret_paths(v, f"{path}.{k}" if path else k)]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in secret_paths(v, f"{path}[{i}]")]
    return []


@dataclass
class Declared:
    """One resource registration the mocks answered."""

    type: str
    name: str
    raw_inputs: dict[str, Any]
    resource_id: str
    raw_outputs: dict[str, Any]

    @property
    def inputs(self) -> dict[str, Any]:
        """Inputs with secrets unwrapped (see `secrets` for which ones were secret)."""
        return unwrap_secrets(self.raw_inputs)

    @property
    def outputs(self) -> dict[str, Any]:
        """What the mocks answered (inputs plus computed ids/ARNs), secrets unwrapped."""
        return unwrap_secrets(self.raw_outputs)

    @property
    def secrets(self) -> list[str]:
        return secret_paths(self.raw_inputs)


@dataclass
class Invoke:
    token: str
    args: dict[str, Any]
    result: dict[str, Any]


class AwsMocks(pulumi.runtime.Mocks):
    """Answers resource registrations and invokes the way AWS (through pulumi-aws) would, and records
    them. `overrides` replaces outputs of one type (a test that needs AWS to answer differently)."""

    def __init__(
        self,
        region: str = REGION,
        overrides: Mapping[str, Callable[[dict[str, Any]], dict[str, Any]]] | None = None,
    ) -> None:
        self.region = region
        self.overrides = dict(overrides or {})
        self.resources: list[Declared] = []
        self.invokes: list[Invoke] = []

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        rid, state = resource_answer(self.region, args.typ, args.name, dict(args.inputs))
        if args.typ in self.overrides:
            state.update(self.overrides[args.typ](unwrap_secrets(dict(args.inputs))))
        self.resources.append(Declared(args.typ, args.name, dict(args.inputs), rid, state))
        return rid, state

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        result = invoke_answer(self.region, args.token, dict(args.args))
        self.invokes.append(Invoke(args.token, dict(args.args), result))
        return result, []

    # --- queries (tests) ---
    def of_type(self, type_token: str) -> list[Declared]:
        return [r for r in self.resources if r.type == type_token]

    def one(self, type_token: str) -> Declared:
        found = self.of_type(type_token)
        assert len(found) == 1, f"expected one {type_token}, found {[r.name for r in found]}"
        return found[0]
