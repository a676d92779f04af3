"""Run the real stack program offline, under Pulumi mocks, and return what it declared.

    from stacks.offline import run_stack
    run = run_stack("dev")                                   # Pulumi.dev.yaml's config
    run = run_stack("dev", {"booking:service.cpu": 512})     # one field overridden (like --path)
    run = run_stack("dev", {"booking:image": {"tag": "v1"}}) # a whole section replaced
    run = run_stack("dev", {"booking:https": None})          # a key removed
    run = run_stack("qa-long-name", config_stack="dev")      # another stack name, dev's config file
    run.error                                                # None, or why the program failed
    run.of_type("aws:ecs/service:Service")[0].inputs["deploymentCircuitBreaker"]

Each run is a fresh `python -m stacks.offline` subprocess: the Pulumi runtime keeps global state
(root stack, config, mocks), so two runs in one process would leak into each other. Inside it,
`stacks/__main__.py` runs under `pulumi.runtime.set_mocks` with `stacks.mocks.AwsMocks`, the one
answer to "what would AWS say" that every test shares, so the program's `apply` callbacks see
realistic shapes (ARNs, endpoints, digests).
`inputs` are exactly what the program sent for each resource, with the camelCase property names a
pulumi-policy `ResourceValidationArgs.props` has.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import traceback
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from stacks.mocks import AwsMocks, is_secret_wrapper

REPO_ROOT = Path(__file__).resolve().parent.parent
PROGRAM = REPO_ROOT / "stacks" / "__main__.py"
PROJECT = "booking"


@dataclass(frozen=True)
class DeclaredResource:
    urn: str
    type: str
    """Pulumi type token, e.g. `aws:ec2/vpc:Vpc` or `booking:components:Network`."""
    name: str
    """Logical name."""
    inputs: dict[str, Any]
    """What the program declared (camelCase names), as the mocks received it."""
    parent: str | None
    """URN of the parent; None for resources directly under the stack."""
    outputs: dict[str, Any] = field(default_factory=dict)
    """The state the mocks answered with (inputs plus computed ids/ARNs)."""
    custom: bool = True
    """False for component resources."""
    provider: str | None = None
    """`<provider urn>::<id>` of an explicit provider, None for the default one."""
    id: str | None = None
    """The physical id the mocks gave it (what other resources' inputs reference, e.g. `sg-…`)."""
    custom_timeouts: dict[str, str] = field(default_factory=dict)
    """The `customTimeouts` resource option as the engine receives it (`{"create": "60m"}`), if set."""
    dependencies: tuple[str, ...] = ()
    """URNs this resource waits for (`depends_on` plus every resource its inputs came from), sorted."""
    options: dict[str, Any] = field(default_factory=dict)
    """The rest of the registration the engine would see (protect, ignoreChanges, aliases, property
    dependencies…), as protobuf JSON; what the resource-graph guard compares."""


@dataclass(frozen=True)
class OfflineRun:
    stack: str
    resources: tuple[DeclaredResource, ...]
    outputs: dict[str, Any]
    """Stack outputs (`pulumi.export`), resolved."""
    error: str | None
    """None when the program ran to the end; else the error (a ConfigError's message verbatim)."""

    def of_type(self, type_: str) -> list[DeclaredResource]:
        return [r for r in self.resources if r.type == type_]

    def one(self, type_: str) -> DeclaredResource:
        found = self.of_type(type_)
        if len(found) != 1:
            raise AssertionError(f"expected one {type_}, found {len(found)}: {[r.name for r in found]}")
        return found[0]

    def named(self, name: str) -> DeclaredResource:
        found = [r for r in self.resources if r.name == name]
        if len(found) != 1:
            raise AssertionError(f"expected one resource named {name}, found {len(found)}")
        return found[0]

    def by_urn(self, urn: str) -> DeclaredResource:
        for r in self.resources:
            if r.urn == urn:
                return r
        raise KeyError(urn)

    def children(self, parent: DeclaredResource) -> list[DeclaredResource]:
        return [r for r in self.resources if r.parent == parent.urn]

    def type_counts(self) -> dict[str, int]:
        return dict(Counter(r.type for r in self.resources))


# --- config --------------------------------------------------------------------------------------


def stack_config(stack: str, overrides: Mapping[str, object] | None = None) -> dict[str, Any]:
    """`Pulumi.<stack>.yaml`'s `config:` with overrides applied (`ns:key.path` sets one nested field)."""
    path = REPO_ROOT / f"Pulumi.{stack}.yaml"
    document = yaml.safe_load(path.read_text()) if path.exists() else {}
    config: dict[str, Any] = dict((document or {}).get("config") or {})
    for key, value in (overrides or {}).items():
        namespace, _, rest = key.partition(":")
        top, *nested = rest.split(".")
        full = f"{namespace}:{top}"
        if not nested:
            if value is None:
                config.pop(full, None)
            else:
                config[full] = value
            continue
        node = config.setdefault(full, {})
        if not isinstance(node, dict):
            node = config[full] = {}
        for part in nested[:-1]:
            node = node.setdefault(part, {})
        if value is None:
            node.pop(nested[-1], None)
        else:
            node[nested[-1]] = value
    return config


def _wire_config(config: Mapping[str, Any]) -> dict[str, str]:
    """Config the way the Pulumi CLI hands it to the program: every value a string, objects as JSON."""
    return {key: value if isinstance(value, str) else json.dumps(value) for key, value in config.items()}


# --- the parent side -------------------------------------------------------------------------------


def run_stack(
    stack: str,
    config: Mapping[str, object] | None = None,
    *,
    config_stack: str | None = None,
    timeout: float = 300,
) -> OfflineRun:
    """Run `stacks/__main__.py` as stack `stack` in a fresh subprocess and collect what it declared."""
    merged = stack_config(config_stack or stack, config)
    with tempfile.TemporaryDirectory(prefix="booking-offline-") as tmp:
        request = Path(tmp) / "request.json"
        result = Path(tmp) / "result.json"
        request.write_text(json.dumps({"stack": stack, "config": _wire_config(merged)}))
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])),
        }
        env.pop("PULUMI_CONFIG", None)
        proc = subprocess.run(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", "stacks.offline", str(request), str(result)],
            cwd=REPO_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if not result.exists():
            return OfflineRun(
                stack, (), {}, f"offline runner crashed (exit {proc.returncode}):\n{proc.stderr[-4000:]}"
            )
        data = json.loads(result.read_text())
    resources = tuple(
        DeclaredResource(**{**r, "dependencies": tuple(r.get("dependencies", ()))}) for r in data["resources"]
    )
    return OfflineRun(stack, resources, data["outputs"], data["error"])


# --- the child side ----------------------------------------------------------------------------------



def _jsonable(value: Any) -> Any:
    if is_secret_wrapper(value):
        # A Pulumi secret on the wire; policies see the plain value, so do we.
        return _jsonable(value.get("value"))
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items() if k != "__provider"}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        # The wire format has only doubles; the program declared integers (ports, counts, days).
        return int(value)
    if value is None or isinstance(value, str | int | float | bool):
        return value
    import pulumi

    # Assets and archives by what they hold (a repr would carry a memory address).
    if isinstance(value, pulumi.AssetArchive):
        return {"assets": _jsonable(dict(value.assets))}
    if isinstance(value, pulumi.FileAsset | pulumi.FileArchive):
        path = Path(value.path).resolve()
        return {"path": str(path.relative_to(REPO_ROOT) if path.is_relative_to(REPO_ROOT) else path)}
    if isinstance(value, pulumi.StringAsset):
        return {"text": value.text}
    return repr(value)


def _registration_options(request: Any) -> dict[str, Any]:
    from google.protobuf.json_format import MessageToDict

    options = MessageToDict(request)
    for recorded in ("type", "name", "parent", "custom", "object", "provider", "dependencies"):
        options.pop(recorded, None)
    # Where in the source the resource was declared: not part of the graph, and moves with every edit.
    options.pop("sourcePosition", None)
    options.pop("stackTrace", None)
    for deps in options.get("propertyDependencies", {}).values():
        deps["urns"] = sorted(deps.get("urns", []))
    return dict(options)


def _child(request_path: Path, result_path: Path) -> None:
    import asyncio
    import runpy

    import pulumi
    from pulumi.runtime import mocks as pulumi_mocks
    from pulumi.runtime import rpc
    from pulumi.runtime.stack import run_pulumi_func
    from pulumi.runtime.sync_await import _sync_await

    from stacks.settings import ConfigError

    request = json.loads(request_path.read_text())
    stack: str = request["stack"]
    config: dict[str, str] = request["config"]
    records: dict[str, dict[str, Any]] = {}

    class RecordingMonitor(pulumi_mocks.MockMonitor):
        def RegisterResource(self, request: Any) -> Any:
            response = super().RegisterResource(request)
            if request.type != "pulumi:pulumi:Stack":
                registered = self.resources.get(response.urn)
                parent = request.parent or None
                if parent is not None and parent.split("::")[2] == "pulumi:pulumi:Stack":
                    parent = None
                records[response.urn] = {
                    "urn": response.urn,
                    "type": request.type,
                    "name": request.name,
                    "inputs": _jsonable(rpc.deserialize_properties(request.object)),
                    "parent": parent,
                    "outputs": _jsonable(registered.state if registered else {}),
                    "custom": bool(request.custom),
                    "provider": request.provider or None,
                    "id": response.id or None,
                    "custom_timeouts": {
                        op: getattr(request.customTimeouts, op)
                        for op in ("create", "update", "delete")
                        if request.HasField("customTimeouts") and getattr(request.customTimeouts, op)
                    },
                    "dependencies": sorted(request.dependencies),
                    "options": _registration_options(request),
                }
            return response

    pulumi.runtime.set_all_config(config)
    mocks = AwsMocks(config.get("aws:region", "us-east-1"))
    pulumi.runtime.set_mocks(
        mocks, project=PROJECT, stack=stack, preview=False, monitor=RecordingMonitor(mocks)
    )

    error: str | None = None
    outputs: dict[str, Any] = {}
    try:

        def program() -> None:
            runpy.run_path(str(PROGRAM), run_name="__main__")

        _sync_await(run_pulumi_func(program))
        root = pulumi.runtime.get_root_resource()
        exported: dict[str, Any] = dict(getattr(root, "outputs", {}) or {})

        async def resolve() -> dict[str, Any]:
            return {k: await pulumi.Output.from_input(v).future() for k, v in exported.items()}

        outputs = _jsonable(asyncio.get_event_loop().run_until_complete(resolve()))
    except ConfigError as exc:
        error = str(exc)
    except Exception as exc:
        cause = exc
        # Errors raised inside `apply` callbacks arrive wrapped; a ConfigError still reports verbatim.
        while cause.__cause__ is not None and not isinstance(cause, ConfigError):
            cause = cause.__cause__  # type: ignore[assignment]
        if isinstance(cause, ConfigError):
            error = str(cause)
        else:
            error = "".join(traceback.format_exception(exc)).strip()
    result_path.write_text(
        json.dumps({"resources": list(records.values()), "outputs": outputs, "error": error}, default=repr)
    )


if __name__ == "__main__":
    _child(Path(sys.argv[1]), Path(sys.argv[2]))
