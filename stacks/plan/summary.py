"""The reviewer-relevant settings of each resource (task size, scaling, database, ports...).

`Context` resolves what a property refers to (ids, ARNs, names); `settings_of` picks the few settings a
reviewer needs from a resource's inputs, one summary function per resource type (`SUMMARIES`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from policies.invariants import (
    Inventory,
    ResourceRecord,
    container_definitions,
)

Summary = Callable[[Mapping[str, Any], "Context"], dict[str, object]]


@dataclass
class Context:
    inventory: Inventory
    outputs: Mapping[str, Mapping[str, Any]]
    by_arn: dict[str, ResourceRecord]

    def lookup(self, value: object) -> ResourceRecord | None:
        if isinstance(value, str):
            return self.inventory.by_id.get(value) or self.by_arn.get(value)
        return None


def _on(value: object) -> str:
    return "on" if value is True else "off"


def _subnet_tier(props: Mapping[str, Any]) -> str:
    tags = props.get("tags") or {}
    tier = tags.get("Tier") or tags.get("tier") if isinstance(tags, Mapping) else None
    if isinstance(tier, str):
        return tier
    return "public" if props.get("mapPublicIpOnLaunch") is True else "private"


def _az_of_subnets(ids: Iterable[object], ctx: Context) -> list[str]:
    azs = []
    for subnet_id in ids:
        subnet = ctx.lookup(subnet_id)
        if subnet is not None and isinstance(subnet.props.get("availabilityZone"), str):
            azs.append(subnet.props["availabilityZone"])
    return sorted(set(azs))


def _containers(props: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return container_definitions(ResourceRecord("", "", "", props)) or []


def _task(props: Mapping[str, Any], _ctx: Context) -> dict[str, object]:
    platform = props.get("runtimePlatform") or {}
    containers = _containers(props)
    out: dict[str, object] = {
        "cpu": props.get("cpu"),
        "memory": props.get("memory"),
        "arch": platform.get("cpuArchitecture") if isinstance(platform, Mapping) else None,
    }
    for c in containers:
        out[f"container {c.get('name')}"] = (
            f"user={c.get('user')} readOnlyRoot={_on(c.get('readonlyRootFilesystem'))} "
            f"image={'@'.join(str(c.get('image', '')).rsplit('@', 1)[-1:])[:19]}…"
        )
    return out


def _service(props: Mapping[str, Any], ctx: Context) -> dict[str, object]:
    network = props.get("networkConfiguration") or {}
    breaker = props.get("deploymentCircuitBreaker") or {}
    strategies = props.get("capacityProviderStrategies") or []
    return {
        "desiredCount": props.get("desiredCount"),
        "capacity": ", ".join(f"{s.get('capacityProvider')}:{s.get('weight')}" for s in strategies)
        or props.get("launchType"),
        "publicIp": _on(network.get("assignPublicIp")),
        "azs": ",".join(_az_of_subnets(network.get("subnets") or [], ctx)) or None,
        "rollback": _on(breaker.get("rollback")),
    }


def _rds(props: Mapping[str, Any], _ctx: Context) -> dict[str, object]:
    return {
        "class": props.get("instanceClass"),
        "engine": f"{props.get('engine')} {props.get('engineVersion')}",
        "storage": f"{props.get('allocatedStorage')}→{props.get('maxAllocatedStorage')} GB "
        f"{props.get('storageType')}",
        "multiAz": _on(props.get("multiAz")),
        "public": _on(props.get("publiclyAccessible")),
        "encrypted": _on(props.get("storageEncrypted")),
        "backups": f"{props.get('backupRetentionPeriod')} d",
        "deletionProtection": _on(props.get("deletionProtection")),
        "finalSnapshot": "off" if props.get("skipFinalSnapshot") is True else "on",
    }


def _lb(props: Mapping[str, Any], ctx: Context) -> dict[str, object]:
    return {
        "scheme": "internal" if props.get("internal") is True else "internet-facing",
        "azs": ",".join(_az_of_subnets(props.get("subnets") or [], ctx)) or len(props.get("subnets") or []),
        "dropInvalidHeaders": _on(props.get("dropInvalidHeaderFields")),
        "deletionProtection": _on(props.get("enableDeletionProtection")),
        "accessLogs": _on((props.get("accessLogs") or {}).get("enabled")),
    }


def _sg_rule(props: Mapping[str, Any], ctx: Context) -> dict[str, object]:
    source = props.get("cidrIpv4") or props.get("cidrIpv6")
    if source is None:
        ref = ctx.lookup(props.get("referencedSecurityGroupId"))
        source = ref.name if ref else props.get("referencedSecurityGroupId")
    target = ctx.lookup(props.get("securityGroupId"))
    return {"rule": f"{source} → {target.name if target else '?'} {props.get('ipProtocol')}/{_ports(props)}"}


def _sg_egress(props: Mapping[str, Any], ctx: Context) -> dict[str, object]:
    target = props.get("cidrIpv4") or props.get("cidrIpv6") or props.get("prefixListId")
    if target is None:
        ref = ctx.lookup(props.get("referencedSecurityGroupId"))
        target = ref.name if ref else props.get("referencedSecurityGroupId")
    source = ctx.lookup(props.get("securityGroupId"))
    return {"rule": f"{source.name if source else '?'} → {target} {props.get('ipProtocol')}/{_ports(props)}"}


def _ports(props: Mapping[str, Any]) -> str:
    low, high = props.get("fromPort"), props.get("toPort")
    if props.get("ipProtocol") in ("-1", "all"):
        return "all"
    fmt = [str(int(p)) if isinstance(p, float) else str(p) for p in (low, high)]
    return fmt[0] if low == high else f"{fmt[0]}-{fmt[1]}"


def _keys(*names: str) -> Summary:
    def summary(props: Mapping[str, Any], _ctx: Context) -> dict[str, object]:
        return {n: props.get(n) for n in names if props.get(n) is not None}

    return summary


SUMMARIES: dict[str, Summary] = {
    "aws:ec2/vpc:Vpc": _keys("cidrBlock", "enableDnsHostnames", "enableDnsSupport"),
    "aws:ec2/subnet:Subnet": lambda p, _c: {
        "tier": _subnet_tier(p),
        "cidr": p.get("cidrBlock"),
        "az": p.get("availabilityZone"),
    },
    "aws:ec2/natGateway:NatGateway": lambda p, c: {
        "az": ",".join(_az_of_subnets([p.get("subnetId")], c)) or None,
        "connectivity": p.get("connectivityType", "public"),
    },
    "aws:ec2/eip:Eip": lambda p, _c: {"publicIpv4": "yes"},
    "aws:ec2/vpcEndpoint:VpcEndpoint": lambda p, c: {
        "service": p.get("serviceName"),
        "type": p.get("vpcEndpointType", "Gateway"),
        "azs": len(p.get("subnetIds") or []) or None,
    },
    "aws:ec2/flowLog:FlowLog": _keys("trafficType", "logDestinationType"),
    "aws:ec2/securityGroup:SecurityGroup": _keys("name", "description"),
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": _sg_rule,
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": _sg_egress,
    "aws:lb/loadBalancer:LoadBalancer": _lb,
    "aws:lb/targetGroup:TargetGroup": lambda p, _c: {
        "port": p.get("port"),
        "targetType": p.get("targetType"),
        "healthCheck": (p.get("healthCheck") or {}).get("path"),
        "deregistrationDelay": p.get("deregistrationDelay"),
    },
    "aws:lb/listener:Listener": lambda p, _c: {
        "listen": f"{p.get('protocol')}:{p.get('port')}",
        "sslPolicy": p.get("sslPolicy"),
        "action": ",".join(str(a.get("type")) for a in p.get("defaultActions") or []),
    },
    "aws:ecs/cluster:Cluster": lambda p, _c: {
        "containerInsights": ",".join(
            str(s.get("value")) for s in p.get("settings") or [] if s.get("name") == "containerInsights"
        )
        or "off"
    },
    "aws:ecs/taskDefinition:TaskDefinition": _task,
    "aws:ecs/service:Service": _service,
    "aws:appautoscaling/target:Target": _keys("minCapacity", "maxCapacity"),
    "aws:rds/instance:Instance": _rds,
    "aws:cloudwatch/logGroup:LogGroup": lambda p, _c: {
        "name": p.get("name"),
        "retentionDays": p.get("retentionInDays"),
    },
    "aws:secretsmanager/secret:Secret": _keys("name", "recoveryWindowInDays"),
    "aws:ecr/repository:Repository": lambda p, _c: {
        "tags": p.get("imageTagMutability"),
        "scanOnPush": _on((p.get("imageScanningConfiguration") or {}).get("scanOnPush")),
    },
    "aws:lambda/function:Function": _keys("runtime", "memorySize", "timeout", "architectures"),
    "aws:sns/topic:Topic": lambda p, _c: {"kms": p.get("kmsMasterKeyId")},
    "aws:sns/topicSubscription:TopicSubscription": _keys("protocol", "endpoint"),
    "aws:sqs/queue:Queue": lambda p, _c: {
        "retention": p.get("messageRetentionSeconds"),
        "sse": "kms" if p.get("kmsMasterKeyId") else _on(p.get("sqsManagedSseEnabled")),
    },
    "aws:cloudwatch/metricAlarm:MetricAlarm": lambda p, _c: {
        "metric": p.get("metricName"),
        "threshold": f"{p.get('comparisonOperator')} {p.get('threshold')}",
    },
    "aws:cloudwatch/eventRule:EventRule": _keys("name", "state"),
    "aws:s3/bucket:Bucket": _keys("bucket", "forceDestroy"),
}


def settings_of(record: ResourceRecord, ctx: Context) -> dict[str, object]:
    summary = SUMMARIES.get(record.type)
    if summary is None:
        return {}
    try:
        values = summary(record.props, ctx)
    except (AttributeError, TypeError, ValueError):
        return {}  # a shape this summary did not expect: show the resource without settings
    return {k: v for k, v in values.items() if v is not None and v != ""}
