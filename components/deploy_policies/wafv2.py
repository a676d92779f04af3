"""WAFv2: the stack's regional web ACL (`<project>-<env>-…`), its logging and its ALB association."""

from __future__ import annotations

from components.deploy_policies._scope import StackScope, allow
from components.iam_policies import Statement


def statements(scope: StackScope) -> list[Statement]:
    p = scope.prefix
    acl = scope.arn("wafv2", f"regional/webacl/{p}*/*")
    return [
        allow(
            "WebAcl",
            [
                "wafv2:AssociateWebACL",
                "wafv2:CreateWebACL",
                "wafv2:DeleteLoggingConfiguration",
                "wafv2:DeleteWebACL",
                "wafv2:DisassociateWebACL",
                "wafv2:GetLoggingConfiguration",
                "wafv2:GetWebACL",
                "wafv2:ListTagsForResource",
                "wafv2:PutLoggingConfiguration",
                "wafv2:TagResource",
                "wafv2:UntagResource",
                "wafv2:UpdateWebACL",
            ],
            [acl],
        ),
        # A web ACL that uses AWS managed rule groups is authorised against each of them too.
        allow(
            "ManagedRuleGroups",
            ["wafv2:CreateWebACL", "wafv2:UpdateWebACL"],
            [scope.arn("wafv2", "regional/managedruleset/*/*")],
        ),
        allow(
            "WebAclRead",
            ["wafv2:GetWebACLForResource", "wafv2:ListResourcesForWebACL"],
            [
                acl,
                scope.arn("elasticloadbalancing", f"loadbalancer/app/{p}*/*"),
                scope.arn("elasticloadbalancing", f"loadbalancer/app/{scope.base}/*"),
            ],
        ),
        allow(
            "WebAclOnLoadBalancer",  # AssociateWebACL is also authorised on the protected resource
            ["wafv2:AssociateWebACL", "wafv2:DisassociateWebACL"],
            [scope.arn("elasticloadbalancing", f"loadbalancer/app/{scope.base}/*")],
        ),
    ]
