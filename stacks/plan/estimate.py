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
from stacks.plan import traffic as api
from stacks.plan.cost import CostLine, CostReport, PriceTable, UnpricedError
from stacks.plan.summary import Context
from stacks.plan.traffic import Traffic

LAMBDA_FUNCTION = "aws:lambda/function:Function"
PROVISIONED_CONCURRENCY = "aws:lambda/provisionedConcurrencyConfig:ProvisionedConcurrencyConfig"
HTTP_API = "aws:apigatewayv2/api:Api"


def _fargate_lines(
    ctx: Context, table: PriceTable, component: Mapping[str, str], traffic: Traffic | None
) -> list[CostLine]:
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
            lines += _emf_lines(svc, component[svc.urn], desired, maximum, table, traffic)
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


def emf_metrics(table: PriceTable, runtime: str, traffic: Traffic | None) -> int:
    a = table.assumptions
    business = len(metric_catalogue.BUSINESS)
    metrics = cost.custom_metrics_count(
        business, int(a["emf_measured_routes"]), int(a["emf_status_classes_per_route"])
    )
    return metrics if traffic is None else api.emf_metric_count(runtime, traffic, business, metrics)


def _emf_lines(
    svc: ResourceRecord,
    component: str,
    desired: int,
    maximum: int,
    table: PriceTable,
    traffic: Traffic | None,
) -> list[CostLine]:
    a = table.assumptions
    metrics = emf_metrics(table, "fargate", traffic)
    gb = float(a["emf_log_gb_per_task"])
    lines = [
        CostLine(
            svc.urn,
            svc.name,
            component,
            f"CloudWatch custom metrics from the API's EMF records: {metrics}",
            cost.custom_metrics_monthly(metrics, table),
        )
    ]
    if traffic is not None:
        return lines  # the records are part of the API's log volume under a given traffic
    return [
        *lines,
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


def estimate(
    ctx: Context, table: PriceTable, component: Mapping[str, str], traffic: Traffic | None = None
) -> CostReport:
    """The monthly cost; `traffic` None is a typical month of the price table's assumptions."""
    inv = ctx.inventory
    lines: list[CostLine] = _fargate_lines(ctx, table, component, traffic)
    warnings: list[str] = []
    api_functions = _api_functions(ctx)
    api_urns = {f.urn for f in api_functions}

    def add(record: ResourceRecord, item: str, monthly: float) -> None:
        lines.append(CostLine(record.urn, record.name, component[record.urn], item, monthly))

    for nat in inv.of_type("aws:ec2/natGateway:NatGateway"):
        gb = table.assumptions["nat_gb_processed_per_gateway"]
        add(nat, f"NAT gateway 730 h + {gb} GB processed", cost.nat_gateway_monthly(table))
    for eip in inv.of_type("aws:ec2/eip:Eip"):
        add(eip, "public IPv4 address (Elastic IP)", cost.public_ipv4_monthly(1, table))
    lambda_targets = any(
        tg.props.get("targetType") == "lambda" for tg in inv.of_type("aws:lb/targetGroup:TargetGroup")
    )
    for lb in inv.of_type(*LOAD_BALANCER_TYPES):
        alb_table = table
        if traffic is not None:
            lcu_avg = api.alb_lcu(traffic, table, lambda_targets=lambda_targets)
            alb_table = table.with_assumptions(alb_average_lcu=round(lcu_avg, 4))
        lcu = alb_table.assumptions["alb_average_lcu"]
        add(lb, f"ALB 730 h + {lcu:g} LCU average", cost.alb_monthly(alb_table))
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
    api_log_groups = {f"/aws/lambda/{f.props.get('name')}" for f in api_functions}
    access_logs = {
        str((stage.props.get("accessLogSettings") or {}).get("destinationArn"))
        for stage in inv.of_type("aws:apigatewayv2/stage:Stage")
    }
    for group in inv.of_type("aws:cloudwatch/logGroup:LogGroup"):
        kind = _log_kind(group, component[group.urn])
        gb = float(table.assumptions["log_ingested_gb"][kind])
        if group.props.get("name") in api_log_groups:
            kind, gb = "service", api.api_log_gb("lambda", traffic or api.busy(table), table)
        elif ctx.outputs.get(group.urn, {}).get("arn") in access_logs:
            kind, gb = "HTTP API access", api.access_log_gb(traffic or api.busy(table), table)
        elif traffic is not None and kind == "service":
            gb = api.api_log_gb("fargate", traffic, table)
        add(
            group,
            f"log ingestion {gb:.3g} GB ({kind.replace('_', ' ')})",
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
    lines += _api_lines(ctx, table, component, traffic or api.busy(table), api_functions)
    for function in inv.of_type(LAMBDA_FUNCTION):
        if function.urn in api_urns:
            continue
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


def _api_functions(ctx: Context) -> list[ResourceRecord]:
    """The API's function(s): the container-image ones (the notifier is a zip package)."""
    return [f for f in ctx.inventory.of_type(LAMBDA_FUNCTION) if f.props.get("packageType") == "Image"]


def _function(ctx: Context, reference: object) -> ResourceRecord | None:
    """The function a name or ARN refers to (a function's name may also be another resource's id)."""
    for function in ctx.inventory.of_type(LAMBDA_FUNCTION):
        outputs = ctx.outputs.get(function.urn, {})
        if reference in (function.props.get("name"), outputs.get("name"), outputs.get("arn")):
            return function
    return None


def _api_lines(
    ctx: Context,
    table: PriceTable,
    component: Mapping[str, str],
    traffic: Traffic,
    functions: list[ResourceRecord],
) -> list[CostLine]:
    lines: list[CostLine] = []

    def add(record: ResourceRecord, item: str, monthly: float) -> None:
        lines.append(CostLine(record.urn, record.name, component[record.urn], item, monthly))

    provisioned: dict[str, int] = {}
    for config in ctx.inventory.of_type(PROVISIONED_CONCURRENCY):
        function = _function(ctx, config.props.get("functionName"))
        count = int(config.props.get("provisionedConcurrentExecutions") or 0)
        if function is None:
            continue
        provisioned[function.urn] = provisioned.get(function.urn, 0) + count
        memory = float(function.props.get("memorySize") or 128)
        arch = str((function.props.get("architectures") or ["x86_64"])[0])
        add(
            config,
            f"Lambda provisioned concurrency {count} x {memory:g} MB {arch}, 730 h",
            api.provisioned_concurrency_monthly(count, memory, arch, table),
        )
    per_month = traffic.per_month(table)
    for function in functions:
        memory = float(function.props.get("memorySize") or 128)
        arch = str((function.props.get("architectures") or ["x86_64"])[0])
        on_pc = provisioned.get(function.urn, 0) > 0
        ms = table.assumptions["api_traffic"]["mean_duration_ms"]
        add(
            function,
            f"Lambda API {per_month:,.0f} requests x {ms} ms x {memory:g} MB {arch}"
            + (" on provisioned concurrency" if on_pc else " + cold starts' init"),
            api.lambda_requests_monthly(traffic, table)
            + api.lambda_duration_monthly(memory, arch, traffic, table, provisioned=on_pc),
        )
        variables = (function.props.get("environment") or {}).get("variables") or {}
        if variables.get("METRICS_NAMESPACE"):
            metrics = emf_metrics(table, "lambda", traffic)
            add(
                function,
                f"CloudWatch custom metrics from the API's EMF records: {metrics}",
                cost.custom_metrics_monthly(metrics, table),
            )
    for http_api in ctx.inventory.of_type(HTTP_API):
        if http_api.props.get("protocolType") == "HTTP":
            add(
                http_api,
                f"API Gateway HTTP API {per_month:,.0f} requests",
                api.http_api_monthly(traffic, table),
            )
    return lines


def assumption_lines(table: PriceTable) -> list[str]:
    a = table.assumptions
    t = a["api_traffic"]
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
        f"the API's traffic (Lambda requests, HTTP API, its log volume; ALB LCUs in the runtime comparison): "
        f"{t['busy_requests_per_day']:,} requests/day of {t['mean_duration_ms']} ms, "
        f"{t['request_bytes']} + {t['response_bytes']} bytes, "
        f"{t['lambda_cold_starts_per_day']} cold starts a day ({t['note']})",
        f"Lambda (notifier) {a['lambda_invocations']} invocations, SNS {a['sns_publishes']} publishes and "
        f"{a['sns_emails']} e-mails, SQS {a['sqs_requests']} requests per month (near zero, shown)",
    ]
