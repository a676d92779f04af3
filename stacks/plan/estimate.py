"""The monthly cost estimate of a plan: Fargate, the load balancer, the database, logs, alarms, NAT...

Prices come from `stacks/prices.json` through `stacks/plan/cost.py`; this module decides which
resources cost what (the quantities), from the settings the program declared.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from app.core import metric_catalogue
from policies.invariants import (
    ECS_SERVICE,
    LOAD_BALANCER_TYPES,
    RDS_INSTANCE,
    ResourceRecord,
)
from stacks.plan import cost
from stacks.plan.cost import CostLine, CostReport, PriceTable, UnpricedError
from stacks.plan.summary import Context


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
        if emf_namespace(task.props.get("containerDefinitions")):
            lines += _emf_lines(svc, component[svc.urn], desired, maximum, table)
    return lines


def emf_namespace(container_definitions: Any) -> str | None:
    """The API's METRICS_NAMESPACE (EMF metrics on), if a container of the task definition sets it."""
    if isinstance(container_definitions, str):
        try:
            container_definitions = json.loads(container_definitions)
        except ValueError:
            return None
    for container in container_definitions or []:
        for variable in container.get("environment") or []:
            if variable.get("name") == "METRICS_NAMESPACE" and variable.get("value"):
                return str(variable["value"])
    return None


def _emf_lines(
    svc: ResourceRecord, component: str, desired: int, maximum: int, table: PriceTable
) -> list[CostLine]:
    a = table.assumptions
    metrics = cost.custom_metrics_count(
        len(metric_catalogue.BUSINESS), int(a["emf_measured_routes"]), int(a["emf_status_classes_per_route"])
    )
    gb = float(a["emf_log_gb_per_task"])
    return [
        CostLine(
            svc.urn,
            svc.name,
            component,
            f"CloudWatch custom metrics from the API's EMF records: {metrics}",
            cost.custom_metrics_monthly(metrics, table),
        ),
        CostLine(
            svc.urn,
            svc.name,
            component,
            f"EMF log ingestion {gb:g} GB per task",
            cost.log_ingestion_monthly(gb * desired, table),
            cost.log_ingestion_monthly(gb * maximum, table),
        ),
    ]


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
    if name.startswith("aws-waf-logs-"):
        return "waf"
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
    for acl in inv.of_type("aws:wafv2/webAcl:WebAcl"):
        rules = len(acl.props.get("rules") or [])
        millions = table.assumptions["waf_requests_millions"]
        add(acl, f"WAF web ACL + {rules} rules + {millions} M requests", cost.waf_monthly(rules, table))
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
        f"API metrics (EMF): {a['emf_measured_routes']} routes x (Latency + Requests for "
        f"{a['emf_status_classes_per_route']} status classes) + the business counters; "
        f"{a['emf_log_gb_per_task']:g} GB of EMF records per task",
        f"ECR {a['ecr_stored_gb']:g} GB, S3 {a['s3_stored_gb']:g} GB stored",
        f"Lambda {a['lambda_invocations']} invocations, SNS {a['sns_publishes']} publishes and "
        f"{a['sns_emails']} e-mails, SQS {a['sqs_requests']} requests per month (near zero, shown)",
    ]
