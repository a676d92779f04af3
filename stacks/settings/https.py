"""`booking:https`: an ACM certificate turns on the HTTPS listener and the HTTP→HTTPS redirect."""

from __future__ import annotations

import re
from dataclasses import dataclass

from stacks.settings._base import Section

CERTIFICATE_ARN = re.compile(
    r"^arn:aws(?:-[a-z]+)*:acm:(?P<region>[a-z]{2}(?:-[a-z]+)+-\d):\d{12}:certificate/[0-9a-f-]{36}$"
)


@dataclass(frozen=True)
class HttpsSettings:
    certificate_arn: str

    @property
    def enabled(self) -> bool:
        return self.certificate_arn != ""


def parse_https(raw: object, region: str) -> HttpsSettings:
    s = Section("https", raw, ["certificateArn"])
    arn = s.string("certificateArn", "")
    if arn:
        match = CERTIFICATE_ARN.match(arn)
        if not match:
            raise s.error(
                "certificateArn",
                arn,
                'must be "" (HTTP only) or an ACM certificate ARN '
                "like arn:aws:acm:<region>:<account>:certificate/<uuid>",
            )
        if match["region"] != region:
            raise s.error(
                "certificateArn",
                arn,
                f"must be a certificate in the stack's region {region} (ALB requirement)",
            )
    return HttpsSettings(certificate_arn=arn)
