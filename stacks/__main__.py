"""The booking stack, read top to bottom like the architecture diagram (../shared/DESIGN.md).

settings → Network → SecurityGroups → (DomainCertificate) → (LoadBalancer) → (DomainAlias) → Registry
→ AppSecrets → Database → Service | LambdaService (+ LambdaTarget | HttpApi) → DeployNotifier
→ Monitoring → (WebFirewall) → outputs

`booking:service.runtime` picks what runs the API from the one image: ECS Fargate tasks behind the ALB's
ip target group, or a Lambda function whose `live` alias sits behind a Lambda target group or, with
`booking:lambda.frontDoor: httpApi`, behind an API Gateway HTTP API instead of the ALB
(docs/lambda-runtime.md).
"""

from __future__ import annotations

from pathlib import Path

import pulumi
import pulumi_aws as aws

from app.core.metric_catalogue import metrics_namespace
from components.alarms import Watched, deployment_alarm_names
from components.database import Database, DatabaseArgs
from components.deploy_policies import boundary_policy_arn
from components.domain import DomainAlias, DomainAliasArgs, DomainCertificate, DomainCertificateArgs
from components.http_api import HttpApi
from components.lambda_service import LambdaService, LambdaServiceArgs
from components.lambda_target import LambdaTarget, LambdaTargetArgs
from components.load_balancer import LoadBalancer, LoadBalancerArgs
from components.monitoring import Monitoring, MonitoringArgs
from components.network import Network, NetworkArgs
from components.notifier import DeployNotifier, DeployNotifierArgs
from components.registry import Registry, RegistryArgs
from components.secrets import AppSecrets, AppSecretsArgs
from components.security_groups import SecurityGroups, SecurityGroupsArgs
from components.service import Service, ServiceArgs
from components.waf import WebFirewall, WebFirewallArgs
from stacks.front_door import http_api_front_door, interface_endpoints, uses_load_balancer
from stacks.settings import load_settings

REPO_ROOT = Path(__file__).resolve().parent.parent

# Config first: a bad value stops the program here, before any resource is declared.
settings = load_settings()
names = settings.names
on_lambda = settings.lambda_  # None: the API runs on Fargate
# False with frontDoor httpApi: no ALB, no ALB security group; the HTTP API is the way in.
with_alb = uses_load_balancer(settings.service.runtime, on_lambda.front_door if on_lambda else None)
# The API's business and per-route metrics (EMF on stdout) land here; the dashboard and alarms read it.
app_metrics_namespace = metrics_namespace(settings.environment)

# One explicit provider carries the default tags, so every taggable resource gets them.
aws_provider = aws.Provider(
    "aws",
    region=settings.region,
    default_tags=aws.ProviderDefaultTagsArgs(tags=settings.tags),
)
on_aws = pulumi.ResourceOptions(providers=[aws_provider])
# Asked once here; every component that builds an ARN or a confused-deputy condition takes it as an arg.
account_id = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(provider=aws_provider)).account_id
# Created by the bootstrap program; the deploy role may create a role only with it (docs/security.md).
boundary = account_id.apply(
    lambda account: boundary_policy_arn(account, settings.project, settings.environment)
)

network = Network(
    names.base,
    NetworkArgs(
        cidr_block=settings.network.cidr_block,
        availability_zones=settings.network.availability_zones,
        nat_gateways=settings.network.nat_gateways,
        flow_log_retention_days=settings.network.flow_log_retention_days,
        region=settings.region,
        account_id=account_id,
        permissions_boundary=boundary,
        # A Lambda function without NAT reaches Secrets Manager through an interface endpoint.
        interface_endpoints=interface_endpoints(settings.service.runtime, settings.network.nat_gateways),
    ),
    opts=on_aws,
)

security_groups = SecurityGroups(
    names.base,
    SecurityGroupsArgs(
        vpc_id=network.vpc_id,
        container_port=settings.service.container_port,
        load_balancer=with_alb,
        # A Lambda target is invoked through the Lambda API, not over the network.
        alb_to_service=on_lambda is None,
    ),
    opts=on_aws,
)

https = settings.https
certificate_arn: pulumi.Input[str] | None = https.certificate_arn or None
if https.creates_certificate:
    certificate_arn = DomainCertificate(
        f"{names.base}-domain",
        DomainCertificateArgs(domain_name=https.domain_name, hosted_zone_id=https.hosted_zone_id),
        opts=on_aws,
    ).certificate_arn

load_balancer: LoadBalancer | None = None
url: pulumi.Output[str] | None = None
if with_alb:
    load_balancer = LoadBalancer(
        names.base,
        LoadBalancerArgs(
            vpc_id=network.vpc_id,
            subnet_ids=list(network.public_subnet_ids),
            region=settings.region,
            account_id=account_id,
            security_group_id=security_groups.alb_security_group_id,
            load_balancer_name=names.load_balancer,
            target_group_name=names.target_group,
            container_port=settings.service.container_port,
            deregistration_delay_seconds=settings.load_balancer.deregistration_delay_seconds,
            idle_timeout_seconds=settings.load_balancer.idle_timeout_seconds,
            certificate_arn=certificate_arn,
            deletion_protection=settings.load_balancer.deletion_protection,
            access_logs=settings.load_balancer.access_logs,
            access_log_retention_days=settings.load_balancer.access_log_retention_days,
            health_check_interval_seconds=settings.load_balancer.health_check_interval_seconds,
            health_check_timeout_seconds=settings.load_balancer.health_check_timeout_seconds,
            unhealthy_threshold=settings.load_balancer.unhealthy_threshold,
            target_type="lambda" if on_lambda else "ip",
        ),
        opts=on_aws,
    )

    url = load_balancer.url
    if https.domain_name:
        url = DomainAlias(
            f"{names.base}-domain",
            DomainAliasArgs(
                domain_name=https.domain_name,
                hosted_zone_id=https.hosted_zone_id,
                load_balancer_dns_name=load_balancer.dns_name,
                load_balancer_zone_id=load_balancer.zone_id,
            ),
            opts=on_aws,
        ).url

registry = Registry(
    names.base,
    RegistryArgs(
        name_prefix=names.base,
        image_tag=settings.image.tag,
        architecture=settings.service.architecture,
        build_context=str(REPO_ROOT / "app"),
        dockerfile=str(REPO_ROOT / "app" / "Dockerfile"),
        keep_last_images=settings.image.keep_images,
        force_delete=not settings.is_prod,
    ),
    opts=on_aws,
)

app_secrets = AppSecrets(
    names.base,
    # Dev deletes secrets at once so the stack can be destroyed and re-created under the same names.
    AppSecretsArgs(name_prefix=names.base, recovery_window_days=30 if settings.is_prod else 0),
    opts=on_aws,
)

database = Database(
    names.base,
    DatabaseArgs(
        name_prefix=names.base,
        subnet_ids=network.isolated_subnet_ids,
        security_group_id=security_groups.database_security_group_id,
        engine_version=settings.database.engine_version,
        instance_class=settings.database.instance_class,
        allocated_storage_gb=settings.database.allocated_storage_gb,
        max_allocated_storage_gb=settings.database.max_allocated_storage_gb,
        multi_az=settings.database.multi_az,
        backup_retention_days=settings.database.backup_retention_days,
        deletion_protection=settings.database.deletion_protection,
        final_snapshot=settings.database.final_snapshot,
        performance_insights=settings.database.performance_insights,
        log_retention_days=settings.service.log_retention_days,
        monitoring_interval_seconds=settings.database.monitoring_interval_seconds or 0,
        permissions_boundary=boundary,
    ),
    opts=on_aws,
)

service: Service | None = None
api: LambdaService | None = None
http_api: HttpApi | None = None
api_log_group_name: pulumi.Output[str]
if on_lambda is None:
    assert load_balancer is not None, "Fargate always has the ALB (uses_load_balancer)"
    service = Service(
        names.base,
        ServiceArgs(
            cluster_name=names.cluster,
            service_name=names.service,
            log_group_name=names.log_group,
            region=settings.region,
            account_id=account_id,
            subnet_ids=network.service_subnet_ids,
            assign_public_ip=network.service_assign_public_ip,
            security_group_id=security_groups.service_security_group_id,
            target_group_arn=load_balancer.target_group_arn,
            load_balancer_arn_suffix=load_balancer.arn_suffix,
            target_group_arn_suffix=load_balancer.target_group_arn_suffix,
            listener_arn=load_balancer.listener_arn,
            image=registry.image_uri,
            db_host=database.address,
            db_port=database.port,
            db_name=database.db_name,
            db_secret_arn=database.master_secret_arn,
            jwt_secret_arn=app_secrets.jwt_secret_arn,
            cpu=settings.service.cpu,
            memory=settings.service.memory,
            architecture=settings.service.architecture,
            spot=settings.service.spot,
            on_demand_base=settings.service.on_demand_base,
            container_port=settings.service.container_port,
            desired_count=settings.service.desired_count,
            min_count=settings.service.min_count,
            max_count=settings.service.max_count,
            health_check_grace_period_seconds=settings.service.health_check_grace_period_seconds,
            stop_timeout_seconds=settings.service.stop_timeout_seconds,
            drain_seconds=load_balancer.drain_seconds,
            graceful_shutdown_seconds=settings.service.graceful_shutdown_seconds,
            log_retention_days=settings.service.log_retention_days,
            log_level=settings.service.log_level,
            metrics_namespace=app_metrics_namespace,
            cpu_target_percent=settings.service.cpu_target_percent,
            requests_per_target=settings.service.requests_per_target,
            wait_for_steady_state=settings.service.wait_for_steady_state,
            fail_on_rollback=settings.service.fail_on_rollback,
            # The 5xx and latency alarms roll a bad deployment back; Monitoring creates them below under
            # these same names.
            deployment_alarm_names=deployment_alarm_names(names.base),
            permissions_boundary=boundary,
        ),
        opts=on_aws,
    )
    api_log_group_name = service.log_group_name
else:
    # The same image digest as a container-image function in the private subnets; each `up` publishes
    # a version that migrates and answers /readyz before the `live` alias moves to it.
    api = LambdaService(
        names.base,
        LambdaServiceArgs(
            function_name=names.function,
            region=settings.region,
            account_id=account_id,
            subnet_ids=network.private_subnet_ids,
            security_group_id=security_groups.service_security_group_id,
            image=registry.image_uri,
            architecture=settings.service.architecture,
            memory_mb=on_lambda.memory_mb,
            timeout_seconds=on_lambda.timeout_seconds,
            reserved_concurrency=on_lambda.reserved_concurrency,
            provisioned_concurrency=on_lambda.provisioned_concurrency,
            db_host=database.address,
            db_port=database.port,
            db_name=database.db_name,
            db_secret_arn=database.master_secret_arn,
            jwt_secret_arn=app_secrets.jwt_secret_arn,
            environment=settings.environment,
            app_name=settings.project,
            log_retention_days=settings.service.log_retention_days,
            log_level=settings.service.log_level,
            metrics_namespace=app_metrics_namespace,
            permissions_boundary=boundary,
            # The gate's migration needs the database, its security group rules and a route to
            # Secrets Manager in place.
            release_after=(network, security_groups, database),
        ),
        opts=on_aws,
    )
    api_log_group_name = api.log_group_name
    if load_balancer is not None:
        # frontDoor alb: the ALB's Lambda target group invokes the alias.
        LambdaTarget(
            f"{names.base}-lambda-target",
            LambdaTargetArgs(
                function_name=api.function_name,
                alias_name=api.alias_name,
                alias_arn=api.alias_arn,
                target_group_arn=load_balancer.target_group_arn,
            ),
            opts=on_aws,
        )
    else:
        # frontDoor httpApi: API Gateway's $default route invokes the alias; its HTTPS endpoint is `url`.
        http_api = http_api_front_door(
            names.base,
            function_name=api.function_name,
            alias_name=api.alias_name,
            alias_arn=api.alias_arn,
            log_retention_days=settings.service.log_retention_days,
            opts=on_aws,
        )
        url = http_api.url

if not settings.notifications.subscriptions:
    pulumi.log.warn(
        "booking:notifications lists no e-mail address: deployment e-mails go to nobody until someone "
        "subscribes to the notificationTopicArn output"
    )
deploy_notifier = DeployNotifier(
    f"{names.base}-deploy-notifier",
    DeployNotifierArgs(
        name_prefix=names.base,
        environment=settings.environment,
        app_name=settings.project,
        # Fargate: ECS deployment events of the service; Lambda: the release gate's booking.release events.
        runtime="lambda" if api else "fargate",
        cluster_name=service.cluster_name if service else None,
        service_arn=service.service_arn if service else None,
        function_name=api.function_name if api else None,
        subscriptions=settings.notifications.subscriptions,
        log_retention_days=settings.notifications.log_retention_days,
        permissions_boundary=boundary,
    ),
    opts=on_aws,
)

alarm_emails = settings.alarms.recipients([s.address for s in settings.notifications.subscriptions])
if not alarm_emails:
    pulumi.log.warn(
        "booking:alarms.emails and booking:notifications list no e-mail address: alarms go to nobody "
        "until someone subscribes to the alarmTopicArn output"
    )
monitoring = Monitoring(
    f"{names.base}-monitoring",
    MonitoringArgs(
        name_prefix=names.base,
        region=settings.region,
        account_id=account_id,
        watched=Watched(
            load_balancer=load_balancer.arn_suffix if load_balancer else None,
            target_group=load_balancer.target_group_arn_suffix if load_balancer else None,
            api_id=http_api.api_id if http_api else None,
            stage=http_api.stage_name if http_api else None,
            cluster_name=service.cluster_name if service else None,
            service_name=service.service_name if service else None,
            function_name=api.function_name if api else None,
            alias_name=api.alias_name if api else None,
            db_instance_identifier=database.identifier,
            notifier_function_name=deploy_notifier.function_name,
            dead_letter_queue_name=deploy_notifier.dead_letter_queue_name,
        ),
        min_healthy_hosts=settings.service.min_count,
        db_allocated_storage_gb=settings.database.allocated_storage_gb,
        app_log_group_name=api_log_group_name,
        metrics_namespace=app_metrics_namespace,
        alarm_emails=alarm_emails,
        alarms=settings.alarms,
        function_timeout_seconds=on_lambda.timeout_seconds if on_lambda else None,
        function_reserved_concurrency=on_lambda.reserved_concurrency if on_lambda else None,
    ),
    opts=on_aws,
)

waf = settings.waf
if waf and waf.enabled and load_balancer is not None:  # settings refuse WAF with httpApi
    WebFirewall(
        f"{names.base}-waf",
        WebFirewallArgs(
            name_prefix=names.base,
            region=settings.region,
            account_id=account_id,
            load_balancer_arn=load_balancer.arn,
            rate_limit=waf.auth_rate_limit,
            rate_window_seconds=waf.rate_window_seconds,
            log_retention_days=waf.log_retention_days,
            blocked_alarm_threshold=waf.blocked_requests_alarm,
            alarm_topic_arn=monitoring.alarm_topic_arn,
        ),
        opts=on_aws,
    )

assert url is not None, "every front door gives the stack a URL"
pulumi.export("url", url)
pulumi.export("ecrRepositoryUrl", registry.repository_url)
pulumi.export("image", registry.image_uri)
pulumi.export("imageDigest", registry.image_digest)
if service:
    pulumi.export("clusterName", service.cluster_name)
    pulumi.export("serviceName", service.service_name)
if api:
    pulumi.export("functionName", api.function_name)
    pulumi.export("functionAlias", api.alias_arn)
    pulumi.export("functionVersion", api.version)
pulumi.export("databaseEndpoint", database.endpoint)
pulumi.export("databaseSecretArn", database.master_secret_arn)
pulumi.export("logGroupName", api_log_group_name)
pulumi.export("notificationTopicArn", deploy_notifier.topic_arn)
pulumi.export("alarmTopicArn", monitoring.alarm_topic_arn)
pulumi.export("dashboardName", monitoring.dashboard_name)
