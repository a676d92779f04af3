"""LambdaTarget: registers the API's Lambda alias with the ALB's Lambda target group.

ELB user guide, "Lambda functions as targets", "Prepare the Lambda function": Elastic Load Balancing needs
permission to invoke the function (`lambda add-permission --principal elasticloadbalancing.amazonaws.com
--source-arn <target group ARN>`, with the function ARN *with the alias name*), and "to ensure that ... the
load balancer always invokes the current version ... create a function alias and include the alias in the
function ARN when you register". The permission must exist before the registration: RegisterTargets
checks it (AWS Knowledge Center, "circular dependency between a Lambda permission and a target group in
CloudFormation": "the Lambda permission must exist before you associate the Lambda function with the
target group"), hence the explicit `depends_on`.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

ELB_PRINCIPAL = "elasticloadbalancing.amazonaws.com"


@dataclass(frozen=True)
class LambdaTargetArgs:
    function_name: pulumi.Input[str]
    alias_name: pulumi.Input[str]
    alias_arn: pulumi.Input[str]
    """`arn:aws:lambda:<region>:<account>:function:<name>:<alias>`: what the target group invokes."""
    target_group_arn: pulumi.Input[str]


class LambdaTarget(pulumi.ComponentResource):
    permission_id: pulumi.Output[str]
    attachment_id: pulumi.Output[str]

    def __init__(self, name: str, args: LambdaTargetArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("booking:components:LambdaTarget", name, None, opts)
        # Scoped to this target group and to the alias: no other target group (or account) may invoke it,
        # and only the alias, not $LATEST or an unpromoted version, gets the grant.
        permission = aws.lambda_.Permission(
            f"{name}-elb-invoke",
            action="lambda:InvokeFunction",
            function=args.function_name,
            qualifier=args.alias_name,
            principal=ELB_PRINCIPAL,
            source_arn=args.target_group_arn,
            opts=pulumi.ResourceOptions(parent=self),
        )
        attachment = aws.lb.TargetGroupAttachment(
            f"{name}-attachment",
            target_group_arn=args.target_group_arn,
            target_id=args.alias_arn,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[permission]),
        )
        self.permission_id = permission.id
        self.attachment_id = attachment.id
        self.register_outputs({"permissionId": self.permission_id, "attachmentId": self.attachment_id})
