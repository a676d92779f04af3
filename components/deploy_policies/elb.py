"""Elastic Load Balancing v2: the stack's ALB, target groups, listeners and rules (named ARNs)."""

from __future__ import annotations

from components.deploy_policies._scope import StackScope, allow
from components.iam_policies import Statement


def statements(scope: StackScope) -> list[Statement]:
    p, base = scope.prefix, scope.base
    return [
        allow("LoadBalancerRead", ["elasticloadbalancing:Describe*"], ["*"], scope.in_region()),
        # Associating the web ACL calls SetWebAcl for WAF, which has no resource type (wafv2.py).
        allow("LoadBalancerWebAcl", ["elasticloadbalancing:SetWebAcl"], ["*"], scope.in_region()),
        allow(
            "LoadBalancerNamed",
            [
                # Tags given on create are authorised as AddTags on the new resource.
                "elasticloadbalancing:AddTags",
                "elasticloadbalancing:CreateListener",
                "elasticloadbalancing:CreateLoadBalancer",
                "elasticloadbalancing:CreateRule",
                "elasticloadbalancing:CreateTargetGroup",
                "elasticloadbalancing:DeleteListener",
                "elasticloadbalancing:DeleteLoadBalancer",
                "elasticloadbalancing:DeleteRule",
                "elasticloadbalancing:DeleteTargetGroup",
                # aws.lb.TargetGroupAttachment: the Lambda runtime's alias is the target group's target.
                "elasticloadbalancing:DeregisterTargets",
                "elasticloadbalancing:ModifyListener",
                "elasticloadbalancing:ModifyListenerAttributes",
                "elasticloadbalancing:ModifyLoadBalancerAttributes",
                "elasticloadbalancing:ModifyRule",
                "elasticloadbalancing:ModifyTargetGroup",
                "elasticloadbalancing:ModifyTargetGroupAttributes",
                "elasticloadbalancing:RegisterTargets",
                "elasticloadbalancing:RemoveTags",
                "elasticloadbalancing:SetSecurityGroups",
                "elasticloadbalancing:SetSubnets",
            ],
            [
                scope.arn("elasticloadbalancing", f"loadbalancer/app/{base}/*"),
                scope.arn("elasticloadbalancing", f"loadbalancer/app/{p}*/*"),
                scope.arn("elasticloadbalancing", f"targetgroup/{p}*/*"),
                scope.arn("elasticloadbalancing", f"listener/app/{base}/*/*"),
                scope.arn("elasticloadbalancing", f"listener/app/{p}*/*/*"),
                scope.arn("elasticloadbalancing", f"listener-rule/app/{base}/*/*/*"),
                scope.arn("elasticloadbalancing", f"listener-rule/app/{p}*/*/*/*"),
            ],
        ),
    ]
