"""A hand-made stack of resource records shaped like the program's (camelCase props, ids for refs)."""

from __future__ import annotations

import json
from typing import Any

from policies.invariants import Inventory, ResourceRecord

DIGEST = "sha256:" + "a" * 64


def urn(type_: str, name: str, stack: str = "prod") -> str:
    return f"urn:pulumi:{stack}::booking::{type_}::{name}"


def record(type_: str, name: str, props: dict[str, Any], stack: str = "prod", **kw: Any) -> ResourceRecord:
    return ResourceRecord(urn(type_, name, stack), type_, name, props, id=kw.pop("id", f"{name}-id"), **kw)


def good_stack(stack: str = "prod") -> dict[str, ResourceRecord]:
    """One compliant resource of every kind the invariants look at, keyed by name."""
    container = {
        "name": "api",
        "image": f"123.dkr.ecr.us-east-1.amazonaws.com/booking@{DIGEST}",
        "user": "10001:10001",
        "readonlyRootFilesystem": True,
        "environment": [
            {"name": "DB_SECRET_ARN", "value": "arn:aws:secretsmanager:us-east-1:1:secret:x"},
            {"name": "JWT_TTL_MINUTES", "value": "60"},
        ],
        "secrets": [{"name": "JWT_SECRET", "valueFrom": "arn:aws:secretsmanager:us-east-1:1:secret:j"}],
    }
    execution_policy = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": ["ecr:GetAuthorizationToken"], "Resource": "*"},
            {"Effect": "Allow", "Action": ["secretsmanager:GetSecretValue"], "Resource": ["arn:aws:x"]},
        ],
    }
    items = [
        record("aws:ec2/natGateway:NatGateway", "nat-a", {"subnetId": "public-a-id"}, stack),
        record("aws:ec2/securityGroup:SecurityGroup", "alb-sg", {"vpcId": "vpc-id"}, stack),
        record("aws:ec2/securityGroup:SecurityGroup", "service-sg", {"vpcId": "vpc-id"}, stack),
        record("aws:ec2/securityGroup:SecurityGroup", "db-sg", {"vpcId": "vpc-id"}, stack),
        record(
            "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
            "alb-https",
            {
                "securityGroupId": "alb-sg-id",
                "cidrIpv4": "0.0.0.0/0",
                "ipProtocol": "tcp",
                "fromPort": 443,
                "toPort": 443,
            },
            stack,
        ),
        record(
            "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
            "alb-http",
            {
                "securityGroupId": "alb-sg-id",
                "cidrIpv6": "::/0",
                "ipProtocol": "tcp",
                "fromPort": 80,
                "toPort": 80,
            },
            stack,
        ),
        record(
            "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
            "service-from-alb",
            {
                "securityGroupId": "service-sg-id",
                "referencedSecurityGroupId": "alb-sg-id",
                "ipProtocol": "tcp",
                "fromPort": 8000,
                "toPort": 8000,
            },
            stack,
        ),
        record(
            "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
            "db-from-service",
            {
                "securityGroupId": "db-sg-id",
                "referencedSecurityGroupId": "service-sg-id",
                "ipProtocol": "tcp",
                "fromPort": 5432,
                "toPort": 5432,
            },
            stack,
        ),
        record(
            "aws:lb/loadBalancer:LoadBalancer",
            "alb",
            {
                "loadBalancerType": "application",
                "securityGroups": ["alb-sg-id"],
                "dropInvalidHeaderFields": True,
                "enableDeletionProtection": True,
                "internal": False,
            },
            stack,
        ),
        record(
            "aws:rds/instance:Instance",
            "db",
            {
                "instanceClass": "db.t4g.small",
                "publiclyAccessible": False,
                "storageEncrypted": True,
                "manageMasterUserPassword": True,
                "multiAz": True,
                "deletionProtection": True,
                "skipFinalSnapshot": False,
                "finalSnapshotIdentifier": "db-final",
                "backupRetentionPeriod": 7,
                "vpcSecurityGroupIds": ["db-sg-id"],
            },
            stack,
        ),
        record(
            "aws:ecs/taskDefinition:TaskDefinition",
            "task",
            {"containerDefinitions": json.dumps([container])},
            stack,
        ),
        record(
            "aws:ecs/service:Service",
            "service",
            {
                "deploymentCircuitBreaker": {"enable": True, "rollback": True},
                "networkConfiguration": {
                    "assignPublicIp": False,
                    "securityGroups": ["service-sg-id"],
                    "subnets": ["private-a-id"],
                },
            },
            stack,
        ),
        record(
            "aws:iam/rolePolicy:RolePolicy",
            "execution-policy",
            {"policy": json.dumps(execution_policy)},
            stack,
        ),
        record("aws:cloudwatch/logGroup:LogGroup", "logs", {"retentionInDays": 30}, stack),
        record("aws:sns/topic:Topic", "topic", {"kmsMasterKeyId": "alias/aws/sns"}, stack),
        record("aws:sqs/queue:Queue", "dlq", {"sqsManagedSseEnabled": True}, stack),
        record("aws:s3/bucket:Bucket", "logs-bucket", {}, stack),
        record(
            "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
            "logs-bucket-block",
            {
                "bucket": "logs-bucket-id",
                "blockPublicAcls": True,
                "blockPublicPolicy": True,
                "ignorePublicAcls": True,
                "restrictPublicBuckets": True,
            },
            stack,
        ),
        record(
            "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
            "logs-bucket-sse",
            {
                "bucket": "logs-bucket-id",
                "rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}],
            },
            stack,
        ),
    ]
    return {r.name: r for r in items}


def with_props(records: dict[str, ResourceRecord], name: str, **changes: Any) -> dict[str, ResourceRecord]:
    old = records[name]
    new = ResourceRecord(old.urn, old.type, old.name, {**old.props, **changes}, old.parent, old.id, old.deps)
    return {**records, name: new}


def inventory(records: dict[str, ResourceRecord]) -> Inventory:
    return Inventory(records.values())
