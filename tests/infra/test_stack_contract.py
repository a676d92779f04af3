"""The contract of the real stack program, run offline for the dev and prod configs.

Every assertion reads what `stacks/__main__.py` declared (the inputs the mocks received), so a change in
a component that weakens an invariant fails here.

Over 400 lines: the expected resource tables and the invariants they back are read from the same two
offline runs.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from components.database import ENHANCED_MONITORING_POLICY
from stacks.offline import DeclaredResource, OfflineRun
from stacks.plan import guardrails

WORLD = {"0.0.0.0/0", "::/0"}
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
SG = "aws:ec2/securityGroup:SecurityGroup"
IMAGE_BY_DIGEST = re.compile(
    r"^\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com/[a-z0-9._/-]+@sha256:[0-9a-f]{64}$"
)

# Resource counts per type. dev: 2 AZs, one NAT; prod: 3 AZs, NAT per AZ, ALB access-log bucket.
COMMON_COUNTS: dict[str, int] = {
    "pulumi:providers:aws": 1,
    "booking:components:Network": 1,
    "booking:components:SecurityGroups": 1,
    "booking:components:LoadBalancer": 1,
    "booking:components:Registry": 1,
    "booking:components:AppSecrets": 1,
    "booking:components:Database": 1,
    "booking:components:Service": 1,
    "aws:ec2/vpc:Vpc": 1,
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": 1,
    "aws:ec2/internetGateway:InternetGateway": 1,
    "aws:ec2/flowLog:FlowLog": 1,
    # ALB, service, database; 4 world ingress rules (80/443, IPv4 and IPv6) + ALB→service + service→DB.
    SG: 3,
    INGRESS: 6,
    # ALB→service, service→DB, service→HTTPS (AWS APIs).
    EGRESS: 3,
    "aws:lb/loadBalancer:LoadBalancer": 1,
    "aws:lb/targetGroup:TargetGroup": 1,
    "aws:lb/listener:Listener": 1,
    # 404 for /metrics at the edge.
    "aws:lb/listenerRule:ListenerRule": 1,
    "aws:ecr/repository:Repository": 1,
    "aws:ecr/lifecyclePolicy:LifecyclePolicy": 1,
    "docker:index/image:Image": 1,
    "random:index/randomPassword:RandomPassword": 1,
    "aws:secretsmanager/secret:Secret": 1,
    "aws:secretsmanager/secretVersion:SecretVersion": 1,
    "aws:rds/instance:Instance": 1,
    "aws:rds/parameterGroup:ParameterGroup": 1,
    "aws:rds/subnetGroup:SubnetGroup": 1,
    # Flow logs, the API's logs, RDS's postgresql and upgrade log exports, the deploy notifier's logs.
    "aws:cloudwatch/logGroup:LogGroup": 5,
    "aws:ecs/cluster:Cluster": 1,
    "aws:ecs/clusterCapacityProviders:ClusterCapacityProviders": 1,
    "aws:ecs/taskDefinition:TaskDefinition": 1,
    "aws:ecs/service:Service": 1,
    # Flow logs, task execution, task, deploy notifier.
    "aws:iam/role:Role": 4,
    "aws:iam/rolePolicy:RolePolicy": 4,
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": 1,
    "aws:appautoscaling/target:Target": 1,
    "aws:appautoscaling/policy:Policy": 2,
    # The rollback check.
    "pulumi-python:dynamic:Resource": 1,
    # DeployNotifier: topic, rule → Lambda (with its log group, role, DLQ) → SNS.
    "booking:components:DeployNotifier": 1,
    "aws:sns/topic:Topic": 1,
    "aws:cloudwatch/eventRule:EventRule": 1,
    "aws:cloudwatch/eventTarget:EventTarget": 1,
    "aws:lambda/function:Function": 1,
    "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig": 1,
    "aws:lambda/permission:Permission": 1,
    "aws:sqs/queue:Queue": 1,
    "aws:sqs/queuePolicy:QueuePolicy": 1,
}
# Monitoring: alarms topic (KMS-encrypted, with its policy), 16 alarms (prod 17: noBookings is opt-in
# and only prod opts in), dashboard, saved log queries.
COMMON_COUNTS.update(
    {
        "booking:components:Monitoring": 1,
        "aws:cloudwatch/metricAlarm:MetricAlarm": 16,
        "aws:cloudwatch/dashboard:Dashboard": 1,
        "aws:cloudwatch/queryDefinition:QueryDefinition": 2,
        "aws:kms/key:Key": 1,
        "aws:kms/alias:Alias": 1,
        "aws:sns/topicPolicy:TopicPolicy": 1,
    }
)
COMMON_COUNTS["aws:sns/topic:Topic"] += 1
DEV_COUNTS = {
    **COMMON_COUNTS,
    "aws:ec2/subnet:Subnet": 6,
    "aws:ec2/eip:Eip": 1,
    "aws:ec2/natGateway:NatGateway": 1,
    # public + one per private subnet + isolated
    "aws:ec2/routeTable:RouteTable": 4,
    "aws:ec2/route:Route": 3,
    "aws:ec2/routeTableAssociation:RouteTableAssociation": 6,
    # ops@ for deployments and for alarms.
    "aws:sns/topicSubscription:TopicSubscription": 2,
}
PROD_COUNTS = {
    **COMMON_COUNTS,
    "aws:ec2/subnet:Subnet": 9,
    "aws:ec2/eip:Eip": 3,
    "aws:ec2/natGateway:NatGateway": 3,
    "aws:ec2/routeTable:RouteTable": 5,
    "aws:ec2/route:Route": 4,
    "aws:ec2/routeTableAssociation:RouteTableAssociation": 9,
    # ops@ and oncall@, each for deployments and for alarms.
    "aws:sns/topicSubscription:TopicSubscription": 4,
    "aws:s3/bucket:Bucket": 1,
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": 1,
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": 1,
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": 1,
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": 1,
    "aws:s3/bucketPolicy:BucketPolicy": 1,
    # The final snapshot's unique suffix.
    "random:index/randomId:RandomId": 1,
    # HTTPS by domain (issue 11): the certificate, its DNS validation record and the alias record; the
    # HTTPS listener next to the HTTP one that redirects to it.
    "booking:components:DomainCertificate": 1,
    "booking:components:DomainAlias": 1,
    "aws:acm/certificate:Certificate": 1,
    "aws:acm/certificateValidation:CertificateValidation": 1,
    "aws:route53/record:Record": 2,
    "aws:lb/listener:Listener": 2,
    # The WAF web ACL, its association, its logs (group + delivery policy) and its blocked-requests alarm.
    "booking:components:WebFirewall": 1,
    "aws:wafv2/webAcl:WebAcl": 1,
    "aws:wafv2/webAclAssociation:WebAclAssociation": 1,
    "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration": 1,
    "aws:cloudwatch/logResourcePolicy:LogResourcePolicy": 1,
    "aws:cloudwatch/logGroup:LogGroup": COMMON_COUNTS["aws:cloudwatch/logGroup:LogGroup"] + 1,
    # Monitoring's noBookings (prod opts in) and the WAF's blocked-requests alarm.
    "aws:cloudwatch/metricAlarm:MetricAlarm": COMMON_COUNTS["aws:cloudwatch/metricAlarm:MetricAlarm"] + 2,
    # Enhanced Monitoring: RDS's monitoring role and its AWS managed policy.
    "aws:iam/role:Role": COMMON_COUNTS["aws:iam/role:Role"] + 1,
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": 2,
}

OUTPUT_NAMES = {
    "url",
    "ecrRepositoryUrl",
    "image",
    "imageDigest",
    "clusterName",
    "serviceName",
    "databaseEndpoint",
    "databaseSecretArn",
    "logGroupName",
    "notificationTopicArn",
    "alarmTopicArn",
    "dashboardName",
}


@pytest.fixture(params=["dev", "prod", "dev_no_nat"])
def run(request: pytest.FixtureRequest) -> OfflineRun:
    result: OfflineRun = request.getfixturevalue(request.param)
    return result


# --- helpers --------------------------------------------------------------------------------------


def by_id(run: OfflineRun) -> dict[str, DeclaredResource]:
    return {r.id: r for r in run.resources if r.id}


def groups(run: OfflineRun) -> dict[str, str]:
    """Security group role (alb/service/database) by id."""
    return {r.id: r.name.rsplit("-", 1)[-1] for r in run.of_type(SG) if r.id}


def container(run: OfflineRun) -> dict[str, Any]:
    (definition,) = json.loads(
        run.one("aws:ecs/taskDefinition:TaskDefinition").inputs["containerDefinitions"]
    )
    return dict(definition)


def subnet_ids(run: OfflineRun, tier: str) -> list[str]:
    return [r.id or "" for r in run.of_type("aws:ec2/subnet:Subnet") if r.inputs["tags"]["Tier"] == tier]


def holds(run: OfflineRun, *invariant_ids: str) -> None:
    """The shared guardrails (policies/invariants.py, also the policy pack's) hold: one definition."""
    report = guardrails(run, only=invariant_ids)
    assert report.violations == (), [str(v) for v in report.violations]


def secret_values(run: OfflineRun) -> list[str]:
    return [r.outputs["result"] for r in run.of_type("random:index/randomPassword:RandomPassword")]


# --- counts and outputs ---------------------------------------------------------------------------


def test_dev_resource_counts(dev: OfflineRun) -> None:
    assert dev.type_counts() == DEV_COUNTS


def test_prod_resource_counts(prod: OfflineRun) -> None:
    assert prod.type_counts() == PROD_COUNTS


def test_outputs_are_the_documented_ones_and_hold_no_secret(run: OfflineRun) -> None:
    assert set(run.outputs) == OUTPUT_NAMES
    dumped = json.dumps(run.outputs)
    assert all(value not in dumped for value in secret_values(run))
    assert IMAGE_BY_DIGEST.match(run.outputs["image"])
    assert run.outputs["image"].endswith("@" + run.outputs["imageDigest"])
    assert run.outputs["databaseSecretArn"].startswith(
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!db-"
    )
    assert run.outputs["url"].startswith("http")


def test_every_guardrail_holds(run: OfflineRun) -> None:
    report = guardrails(run)
    assert len(report.evaluated) >= 19
    assert report.violations == (), [str(v) for v in report.violations]


def test_https_url_when_a_certificate_is_set(dev: OfflineRun, dev_no_nat: OfflineRun) -> None:
    assert dev.outputs["url"].startswith("http://")
    assert dev_no_nat.outputs["url"].startswith("https://")


# --- security groups ------------------------------------------------------------------------------


def test_only_the_alb_accepts_the_world_and_only_on_80_and_443(run: OfflineRun) -> None:
    holds(run, "sg-world-ingress-alb-only")
    role = groups(run)
    world = [r for r in run.of_type(INGRESS) if {r.inputs.get("cidrIpv4"), r.inputs.get("cidrIpv6")} & WORLD]
    assert sorted(
        (
            role[r.inputs["securityGroupId"]],
            r.inputs["fromPort"],
            r.inputs["toPort"],
            r.inputs.get("cidrIpv4") or r.inputs["cidrIpv6"],
        )
        for r in world
    ) == [
        ("alb", 80, 80, "0.0.0.0/0"),
        ("alb", 80, 80, "::/0"),
        ("alb", 443, 443, "0.0.0.0/0"),
        ("alb", 443, 443, "::/0"),
    ]
    # No inline rules anywhere, and every ingress rule is either world→ALB or group→group.
    assert all("ingress" not in r.inputs and "egress" not in r.inputs for r in run.of_type(SG))
    assert all(r in world or r.inputs.get("referencedSecurityGroupId") for r in run.of_type(INGRESS))


def test_service_only_from_alb_and_database_only_from_service(run: OfflineRun) -> None:
    holds(run, "sg-service-ingress-from-alb-only", "sg-database-ingress-from-service-only")
    role = groups(run)
    chained = sorted(
        (
            role[r.inputs["referencedSecurityGroupId"]],
            role[r.inputs["securityGroupId"]],
            r.inputs["fromPort"],
            r.inputs["toPort"],
            r.inputs["ipProtocol"],
        )
        for r in run.of_type(INGRESS)
        if r.inputs.get("referencedSecurityGroupId")
    )
    assert chained == [("alb", "service", 8000, 8000, "tcp"), ("service", "database", 5432, 5432, "tcp")]


def test_egress_is_narrow(run: OfflineRun) -> None:
    role = groups(run)
    egress = sorted(
        (
            role[r.inputs["securityGroupId"]],
            role.get(r.inputs.get("referencedSecurityGroupId", ""), r.inputs.get("cidrIpv4")),
            r.inputs["fromPort"],
        )
        for r in run.of_type(EGRESS)
    )
    assert egress == [("alb", "service", 8000), ("service", "0.0.0.0/0", 443), ("service", "database", 5432)]


def test_default_security_group_has_no_rules(run: OfflineRun) -> None:
    assert run.one("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup")
    holds(run, "vpc-default-sg-closed")


# --- database -------------------------------------------------------------------------------------


def test_database_is_private_encrypted_and_unreachable_from_the_internet(run: OfflineRun) -> None:
    db = run.one("aws:rds/instance:Instance").inputs
    holds(run, "rds-not-public", "rds-encrypted", "rds-managed-master-password")
    assert [groups(run)[g] for g in db["vpcSecurityGroupIds"]] == ["database"]

    subnet_group = next(
        r for r in run.of_type("aws:rds/subnetGroup:SubnetGroup") if r.id == db["dbSubnetGroupName"]
    )
    assert sorted(subnet_group.inputs["subnetIds"]) == sorted(subnet_ids(run, "isolated"))
    tables = {
        r.inputs["routeTableId"]
        for r in run.of_type("aws:ec2/routeTableAssociation:RouteTableAssociation")
        if r.inputs["subnetId"] in subnet_group.inputs["subnetIds"]
    }
    assert len(tables) == 1
    assert not [r for r in run.of_type("aws:ec2/route:Route") if r.inputs["routeTableId"] in tables]
    assert all(not r.inputs.get("routes") for r in run.of_type("aws:ec2/routeTable:RouteTable"))


def test_prod_database_is_multi_az_protected_and_backed_up(prod: OfflineRun) -> None:
    assert prod.one("aws:rds/instance:Instance").inputs["backupRetentionPeriod"] == 14
    holds(prod, "rds-production-resilience")


def test_performance_insights_follows_config(dev: OfflineRun, dev_no_nat: OfflineRun) -> None:
    assert dev.one("aws:rds/instance:Instance").inputs["performanceInsightsEnabled"] is True
    assert dev_no_nat.one("aws:rds/instance:Instance").inputs["performanceInsightsEnabled"] is False


def test_dev_database_is_destroyable(dev: OfflineRun) -> None:
    db = dev.one("aws:rds/instance:Instance").inputs
    assert (db["deletionProtection"], db["skipFinalSnapshot"], db["multiAz"]) == (False, True, False)


# --- task definition and service ------------------------------------------------------------------


def test_task_definition_runs_the_image_by_digest_as_non_root_read_only(run: OfflineRun) -> None:
    task = run.one("aws:ecs/taskDefinition:TaskDefinition").inputs
    c = container(run)
    holds(run, "task-non-root", "task-read-only-root-fs", "task-image-by-digest")
    assert c["user"] == "10001"
    assert IMAGE_BY_DIGEST.match(c["image"]) and c["image"] == run.outputs["image"]
    assert c["mountPoints"] == [{"sourceVolume": "tmp", "containerPath": "/tmp", "readOnly": False}]
    assert task["volumes"] == [{"name": "tmp"}]
    assert c["healthCheck"]["command"] == ["CMD", "python", "-m", "app", "healthcheck"]
    assert task["requiresCompatibilities"] == ["FARGATE"] and task["networkMode"] == "awsvpc"
    assert task["runtimePlatform"] == {"operatingSystemFamily": "LINUX", "cpuArchitecture": "ARM64"}


def test_no_plaintext_secret_in_the_task_definition(run: OfflineRun) -> None:
    holds(run, "task-no-plaintext-secrets")
    c = container(run)
    env = {e["name"]: e["value"] for e in c["environment"]}
    assert not {"DB_PASSWORD", "DB_USERNAME", "JWT_SECRET", "DATABASE_URL"} & set(env)
    assert env["DB_SSLMODE"] == "require"
    db_secret = run.outputs["databaseSecretArn"]
    jwt_secret = run.one("aws:secretsmanager/secret:Secret").outputs["arn"]
    assert c["secrets"] == [
        {"name": "DB_USERNAME", "valueFrom": f"{db_secret}:username::"},
        {"name": "DB_PASSWORD", "valueFrom": f"{db_secret}:password::"},
        {"name": "JWT_SECRET", "valueFrom": jwt_secret},
    ]
    # The generated key travels only into its SecretVersion, nowhere else.
    for value in secret_values(run):
        holders = [r.type for r in run.resources if value in json.dumps(r.inputs)]
        assert holders == ["aws:secretsmanager/secretVersion:SecretVersion"]


def test_logs_go_to_the_service_log_group_with_retention(run: OfflineRun) -> None:
    options = container(run)["logConfiguration"]["options"]
    group = next(
        r
        for r in run.of_type("aws:cloudwatch/logGroup:LogGroup")
        if r.inputs.get("name") == run.outputs["logGroupName"]
    )
    assert options["awslogs-group"] == group.inputs["name"] == f"/ecs/booking-{run.stack}/api"
    assert group.inputs["retentionInDays"] in (7, 90)
    holds(run, "logs-retention")


def test_service_rolls_back_failed_deployments_and_waits(run: OfflineRun) -> None:
    service = run.one("aws:ecs/service:Service").inputs
    holds(run, "ecs-deployment-rollback")
    assert (service["deploymentMinimumHealthyPercent"], service["deploymentMaximumPercent"]) == (100, 200)
    assert service["waitForSteadyState"] is True
    assert service["healthCheckGracePeriodSeconds"] > 0
    assert service["taskDefinition"] == run.one("aws:ecs/taskDefinition:TaskDefinition").outputs["arn"]
    # Monitoring's 5xx/latency alarms also roll a deployment back; they must be real alarms of this stack.
    alarms = service["alarms"]
    assert (alarms["enable"], alarms["rollback"]) == (True, True) and alarms["alarmNames"]
    declared = {r.inputs["name"] for r in run.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")}
    assert set(alarms["alarmNames"]) <= declared
    check = run.one("pulumi-python:dynamic:Resource")
    assert check.inputs == {
        "region": "us-east-1",
        "cluster": f"booking-{run.stack}",
        "service": "api",
        "taskDefinitionArn": service["taskDefinition"],
    }
    assert check.parent == run.one("booking:components:Service").urn


def test_tasks_run_in_private_subnets_without_public_ip_when_there_is_nat(
    dev: OfflineRun, prod: OfflineRun
) -> None:
    for run in (dev, prod):
        network = run.one("aws:ecs/service:Service").inputs["networkConfiguration"]
        holds(run, "ecs-no-public-ip")
        assert sorted(network["subnets"]) == sorted(subnet_ids(run, "private"))
        assert [groups(run)[g] for g in network["securityGroups"]] == ["service"]


def test_without_nat_tasks_get_a_public_ip_in_public_subnets(dev_no_nat: OfflineRun) -> None:
    network = dev_no_nat.one("aws:ecs/service:Service").inputs["networkConfiguration"]
    assert network["assignPublicIp"] is True
    assert sorted(network["subnets"]) == sorted(subnet_ids(dev_no_nat, "public"))
    assert not dev_no_nat.of_type("aws:ec2/natGateway:NatGateway")
    # Still reachable only from the ALB: same security group.
    assert [groups(dev_no_nat)[g] for g in network["securityGroups"]] == ["service"]


def test_capacity_and_autoscaling(dev: OfflineRun, prod: OfflineRun) -> None:
    assert dev.one("aws:ecs/clusterCapacityProviders:ClusterCapacityProviders").inputs[
        "capacityProviders"
    ] == [
        "FARGATE",
        "FARGATE_SPOT",
    ]
    assert prod.one("aws:ecs/clusterCapacityProviders:ClusterCapacityProviders").inputs[
        "capacityProviders"
    ] == ["FARGATE"]
    for run, (low, high) in ((dev, (1, 2)), (prod, (3, 9))):
        target = run.one("aws:appautoscaling/target:Target").inputs
        assert (target["minCapacity"], target["maxCapacity"]) == (low, high)
        assert target["resourceId"] == f"service/booking-{run.stack}/api"
        metrics = {
            p.inputs["targetTrackingScalingPolicyConfiguration"]["predefinedMetricSpecification"][
                "predefinedMetricType"
            ]: p.inputs
            for p in run.of_type("aws:appautoscaling/policy:Policy")
        }
        assert set(metrics) == {"ECSServiceAverageCPUUtilization", "ALBRequestCountPerTarget"}
        label = metrics["ALBRequestCountPerTarget"]["targetTrackingScalingPolicyConfiguration"][
            "predefinedMetricSpecification"
        ]["resourceLabel"]
        alb = run.one("aws:lb/loadBalancer:LoadBalancer").outputs["arnSuffix"]
        tg = run.one("aws:lb/targetGroup:TargetGroup").outputs["arnSuffix"]
        assert label == f"{alb}/{tg}"
    cluster = dev.one("aws:ecs/cluster:Cluster").inputs
    assert cluster["settings"] == [{"name": "containerInsights", "value": "enabled"}]


# --- load balancer --------------------------------------------------------------------------------


def test_load_balancer_and_target_group(run: OfflineRun) -> None:
    alb = run.one("aws:lb/loadBalancer:LoadBalancer").inputs
    holds(run, "alb-drop-invalid-headers")
    assert alb["desyncMitigationMode"] == "strictest"
    assert alb["internal"] is False
    assert sorted(alb["subnets"]) == sorted(subnet_ids(run, "public"))
    tg = run.one("aws:lb/targetGroup:TargetGroup").inputs
    assert (tg["targetType"], tg["port"], tg["protocol"]) == ("ip", 8000, "HTTP")
    assert tg["healthCheck"]["path"] == "/healthz"
    assert tg["healthCheck"]["interval"] <= 10 and tg["healthCheck"]["healthyThreshold"] == 2
    assert tg["deregistrationDelay"] <= 30


def test_http_forwards_without_certificate(dev: OfflineRun) -> None:
    (listener,) = dev.of_type("aws:lb/listener:Listener")
    assert (listener.inputs["port"], listener.inputs["protocol"]) == (80, "HTTP")
    assert listener.inputs["defaultActions"][0]["type"] == "forward"


@pytest.mark.parametrize("stack", ["dev", "dev_no_nat"])
def test_the_alb_refuses_metrics_on_the_listener_that_serves_the_api(
    stack: str, request: pytest.FixtureRequest
) -> None:
    run: OfflineRun = request.getfixturevalue(stack)
    listeners = run.of_type("aws:lb/listener:Listener")
    serving = [r for r in listeners if r.inputs["defaultActions"][0]["type"] == "forward"]
    (rule,) = run.of_type("aws:lb/listenerRule:ListenerRule")
    assert rule.inputs["listenerArn"] == serving[0].outputs["arn"]
    assert rule.inputs["conditions"] == [{"pathPattern": {"values": ["/metrics", "/metrics/*"]}}]
    assert rule.inputs["actions"] == [
        {
            "type": "fixed-response",
            "fixedResponse": {"contentType": "text/plain", "messageBody": "Not Found", "statusCode": "404"},
        }
    ]


def test_https_with_tls13_and_redirect_when_a_certificate_is_set(dev_no_nat: OfflineRun) -> None:
    listeners = {r.inputs["port"]: r.inputs for r in dev_no_nat.of_type("aws:lb/listener:Listener")}
    assert listeners[443]["protocol"] == "HTTPS"
    assert listeners[443]["sslPolicy"] == "ELBSecurityPolicy-TLS13-1-2-Res-2021-06"
    assert listeners[443]["certificateArn"].startswith("arn:aws:acm:us-east-1:")
    assert listeners[443]["defaultActions"][0]["type"] == "forward"
    assert listeners[80]["defaultActions"] == [
        {"type": "redirect", "redirect": {"protocol": "HTTPS", "port": "443", "statusCode": "HTTP_301"}}
    ]


def test_prod_alb_is_protected_and_logs_to_a_private_encrypted_bucket(
    prod: OfflineRun, dev: OfflineRun
) -> None:
    alb = prod.one("aws:lb/loadBalancer:LoadBalancer").inputs
    bucket = prod.one("aws:s3/bucket:Bucket")
    holds(prod, "alb-deletion-protection", "s3-private-encrypted")
    assert alb["accessLogs"] == {"bucket": bucket.id, "prefix": "alb", "enabled": True}
    sse = prod.one(
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
    ).inputs
    assert sse["rules"][0]["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "AES256"
    (rule,) = prod.one("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration").inputs["rules"]
    assert rule["status"] == "Enabled" and rule["expiration"]["days"] == 365
    policy = json.loads(prod.one("aws:s3/bucketPolicy:BucketPolicy").inputs["policy"])
    assert policy["Statement"][0]["Principal"] == {"AWS": "arn:aws:iam::127311923021:root"}
    assert policy["Statement"][0]["Resource"] == [f"arn:aws:s3:::{bucket.id}/alb/AWSLogs/123456789012/*"]
    assert dev.one("aws:lb/loadBalancer:LoadBalancer").inputs["enableDeletionProtection"] is False


# --- IAM ------------------------------------------------------------------------------------------

# AWS-managed policies we attach, and why their `*` resources are acceptable: ecr:GetAuthorizationToken
# only works on "*", and the managed policy is AWS's documented minimum for the ECS agent.
ALLOWED_MANAGED_POLICIES = {"arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"}
# Actions allowed a "*" resource because AWS offers no resource-level permission for them:
# ecs:DescribeTaskDefinition (the deploy notifier reads the revision an event names).
ALLOWED_WILDCARD_RESOURCE_ACTIONS = {"ecs:DescribeTaskDefinition"}


def as_list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else value


def test_every_iam_statement_lists_exact_actions_and_resources(run: OfflineRun) -> None:
    statements = []
    for policy in run.of_type("aws:iam/rolePolicy:RolePolicy"):
        for statement in json.loads(policy.inputs["policy"])["Statement"]:
            statements.append((policy.name, statement))
    assert statements
    holds(run, "iam-least-privilege")
    for name, statement in statements:
        assert statement["Effect"] == "Allow"
        # The shared guardrail (above) forbids "*" actions and unscopable-only "*" resources; the
        # contract is stricter: today only ecs:DescribeTaskDefinition needs a "*" resource.
        actions = as_list(statement["Action"])
        for action in actions:
            assert "*" not in action, (name, action)
        for resource in as_list(statement["Resource"]):
            if resource == "*":
                assert set(actions) <= ALLOWED_WILDCARD_RESOURCE_ACTIONS, (name, actions)
            else:
                assert resource.startswith("arn:aws:"), (name, resource)
    attached = {
        r.inputs["policyArn"] for r in run.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
    }
    # Enhanced Monitoring (on in prod) attaches RDS's own service-role policy to its monitoring role.
    monitoring = run.one("aws:rds/instance:Instance").inputs.get("monitoringInterval")
    assert attached == ALLOWED_MANAGED_POLICIES | ({ENHANCED_MONITORING_POLICY} if monitoring else set())


def test_roles_get_exactly_the_secrets_they_need(run: OfflineRun) -> None:
    policies = {r.name: json.loads(r.inputs["policy"]) for r in run.of_type("aws:iam/rolePolicy:RolePolicy")}
    base = f"booking-{run.stack}"
    db_secret = run.outputs["databaseSecretArn"]
    jwt_secret = run.one("aws:secretsmanager/secret:Secret").outputs["arn"]
    assert policies[f"{base}-execution-secrets"]["Statement"] == [
        {
            "Effect": "Allow",
            "Action": ["secretsmanager:GetSecretValue"],
            "Resource": sorted([db_secret, jwt_secret]),
        }
    ]
    assert policies[f"{base}-task-secrets"]["Statement"] == [
        {"Effect": "Allow", "Action": ["secretsmanager:GetSecretValue"], "Resource": [db_secret]}
    ]
    flow_group = next(
        r for r in run.of_type("aws:cloudwatch/logGroup:LogGroup") if r.name == f"{base}-flow-logs"
    ).outputs["arn"]
    assert policies[f"{base}-flow-logs"]["Statement"][0]["Resource"] == [
        flow_group,
        f"{flow_group}:log-stream:*",
    ]
    roles = {
        r.name: json.loads(r.inputs["assumeRolePolicy"])["Statement"]
        for r in run.of_type("aws:iam/role:Role")
    }
    assert {name: [s["Principal"] for s in st] for name, st in roles.items()} == {
        f"{base}-flow-logs": [{"Service": "vpc-flow-logs.amazonaws.com"}],
        f"{base}-execution": [{"Service": "ecs-tasks.amazonaws.com"}],
        f"{base}-task": [{"Service": "ecs-tasks.amazonaws.com"}],
        f"{base}-deploy-notifier-role": [{"Service": "lambda.amazonaws.com"}],
        **(
            {f"{base}-monitoring": [{"Service": "monitoring.rds.amazonaws.com"}]}
            if run.stack == "prod"
            else {}
        ),
    }
    for name in (f"{base}-flow-logs", f"{base}-execution", f"{base}-task"):
        assert roles[name][0]["Condition"]["StringEquals"] == {"aws:SourceAccount": "123456789012"}


# --- tags and names -------------------------------------------------------------------------------


def test_every_aws_resource_gets_the_default_tags(run: OfflineRun) -> None:
    (provider,) = run.of_type("pulumi:providers:aws")
    assert json.loads(provider.inputs["defaultTags"]) == {
        "tags": {"Project": "booking", "Environment": run.stack, "ManagedBy": "pulumi"}
    }
    aws_resources = [r for r in run.resources if r.custom and r.type.startswith("aws:")]
    assert aws_resources
    untagged = [r.name for r in aws_resources if not (r.provider or "").startswith(provider.urn + "::")]
    assert untagged == []


def test_network_layout(dev: OfflineRun, prod: OfflineRun) -> None:
    vpc = dev.one("aws:ec2/vpc:Vpc").inputs
    assert vpc["enableDnsSupport"] is True and vpc["enableDnsHostnames"] is True
    assert vpc["cidrBlock"] == "10.20.0.0/16"
    for run, azs in ((dev, 2), (prod, 3)):
        zones = {r.inputs["availabilityZone"] for r in run.of_type("aws:ec2/subnet:Subnet")}
        assert zones == {f"us-east-1{x}" for x in "abc"[:azs]}
        assert all(r.inputs["mapPublicIpOnLaunch"] is False for r in run.of_type("aws:ec2/subnet:Subnet"))
    nat_targets = {
        r.inputs["natGatewayId"] for r in prod.of_type("aws:ec2/route:Route") if "natGatewayId" in r.inputs
    }
    assert len(nat_targets) == 3
    flow = dev.one("aws:ec2/flowLog:FlowLog").inputs
    assert (flow["trafficType"], flow["logDestinationType"]) == ("ALL", "cloud-watch-logs")
