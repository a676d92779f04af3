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
`stacks/__main__.py` runs under `pulumi.runtime.set_mocks` with mocks that answer the way AWS would
(ids, ARNs in each service's format, RDS `masterUserSecrets`, ALB `arnSuffix`, ECR `repositoryUrl`,
availability zones, image digests), so the program's `apply` callbacks see realistic shapes.
`inputs` are exactly what the program sent for each resource, with the camelCase property names a
pulumi-policy `ResourceValidationArgs.props` has.
"""

from __future__ import annotations

import hashlib
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

REPO_ROOT = Path(__file__).resolve().parent.parent
PROGRAM = REPO_ROOT / "stacks" / "__main__.py"
PROJECT = "booking"
ACCOUNT = "123456789012"


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


# --- mocks -------------------------------------------------------------------------------------------


def _hex(*parts: object, length: int = 17) -> str:
    return hashlib.sha256("/".join(map(str, parts)).encode()).hexdigest()[:length]


def _suffix6(*parts: object) -> str:
    """Secrets Manager appends six random letters/digits to a secret's name in its ARN."""
    digest = hashlib.sha256("/".join(map(str, parts)).encode()).digest()
    alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    return "".join(alphabet[b % len(alphabet)] for b in digest[:6])


def _uuid(*parts: object) -> str:
    h = _hex(*parts, length=32)
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


class AwsMocks:
    """Answers resource registrations and invokes the way AWS (through pulumi-aws) would."""

    def __init__(self, region: str) -> None:
        self.region = region

    # Pulumi auto-names resources `<logical name>-<7 hex>` when no physical name is given.
    @staticmethod
    def _autoname(inputs: dict[str, Any], key: str, logical: str) -> str:
        value = inputs.get(key)
        if isinstance(value, str) and value:
            return value
        prefix = inputs.get(f"{key}Prefix")
        if isinstance(prefix, str) and prefix:
            return f"{prefix}{_hex(logical, length=26)}"
        return f"{logical}-{_hex(logical, length=7)}"

    def new_resource(self, args: Any) -> tuple[str, dict[str, Any]]:
        t: str = args.typ
        logical: str = args.name
        inputs: dict[str, Any] = dict(args.inputs)
        r, a = self.region, ACCOUNT
        h = _hex(t, logical)
        state = dict(inputs)
        rid = f"{logical}-{h[:8]}"

        def named(key: str = "name") -> str:
            value = self._autoname(inputs, key, logical)
            state[key] = value
            return value

        if t == "aws:ec2/vpc:Vpc":
            rid = f"vpc-{h}"
            state.update(
                arn=f"arn:aws:ec2:{r}:{a}:vpc/{rid}",
                defaultSecurityGroupId=f"sg-{_hex(rid, 'sg')}",
                defaultRouteTableId=f"rtb-{_hex(rid, 'rtb')}",
                mainRouteTableId=f"rtb-{_hex(rid, 'rtb')}",
                defaultNetworkAclId=f"acl-{_hex(rid, 'acl')}",
                ownerId=a,
            )
        elif t == "aws:ec2/subnet:Subnet":
            rid = f"subnet-{h}"
            state.update(arn=f"arn:aws:ec2:{r}:{a}:subnet/{rid}", ownerId=a)
        elif t == "aws:ec2/internetGateway:InternetGateway":
            rid = f"igw-{h}"
            state.update(arn=f"arn:aws:ec2:{r}:{a}:internet-gateway/{rid}", ownerId=a)
        elif t == "aws:ec2/eip:Eip":
            rid = f"eipalloc-{h}"
            n = int(h[:4], 16)
            state.update(allocationId=rid, publicIp=f"198.51.{n % 256}.{(n // 256) % 254 + 1}", domain="vpc")
        elif t == "aws:ec2/natGateway:NatGateway":
            rid = f"nat-{h}"
            state.update(networkInterfaceId=f"eni-{h}", privateIp="10.0.0.10")
        elif t == "aws:ec2/routeTable:RouteTable":
            rid = f"rtb-{h}"
            state.update(arn=f"arn:aws:ec2:{r}:{a}:route-table/{rid}", ownerId=a)
        elif t == "aws:ec2/routeTableAssociation:RouteTableAssociation":
            rid = f"rtbassoc-{h}"
        elif t == "aws:ec2/route:Route":
            rid = f"r-{inputs.get('routeTableId', 'rtb')}1080289494"
        elif t in (
            "aws:ec2/securityGroup:SecurityGroup",
            "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup",
        ):
            rid = f"sg-{h}"
            if t.endswith("SecurityGroup:SecurityGroup"):
                named()
            state.update(arn=f"arn:aws:ec2:{r}:{a}:security-group/{rid}", ownerId=a)
        elif t in (
            "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
            "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
        ):
            rid = f"sgr-{h}"
            state.update(arn=f"arn:aws:ec2:{r}:{a}:security-group-rule/{rid}", securityGroupRuleId=rid)
        elif t == "aws:ec2/securityGroupRule:SecurityGroupRule":
            rid = f"sgrule-{_hex(h, length=10)}"
        elif t == "aws:ec2/flowLog:FlowLog":
            rid = f"fl-{h}"
            state.update(arn=f"arn:aws:ec2:{r}:{a}:vpc-flow-log/{rid}")
        elif t == "aws:ec2/vpcEndpoint:VpcEndpoint":
            rid = f"vpce-{h}"
            state.update(arn=f"arn:aws:ec2:{r}:{a}:vpc-endpoint/{rid}", prefixListId=f"pl-{h[:8]}")
        elif t == "aws:lb/loadBalancer:LoadBalancer":
            name = named()
            suffix = f"app/{name}/{_hex(h, length=16)}"
            rid = f"arn:aws:elasticloadbalancing:{r}:{a}:loadbalancer/{suffix}"
            state.update(
                arn=rid,
                arnSuffix=suffix,
                dnsName=f"{name}-{int(h[:8], 16) % 10**10}.{r}.elb.amazonaws.com",
                zoneId="Z35SXDOTRQ7X7K",
            )
        elif t == "aws:lb/targetGroup:TargetGroup":
            name = named()
            suffix = f"targetgroup/{name}/{_hex(h, length=16)}"
            rid = f"arn:aws:elasticloadbalancing:{r}:{a}:{suffix}"
            state.update(arn=rid, arnSuffix=suffix, loadBalancerArns=[])
        elif t == "aws:lb/listener:Listener":
            rid = f"arn:aws:elasticloadbalancing:{r}:{a}:listener/app/{logical}/{_hex(h, length=16)}/{h[:16]}"
            state.update(arn=rid)
        elif t == "aws:lb/listenerRule:ListenerRule":
            rid = f"arn:aws:elasticloadbalancing:{r}:{a}:listener-rule/app/{logical}/{h[:16]}"
            state.update(arn=rid)
        elif t == "aws:ecs/cluster:Cluster":
            name = named()
            rid = f"arn:aws:ecs:{r}:{a}:cluster/{name}"
            state.update(arn=rid)
        elif t == "aws:ecs/clusterCapacityProviders:ClusterCapacityProviders":
            rid = str(inputs.get("clusterName", logical))
        elif t == "aws:ecs/taskDefinition:TaskDefinition":
            family = inputs.get("family", logical)
            rid = f"{family}"
            state.update(
                arn=f"arn:aws:ecs:{r}:{a}:task-definition/{family}:1",
                arnWithoutRevision=f"arn:aws:ecs:{r}:{a}:task-definition/{family}",
                revision=1,
            )
        elif t == "aws:ecs/service:Service":
            name = named()
            cluster = str(inputs.get("cluster", "")).rsplit("/", 1)[-1] or "default"
            rid = f"arn:aws:ecs:{r}:{a}:service/{cluster}/{name}"
        elif t == "aws:iam/role:Role":
            name = named()
            rid = name
            state.update(arn=f"arn:aws:iam::{a}:role/{name}", uniqueId=f"AROA{h.upper()[:17]}")
        elif t == "aws:iam/policy:Policy":
            name = named()
            rid = f"arn:aws:iam::{a}:policy/{name}"
            state.update(arn=rid, policyId=f"ANPA{h.upper()[:17]}")
        elif t == "aws:iam/rolePolicy:RolePolicy":
            name = named()
            rid = f"{inputs.get('role', 'role')}:{name}"
        elif t == "aws:iam/rolePolicyAttachment:RolePolicyAttachment":
            rid = f"{inputs.get('role', 'role')}-{h[:20]}"
        elif t == "aws:cloudwatch/logGroup:LogGroup":
            name = named()
            rid = name
            state.update(arn=f"arn:aws:logs:{r}:{a}:log-group:{name}")
        elif t == "aws:cloudwatch/metricAlarm:MetricAlarm":
            name = named()
            rid = name
            state.update(arn=f"arn:aws:cloudwatch:{r}:{a}:alarm:{name}")
        elif t == "aws:cloudwatch/dashboard:Dashboard":
            name = named("dashboardName")
            rid = name
            state.update(dashboardArn=f"arn:aws:cloudwatch::{a}:dashboard/{name}")
        elif t == "aws:cloudwatch/eventRule:EventRule":
            name = named()
            rid = name
            bus = inputs.get("eventBusName", "default")
            prefix = "" if bus == "default" else f"{bus}/"
            state.update(arn=f"arn:aws:events:{r}:{a}:rule/{prefix}{name}")
        elif t == "aws:cloudwatch/eventTarget:EventTarget":
            rid = f"{inputs.get('rule', 'rule')}-{inputs.get('targetId', h[:8])}"
        elif t == "aws:rds/instance:Instance":
            ident = named("identifier")
            rid = f"db-{h.upper()[:26]}"
            address = f"{ident}.c{_hex(a, r, length=11)}.{r}.rds.amazonaws.com"
            port = int(inputs.get("port") or 5432)
            state.update(
                arn=f"arn:aws:rds:{r}:{a}:db:{ident}",
                resourceId=rid,
                address=address,
                endpoint=f"{address}:{port}",
                port=port,
                hostedZoneId="Z2R2ITUGPM61AM",
                engineVersionActual=str(inputs.get("engineVersion", "16.4")),
            )
            if inputs.get("manageMasterUserPassword"):
                state["masterUserSecrets"] = [
                    {
                        "kmsKeyId": inputs.get("masterUserSecretKmsKeyId")
                        or f"arn:aws:kms:{r}:{a}:key/{_uuid(h, 'kms')}",
                        "secretArn": f"arn:aws:secretsmanager:{r}:{a}:secret:rds!db-{_uuid(h)}-{_suffix6(h)}",
                        "secretStatus": "active",
                    }
                ]
        elif t == "aws:rds/subnetGroup:SubnetGroup":
            name = named()
            rid = name
            state.update(arn=f"arn:aws:rds:{r}:{a}:subgrp:{name}")
        elif t == "aws:rds/parameterGroup:ParameterGroup":
            name = named()
            rid = name
            state.update(arn=f"arn:aws:rds:{r}:{a}:pg:{name}")
        elif t == "aws:secretsmanager/secret:Secret":
            name = named()
            rid = f"arn:aws:secretsmanager:{r}:{a}:secret:{name}-{_suffix6(h)}"
            state.update(arn=rid)
        elif t == "aws:secretsmanager/secretVersion:SecretVersion":
            version = _uuid(h)
            rid = f"{inputs.get('secretId', '')}|{version}"
            state.update(arn=inputs.get("secretId"), versionId=version, versionStages=["AWSCURRENT"])
        elif t == "aws:ecr/repository:Repository":
            name = named()
            rid = name
            state.update(
                arn=f"arn:aws:ecr:{r}:{a}:repository/{name}",
                registryId=a,
                repositoryUrl=f"{a}.dkr.ecr.{r}.amazonaws.com/{name}",
            )
        elif t in ("aws:ecr/lifecyclePolicy:LifecyclePolicy", "aws:ecr/repositoryPolicy:RepositoryPolicy"):
            rid = str(inputs.get("repository", logical))
            state.update(registryId=a)
        elif t == "docker:index/image:Image":
            image_name = str(inputs.get("imageName", f"{logical}:latest"))
            repo = image_name.rsplit(":", 1)[0] if ":" in image_name.rsplit("/", 1)[-1] else image_name
            rid = f"sha256:{_hex(h, length=64)}"
            state.update(repoDigest=f"{repo}@sha256:{_hex(image_name, length=64)}", baseImageName=image_name)
        elif t == "docker:index/registryImage:RegistryImage":
            rid = f"sha256:{_hex(h, length=64)}"
            state.update(sha256Digest=f"sha256:{_hex(inputs.get('name', logical), length=64)}")
        elif t.startswith("random:index/random"):
            length = int(inputs.get("length", 32) or 32)
            rid = "none"
            value = (_hex(h, "result", length=64) * 4)[:length]
            state.update(result=value, hex=value, b64Std=value, b64Url=value)
            if t == "random:index/randomPassword:RandomPassword":
                state.update(bcryptHash=f"$2a$10${_hex(h, 'bcrypt', length=53)}")
        elif t in ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2"):
            name = named("bucket")
            rid = name
            state.update(
                arn=f"arn:aws:s3:::{name}",
                bucketDomainName=f"{name}.s3.amazonaws.com",
                bucketRegionalDomainName=f"{name}.s3.{r}.amazonaws.com",
                region=r,
                hostedZoneId="Z3AQBSTGFYJSTF",
            )
        elif t.startswith("aws:s3/"):
            rid = str(inputs.get("bucket", logical))
        elif t == "aws:sns/topic:Topic":
            name = named()
            rid = f"arn:aws:sns:{r}:{a}:{name}"
            state.update(arn=rid, owner=a)
        elif t == "aws:sns/topicSubscription:TopicSubscription":
            rid = f"{inputs.get('topic', '')}:{_uuid(h)}"
            state.update(arn=rid, ownerId=a, pendingConfirmation=inputs.get("protocol") == "email")
        elif t == "aws:sns/topicPolicy:TopicPolicy":
            rid = str(inputs.get("arn", logical))
        elif t == "aws:sqs/queue:Queue":
            name = named()
            rid = f"https://sqs.{r}.amazonaws.com/{a}/{name}"
            state.update(arn=f"arn:aws:sqs:{r}:{a}:{name}", url=rid)
        elif t == "aws:sqs/queuePolicy:QueuePolicy":
            rid = str(inputs.get("queueUrl", logical))
        elif t == "aws:lambda/function:Function":
            name = named()
            rid = name
            arn = f"arn:aws:lambda:{r}:{a}:function:{name}"
            state.update(
                arn=arn,
                qualifiedArn=f"{arn}:$LATEST",
                invokeArn=f"arn:aws:apigateway:{r}:lambda:path/2015-03-31/functions/{arn}/invocations",
                version="$LATEST",
                sourceCodeHash=_hex(h, length=44),
            )
        elif t == "aws:lambda/permission:Permission":
            rid = str(inputs.get("statementId") or logical)
        elif t == "aws:kms/key:Key":
            rid = _uuid(h)
            state.update(arn=f"arn:aws:kms:{r}:{a}:key/{rid}", keyId=rid)
        elif t == "aws:kms/alias:Alias":
            rid = str(inputs.get("name", f"alias/{logical}"))
            state.update(arn=f"arn:aws:kms:{r}:{a}:{rid}")
        elif t == "aws:appautoscaling/target:Target":
            rid = str(inputs.get("resourceId", logical))
            state.update(arn=f"arn:aws:application-autoscaling:{r}:{a}:scalable-target/{_hex(h, length=32)}")
        elif t == "aws:appautoscaling/policy:Policy":
            name = named()
            rid = name
            state.update(
                arn=(
                    f"arn:aws:autoscaling:{r}:{a}:scalingPolicy:{_uuid(h)}:"
                    f"resource/{inputs.get('serviceNamespace', 'ecs')}/{inputs.get('resourceId', '')}:"
                    f"policyName/{name}"
                ),
                alarmArns=[],
            )
        elif t.startswith("pulumi:providers:"):
            rid = _uuid(h)
        elif "name" in inputs:
            rid = str(inputs["name"])
        return rid, state

    def call(self, args: Any) -> tuple[dict[str, Any], None] | dict[str, Any]:
        function: str = args.token
        a, r = ACCOUNT, self.region
        call_args: dict[str, Any] = dict(args.args)
        if function == "aws:index/getAvailabilityZones:getAvailabilityZones":
            letters = "abcdef"
            return {
                "id": r,
                "names": [f"{r}{x}" for x in letters],
                "zoneIds": [f"use1-az{i + 1}" for i in range(len(letters))],
                "groupNames": [r] * len(letters),
                "state": call_args.get("state", "available"),
            }
        if function == "aws:index/getCallerIdentity:getCallerIdentity":
            return {
                "id": a,
                "accountId": a,
                "arn": f"arn:aws:iam::{a}:user/deployer",
                "userId": "AIDAEXAMPLE",
            }
        if function == "aws:ecr/getImage:getImage":
            repo = call_args.get("repositoryName", "repo")
            tag = call_args.get("imageTag", "latest")
            digest = f"sha256:{_hex(repo, tag, length=64)}"
            return {
                "id": digest,
                "imageDigest": digest,
                "imageTags": [tag],
                "registryId": a,
                "repositoryName": repo,
                "imageUri": f"{a}.dkr.ecr.{r}.amazonaws.com/{repo}@{digest}",
                "imageSizeInBytes": 61_234_567,
                "imagePushedAt": 1_795_000_000,
            }
        if function == "aws:ecr/getAuthorizationToken:getAuthorizationToken":
            return {
                "id": r,
                "authorizationToken": "QVdTOmV4YW1wbGU=",
                "userName": "AWS",
                "password": "example-ecr-password",
                "proxyEndpoint": f"https://{a}.dkr.ecr.{r}.amazonaws.com",
                "expiresAt": "2026-11-23T09:00:00Z",
            }
        return {}


# --- the child side ----------------------------------------------------------------------------------


# How the Pulumi runtime hands a secret value to the mocks: {SECRET_SIG_KEY: SECRET_SIG, "value": …}.
SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d"  # noqa: S105 - Pulumi wire-format marker
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"  # noqa: S105 - Pulumi wire-format marker


def is_secret_wrapper(value: Any) -> bool:
    return isinstance(value, dict) and value.get(SECRET_SIG_KEY) == SECRET_SIG


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

    class Mocks(pulumi_mocks.Mocks):
        def __init__(self) -> None:
            self.aws = AwsMocks(config.get("aws:region", "us-east-1"))

        def new_resource(self, args: pulumi_mocks.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
            return self.aws.new_resource(args)

        def call(self, args: pulumi_mocks.MockCallArgs) -> Any:
            return self.aws.call(args)

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
    mocks = Mocks()
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
