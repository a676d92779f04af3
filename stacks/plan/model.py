"""From an offline run (stacks.offline) to a reviewable plan: components, settings, costs, guardrails."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from policies.invariants import (
    ECS_SERVICE,
    LOAD_BALANCER_TYPES,
    RDS_INSTANCE,
    SECURITY_GROUP,
    GuardrailReport,
    Inventory,
    ResourceRecord,
    container_definitions,
    evaluate,
    ingress_rules,
    is_public_cidr,
)
from stacks.offline import DeclaredResource, OfflineRun, run_stack, stack_config
from stacks.plan import cost
from stacks.plan.cost import CostLine, CostReport, PriceTable, UnpricedError

COMPONENT_PREFIX = "booking:components:"
# Other resources refer to these by name rather than ARN (metric dimensions, ECS deployment alarms).
NAMED_BY_DIMENSION: dict[str, tuple[str, ...]] = {
    "aws:cloudwatch/metricAlarm:MetricAlarm": ("name",),
    "aws:rds/instance:Instance": ("identifier",),
    "aws:lambda/function:Function": ("name",),
    "aws:sqs/queue:Queue": ("name",),
    "aws:ecs/cluster:Cluster": ("name",),
}
# The architecture's reading order (stacks/__main__.py); components not listed follow alphabetically.
COMPONENT_ORDER = (
    "Network",
    "SecurityGroups",
    "LoadBalancer",
    "Registry",
    "AppSecrets",
    "Database",
    "Service",
    "DeployNotifier",
    "Monitoring",
)
STACK_GROUP = "(stack)"


@dataclass(frozen=True)
class Component:
    urn: str
    type: str
    name: str

    @property
    def kind(self) -> str:
        return self.type.removeprefix(COMPONENT_PREFIX)

    label: str = ""
    """The component's kind (`Network`), with its name only when the stack has several of that kind."""


@dataclass(frozen=True)
class PlannedResource:
    urn: str
    type: str
    name: str
    component: str
    """Label of the nearest `booking:components:*` ancestor, or `(stack)`."""
    settings: Mapping[str, object]
    inputs: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    label: str
    traffic: bool
    """True for network paths security groups allow; False for "uses" references between components."""


@dataclass(frozen=True)
class Plan:
    stack: str
    region: str
    error: str | None
    components: tuple[Component, ...]
    resources: tuple[PlannedResource, ...]
    outputs: Mapping[str, Any]
    guardrails: GuardrailReport | None
    costs: CostReport | None
    edges: tuple[Edge, ...] = field(default_factory=tuple)
    references: Mapping[str, str] = field(default_factory=dict)
    """Physical id or ARN → logical name, to compare inputs across stacks."""

    @property
    def failed(self) -> bool:
        return self.error is not None or (self.guardrails is not None and self.guardrails.blocking)


# --- ids -----------------------------------------------------------------------------------------------
def region_of(run: OfflineRun) -> str:
    for r in run.resources:
        if r.type == "pulumi:providers:aws" and isinstance(r.inputs.get("region"), str):
            return str(r.inputs["region"])
    region = stack_config(run.stack).get("aws:region")
    return region if isinstance(region, str) else "us-east-1"


def records(run: OfflineRun) -> list[ResourceRecord]:
    """The run's resources as the invariants see them (inputs, and the mock ids references use)."""
    return [ResourceRecord(r.urn, r.type, r.name, dict(r.inputs), r.parent, r.id) for r in run.resources]


def guardrails(run: OfflineRun, only: Iterable[str] | None = None) -> GuardrailReport:
    """Evaluate the invariants of policies/invariants.py (all, or the ids in `only`) over an offline run.

    tests/infra uses this too, so the rules exist once: `assert guardrails(run).violations == ()`.
    """
    return evaluate(Inventory(records(run)), run.stack, only)


# --- components ----------------------------------------------------------------------------------------
def component_of(
    resource: DeclaredResource, by_urn: Mapping[str, DeclaredResource]
) -> DeclaredResource | None:
    parent = resource.parent
    while parent is not None and parent in by_urn:
        candidate = by_urn[parent]
        if candidate.type.startswith(COMPONENT_PREFIX):
            return candidate
        parent = candidate.parent
    return None


def _component_rank(component: Component) -> tuple[int, str]:
    kind = component.kind
    return (COMPONENT_ORDER.index(kind) if kind in COMPONENT_ORDER else len(COMPONENT_ORDER), component.label)


def component_labels(resources: Iterable[DeclaredResource]) -> dict[str, str]:
    """Component URN → label: `Network`, or `Network (name)` when there are several Networks."""
    components = [r for r in resources if r.type.startswith(COMPONENT_PREFIX)]
    kinds = Counter(r.type for r in components)
    return {
        r.urn: r.type.removeprefix(COMPONENT_PREFIX) + (f" ({r.name})" if kinds[r.type] > 1 else "")
        for r in components
    }


# --- reviewer-relevant settings ------------------------------------------------------------------------
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


# --- costs ---------------------------------------------------------------------------------------------
def _fargate_lines(ctx: Context, table: PriceTable, component: Mapping[str, str]) -> list[CostLine]:
    lines: list[CostLine] = []
    inv = ctx.inventory
    targets = inv.of_type("aws:appautoscaling/target:Target")
    clusters = inv.of_type("aws:ecs/clusterCapacityProviders:ClusterCapacityProviders")
    for svc in inv.of_type(ECS_SERVICE):
        task = ctx.lookup(svc.props.get("taskDefinition"))
        tasks_defs = inv.of_type("aws:ecs/taskDefinition:TaskDefinition")
        if task is None and len(tasks_defs) == 1:
            task = tasks_defs[0]
        if task is None:
            continue
        vcpu = int(task.props.get("cpu", 256)) / 1024
        memory_gb = int(task.props.get("memory", 512)) / 1024
        platform = task.props.get("runtimePlatform") or {}
        arch = str(platform.get("cpuArchitecture") or "X86_64")
        desired = int(svc.props.get("desiredCount", 1))
        maximum = desired
        name = ctx.outputs.get(svc.urn, {}).get("name") or svc.props.get("name")
        for target in targets:
            resource_id = str(target.props.get("resourceId", ""))
            if len(targets) == 1 or (name and resource_id.endswith(f"/{name}")):
                maximum = int(target.props.get("maxCapacity", desired))
        strategies = svc.props.get("capacityProviderStrategies") or []
        if not strategies and svc.props.get("launchType") is None and clusters:
            strategies = clusters[0].props.get("defaultCapacityProviderStrategies") or []
        spot = cost.spot_task_share(desired, strategies)
        spot_max = cost.spot_task_share(maximum, strategies)
        item = (
            f"Fargate {desired} task(s) x {vcpu:g} vCPU / {memory_gb:g} GB {arch.lower()}"
            + (f", {spot:g} on Spot" if spot else ", on-demand")
            + (f" (max {maximum})" if maximum != desired else "")
        )
        lines.append(
            CostLine(
                svc.urn,
                svc.name,
                component[svc.urn],
                item,
                cost.fargate_monthly(vcpu, memory_gb, arch, desired, spot, table),
                cost.fargate_monthly(vcpu, memory_gb, arch, maximum, spot_max, table),
            )
        )
    return lines


def alarm_metrics(props: Mapping[str, Any]) -> tuple[int, bool]:
    """(metrics the alarm evaluates, whether any is high resolution) — what CloudWatch bills."""
    queries = [q for q in props.get("metricQueries") or [] if isinstance(q, Mapping) and q.get("metric")]
    if queries:
        periods = [float((q.get("metric") or {}).get("period") or 60) for q in queries]
        return len(queries), min(periods) < 60
    return 1, float(props.get("period") or 60) < 60


def _log_kind(group: ResourceRecord, component: str) -> str:
    name = str(group.props.get("name", group.name))
    if "flow" in name.lower() or component.startswith("Network"):
        return "flow_logs"
    if name.startswith("/aws/lambda/") or component.startswith("DeployNotifier"):
        return "lambda"
    if name.startswith("/ecs/") or component.startswith("Service"):
        return "service"
    return "other"


def _public_ipv4_of_lb(lb: ResourceRecord) -> int:
    if lb.props.get("internal") is True:
        return 0
    return len(lb.props.get("subnets") or lb.props.get("subnetMappings") or [])


def estimate(ctx: Context, table: PriceTable, component: Mapping[str, str]) -> CostReport:
    inv = ctx.inventory
    lines: list[CostLine] = _fargate_lines(ctx, table, component)
    warnings: list[str] = []

    def add(record: ResourceRecord, item: str, monthly: float) -> None:
        lines.append(CostLine(record.urn, record.name, component[record.urn], item, monthly))

    for nat in inv.of_type("aws:ec2/natGateway:NatGateway"):
        gb = table.assumptions["nat_gb_processed_per_gateway"]
        add(nat, f"NAT gateway 730 h + {gb} GB processed", cost.nat_gateway_monthly(table))
    for eip in inv.of_type("aws:ec2/eip:Eip"):
        add(eip, "public IPv4 address (Elastic IP)", cost.public_ipv4_monthly(1, table))
    for lb in inv.of_type(*LOAD_BALANCER_TYPES):
        lcu = table.assumptions["alb_average_lcu"]
        add(lb, f"ALB 730 h + {lcu} LCU average", cost.alb_monthly(table))
        addresses = _public_ipv4_of_lb(lb)
        if addresses:
            add(
                lb,
                f"ALB public IPv4 addresses ({addresses}, one per AZ)",
                cost.public_ipv4_monthly(addresses, table),
            )
    for endpoint in inv.of_type("aws:ec2/vpcEndpoint:VpcEndpoint"):
        if endpoint.props.get("vpcEndpointType") == "Interface":
            azs = len(endpoint.props.get("subnetIds") or []) or 1
            add(
                endpoint,
                f"interface endpoint {endpoint.props.get('serviceName')} in {azs} AZ(s)",
                cost.interface_endpoint_monthly(azs, table),
            )
    for db in inv.of_type(RDS_INSTANCE):
        klass = str(db.props.get("instanceClass"))
        multi_az = db.props.get("multiAz") is True
        deployment = "Multi-AZ" if multi_az else "Single-AZ"
        try:
            add(db, f"RDS {klass} {deployment}", cost.rds_instance_monthly(klass, multi_az, table))
        except UnpricedError as exc:
            warnings.append(str(exc.args[0]))
        gb = float(db.props.get("allocatedStorage") or 20)
        storage_type = str(db.props.get("storageType") or "gp2")
        try:
            add(
                db,
                f"RDS storage {gb:g} GB {storage_type} {deployment} (autoscaling up to "
                f"{db.props.get('maxAllocatedStorage', gb)} GB not included)",
                cost.rds_storage_monthly(gb, storage_type, multi_az, table),
            )
        except UnpricedError as exc:
            warnings.append(str(exc.args[0]))
        if db.props.get("manageMasterUserPassword") is True:
            add(db, "Secrets Manager secret (RDS-managed master password)", cost.secrets_monthly(1, table))
    secrets = inv.of_type("aws:secretsmanager/secret:Secret")
    for secret in secrets:
        add(secret, "Secrets Manager secret", cost.secrets_monthly(1, table))
    for group in inv.of_type("aws:cloudwatch/logGroup:LogGroup"):
        kind = _log_kind(group, component[group.urn])
        gb = float(table.assumptions["log_ingested_gb"][kind])
        add(
            group,
            f"log ingestion {gb:g} GB ({kind.replace('_', ' ')})",
            cost.log_ingestion_monthly(gb, table),
        )
    for alarm in inv.of_type("aws:cloudwatch/metricAlarm:MetricAlarm"):
        metrics, high_resolution = alarm_metrics(alarm.props)
        kind = "high-resolution" if high_resolution else "standard"
        add(
            alarm,
            f"CloudWatch {kind} alarm, {metrics} metric(s)",
            cost.alarm_monthly(metrics, high_resolution, table),
        )
    for dashboard in inv.of_type("aws:cloudwatch/dashboard:Dashboard"):
        add(dashboard, "CloudWatch dashboard", cost.dashboards_monthly(1, table))
    for repo in inv.of_type("aws:ecr/repository:Repository"):
        add(repo, f"ECR storage {table.assumptions['ecr_stored_gb']} GB", cost.ecr_monthly(table))
    for bucket in inv.of_type("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2"):
        add(bucket, f"S3 storage {table.assumptions['s3_stored_gb']} GB", cost.s3_monthly(table))
    for key in inv.of_type("aws:kms/key:Key"):
        add(key, "KMS customer managed key", cost.kms_monthly(1, table))
    for function in inv.of_type("aws:lambda/function:Function"):
        memory = float(function.props.get("memorySize") or 128)
        archs = function.props.get("architectures") or ["x86_64"]
        add(
            function,
            f"Lambda {table.assumptions['lambda_invocations']} invocations x "
            f"{table.assumptions['lambda_average_seconds']} s x {memory:g} MB",
            cost.lambda_monthly(memory, str(archs[0]), table),
        )
    for topic in inv.of_type("aws:sns/topic:Topic"):
        add(
            topic,
            f"SNS {table.assumptions['sns_publishes']} publishes + {table.assumptions['sns_emails']} e-mails",
            cost.sns_monthly(table),
        )
    for queue in inv.of_type("aws:sqs/queue:Queue"):
        add(queue, f"SQS {table.assumptions['sqs_requests']} requests", cost.sqs_monthly(table))
    return CostReport(tuple(lines), tuple(assumption_lines(table)), tuple(warnings))


def assumption_lines(table: PriceTable) -> list[str]:
    a = table.assumptions
    logs = ", ".join(f"{k.replace('_', ' ')} {v:g} GB" for k, v in a["log_ingested_gb"].items())
    return [
        f"{a['hours_per_month']:g} hours per month; list prices, no free tier, Savings Plans or reservations",
        f"Fargate Spot {a['fargate_spot_discount']:.0%} below on-demand ({a['fargate_spot_discount_note']})",
        "Fargate at the service's desired task count; the total at its autoscaling maximum is shown too",
        f"NAT gateway: {a['nat_gb_processed_per_gateway']:g} GB processed per gateway per month; "
        "internet data transfer out not included",
        f"ALB: {a['alb_average_lcu']:g} LCU on average; one public IPv4 address per ALB subnet (AZ)",
        f"interface endpoints: {a['interface_endpoint_gb_processed']:g} GB processed each",
        "RDS: allocated storage (not the autoscaling ceiling); backups within the free 100 % of storage",
        f"CloudWatch log ingestion per log group per month: {logs}; storage not included",
        f"ECR {a['ecr_stored_gb']:g} GB, S3 {a['s3_stored_gb']:g} GB stored",
        f"Lambda {a['lambda_invocations']} invocations, SNS {a['sns_publishes']} publishes and "
        f"{a['sns_emails']} e-mails, SQS {a['sqs_requests']} requests per month (near zero, shown)",
    ]


# --- edges for the diagram -----------------------------------------------------------------------------
def _users_of_security_groups(ctx: Context, component: Mapping[str, str]) -> dict[str, str]:
    """Security group URN → the component of the resource it protects (LB, service, database...)."""
    users: dict[str, str] = {}
    for record in ctx.inventory.records:
        refs: list[object] = []
        for key in ("securityGroups", "vpcSecurityGroupIds"):
            refs += list(record.props.get(key) or [])
        for key in ("networkConfiguration", "vpcConfig"):
            nested = record.props.get(key)
            if isinstance(nested, Mapping):
                refs += list(nested.get("securityGroups") or nested.get("securityGroupIds") or [])
        for ref in refs:
            sg = ctx.lookup(ref)
            if sg is not None and sg.type == SECURITY_GROUP and record.type != SECURITY_GROUP:
                users.setdefault(sg.urn, component[record.urn])
    return users


def edges(ctx: Context, component: Mapping[str, str]) -> list[Edge]:
    users = _users_of_security_groups(ctx, component)
    traffic: dict[tuple[str, str], set[str]] = {}
    for rule in ingress_rules(ctx.inventory):
        if rule.group is None or rule.group.urn not in users:
            continue
        target = users[rule.group.urn]
        ports = rule.ports_text().replace("port ", "").replace("ports ", "")
        sources = ["Internet" for c in rule.cidrs if is_public_cidr(c)]
        sources += [users[s.urn] for s in rule.sources if s.urn in users]
        for source in set(sources):
            traffic.setdefault((source, target), set()).add(ports)
    result = [
        Edge(s, t, "tcp " + ", ".join(sorted(p, key=lambda x: (len(x), x))), True)
        for (s, t), p in sorted(traffic.items())
    ]
    # "uses" references: a component's inputs name an id or ARN another component declared.
    known: dict[str, str] = {}
    for record in ctx.inventory.records:
        # Only ids that cannot be mistaken for a name (`sg-0abc…`); ids such as a task family are names.
        if record.id and (_AWS_ID.match(record.id) or record.id.startswith("arn:")):
            known[record.id] = component[record.urn]
    for arn, record in ctx.by_arn.items():
        known[arn] = component[record.urn]
    uses: set[tuple[str, str]] = set()
    # ARNs and URLs also appear inside policy documents, container definitions and event patterns.
    embedded = {token: owner for token, owner in known.items() if len(token) >= 20}
    for record in ctx.inventory.records:
        source = component[record.urn]
        for value in _strings({k: v for k, v in record.props.items() if k not in ("tags", "tagsAll")}):
            if value in known:
                targets = {known[value]}
            elif len(value) > 20:
                targets = {owner for token, owner in embedded.items() if token in value}
            else:
                continue
            uses |= {(source, t) for t in targets if t != source and STACK_GROUP not in (source, t)}
    drawn = {(e.source, e.target) for e in result} | {(e.target, e.source) for e in result}
    result += [Edge(s, t, "uses", False) for s, t in sorted(uses) if (s, t) not in drawn]
    return result


_AWS_ID = re.compile(r"^[a-z]+-[0-9a-f]{8,}$")


def _strings(value: object) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _strings(v)


# --- the plan ------------------------------------------------------------------------------------------
def build_plan(run: OfflineRun, table: PriceTable | None = None) -> Plan:
    region = region_of(run)
    by_urn = {r.urn: r for r in run.resources}
    labels = component_labels(run.resources)
    components = tuple(
        sorted(
            (Component(r.urn, r.type, r.name, labels[r.urn]) for r in run.resources if r.urn in labels),
            key=_component_rank,
        )
    )
    if run.error is not None:
        return Plan(run.stack, region, run.error, components, (), run.outputs, None, None)
    recs = records(run)
    inventory = Inventory(recs)
    by_arn = {}
    for r in run.resources:
        # ARNs, the repository URL an image reference starts with, and the names CloudWatch dimensions use.
        keys = ["arn", "repositoryUrl", "arnSuffix", *NAMED_BY_DIMENSION.get(r.type, ())]
        for key in keys:
            handle = r.outputs.get(key)
            if isinstance(handle, str) and r.urn in inventory.by_urn:
                by_arn[handle] = inventory.by_urn[r.urn]
    ctx = Context(inventory, {r.urn: r.outputs for r in run.resources}, by_arn)
    owners = {r.urn: component_of(r, by_urn) for r in run.resources}
    component = {urn: labels[owner.urn] if owner else STACK_GROUP for urn, owner in owners.items()}
    planned = tuple(
        PlannedResource(rec.urn, rec.type, rec.name, component[rec.urn], settings_of(rec, ctx), rec.props)
        for rec in recs
        if not rec.type.startswith(COMPONENT_PREFIX) and not rec.type.startswith("pulumi:providers:")
    )
    report = evaluate(inventory, run.stack)
    costs = estimate(ctx, table or cost.load_prices(), component)
    references = {**{i: r.name for i, r in inventory.by_id.items()}, **{a: r.name for a, r in by_arn.items()}}
    return Plan(
        run.stack,
        region,
        None,
        components,
        planned,
        run.outputs,
        report,
        costs,
        tuple(edges(ctx, component)),
        references,
    )


def plan_stack(
    stack: str,
    config: Mapping[str, object] | None = None,
    table: PriceTable | None = None,
    *,
    config_stack: str | None = None,
) -> Plan:
    """Run the real program offline for `stack` (optionally with config overrides) and plan it."""
    return build_plan(run_stack(stack, config, config_stack=config_stack), table)
