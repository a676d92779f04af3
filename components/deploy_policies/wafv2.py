"""WAFv2: the stack's regional web ACL (`<project>-<env>-…`), its logging and its ALB association."""

from __future__ import annotations

from components.deploy_policies._scope import StackScope, allow
from components.iam_policies import Statement


def statements(scope: StackScope) -> list[Statement]:
    p = scope.prefix
    acl = scope.arn("wafv2", f"regional/webacl/{p}*/*")
    # AssociateWebACL is authorised on the web ACL and on the protected load balancer.
    load_balancer = scope.arn("elasticloadbalancing", f"loadbalancer/app/{scope.base}/*")
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
            [acl, load_balancer],
        ),
        # A web ACL that uses AWS managed rule groups is authorised against each of them too.
        allow(
            "ManagedRuleGroups",
            ["wafv2:CreateWebACL", "wafv2:UpdateWebACL"],
            # AWS owns them: the account part of their ARN is not ours.
            [f"arn:aws:wafv2:{scope.region}:*:regional/managedruleset/*/*"],
        ),
        allow(
            "WebAclRead",
            ["wafv2:GetWebACLForResource", "wafv2:ListResourcesForWebACL"],
            [acl, load_balancer],
        ),
    ]
