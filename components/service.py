"""Service: ECS cluster, log group, IAM roles, task definition and the Fargate service with autoscaling.

The task definition pins the image by digest, so every new image is a new revision and a rolling
deployment (min 100 % / max 200 %) guarded by the circuit breaker, which rolls back on failure. The
provider's `wait_for_steady_state` treats a rolled-back service as stable, so a DeploymentCheck
(components/deployment_check.py) runs after each service update and fails `pulumi up` on a rollback.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.deployment_check import DeploymentCheck, DeploymentCheckArgs
from components.iam_policies import to_json
from components.task_definition import (
    CONTAINER_NAME,
    TASK_EXECUTION_POLICY_ARN,
    capacity_provider_strategy,
    container_definitions,
    ecs_tasks_trust_policy,
    execution_role_policy,
    task_role_policy,
)
from components.time_budget import ECS_SERVICE_MINUTES, minutes
from components.types import Architecture


@dataclass(frozen=True)
class ServiceArgs:
    cluster_name: str
    service_name: str
    log_group_name: str
    region: str
    account_id: pulumi.Input[str]
    subnet_ids: Sequence[pulumi.Input[str]]
    assign_public_ip: bool
    security_group_id: pulumi.Input[str]
    target_group_arn: pulumi.Input[str]
    load_balancer_arn_suffix: pulumi.Input[str]
    target_group_arn_suffix: pulumi.Input[str]
    listener_arn: pulumi.Input[str]
    image: pulumi.Input[str]
    """`<repository url>@sha256:<digest>`."""
    db_host: pulumi.Input[str]
    db_port: pulumi.Input[int]
    db_name: pulumi.Input[str]
    db_secret_arn: pulumi.Input[str]
    jwt_secret_arn: pulumi.Input[str]
    cpu: int = 256
    memory: int = 512
    architecture: Architecture = "arm64"
    spot: bool = False
    container_port: int = 8000
    desired_count: int = 1
    min_count: int = 1
    max_count: int = 2
    health_check_grace_period_seconds: int = 60
    stop_timeout_seconds: int = 30
    drain_seconds: int = 0
    graceful_shutdown_seconds: int = 20
    on_demand_base: int = 0
    log_retention_days: int = 14
    log_level: str = "INFO"
    metrics_namespace: str | None = None  # where the API's EMF metrics go; None: the API writes none
    cpu_target_percent: int = 60
    requests_per_target: int = 500
    wait_for_steady_state: bool = True
    fail_on_rollback: bool = True
    deployment_alarm_names: tuple[pulumi.Input[str], ...] = ()
    """CloudWatch alarms that, when in ALARM during a deployment, make ECS roll it back (monitoring)."""
    permissions_boundary: pulumi.Input[str] | None = None
    """The environment's permissions boundary (bootstrap); every role the component creates carries it."""


class Service(pulumi.ComponentResource):
    cluster_name: pulumi.Output[str]
    cluster_arn: pulumi.Output[str]
    service_name: pulumi.Output[str]
    service_arn: pulumi.Output[str]
    log_group_name: pulumi.Output[str]
    task_definition_arn: pulumi.Output[str]
    task_definition_family: pulumi.Output[str]
    execution_role_arn: pulumi.Output[str]
    task_role_arn: pulumi.Output[str]

    def __init__(self, name: str, args: ServiceArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("booking:components:Service", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        cluster = aws.ecs.Cluster(
            f"{name}-cluster",
            name=args.cluster_name,
            settings=[aws.ecs.ClusterSettingArgs(name="containerInsights", value="enabled")],
            opts=child,
        )
        providers = ["FARGATE", "FARGATE_SPOT"] if args.spot else ["FARGATE"]
        capacity = aws.ecs.ClusterCapacityProviders(
            f"{name}-capacity",
            cluster_name=cluster.name,
            capacity_providers=providers,
            default_capacity_provider_strategies=[
                aws.ecs.ClusterCapacityProvidersDefaultCapacityProviderStrategyArgs(
                    capacity_provider=s["capacityProvider"], weight=s["weight"], base=s["base"]
                )
                for s in capacity_provider_strategy(args.spot, args.on_demand_base)
            ],
            opts=child,
        )
        log_group = aws.cloudwatch.LogGroup(
            f"{name}-logs", name=args.log_group_name, retention_in_days=args.log_retention_days, opts=child
        )

        trust = pulumi.Output.from_input(args.account_id).apply(
            lambda a: to_json(ecs_tasks_trust_policy(a, args.region))
        )
        execution_role = aws.iam.Role(
            f"{name}-execution",
            description="ECS agent: pull the image, write logs, fetch the injected secrets",
            assume_role_policy=trust,
            permissions_boundary=args.permissions_boundary,
            opts=child,
        )
        aws.iam.RolePolicyAttachment(
            f"{name}-execution-managed",
            role=execution_role.name,
            policy_arn=TASK_EXECUTION_POLICY_ARN,
            opts=child,
        )
        execution_secrets = aws.iam.RolePolicy(
            f"{name}-execution-secrets",
            role=execution_role.id,
            policy=pulumi.Output.all(args.jwt_secret_arn, args.db_secret_arn).apply(
                lambda arns: to_json(execution_role_policy(arns))
            ),
            opts=child,
        )
        task_role = aws.iam.Role(
            f"{name}-task",
            description="The booking API itself: re-read the RDS secret after rotation",
            assume_role_policy=trust,
            permissions_boundary=args.permissions_boundary,
            opts=child,
        )
        task_secrets = aws.iam.RolePolicy(
            f"{name}-task-secrets",
            role=task_role.id,
            policy=pulumi.Output.from_input(args.db_secret_arn).apply(
                lambda arn: to_json(task_role_policy(arn))
            ),
            opts=child,
        )

        definitions = pulumi.Output.all(
            image=args.image,
            log_group=log_group.name,
            db_host=args.db_host,
            db_port=args.db_port,
            db_name=args.db_name,
            db_secret_arn=args.db_secret_arn,
            jwt_secret_arn=args.jwt_secret_arn,
        ).apply(
            lambda v: json.dumps(
                container_definitions(
                    image=v["image"],
                    container_port=args.container_port,
                    log_group=v["log_group"],
                    region=args.region,
                    db_host=v["db_host"],
                    db_port=int(v["db_port"]),
                    db_name=v["db_name"],
                    db_secret_arn=v["db_secret_arn"],
                    jwt_secret_arn=v["jwt_secret_arn"],
                    stop_timeout_seconds=args.stop_timeout_seconds,
                    drain_seconds=args.drain_seconds,
                    graceful_shutdown_seconds=args.graceful_shutdown_seconds,
                    log_level=args.log_level,
                    metrics_namespace=args.metrics_namespace,
                )
            )
        )
        task_definition = aws.ecs.TaskDefinition(
            f"{name}-task",
            family=f"{args.cluster_name}-{args.service_name}",
            network_mode="awsvpc",
            requires_compatibilities=["FARGATE"],
            cpu=str(args.cpu),
            memory=str(args.memory),
            runtime_platform=aws.ecs.TaskDefinitionRuntimePlatformArgs(
                operating_system_family="LINUX",
                cpu_architecture="ARM64" if args.architecture == "arm64" else "X86_64",
            ),
            execution_role_arn=execution_role.arn,
            task_role_arn=task_role.arn,
            volumes=[aws.ecs.TaskDefinitionVolumeArgs(name="tmp")],
            container_definitions=definitions,
            opts=child,
        )

        alarms = (
            aws.ecs.ServiceAlarmsArgs(
                alarm_names=list(args.deployment_alarm_names), enable=True, rollback=True
            )
            if args.deployment_alarm_names
            else None
        )
        service = aws.ecs.Service(
            f"{name}-service",
            name=args.service_name,
            cluster=cluster.arn,
            task_definition=task_definition.arn,
            desired_count=args.desired_count,
            capacity_provider_strategies=[
                aws.ecs.ServiceCapacityProviderStrategyArgs(
                    capacity_provider=s["capacityProvider"], weight=s["weight"], base=s["base"]
                )
                for s in capacity_provider_strategy(args.spot, args.on_demand_base)
            ],
            platform_version="LATEST",
            network_configuration=aws.ecs.ServiceNetworkConfigurationArgs(
                subnets=list(args.subnet_ids),
                security_groups=[args.security_group_id],
                assign_public_ip=args.assign_public_ip,
            ),
            load_balancers=[
                aws.ecs.ServiceLoadBalancerArgs(
                    # ECS refuses a target group that no listener uses yet: resolve it after the listener.
                    target_group_arn=pulumi.Output.all(args.target_group_arn, args.listener_arn).apply(
                        lambda v: v[0]
                    ),
                    container_name=CONTAINER_NAME,
                    container_port=args.container_port,
                )
            ],
            health_check_grace_period_seconds=args.health_check_grace_period_seconds,
            deployment_controller=aws.ecs.ServiceDeploymentControllerArgs(type="ECS"),
            deployment_circuit_breaker=aws.ecs.ServiceDeploymentCircuitBreakerArgs(
                enable=True, rollback=True
            ),
            deployment_minimum_healthy_percent=100,
            deployment_maximum_percent=200,
            alarms=alarms,
            availability_zone_rebalancing="ENABLED",
            enable_ecs_managed_tags=True,
            propagate_tags="SERVICE",
            wait_for_steady_state=args.wait_for_steady_state,
            opts=pulumi.ResourceOptions(
                parent=self,
                # The roles' policies must exist before the first task pulls its secrets.
                depends_on=[capacity, execution_secrets, task_secrets],
                # Autoscaling owns the running count once the service exists.
                ignore_changes=["desiredCount"],
                # The steady-state wait is part of the delivery time budget (components/time_budget.py).
                custom_timeouts=pulumi.CustomTimeouts(
                    create=minutes(ECS_SERVICE_MINUTES), update=minutes(ECS_SERVICE_MINUTES)
                ),
            ),
        )

        scaling_target = aws.appautoscaling.Target(
            f"{name}-scaling",
            service_namespace="ecs",
            scalable_dimension="ecs:service:DesiredCount",
            resource_id=pulumi.Output.all(cluster.name, service.name).apply(
                lambda v: f"service/{v[0]}/{v[1]}"
            ),
            min_capacity=args.min_count,
            max_capacity=args.max_count,
            opts=child,
        )
        tracked = {
            "cpu": (
                aws.appautoscaling.PolicyTargetTrackingScalingPolicyConfigurationPredefinedMetricSpecificationArgs(
                    predefined_metric_type="ECSServiceAverageCPUUtilization"
                ),
                args.cpu_target_percent,
            ),
            "requests": (
                aws.appautoscaling.PolicyTargetTrackingScalingPolicyConfigurationPredefinedMetricSpecificationArgs(
                    predefined_metric_type="ALBRequestCountPerTarget",
                    resource_label=pulumi.Output.all(
                        args.load_balancer_arn_suffix, args.target_group_arn_suffix
                    ).apply(lambda v: f"{v[0]}/{v[1]}"),
                ),
                args.requests_per_target,
            ),
        }
        for suffix, (metric, target_value) in tracked.items():
            aws.appautoscaling.Policy(
                f"{name}-{suffix}",
                policy_type="TargetTrackingScaling",
                service_namespace=scaling_target.service_namespace,
                scalable_dimension=scaling_target.scalable_dimension,
                resource_id=scaling_target.resource_id,
                target_tracking_scaling_policy_configuration=aws.appautoscaling.PolicyTargetTrackingScalingPolicyConfigurationArgs(
                    predefined_metric_specification=metric,
                    target_value=target_value,
                    # Scale out fast on load, scale in slowly so a short lull does not drop capacity.
                    scale_in_cooldown=300,
                    scale_out_cooldown=60,
                ),
                opts=child,
            )

        if args.fail_on_rollback:
            DeploymentCheck(
                f"{name}-deployment-check",
                DeploymentCheckArgs(
                    region=args.region,
                    cluster=cluster.name,
                    service=service.name,
                    task_definition_arn=task_definition.arn,
                ),
                opts=pulumi.ResourceOptions(parent=self, depends_on=[service]),
            )

        self.cluster_name = cluster.name
        self.cluster_arn = cluster.arn
        self.service_name = service.name
        self.service_arn = service.id
        self.log_group_name = log_group.name
        self.task_definition_arn = task_definition.arn
        self.task_definition_family = task_definition.family
        self.execution_role_arn = execution_role.arn
        self.task_role_arn = task_role.arn
        self.register_outputs(
            {
                "clusterName": self.cluster_name,
                "clusterArn": self.cluster_arn,
                "serviceName": self.service_name,
                "serviceArn": self.service_arn,
                "logGroupName": self.log_group_name,
                "taskDefinitionArn": self.task_definition_arn,
            }
        )


__all__ = ["Service", "ServiceArgs"]
