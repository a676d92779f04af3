"""DomainCertificate and DomainAlias: the API's own name in a Route 53 hosted zone, served over HTTPS.

As CDK's `domainName`/`domainZone` do: an ACM certificate for the name, validated by DNS (ACM User
Guide, "DNS validation": one CNAME per name, written into the zone), and an alias A record pointing
the name at the load balancer (Route 53 Developer Guide, "Routing traffic to an ELB load balancer").
The listener waits on the validation, so it never references a certificate that is still pending.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws


@dataclass(frozen=True)
class DomainCertificateArgs:
    domain_name: str
    hosted_zone_id: str


class DomainCertificate(pulumi.ComponentResource):
    certificate_arn: pulumi.Output[str]
    """The ARN once ACM has issued the certificate (the validation resource's output)."""

    def __init__(
        self, name: str, args: DomainCertificateArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("booking:components:DomainCertificate", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        certificate = aws.acm.Certificate(
            f"{name}-certificate",
            domain_name=args.domain_name,
            validation_method="DNS",
            # A replaced certificate must exist before the listener lets go of the old one.
            opts=pulumi.ResourceOptions(parent=self, delete_before_replace=False),
        )
        # One name, so one validation option; ACM gives the CNAME to write.
        option = certificate.domain_validation_options[0]
        record = aws.route53.Record(
            f"{name}-validation",
            zone_id=args.hosted_zone_id,
            name=option.resource_record_name,
            type=option.resource_record_type,
            records=[option.resource_record_value],
            ttl=300,
            # The validation CNAME is the same for every certificate of this name and account; a
            # re-created certificate must be able to claim the record its predecessor wrote.
            allow_overwrite=True,
            opts=child,
        )
        validation = aws.acm.CertificateValidation(
            f"{name}-validation",
            certificate_arn=certificate.arn,
            validation_record_fqdns=[record.fqdn],
            opts=child,
        )
        self.certificate_arn = validation.certificate_arn
        self.register_outputs({"certificateArn": self.certificate_arn})


@dataclass(frozen=True)
class DomainAliasArgs:
    domain_name: str
    hosted_zone_id: str
    load_balancer_dns_name: pulumi.Input[str]
    load_balancer_zone_id: pulumi.Input[str]


class DomainAlias(pulumi.ComponentResource):
    url: pulumi.Output[str]

    def __init__(self, name: str, args: DomainAliasArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("booking:components:DomainAlias", name, None, opts)
        record = aws.route53.Record(
            f"{name}-alias",
            zone_id=args.hosted_zone_id,
            name=args.domain_name,
            type="A",
            aliases=[
                aws.route53.RecordAliasArgs(
                    name=args.load_balancer_dns_name,
                    zone_id=args.load_balancer_zone_id,
                    evaluate_target_health=True,
                )
            ],
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.url = record.name.apply(lambda fqdn: f"https://{fqdn.rstrip('.')}")
        self.register_outputs({"url": self.url})
