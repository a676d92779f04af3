"""EC2 networking (VPC, subnets, gateways, routes, security groups, flow logs): attribute-based.

EC2 ARNs carry generated ids, not names, so the environment is told by its tag (EC2 User Guide,
"Grant permission to tag Amazon EC2 resources during creation" and "Example: Work with resources
by tags"): a *new* resource must be requested with `Environment=<env>` (`aws:RequestTag`), every
*existing* resource an action touches must already carry it (`aws:ResourceTag`). EC2 authorises each
resource of a request separately, so `CreateSubnet` in another environment's VPC is refused even
though the new subnet is tagged for this one. No instance, volume or image actions at all.
"""

from __future__ import annotations

from components.deploy_policies._scope import StackScope, allow
from components.iam_policies import Statement

# Create action → the resource type it creates (tag-on-create via TagSpecifications).
CREATES: dict[str, str] = {
    "ec2:CreateVpc": "vpc",
    "ec2:CreateSubnet": "subnet",
    "ec2:CreateInternetGateway": "internet-gateway",
    "ec2:CreateRouteTable": "route-table",
    "ec2:CreateSecurityGroup": "security-group",
    "ec2:AuthorizeSecurityGroupIngress": "security-group-rule",
    "ec2:AuthorizeSecurityGroupEgress": "security-group-rule",
    "ec2:AllocateAddress": "elastic-ip",
    "ec2:CreateNatGateway": "natgateway",
    "ec2:CreateFlowLogs": "vpc-flow-log",
    "ec2:CreateVpcEndpoint": "vpc-endpoint",
}

# AWS services the stack may reach through interface VPC endpoints (stacks/front_door.py: a Lambda
# function without a NAT gateway reaches Secrets Manager through one). `ec2:VpceServiceName` on the new
# endpoint (EC2 service authorization reference, CreateVpcEndpoint) names the service.
INTERFACE_ENDPOINT_SERVICES: tuple[str, ...] = ("secretsmanager",)

# Actions on resources the environment already owns (including the parent resources of a create:
# the VPC of a new subnet, the subnet and address of a NAT gateway, ...).
ON_TAGGED = (
    *CREATES,
    "ec2:AssociateRouteTable",
    "ec2:AttachInternetGateway",
    "ec2:CreateRoute",
    "ec2:DeleteFlowLogs",
    "ec2:DeleteInternetGateway",
    "ec2:DeleteNatGateway",
    "ec2:DeleteRoute",
    "ec2:DeleteRouteTable",
    "ec2:DeleteSecurityGroup",
    "ec2:DeleteSubnet",
    "ec2:DeleteVpc",
    "ec2:DeleteVpcEndpoints",
    "ec2:DetachInternetGateway",
    "ec2:DisassociateAddress",
    "ec2:DisassociateRouteTable",
    "ec2:ModifySecurityGroupRules",
    "ec2:ModifySubnetAttribute",
    "ec2:ModifyVpcAttribute",
    "ec2:ModifyVpcEndpoint",
    "ec2:ReleaseAddress",
    "ec2:ReplaceRoute",
    "ec2:ReplaceRouteTableAssociation",
    "ec2:RevokeSecurityGroupEgress",
    "ec2:RevokeSecurityGroupIngress",
    "ec2:UpdateSecurityGroupRuleDescriptionsEgress",
    "ec2:UpdateSecurityGroupRuleDescriptionsIngress",
)


def statements(scope: StackScope) -> list[Statement]:
    any_resource = [scope.arn("ec2", f"{resource_type}/*") for resource_type in sorted(set(CREATES.values()))]
    result = [
        # Describe* has no resource-level permissions: region only.
        allow("Ec2Read", ["ec2:Describe*"], ["*"], scope.in_region()),
        allow("Ec2Owned", ON_TAGGED, any_resource, scope.tagged()),
    ]
    by_type: dict[str, list[str]] = {}
    for action, resource_type in CREATES.items():
        by_type.setdefault(resource_type, []).append(action)
    endpoint_services = [f"com.amazonaws.{scope.region}.{service}" for service in INTERFACE_ENDPOINT_SERVICES]
    extra = {"vpc-endpoint": {"ec2:VpceServiceName": endpoint_services}}
    for resource_type, actions in sorted(by_type.items()):
        sid = "Ec2New" + "".join(part.title() for part in resource_type.split("-"))
        condition = scope.tagged("aws:RequestTag")
        condition["StringEquals"].update(extra.get(resource_type, {}))
        result.append(allow(sid, actions, [scope.arn("ec2", f"{resource_type}/*")], condition))
    result += [
        # Tags written as part of a create call (TagSpecifications) are authorised as ec2:CreateTags
        # with ec2:CreateAction set; they must say this environment.
        allow(
            "Ec2TagOnCreate",
            ["ec2:CreateTags"],
            any_resource,
            scope.in_region(
                **{
                    "aws:RequestTag/Environment": scope.stack,
                    "ec2:CreateAction": sorted(action.split(":")[1] for action in CREATES),
                }
            ),
        ),
        # Retagging an owned resource may not move it to another environment.
        allow(
            "Ec2Retag",
            ["ec2:CreateTags"],
            any_resource,
            {**scope.tagged(), "StringEqualsIfExists": {"aws:RequestTag/Environment": scope.stack}},
        ),
        allow(
            "Ec2Untag",
            ["ec2:DeleteTags"],
            any_resource,
            {**scope.tagged(), "ForAllValues:StringNotEquals": {"aws:TagKeys": ["Environment"]}},
        ),
        # Lambda's network interfaces for a VPC function are Lambda's, untagged and named by id only; when
        # a security group or subnet is destroyed the provider deletes the ones Lambda has released
        # (terraform-provider-aws deleteLingeringLambdaENI: description "AWS Lambda VPC ENI*", waits for
        # `available`, then DeleteNetworkInterface). EC2 refuses to delete an interface still in use.
        allow(
            "Ec2ReleasedLambdaInterfaces",
            ["ec2:DeleteNetworkInterface"],
            [scope.arn("ec2", "network-interface/*")],
            scope.in_region(),
        ),
        # The VPC's default security group is created by AWS with CreateVpc, untagged; the stack adopts
        # it (aws.ec2.DefaultSecurityGroup) and tags it first. Only an untagged group can be claimed.
        allow(
            "Ec2ClaimDefaultSecurityGroup",
            ["ec2:CreateTags"],
            [scope.arn("ec2", "security-group/*")],
            {**scope.tagged("aws:RequestTag"), "Null": {"aws:ResourceTag/Environment": "true"}},
        ),
    ]
    return result
