# ruff: noqa: E501 - one type per line reads best
"""The stack, synthesised offline, as a Terraform plan JSON that checkov's `terraform_plan` framework scans.

    python -m stacks.tfplan prod > plan.json      # then: checkov -f plan.json --framework terraform_plan

pulumi-aws is bridged from the Terraform AWS provider, so every resource has a Terraform twin with the
same attributes in snake_case: this module renames the type (TYPES) and the attributes, turns nested
objects into Terraform's one-element block lists (except map attributes such as `tags`), and merges the
provider's default tags into `tags_all` as Terraform would. Output values unknown before apply
(ids, ARNs) are not in it, which is what a `terraform plan` shows too. Pure functions, tested in
tests/test_tfplan.py; scripts/checkov runs checkov on the result.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterable, Mapping
from typing import Any

from stacks.offline import DeclaredResource, OfflineRun

# Pulumi type token → Terraform resource type, for every type the stack declares.
TYPES: dict[str, str] = {
    "aws:acm/certificate:Certificate": "aws_acm_certificate",
    "aws:acm/certificateValidation:CertificateValidation": "aws_acm_certificate_validation",
    "aws:appautoscaling/policy:Policy": "aws_appautoscaling_policy",
    "aws:appautoscaling/target:Target": "aws_appautoscaling_target",
    "aws:cloudwatch/dashboard:Dashboard": "aws_cloudwatch_dashboard",
    "aws:cloudwatch/eventRule:EventRule": "aws_cloudwatch_event_rule",
    "aws:cloudwatch/eventTarget:EventTarget": "aws_cloudwatch_event_target",
    "aws:cloudwatch/logGroup:LogGroup": "aws_cloudwatch_log_group",
    "aws:cloudwatch/logResourcePolicy:LogResourcePolicy": "aws_cloudwatch_log_resource_policy",
    "aws:cloudwatch/metricAlarm:MetricAlarm": "aws_cloudwatch_metric_alarm",
    "aws:cloudwatch/queryDefinition:QueryDefinition": "aws_cloudwatch_query_definition",
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": "aws_default_security_group",
    "aws:ec2/eip:Eip": "aws_eip",
    "aws:ec2/flowLog:FlowLog": "aws_flow_log",
    "aws:ec2/internetGateway:InternetGateway": "aws_internet_gateway",
    "aws:ec2/natGateway:NatGateway": "aws_nat_gateway",
    "aws:ec2/route:Route": "aws_route",
    "aws:ec2/routeTable:RouteTable": "aws_route_table",
    "aws:ec2/routeTableAssociation:RouteTableAssociation": "aws_route_table_association",
    "aws:ec2/securityGroup:SecurityGroup": "aws_security_group",
    "aws:ec2/subnet:Subnet": "aws_subnet",
    "aws:ec2/vpc:Vpc": "aws_vpc",
    "aws:ec2/vpcEndpoint:VpcEndpoint": "aws_vpc_endpoint",
    "aws:ecr/lifecyclePolicy:LifecyclePolicy": "aws_ecr_lifecycle_policy",
    "aws:ecr/repository:Repository": "aws_ecr_repository",
    "aws:ecs/cluster:Cluster": "aws_ecs_cluster",
    "aws:ecs/clusterCapacityProviders:ClusterCapacityProviders": "aws_ecs_cluster_capacity_providers",
    "aws:ecs/service:Service": "aws_ecs_service",
    "aws:ecs/taskDefinition:TaskDefinition": "aws_ecs_task_definition",
    "aws:iam/role:Role": "aws_iam_role",
    "aws:iam/rolePolicy:RolePolicy": "aws_iam_role_policy",
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": "aws_iam_role_policy_attachment",
    "aws:kms/alias:Alias": "aws_kms_alias",
    "aws:kms/key:Key": "aws_kms_key",
    "aws:lambda/function:Function": "aws_lambda_function",
    "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig": "aws_lambda_function_event_invoke_config",
    "aws:lambda/permission:Permission": "aws_lambda_permission",
    "aws:lb/listener:Listener": "aws_lb_listener",
    "aws:lb/listenerRule:ListenerRule": "aws_lb_listener_rule",
    "aws:lb/loadBalancer:LoadBalancer": "aws_lb",
    "aws:lb/targetGroup:TargetGroup": "aws_lb_target_group",
    "aws:rds/instance:Instance": "aws_db_instance",
    "aws:rds/parameterGroup:ParameterGroup": "aws_db_parameter_group",
    "aws:rds/subnetGroup:SubnetGroup": "aws_db_subnet_group",
    "aws:route53/record:Record": "aws_route53_record",
    "aws:s3/bucket:Bucket": "aws_s3_bucket",
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": "aws_s3_bucket_lifecycle_configuration",
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": "aws_s3_bucket_ownership_controls",
    "aws:s3/bucketPolicy:BucketPolicy": "aws_s3_bucket_policy",
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": "aws_s3_bucket_public_access_block",
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": (
        "aws_s3_bucket_server_side_encryption_configuration"
    ),
    "aws:s3/bucketVersioning:BucketVersioning": "aws_s3_bucket_versioning",
    "aws:secretsmanager/secret:Secret": "aws_secretsmanager_secret",
    "aws:secretsmanager/secretVersion:SecretVersion": "aws_secretsmanager_secret_version",
    "aws:sns/topic:Topic": "aws_sns_topic",
    "aws:sns/topicPolicy:TopicPolicy": "aws_sns_topic_policy",
    "aws:sns/topicSubscription:TopicSubscription": "aws_sns_topic_subscription",
    "aws:sqs/queue:Queue": "aws_sqs_queue",
    "aws:sqs/queuePolicy:QueuePolicy": "aws_sqs_queue_policy",
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": "aws_vpc_security_group_egress_rule",
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": "aws_vpc_security_group_ingress_rule",
    "aws:wafv2/webAcl:WebAcl": "aws_wafv2_web_acl",
    "aws:wafv2/webAclAssociation:WebAclAssociation": "aws_wafv2_web_acl_association",
    "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration": "aws_wafv2_web_acl_logging_configuration",
}
# Not AWS resources, or nothing a Terraform scanner knows: components, the provider, the image build,
# random values and the deployment check.
NOT_SCANNED = ("booking:components:", "pulumi:providers:", "pulumi-python:dynamic:", "random:", "docker:")
# Attributes that are maps in Terraform (not blocks): their keys stay as the program wrote them.
MAP_ATTRIBUTES = frozenset({"tags", "tags_all", "dimensions", "variables", "default_tags", "parameters"})
# Pulumi pluralises repeated blocks (`rules`, `listeners`); Terraform names the block in the singular.
BLOCK_NAMES: dict[str, str] = {
    "rules": "rule",
    "default_actions": "default_action",
    "actions": "action",
    "conditions": "condition",
    "redacted_fields": "redacted_field",
    "text_transformations": "text_transformation",
    "statements": "statement",
    "ingress": "ingress",
    "egress": "egress",
    "parameters": "parameter",
    "settings": "setting",
    "capacity_provider_strategies": "capacity_provider_strategy",
    "load_balancers": "load_balancer",
    "default_capacity_provider_strategies": "default_capacity_provider_strategy",
    "volumes": "volume",
    "aliases": "alias",
    "domain_validation_options": "domain_validation_options",
}
_CAMEL = re.compile(r"(?<=[a-z0-9])([A-Z])")


def snake(name: str) -> str:
    return _CAMEL.sub(r"_\1", name).lower()


def _value(key: str, value: Any) -> Any:
    """A Pulumi input value as Terraform's plan JSON shows it."""
    if key in MAP_ATTRIBUTES and isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, Mapping):
        return [attributes(value)]  # a nested block: a list of one object
    if isinstance(value, list):
        return [attributes(v) if isinstance(v, Mapping) else v for v in value]
    return value


def attributes(inputs: Mapping[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for name, value in inputs.items():
        key = snake(name)
        if value is None or key.startswith("__"):
            continue
        parsed = _decoded(value)
        if key in BLOCK_NAMES and isinstance(parsed, list):
            key = BLOCK_NAMES[key]
        result[key] = _value(key, parsed)
    return result


def _decoded(value: Any) -> Any:
    """Objects the offline run recorded as Python reprs or JSON strings, as data (policies stay strings)."""
    if isinstance(value, str) and value[:2] in ("[{", "{'"):
        try:
            import ast

            return ast.literal_eval(value)
        except (ValueError, SyntaxError):
            return value
    return value


def default_tags(run: OfflineRun) -> dict[str, str]:
    for resource in run.resources:
        if resource.type == "pulumi:providers:aws" and resource.inputs.get("defaultTags"):
            raw = resource.inputs["defaultTags"]
            tags = (json.loads(raw) if isinstance(raw, str) else raw).get("tags") or {}
            return {str(k): str(v) for k, v in tags.items()}
    return {}


def _address_name(resource: DeclaredResource) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "_", resource.name)


def to_resource(resource: DeclaredResource, tags: Mapping[str, str]) -> dict[str, Any]:
    tf_type = TYPES[resource.type]
    values = attributes(resource.inputs)
    if "tags" in values or tags:
        values["tags_all"] = {**tags, **(values.get("tags") or {})}
    name = _address_name(resource)
    return {
        "address": f"{tf_type}.{name}",
        "mode": "managed",
        "type": tf_type,
        "name": name,
        "provider_name": "registry.terraform.io/hashicorp/aws",
        "schema_version": 0,
        "values": values,
    }


def _reference_index(resources: Iterable[tuple[DeclaredResource, str]]) -> dict[str, list[str]]:
    """Physical id/ARN/name → the Terraform references (`aws_lb.x.arn`, `aws_lb.x`) that produce it."""
    index: dict[str, list[str]] = {}
    for resource, address in resources:
        produced = {
            "id": resource.id,
            **{snake(k): v for k, v in resource.outputs.items() if k in ("arn", "name", "bucket", "dnsName")},
        }
        for attribute, value in produced.items():
            if isinstance(value, str) and len(value) >= 8:
                index.setdefault(value, [f"{address}.{attribute}", address])
    return index


def expressions(
    values: Mapping[str, Any], index: Mapping[str, list[str]], own: str, *, top: bool = True
) -> dict[str, Any]:
    """Terraform's `configuration` expressions: which attributes refer to other resources.

    checkov builds its resource graph from these references (e.g. "is this ALB protected by a web ACL?"),
    so without them every cross-resource check fails for lack of an edge.
    """
    result: dict[str, Any] = {}
    for key, value in values.items():
        if top and key in ("name", "name_prefix", "identifier", "description"):
            continue  # a resource's own name is not a reference, even when another shares it
        items = value if isinstance(value, list) else [value]
        refs = [
            ref
            for item in items
            if isinstance(item, str)
            for ref in index.get(item, [])
            if not ref.startswith(own)
        ]
        blocks = [expressions(item, index, own, top=False) for item in items if isinstance(item, Mapping)]
        if refs:
            result[key] = {"references": refs}
        elif blocks and any(blocks) and key not in MAP_ATTRIBUTES:
            result[key] = blocks
    return result


def unmapped_types(resources: Iterable[DeclaredResource]) -> list[str]:
    return sorted({r.type for r in resources if not r.type.startswith(NOT_SCANNED) and r.type not in TYPES})


def plan_json(run: OfflineRun) -> dict[str, Any]:
    """A Terraform plan (format 1.2) holding every scannable resource the program declared."""
    if run.error:
        raise ValueError(f"the program failed: {run.error}")
    missing = unmapped_types(run.resources)
    if missing:
        raise ValueError(f"no Terraform type for {', '.join(missing)}: add it to stacks/tfplan.py TYPES")
    tags = default_tags(run)
    scanned = [r for r in run.resources if r.type in TYPES]
    resources = [to_resource(r, tags) for r in scanned]
    index = _reference_index((d, r["address"]) for d, r in zip(scanned, resources, strict=True))
    configuration = [
        {
            "address": r["address"],
            "mode": "managed",
            "type": r["type"],
            "name": r["name"],
            "expressions": expressions(r["values"], index, r["address"]),
        }
        for r in resources
    ]
    changes = [
        {
            "address": r["address"],
            "mode": "managed",
            "type": r["type"],
            "name": r["name"],
            "provider_name": r["provider_name"],
            "change": {"actions": ["create"], "before": None, "after": r["values"]},
        }
        for r in resources
    ]
    return {
        "format_version": "1.2",
        "terraform_version": "1.9.0",
        "planned_values": {"root_module": {"resources": resources}},
        "resource_changes": changes,
        "configuration": {"root_module": {"resources": configuration}},
    }


# --- checkov's verdict against the accepted list --------------------------------------------------------

ACCEPTED_ROW = re.compile(r"^\|\s*`?(CKV2?_AWS_\d+)`?\s*\|\s*`?([a-z0-9_]+)`?\s*\|")


def failed_checks(report: object) -> set[tuple[str, str]]:
    """(check id, Terraform resource type) of every failed check in `checkov -o json` output."""
    reports = report if isinstance(report, list) else [report]
    failed = set()
    for one in reports:
        if not isinstance(one, Mapping):
            continue
        for check in (one.get("results") or {}).get("failed_checks") or []:
            failed.add((str(check["check_id"]), str(check["resource"]).split(".", 1)[0]))
    return failed


def accepted_checks(markdown: str) -> set[tuple[str, str]]:
    """(check id, resource type) rows of the accepted-findings table in docs/security.md."""
    return {(m[1], m[2]) for line in markdown.splitlines() if (m := ACCEPTED_ROW.match(line.strip()))}


def verdict(failed: set[tuple[str, str]], accepted: set[tuple[str, str]]) -> tuple[list[str], list[str]]:
    """(findings nobody accepted, accepted rows that no longer fire)."""
    return (
        [f"{check} {tf_type}" for check, tf_type in sorted(failed - accepted)],
        [f"{check} {tf_type}" for check, tf_type in sorted(accepted - failed)],
    )


def main(argv: list[str]) -> int:
    from pathlib import Path

    from stacks.offline import run_stack

    if argv[:1] == ["verdict"]:
        report_path, accepted_path = argv[1], argv[2]
        new, stale = verdict(
            failed_checks(json.loads(Path(report_path).read_text())),
            accepted_checks(Path(accepted_path).read_text()),
        )
        for line in new:
            print(f"NOT ACCEPTED: {line}")
        for line in stale:
            print(f"STALE (no longer fires; remove it from {accepted_path}): {line}")
        return 1 if new or stale else 0
    stack = argv[0] if argv else "prod"
    json.dump(plan_json(run_stack(stack)), sys.stdout, indent=1, default=str)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
