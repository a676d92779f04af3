"""ACM and Route 53: the stack's certificate, its DNS validation records and the alias record.

Only when the stack's `booking:https` names a domain and hosted zone. Record changes are limited to
that name and ACM's validation names under it (`route53:ChangeResourceRecordSetsNormalizedRecordNames`,
Route 53 Developer Guide, "Using IAM policy conditions for fine-grained access control").
"""

from __future__ import annotations

from components.deploy_policies._scope import StackScope, allow
from components.iam_policies import Statement


def statements(scope: StackScope) -> list[Statement]:
    certificate = scope.arn("acm", "certificate/*")
    result = [
        allow(
            "Certificates",
            ["acm:DescribeCertificate", "acm:ListTagsForCertificate"],
            [certificate],
            scope.in_region(),
        )
    ]
    if not (scope.domain_name and scope.hosted_zone_id):
        return result
    domain = scope.domain_name.lower().rstrip(".")
    result += [
        # RequestCertificate has no resource type: "*", limited to this name and this environment's tag.
        allow(
            "CertificateRequest",
            ["acm:RequestCertificate"],
            ["*"],
            {**scope.tagged("aws:RequestTag"), "ForAllValues:StringEquals": {"acm:DomainNames": [domain]}},
        ),
        allow(
            "CertificateTagOnCreate",
            ["acm:AddTagsToCertificate"],
            [certificate],
            scope.tagged("aws:RequestTag"),
        ),
        allow(
            "CertificateOwned",
            ["acm:AddTagsToCertificate", "acm:DeleteCertificate", "acm:RemoveTagsFromCertificate"],
            [certificate],
            scope.tagged(),
        ),
        allow(
            "DnsRecords",
            ["route53:ChangeResourceRecordSets"],
            [f"arn:aws:route53:::hostedzone/{scope.hosted_zone_id}"],
            {
                "ForAllValues:StringLike": {
                    "route53:ChangeResourceRecordSetsNormalizedRecordNames": [domain, f"_*.{domain}"]
                }
            },
        ),
        allow(
            "DnsRead",
            ["route53:GetHostedZone", "route53:ListResourceRecordSets", "route53:ListTagsForResource"],
            [f"arn:aws:route53:::hostedzone/{scope.hosted_zone_id}"],
        ),
        allow("DnsChanges", ["route53:GetChange"], ["arn:aws:route53:::change/*"]),
    ]
    return result
