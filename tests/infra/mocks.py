"""Pulumi mocks for testing one component at a time.

`CollectingMocks` records every declared resource (type token, name, inputs as the engine received them,
camelCase) and every invoke, and answers with outputs shaped like AWS's, so components can derive
values (ARNs, endpoints, digests) the way they would during `pulumi up`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi

from stacks.offline import is_secret_wrapper

ACCOUNT = "123456789012"
REGION = "us-east-1"
REGISTRY_HOST = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com"


def fake_digest(seed: str) -> str:
    return "sha256:" + hashlib.sha256(seed.encode()).hexdigest()


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
    type: str
    name: str
    raw_inputs: dict[str, Any]
    resource_id: str

    @property
    def inputs(self) -> dict[str, Any]:
        """Inputs with secrets unwrapped (see `secrets` for which ones were secret)."""
        return unwrap_secrets(self.raw_inputs)

    @property
    def secrets(self) -> list[str]:
        return secret_paths(self.raw_inputs)


@dataclass
class Invoke:
    token: str
    args: dict[str, Any]


@dataclass
class CollectingMocks(pulumi.runtime.Mocks):
    """Records resources and invokes; `overrides` lets a test replace the outputs of a type."""

    resources: list[Declared] = field(default_factory=list)
    invokes: list[Invoke] = field(default_factory=list)
    overrides: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = field(default_factory=dict)

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        resource_id = f"{args.name}-id"
        declared = Declared(args.typ, args.name, dict(args.inputs), resource_id)
        self.resources.append(declared)
        inputs = declared.inputs
        # Echo the inputs as the engine would, secrets still wrapped so derived outputs stay secret.
        outputs = {**declared.raw_inputs, **_outputs_for(args.typ, args.name, inputs)}
        if args.typ in self.overrides:
            outputs.update(self.overrides[args.typ](inputs))
        return resource_id, outputs

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        call_args = dict(args.args)
        self.invokes.append(Invoke(args.token, call_args))
        if args.token == "aws:ecr/getImage:getImage":
            tag = call_args.get("imageTag", "")
            return {
                "imageDigest": fake_digest(f"pushed:{tag}"),
                "imageTag": tag,
                "imageTags": [tag],
                "imageUri": f"{REGISTRY_HOST}/{call_args.get('repositoryName')}:{tag}",
                "repositoryName": call_args.get("repositoryName"),
                "registryId": ACCOUNT,
            }, []
        if args.token == "aws:ecr/getAuthorizationToken:getAuthorizationToken":
            return {
                "userName": "AWS",
                "password": "ecr-token-password",
                "proxyEndpoint": f"https://{REGISTRY_HOST}",
                "authorizationToken": "QVdTOmVjci10b2tlbg==",
                "expiresAt": "2030-01-01T00:00:00Z",
            }, []
        return {}, []

    # --- queries used by the tests ---
    def of_type(self, type_token: str) -> list[Declared]:
        return [r for r in self.resources if r.type == type_token]

    def one(self, type_token: str) -> Declared:
        found = self.of_type(type_token)
        assert len(found) == 1, f"expected one {type_token}, found {[r.name for r in found]}"
        return found[0]


def _outputs_for(typ: str, name: str, inputs: Mapping[str, Any]) -> dict[str, Any]:
    arn = f"arn:aws:{typ.split(':')[1].split('/')[0]}:{REGION}:{ACCOUNT}:{name}"
    if typ == "aws:ecr/repository:Repository":
        repo = inputs.get("name", name)
        return {
            "arn": f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/{repo}",
            "registryId": ACCOUNT,
            "repositoryUrl": f"{REGISTRY_HOST}/{repo}",
        }
    if typ == "docker:index/image:Image":
        image_name = str(inputs.get("imageName", ""))
        repository = image_name.rsplit(":", 1)[0]
        return {"repoDigest": f"{repository}@{fake_digest('built:' + image_name)}"}
    if typ == "aws:rds/instance:Instance":
        identifier = inputs.get("identifier", name)
        address = f"{identifier}.abcdefghijkl.{REGION}.rds.amazonaws.com"
        # Like the engine, the mocks see numbers as floats; RDS reports the endpoint with an integer port.
        port = inputs.get("port", 5432)
        return {
            "arn": f"arn:aws:rds:{REGION}:{ACCOUNT}:db:{identifier}",
            "identifier": identifier,
            "address": address,
            "endpoint": f"{address}:{int(port)}",
            "port": port,
            "resourceId": "db-ABCDEFGHIJKLMNOPQRSTUVWXYZ",
            "masterUserSecrets": [
                {
                    "secretArn": f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:rds!db-1234-AbCdEf",
                    "secretStatus": "active",
                    "kmsKeyId": f"arn:aws:kms:{REGION}:{ACCOUNT}:key/abcd",
                }
            ],
        }
    if typ == "random:index/randomPassword:RandomPassword":
        return {"result": "R" * int(inputs.get("length", 16)), "bcryptHash": "$2a$10$hash"}
    if typ == "random:index/randomId:RandomId":
        return {"hex": "a1b2c3d4", "b64Url": "obLD1A", "dec": "2712847316"}
    if typ == "aws:secretsmanager/secret:Secret":
        prefix = inputs.get("namePrefix", inputs.get("name", name))
        return {"arn": f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:{prefix}abc-XyZ123"}
    # Physical names: what the program set, else a Pulumi-style auto-name.
    return {"arn": arn, "name": inputs.get("name", f"{name}-1a2b3c4")}


def run_component(
    build: Callable[[], Mapping[str, Any]],
    *,
    preview: bool = False,
    mocks: CollectingMocks | None = None,
) -> tuple[CollectingMocks, dict[str, Any]]:
    """Run `build` (which declares a component) under fresh mocks; return the mocks and the resolved
    values of the mapping `build` returns (Outputs, awaitables or plain values)."""
    mocks = mocks if mocks is not None else CollectingMocks()
    pulumi.runtime.set_mocks(mocks, project="booking", stack="test", preview=preview)
    resolved: dict[str, Any] = {}

    @pulumi.runtime.test
    def body() -> pulumi.Output[None]:
        values = build()
        keys = list(values)
        return pulumi.Output.all(*(pulumi.Output.from_input(values[k]) for k in keys)).apply(
            lambda got: resolved.update(zip(keys, got, strict=True))
        )

    body()
    return mocks, resolved
