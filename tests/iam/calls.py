"""The AWS calls a first `pulumi up` makes, derived from what the stack program declares.

One entry per declared resource type (the Lambda runtime's: tests/iam/lambda_calls.py): the requests
its create makes, as IAM authorises them (one
request per resource ARN the action names, with the context keys AWS puts in it). A resource type with
no entry fails the test, so a new resource in the stack cannot slip past the deploy role's review.

Sources for the shapes below: EC2 User Guide "Grant permission to tag Amazon EC2 resources during
creation" (each resource of a create authorised separately; tags arrive as aws:RequestTag and as
ec2:CreateTags with ec2:CreateAction); IAM User Guide "IAM condition context keys" (iam:PermissionsBoundary,
iam:PolicyARN, iam:PassedToService); KMS Developer Guide "Controlling access to tags"; Route 53 Developer
Guide "Using IAM policy conditions for fine-grained access control"; the services' authorization
references (actions without a resource type are authorised against "*").

Over 400 lines: one entry per declared resource type, in one table, so a new type is added in one place.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from stacks.aws_answers import ACCOUNT
from stacks.offline import DeclaredResource, OfflineRun
from tests.iam.evaluator import Request

GLOBAL_REGION = "us-east-1"  # aws:RequestedRegion of IAM and Route 53 calls (global services)
# AWS managed rule groups live in an account that is not the stack's.
MANAGED_RULE_GROUP_ARN = "arn:aws:wafv2:{region}:111122223333:regional/managedruleset/{name}/0b1c2d3e"


@dataclass(frozen=True)
class Stack:
    name: str
    region: str
    tags: dict[str, str]

    def arn(self, service: str, resource: str, *, region: bool = True) -> str:
        return f"arn:aws:{service}:{self.region if region else ''}:{ACCOUNT}:{resource}"

    def ctx(self, **extra: Any) -> dict[str, Any]:
        return {"aws:RequestedRegion": self.region, **extra}

    def new(self, **extra: Any) -> dict[str, Any]:
        """Context of a create that carries the provider's default tags."""
        tags = {f"aws:RequestTag/{k}": v for k, v in self.tags.items()}
        return self.ctx(**tags, **{"aws:TagKeys": sorted(self.tags)}, **extra)

    def owned(self, **extra: Any) -> dict[str, Any]:
        """Context of a call on a resource the stack created (so it carries the tags)."""
        return self.ctx(**{f"aws:ResourceTag/{k}": v for k, v in self.tags.items()}, **extra)


def stack_of(run: OfflineRun) -> Stack:
    provider = next(r for r in run.resources if r.type == "pulumi:providers:aws")
    tags = json.loads(provider.inputs["defaultTags"])["tags"]
    region = provider.inputs.get("region") or GLOBAL_REGION
    return Stack(name=tags["Environment"], region=str(region), tags=tags)


def _id(resource: DeclaredResource, prefix: str) -> str:
    return f"{prefix}-{hashlib.sha256(resource.urn.encode()).hexdigest()[:17]}"


def _name(resource: DeclaredResource, *keys: str) -> str:
    for key in (*keys, "name", "identifier", "bucket"):
        value = resource.inputs.get(key)
        if isinstance(value, str) and value:
            return value
    return f"{resource.name}-a1b2c3d"


Calls = Iterator[Request]
CallMaker = Callable[[DeclaredResource, Stack], Calls]


def _ec2_create(kind: str, action: str, parents: tuple[str, ...] = ()) -> CallMaker:
    def calls(resource: DeclaredResource, s: Stack) -> Calls:
        new = s.arn("ec2", f"{kind}/{_id(resource, kind)}")
        yield Request(f"ec2:{action}", new, s.new())
        yield Request("ec2:CreateTags", new, s.new(**{"ec2:CreateAction": action}))
        for parent in parents:
            yield Request(f"ec2:{action}", s.arn("ec2", f"{parent}/{parent}-0parent"), s.owned())

    return calls


def _ec2_on_owned(action: str, *kinds: str) -> CallMaker:
    def calls(resource: DeclaredResource, s: Stack) -> Calls:
        for kind in kinds:
            yield Request(f"ec2:{action}", s.arn("ec2", f"{kind}/{_id(resource, kind)}"), s.owned())

    return calls


def _default_security_group(resource: DeclaredResource, s: Stack) -> Calls:
    group = s.arn("ec2", f"security-group/{_id(resource, 'sg')}")
    # AWS made it with the VPC, untagged: the provider tags it, then strips its rules.
    yield Request("ec2:CreateTags", group, s.new())
    yield Request("ec2:RevokeSecurityGroupIngress", group, s.owned())
    yield Request("ec2:RevokeSecurityGroupEgress", group, s.owned())


def _flow_log(resource: DeclaredResource, s: Stack) -> Calls:
    yield from _ec2_create("vpc-flow-log", "CreateFlowLogs", ("vpc",))(resource, s)
    yield _pass_role(str(resource.inputs["iamRoleArn"]), "vpc-flow-logs.amazonaws.com")


def _pass_role(role_arn: str, service: str) -> Request:
    return Request(
        "iam:PassRole", role_arn, {"aws:RequestedRegion": GLOBAL_REGION, "iam:PassedToService": service}
    )


def _iam(action: str, arn: str, **context: Any) -> Request:
    return Request(action, arn, {"aws:RequestedRegion": GLOBAL_REGION, **context})


def _role_arn(name: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:role/{name}"


def _boundary_of(run_roles: dict[str, str], role: str) -> dict[str, str]:
    """The boundary of the role named `role`: autonamed roles are `<logical name>-<7 hex>`."""
    boundary = run_roles.get(role) or run_roles.get(role.rsplit("-", 1)[0])
    return {"iam:PermissionsBoundary": boundary} if boundary else {}


def _named(action: str, template: str, *keys: str, region: bool = True, tagged: bool = False) -> CallMaker:
    def calls(resource: DeclaredResource, s: Stack) -> Calls:
        service, resource_part = template.split(":", 1)
        arn = s.arn(service, resource_part.format(n=_name(resource, *keys)), region=region)
        yield Request(action, arn, s.new() if tagged else s.ctx())

    return calls


def _kms_key(resource: DeclaredResource, s: Stack) -> Calls:
    key = s.arn("kms", f"key/{_id(resource, 'k')}")
    yield Request("kms:CreateKey", "*", s.new())
    # The first defect: tags on CreateKey need kms:TagResource on all keys.
    yield Request("kms:TagResource", "*", s.new())
    yield Request("kms:EnableKeyRotation", key, s.owned())
    yield Request("kms:DescribeKey", key, s.owned())


def _kms_alias(resource: DeclaredResource, s: Stack) -> Calls:
    yield Request("kms:CreateAlias", s.arn("kms", str(resource.inputs["name"])), s.ctx())
    yield Request("kms:CreateAlias", s.arn("kms", f"key/{_id(resource, 'k')}"), s.owned())


def _rds_instance(resource: DeclaredResource, s: Stack) -> Calls:
    yield Request("rds:CreateDBInstance", s.arn("rds", f"db:{resource.inputs['identifier']}"), s.new())
    yield Request("rds:CreateDBInstance", s.arn("rds", "og:default:postgres-16"), s.ctx())
    if resource.inputs.get("manageMasterUserPassword"):
        # The second defect: RDS describes aws/secretsmanager with the caller's permissions.
        aws_managed = s.arn("kms", "key/0aws0managed0secretsmanager0key")
        yield Request(
            "kms:DescribeKey", aws_managed, s.ctx(**{"kms:ResourceAliases": ["alias/aws/secretsmanager"]})
        )
        secret = s.arn("secretsmanager", "secret:rds!db-0b1c2d3e-aaaa-bbbb-cccc-0123456789ab-AbCdEf")
        yield Request("secretsmanager:CreateSecret", secret, s.ctx())
        yield Request("secretsmanager:TagResource", secret, s.ctx())
    if resource.inputs.get("monitoringRoleArn"):
        yield _pass_role(str(resource.inputs["monitoringRoleArn"]), "monitoring.rds.amazonaws.com")


def _subscription(resource: DeclaredResource, s: Stack) -> Calls:
    yield Request("sns:Subscribe", str(resource.inputs["topic"]), s.ctx())
    # The third defect: no resource type, so IAM authorises them against "*".
    for action in ("sns:GetSubscriptionAttributes", "sns:SetSubscriptionAttributes", "sns:Unsubscribe"):
        yield Request(action, "*", s.ctx())


def _task_definition(resource: DeclaredResource, s: Stack) -> Calls:
    family = resource.inputs["family"]
    yield Request("ecs:RegisterTaskDefinition", s.arn("ecs", f"task-definition/{family}:1"), s.new())
    yield Request("ecs:TagResource", s.arn("ecs", f"task-definition/{family}:1"), s.new())
    for key in ("executionRoleArn", "taskRoleArn"):
        yield _pass_role(str(resource.inputs[key]), "ecs-tasks.amazonaws.com")


def _ecs_service(resource: DeclaredResource, s: Stack) -> Calls:
    cluster = str(resource.inputs["cluster"]).rsplit("/", 1)[-1]
    yield Request("ecs:CreateService", s.arn("ecs", f"service/{cluster}/{resource.inputs['name']}"), s.new())


def _dynamic(resource: DeclaredResource, s: Stack) -> Calls:
    """The program's dynamic resources: the ECS DeploymentCheck or the Lambda release gate."""
    from tests.iam.lambda_calls import is_release, release_calls

    yield from (release_calls if is_release(resource) else _deployment_check)(resource, s)


def _deployment_check(resource: DeclaredResource, s: Stack) -> Calls:
    """DeploymentCheck reads the service and its deployment record with the deploy role's credentials."""
    cluster, service = resource.inputs["cluster"], resource.inputs["service"]
    yield Request("ecs:DescribeServices", s.arn("ecs", f"service/{cluster}/{service}"), s.ctx())
    yield Request("ecs:ListServiceDeployments", s.arn("ecs", f"service/{cluster}/{service}"), s.ctx())
    deployment = s.arn("ecs", f"service-deployment/{cluster}/{service}/0b1c2d3e")
    yield Request("ecs:DescribeServiceDeployments", deployment, s.ctx())


def _certificate(resource: DeclaredResource, s: Stack) -> Calls:
    domain = str(resource.inputs["domainName"])
    yield Request("acm:RequestCertificate", "*", s.new(**{"acm:DomainNames": [domain]}))
    yield Request("acm:AddTagsToCertificate", s.arn("acm", f"certificate/{_id(resource, 'c')}"), s.new())
    yield Request("acm:DescribeCertificate", s.arn("acm", f"certificate/{_id(resource, 'c')}"), s.owned())


def _record(resource: DeclaredResource, s: Stack) -> Calls:
    name = str(resource.inputs["name"]).rstrip(".").lower()
    zone = f"arn:aws:route53:::hostedzone/{resource.inputs['zoneId']}"
    context = {
        "route53:ChangeResourceRecordSetsNormalizedRecordNames": [name],
        "route53:ChangeResourceRecordSetsRecordTypes": [str(resource.inputs["type"])],
        "route53:ChangeResourceRecordSetsActions": ["UPSERT"],
    }
    yield Request("route53:ChangeResourceRecordSets", zone, {"aws:RequestedRegion": GLOBAL_REGION, **context})
    yield Request(
        "route53:GetChange", "arn:aws:route53:::change/C0123456789", {"aws:RequestedRegion": GLOBAL_REGION}
    )


def _web_acl_arn(s: Stack, run: OfflineRun) -> str:
    acl = next(r for r in run.resources if r.type == "aws:wafv2/webAcl:WebAcl")
    return s.arn("wafv2", f"regional/webacl/{acl.inputs['name']}/0b1c2d3e-aaaa-bbbb-cccc-0123456789ab")


def _load_balancer_arn(s: Stack, run: OfflineRun) -> str:
    lb = next(r for r in run.resources if r.type == "aws:lb/loadBalancer:LoadBalancer")
    return s.arn("elasticloadbalancing", f"loadbalancer/app/{lb.inputs['name']}/0123456789abcdef")


def _bucket(resource: DeclaredResource, s: Stack) -> Calls:
    bucket = f"arn:aws:s3:::{_name(resource)}"
    for action in ("s3:CreateBucket", "s3:PutBucketTagging", "s3:GetBucketPolicy", "s3:GetBucketVersioning"):
        yield Request(action, bucket, s.ctx())


def _bucket_call(action: str) -> CallMaker:
    def calls(resource: DeclaredResource, s: Stack) -> Calls:
        yield Request(action, f"arn:aws:s3:::{resource.inputs['bucket']}", s.ctx())

    return calls


def _role(resource: DeclaredResource, s: Stack) -> Calls:
    context = (
        {"iam:PermissionsBoundary": resource.inputs["permissionsBoundary"]}
        if resource.inputs.get("permissionsBoundary")
        else {}
    )
    yield _iam("iam:CreateRole", _role_arn(_name(resource)), **context)
    yield _iam("iam:TagRole", _role_arn(_name(resource)))


def role_calls(run: OfflineRun) -> Iterator[Request]:
    """Policy writes on the stack's roles: authorised with the role's current boundary."""
    boundaries = {
        str(r.inputs.get("name") or r.name): str(r.inputs.get("permissionsBoundary") or "")
        for r in run.resources
        if r.type == "aws:iam/role:Role"
    }
    for resource in run.resources:
        if resource.type == "aws:iam/rolePolicy:RolePolicy":
            role = str(resource.inputs["role"])
            yield _iam("iam:PutRolePolicy", _role_arn(role), **_boundary_of(boundaries, role))
        elif resource.type == "aws:iam/rolePolicyAttachment:RolePolicyAttachment":
            role = str(resource.inputs["role"])
            yield _iam(
                "iam:AttachRolePolicy",
                _role_arn(role),
                **_boundary_of(boundaries, role),
                **{"iam:PolicyARN": resource.inputs["policyArn"]},
            )


def waf_calls(run: OfflineRun, s: Stack) -> Iterator[Request]:
    if not any(r.type == "aws:wafv2/webAcl:WebAcl" for r in run.resources):
        return
    acl = _web_acl_arn(s, run)
    yield Request("wafv2:CreateWebACL", acl, s.new())
    for group in ("AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet"):
        yield Request(
            "wafv2:CreateWebACL", MANAGED_RULE_GROUP_ARN.format(region=s.region, name=group), s.ctx()
        )
    yield Request("wafv2:AssociateWebACL", acl, s.ctx())
    yield Request("wafv2:AssociateWebACL", _load_balancer_arn(s, run), s.ctx())
    yield Request("elasticloadbalancing:SetWebAcl", "*", s.ctx())
    yield Request("wafv2:PutLoggingConfiguration", acl, s.ctx())
    yield Request("logs:CreateLogDelivery", "*", s.ctx())
    yield Request("logs:PutResourcePolicy", "*", s.ctx())
    yield Request("logs:DescribeResourcePolicies", "*", s.ctx())


SKIP = ("booking:components:", "pulumi:providers:", "random:index/")
# Resource types whose calls are produced by the run-level makers (role_calls, waf_calls).
RUN_LEVEL = {
    "aws:iam/rolePolicy:RolePolicy",
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
    "aws:wafv2/webAcl:WebAcl",
    "aws:wafv2/webAclAssociation:WebAclAssociation",
    "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration",
    "aws:cloudwatch/logResourcePolicy:LogResourcePolicy",
}

MAKERS: dict[str, CallMaker] = {
    "aws:ec2/vpc:Vpc": _ec2_create("vpc", "CreateVpc"),
    "aws:ec2/subnet:Subnet": _ec2_create("subnet", "CreateSubnet", ("vpc",)),
    "aws:ec2/internetGateway:InternetGateway": lambda r, s: (
        x
        for maker in (
            _ec2_create("internet-gateway", "CreateInternetGateway"),
            _ec2_on_owned("AttachInternetGateway", "internet-gateway", "vpc"),
        )
        for x in maker(r, s)
    ),
    "aws:ec2/routeTable:RouteTable": _ec2_create("route-table", "CreateRouteTable", ("vpc",)),
    "aws:ec2/route:Route": _ec2_on_owned("CreateRoute", "route-table"),
    "aws:ec2/routeTableAssociation:RouteTableAssociation": _ec2_on_owned(
        "AssociateRouteTable", "route-table", "subnet"
    ),
    "aws:ec2/eip:Eip": _ec2_create("elastic-ip", "AllocateAddress"),
    "aws:ec2/natGateway:NatGateway": _ec2_create("natgateway", "CreateNatGateway", ("subnet", "elastic-ip")),
    "aws:ec2/securityGroup:SecurityGroup": _ec2_create("security-group", "CreateSecurityGroup", ("vpc",)),
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": _default_security_group,
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": _ec2_create(
        "security-group-rule", "AuthorizeSecurityGroupIngress", ("security-group",)
    ),
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": _ec2_create(
        "security-group-rule", "AuthorizeSecurityGroupEgress", ("security-group",)
    ),
    "aws:ec2/flowLog:FlowLog": _flow_log,
    "aws:iam/role:Role": _role,
    "aws:kms/key:Key": _kms_key,
    "aws:kms/alias:Alias": _kms_alias,
    "aws:rds/instance:Instance": _rds_instance,
    "aws:rds/subnetGroup:SubnetGroup": _named("rds:CreateDBSubnetGroup", "rds:subgrp:{n}"),
    "aws:rds/parameterGroup:ParameterGroup": _named("rds:CreateDBParameterGroup", "rds:pg:{n}"),
    "aws:secretsmanager/secret:Secret": _named(
        "secretsmanager:CreateSecret", "secretsmanager:secret:{n}-AbCdEf"
    ),
    "aws:secretsmanager/secretVersion:SecretVersion": lambda r, s: iter(
        [Request("secretsmanager:PutSecretValue", str(r.inputs["secretId"]), s.ctx())]
    ),
    "aws:ecr/repository:Repository": _named("ecr:CreateRepository", "ecr:repository/{n}"),
    "aws:ecr/lifecyclePolicy:LifecyclePolicy": _named(
        "ecr:PutLifecyclePolicy", "ecr:repository/{n}", "repository"
    ),
    "docker:index/image:Image": lambda r, s: iter(
        [
            Request("ecr:GetAuthorizationToken", "*", s.ctx()),
            Request(
                "ecr:InitiateLayerUpload",
                s.arn("ecr", f"repository/{str(r.inputs['imageName']).split('/', 1)[1].split(':')[0]}"),
                s.ctx(),
            ),
            Request(
                "ecr:PutImage",
                s.arn("ecr", f"repository/{str(r.inputs['imageName']).split('/', 1)[1].split(':')[0]}"),
                s.ctx(),
            ),
        ]
    ),
    "aws:ecs/cluster:Cluster": _named("ecs:CreateCluster", "ecs:cluster/{n}", tagged=True),
    "aws:ecs/clusterCapacityProviders:ClusterCapacityProviders": _named(
        "ecs:PutClusterCapacityProviders", "ecs:cluster/{n}", "clusterName"
    ),
    "aws:ecs/taskDefinition:TaskDefinition": _task_definition,
    "aws:ecs/service:Service": _ecs_service,
    "pulumi-python:dynamic:Resource": _dynamic,
    "aws:lb/loadBalancer:LoadBalancer": _named(
        "elasticloadbalancing:CreateLoadBalancer",
        "elasticloadbalancing:loadbalancer/app/{n}/0123456789abcdef",
        tagged=True,
    ),
    "aws:lb/targetGroup:TargetGroup": _named(
        "elasticloadbalancing:CreateTargetGroup",
        "elasticloadbalancing:targetgroup/{n}/0123456789abcdef",
        tagged=True,
    ),
    "aws:lb/listener:Listener": lambda r, s: iter(
        [Request("elasticloadbalancing:CreateListener", str(r.inputs["loadBalancerArn"]), s.new())]
    ),
    "aws:lb/listenerRule:ListenerRule": lambda r, s: iter(
        [Request("elasticloadbalancing:CreateRule", str(r.inputs["listenerArn"]), s.new())]
    ),
    "aws:acm/certificate:Certificate": _certificate,
    "aws:acm/certificateValidation:CertificateValidation": lambda r, s: iter(
        [Request("acm:DescribeCertificate", str(r.inputs["certificateArn"]), s.owned())]
    ),
    "aws:route53/record:Record": _record,
    "aws:s3/bucket:Bucket": _bucket,
    "aws:s3/bucketPolicy:BucketPolicy": _bucket_call("s3:PutBucketPolicy"),
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": _bucket_call("s3:PutBucketPublicAccessBlock"),
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": _bucket_call("s3:PutBucketOwnershipControls"),
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": _bucket_call(
        "s3:PutEncryptionConfiguration"
    ),
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": _bucket_call(
        "s3:PutLifecycleConfiguration"
    ),
    "aws:sns/topic:Topic": _named("sns:CreateTopic", "sns:{n}", tagged=True),
    "aws:sns/topicPolicy:TopicPolicy": lambda r, s: iter(
        [Request("sns:SetTopicAttributes", str(r.inputs["arn"]), s.ctx())]
    ),
    "aws:sns/topicSubscription:TopicSubscription": _subscription,
    "aws:sqs/queue:Queue": _named("sqs:CreateQueue", "sqs:{n}", tagged=True),
    "aws:sqs/queuePolicy:QueuePolicy": lambda r, s: iter(
        [
            Request(
                "sqs:SetQueueAttributes", s.arn("sqs", str(r.inputs["queueUrl"]).rsplit("/", 1)[-1]), s.ctx()
            )
        ]
    ),
    "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig": lambda r, s: iter(
        [
            Request(
                "lambda:PutFunctionEventInvokeConfig",
                s.arn("lambda", f"function:{r.inputs['functionName']}"),
                s.ctx(),
            )
        ]
    ),
    "aws:cloudwatch/eventRule:EventRule": _named("events:PutRule", "events:rule/{n}", tagged=True),
    "aws:cloudwatch/eventTarget:EventTarget": _named("events:PutTargets", "events:rule/{n}", "rule"),
    "aws:cloudwatch/logGroup:LogGroup": _named("logs:CreateLogGroup", "logs:log-group:{n}", tagged=True),
    "aws:cloudwatch/queryDefinition:QueryDefinition": lambda r, s: iter(
        [Request("logs:PutQueryDefinition", "*", s.ctx())]
    ),
    "aws:cloudwatch/metricAlarm:MetricAlarm": _named(
        "cloudwatch:PutMetricAlarm", "cloudwatch:alarm:{n}", tagged=True
    ),
    "aws:cloudwatch/dashboard:Dashboard": _named(
        "cloudwatch:PutDashboard", "cloudwatch:dashboard/{n}", "dashboardName", region=False
    ),
    "aws:appautoscaling/target:Target": lambda r, s: iter(
        [Request("application-autoscaling:RegisterScalableTarget", "*", s.ctx())]
    ),
    "aws:appautoscaling/policy:Policy": lambda r, s: iter(
        [
            Request("application-autoscaling:PutScalingPolicy", "*", s.ctx()),
            Request(
                "cloudwatch:PutMetricAlarm",
                s.arn("cloudwatch", f"alarm:TargetTracking-{r.inputs['resourceId']}-AlarmHigh-0b1c2d3e"),
                s.ctx(),
            ),
        ]
    ),
}


def first_up(run: OfflineRun) -> tuple[list[tuple[str, Request]], list[str]]:
    """(label, request) for every call, and the declared types nobody mapped."""
    from tests.iam.lambda_calls import MAKERS as LAMBDA_RUNTIME  # builds on this module's helpers

    makers = {**MAKERS, **LAMBDA_RUNTIME}
    s = stack_of(run)
    calls: list[tuple[str, Request]] = []
    unmapped: set[str] = set()
    for resource in run.resources:
        if resource.type.startswith(SKIP) or resource.type in RUN_LEVEL:
            continue
        maker = makers.get(resource.type)
        if maker is None:
            unmapped.add(resource.type)
            continue
        calls += [(f"{resource.type} {resource.name}", request) for request in maker(resource, s)]
    calls += [("role policies", request) for request in role_calls(run)]
    calls += [("web ACL", request) for request in waf_calls(run, s)]
    return calls, sorted(unmapped)
