"""What AWS (through pulumi-aws) answers, per resource type and data source: ids, ARNs, computed outputs.

Answers are derived from a hash of the type and logical name, so they are the same run to run (the
resource-graph guard, `scripts/resource-graph`, relies on it). `stacks/mocks.py` serves them to Pulumi.
"""

from __future__ import annotations

import hashlib
from typing import Any

ACCOUNT = "123456789012"


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


# Pulumi auto-names resources `<logical name>-<7 hex>` when no physical name is given.
def autoname(inputs: dict[str, Any], key: str, logical: str) -> str:
    value = inputs.get(key)
    if isinstance(value, str) and value:
        return value
    prefix = inputs.get(f"{key}Prefix")
    if isinstance(prefix, str) and prefix:
        return f"{prefix}{_hex(logical, length=26)}"
    return f"{logical}-{_hex(logical, length=7)}"


def resource_answer(region: str, t: str, logical: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The id and state AWS would give resource `logical` of type `t` declared with `inputs`."""
    r, a = region, ACCOUNT
    h = _hex(t, logical)
    state = dict(inputs)
    rid = f"{logical}-{h[:8]}"

    def named(key: str = "name") -> str:
        value = autoname(inputs, key, logical)
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
    elif t == "aws:iam/openIdConnectProvider:OpenIdConnectProvider":
        # IAM names an OIDC provider by its URL without the scheme.
        host = str(inputs.get("url", logical)).removeprefix("https://")
        rid = f"arn:aws:iam::{a}:oidc-provider/{host}"
        state.update(arn=rid)
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
        # `publish`: the function's `version` is the latest published version (the first one is "1").
        version = "1" if inputs.get("publish") else "$LATEST"
        state.update(
            arn=arn,
            qualifiedArn=f"{arn}:{version}",
            invokeArn=f"arn:aws:apigateway:{r}:lambda:path/2015-03-31/functions/{arn}/invocations",
            version=version,
            sourceCodeHash=_hex(h, length=44),
        )
    elif t == "aws:lambda/alias:Alias":
        function = str(inputs.get("functionName", logical)).rsplit(":", 1)[-1]
        rid = f"arn:aws:lambda:{r}:{a}:function:{function}:{inputs.get('name', logical)}"
        state.update(
            arn=rid,
            invokeArn=f"arn:aws:apigateway:{r}:lambda:path/2015-03-31/functions/{rid}/invocations",
        )
    elif t == "aws:lambda/provisionedConcurrencyConfig:ProvisionedConcurrencyConfig":
        rid = f"{inputs.get('functionName', logical)},{inputs.get('qualifier', '')}"
    elif t == "aws:apigatewayv2/api:Api":
        rid = _hex(h, "api", length=10)
        state.update(
            arn=f"arn:aws:apigateway:{r}::/apis/{rid}",
            apiEndpoint=f"https://{rid}.execute-api.{r}.amazonaws.com",
            executionArn=f"arn:aws:execute-api:{r}:{a}:{rid}",
        )
    elif t in ("aws:apigatewayv2/integration:Integration", "aws:apigatewayv2/route:Route"):
        rid = _hex(h, length=7)
    elif t == "aws:apigatewayv2/stage:Stage":
        api, stage = str(inputs.get("apiId", "")), str(inputs.get("name", logical))
        rid = stage
        state.update(
            arn=f"arn:aws:apigateway:{r}::/apis/{api}/stages/{stage}",
            executionArn=f"arn:aws:execute-api:{r}:{a}:{api}/{stage}",
            # The $default stage is served at the API's root.
            invokeUrl=f"https://{api}.execute-api.{r}.amazonaws.com/"
            + ("" if stage == "$default" else stage),
        )
    elif t == "aws:lb/targetGroupAttachment:TargetGroupAttachment":
        rid = f"{inputs.get('targetGroupArn', '')}-{_hex(h, length=20)}"
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
    elif t == "aws:acm/certificate:Certificate":
        rid = f"arn:aws:acm:{r}:{a}:certificate/{_uuid(h)}"
        domain = str(inputs.get("domainName", ""))
        # ACM's DNS validation record for the name (one CNAME under `_<hash>.<name>.`).
        option = {
            "domainName": domain,
            "resourceRecordName": f"_{_hex(h, 'name', length=32)}.{domain}.",
            "resourceRecordType": "CNAME",
            "resourceRecordValue": f"_{_hex(h, 'value', length=32)}.acm-validations.aws.",
        }
        state.update(arn=rid, domainValidationOptions=[option], status="PENDING_VALIDATION")
    elif t == "aws:acm/certificateValidation:CertificateValidation":
        rid = str(inputs.get("certificateArn", logical))
    elif t == "aws:route53/record:Record":
        fqdn = str(inputs.get("name", logical)).rstrip(".")
        rid = f"{inputs.get('zoneId', '')}_{fqdn}_{inputs.get('type', '')}"
        state.update(fqdn=fqdn)
    elif t == "aws:wafv2/webAcl:WebAcl":
        name = named()
        rid = _uuid(h)
        state.update(arn=f"arn:aws:wafv2:{r}:{a}:regional/webacl/{name}/{rid}", capacity=1000)
    elif t.startswith("aws:wafv2/"):
        rid = str(inputs.get("resourceArn", logical))
    elif t == "aws:cloudwatch/logResourcePolicy:LogResourcePolicy":
        rid = str(inputs.get("policyName", logical))
    elif t.startswith("pulumi:providers:"):
        rid = _uuid(h)
    elif "name" in inputs:
        rid = str(inputs["name"])
    return rid, state


def invoke_answer(region: str, function: str, call_args: dict[str, Any]) -> dict[str, Any]:
    """What the data source (invoke) `function` would return for `call_args`."""
    a, r = ACCOUNT, region
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
