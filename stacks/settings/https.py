"""`booking:https`: how the API gets its TLS certificate.

Either `certificateArn` (an existing ACM certificate in the stack's region), or `domainName` +
`hostedZoneId`: the stack then requests the certificate from ACM, validates it with DNS records in that
Route 53 zone and points an alias record at the load balancer (as CDK's `domainName`/`domainZone`).
With both, the given certificate is used and only the alias record is created. With neither, the API is
served over plain HTTP, which only non-prod stacks may do (stack.py `check_prod`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from stacks.settings._base import Section

CERTIFICATE_ARN = re.compile(
    r"^arn:aws(?:-[a-z]+)*:acm:(?P<region>[a-z]{2}(?:-[a-z]+)+-\d):\d{12}:certificate/[0-9a-f-]{36}$"
)
# Route 53 hosted zone ids: "Z" and upper-case letters/digits (e.g. Z0123456789ABCDEFGHIJ).
HOSTED_ZONE_ID = re.compile(r"^Z[A-Z0-9]{1,31}$")
# A fully qualified name of lower-case labels (1-63 characters each, 253 in all), no trailing dot.
DOMAIN_NAME = re.compile(r"^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


@dataclass(frozen=True)
class HttpsSettings:
    certificate_arn: str = ""
    domain_name: str = ""
    hosted_zone_id: str = ""

    @property
    def enabled(self) -> bool:
        return bool(self.certificate_arn or self.domain_name)

    @property
    def creates_certificate(self) -> bool:
        return bool(self.domain_name) and not self.certificate_arn


def parse_https(raw: object, region: str) -> HttpsSettings:
    s = Section("https", raw, ["certificateArn", "domainName", "hostedZoneId"])
    arn = s.string("certificateArn", "")
    if arn:
        match = CERTIFICATE_ARN.match(arn)
        if not match:
            raise s.error(
                "certificateArn",
                arn,
                'must be "" (HTTP only) or an ACM certificate ARN like '
                "arn:aws:acm:<region>:<account>:certificate/<uuid>",
            )
        if match["region"] != region:
            raise s.error(
                "certificateArn",
                arn,
                f"must be a certificate in the stack's region {region} (ALB requirement)",
            )
    domain = s.string("domainName", "")
    zone = s.string("hostedZoneId", "")
    if domain and not DOMAIN_NAME.match(domain):
        raise s.error(
            "domainName", domain, "must be a lower-case DNS name like api.example.com (no trailing dot)"
        )
    if domain and not zone:
        raise s.error(
            "hostedZoneId", zone, "is required with domainName: the Route 53 zone that holds the name"
        )
    if zone and not HOSTED_ZONE_ID.match(zone):
        raise s.error("hostedZoneId", zone, "must be a Route 53 hosted zone id like Z0123456789ABCDEFGHIJ")
    if zone and not domain:
        raise s.error("domainName", domain, "is required with hostedZoneId: the name to serve the API under")
    return HttpsSettings(certificate_arn=arn, domain_name=domain, hosted_zone_id=zone)
