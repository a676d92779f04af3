"""SecurityGroups: the three security groups and every rule between them, nothing else.

    internet (0.0.0.0/0, ::/0) ──80/443──► ALB SG ──container port──► service SG ──5432──► database SG

The service also needs HTTPS out to AWS APIs (ECR, Secrets Manager, CloudWatch Logs) through NAT.
The database SG has no egress rule at all: RDS answers on the established connection.

Without a load balancer (`load_balancer=False`: the Lambda runtime behind an API Gateway HTTP API, which
invokes the function without a network path into the VPC) there is no ALB SG and no rule admits the
internet at all.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

WORLD_IPV4 = "0.0.0.0/0"
WORLD_IPV6 = "::/0"
POSTGRES_PORT = 5432
LISTENER_PORTS = (80, 443)


@dataclass(frozen=True)
class SecurityGroupsArgs:
    vpc_id: pulumi.Input[str]
    container_port: int
    load_balancer: bool = True
    """False: no ALB security group, no internet ingress, no ALB→service rule."""
    alb_to_service: bool = True
    """False for a Lambda target: "The load balancer invokes the Lambda function directly instead of
    using a network connection. Therefore, there are no requirements for the outbound rules of the
    Application Load Balancer security groups" (ELB guide, "Lambda functions as targets"), so neither
    the ALB's egress nor the function's ingress rule is needed."""


class SecurityGroups(pulumi.ComponentResource):
    _alb_security_group_id: pulumi.Output[str] | None
    service_security_group_id: pulumi.Output[str]
    database_security_group_id: pulumi.Output[str]

    def __init__(
        self, name: str, args: SecurityGroupsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("booking:components:SecurityGroups", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        def group(role: str, description: str) -> aws.ec2.SecurityGroup:
            # No inline rules: the provider then also removes AWS's default allow-all egress rule.
            return aws.ec2.SecurityGroup(
                f"{name}-{role}",
                vpc_id=args.vpc_id,
                description=description,
                tags={"Name": f"{name}-{role}"},
                opts=child,
            )

        alb = group("alb", "Load balancer: HTTP/HTTPS from the internet") if args.load_balancer else None
        service = group("service", "API tasks: only from the load balancer")
        database = group("database", "PostgreSQL: only from the API tasks")

        if alb is not None:
            for port in LISTENER_PORTS:
                for family, cidr in (("ipv4", WORLD_IPV4), ("ipv6", WORLD_IPV6)):
                    aws.vpc.SecurityGroupIngressRule(
                        f"{name}-alb-in-{port}-{family}",
                        security_group_id=alb.id,
                        ip_protocol="tcp",
                        from_port=port,
                        to_port=port,
                        description=f"internet to load balancer port {port}",
                        cidr_ipv4=cidr if family == "ipv4" else None,
                        cidr_ipv6=cidr if family == "ipv6" else None,
                        opts=child,
                    )

        def allow(
            source_role: str,
            source: aws.ec2.SecurityGroup,
            target_role: str,
            target: aws.ec2.SecurityGroup,
            port: int,
            description: str,
        ) -> None:
            """Both halves of one group-to-group path: egress from `source`, ingress into `target`."""
            aws.vpc.SecurityGroupEgressRule(
                f"{name}-{source_role}-out-{target_role}",
                security_group_id=source.id,
                referenced_security_group_id=target.id,
                ip_protocol="tcp",
                from_port=port,
                to_port=port,
                description=description,
                opts=child,
            )
            aws.vpc.SecurityGroupIngressRule(
                f"{name}-{target_role}-in-{source_role}",
                security_group_id=target.id,
                referenced_security_group_id=source.id,
                ip_protocol="tcp",
                from_port=port,
                to_port=port,
                description=description,
                opts=child,
            )

        if alb is not None and args.alb_to_service:
            allow("alb", alb, "service", service, args.container_port, "load balancer to API tasks")
        allow("service", service, "database", database, POSTGRES_PORT, "API tasks to PostgreSQL")
        aws.vpc.SecurityGroupEgressRule(
            f"{name}-service-out-https",
            security_group_id=service.id,
            cidr_ipv4=WORLD_IPV4,
            ip_protocol="tcp",
            from_port=443,
            to_port=443,
            description="API tasks to AWS APIs (ECR, Secrets Manager, CloudWatch Logs)",
            opts=child,
        )

        self._alb_security_group_id = alb.id if alb is not None else None
        self.service_security_group_id = service.id
        self.database_security_group_id = database.id
        self.register_outputs(
            {
                "albSecurityGroupId": self._alb_security_group_id,
                "serviceSecurityGroupId": service.id,
                "databaseSecurityGroupId": database.id,
            }
        )

    @property
    def alb_security_group_id(self) -> pulumi.Output[str]:
        if self._alb_security_group_id is None:
            raise ValueError(
                "SecurityGroups was declared with load_balancer=False: there is no ALB security group"
            )
        return self._alb_security_group_id
