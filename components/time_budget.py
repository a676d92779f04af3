"""How long one `pulumi up` may take, and the session and job limits that must cover it.

Every number is set here once. The program applies the waits as Pulumi `customTimeouts` (Pulumi docs,
"Resource option: customTimeouts") and as the deployment check's polling limit; the bootstrap program
gives the GitHub roles `ROLE_SESSION_SECONDS` as `max_session_duration`; the workflows request the same
duration from `aws-actions/configure-aws-credentials` (`role-duration-seconds`, which defaults to one
hour) and set `timeout-minutes`, and `tests/test_delivery_budget.py` checks that they copy these numbers.

The longest `up` is prod's first: the RDS instance (Multi-AZ) is created, then the ECS service, which
needs the database's endpoint and secret, waits for a steady state, then the DeploymentCheck polls ECS
until the rollout is COMPLETED. These run one after the other, so their limits add up.

Order of the limits: job timeout ≥ role session ≥ the sum of the waits. When a limit is hit, the
credentials should expire first: Pulumi then gets errors from AWS, records the failed update and
releases the backend's lock. When GitHub kills the job instead (`timeout-minutes`), the process gets no
chance to clean up, and the lock stays (runbook: "Stale lock recovery").
"""

from __future__ import annotations

from dataclasses import dataclass

# --- the waits of one `pulumi up` -------------------------------------------------------------------

# Creating (or modifying) the RDS instance, Multi-AZ in prod. pulumi-aws' own default is 40 minutes for
# create; a Multi-AZ create plus its first backup can come close, so it gets an explicit, larger limit.
RDS_INSTANCE_MINUTES = 60
# ECS service create/update with `waitForSteadyState` (the provider's default limit is 20 minutes:
# pulumi/pulumi-awsx#1112 "timeout while waiting for state to become 'tfSTABLE' ... 20m0s").
ECS_SERVICE_MINUTES = 30
# DeploymentCheck: polls DescribeServices until the new deployment is COMPLETED, FAILED or rolled back.
DEPLOYMENT_CHECK_MINUTES = 30
# Everything else once the credentials exist: Pulumi CLI install and login, the image promotion
# (skopeo copy), the resources created before or around the chain above (VPC, NAT, ALB, secrets, alarms:
# minutes each, mostly in parallel with the RDS create), the summary.
OVERHEAD_MINUTES = 15

# --- the limits that must cover them ------------------------------------------------------------------

# IAM allows 1 to 12 hours for a role's maximum session duration (CreateRole, MaxSessionDuration 3600 to
# 43200 seconds). The deploy and preview roles get this value; the workflows request it.
ROLE_SESSION_SECONDS = 3 * 60 * 60
# The steps before `configure-aws-credentials` (checkout, setup-python, scripts/bootstrap).
SETUP_MINUTES = 10
# `timeout-minutes` of every job that assumes an AWS role and runs Pulumi (GitHub allows up to 360).
DEPLOY_JOB_TIMEOUT_MINUTES = ROLE_SESSION_SECONDS // 60 + SETUP_MINUTES
# A preview waits for nothing: the preview jobs request one hour and get ten minutes of setup on top.
PREVIEW_SESSION_SECONDS = 60 * 60
PREVIEW_JOB_TIMEOUT_MINUTES = PREVIEW_SESSION_SECONDS // 60 + SETUP_MINUTES
# The image build runs in its own job (no Pulumi, no lock); a native build takes minutes, QEMU far longer.
IMAGE_JOB_TIMEOUT_MINUTES = 60


@dataclass(frozen=True)
class Budget:
    rds_minutes: int
    ecs_service_minutes: int
    deployment_check_minutes: int
    overhead_minutes: int
    role_session_seconds: int
    setup_minutes: int
    job_timeout_minutes: int

    @property
    def waits_minutes(self) -> int:
        """The longest `pulumi up`: the waits in a row plus the work around them."""
        chain = self.rds_minutes + self.ecs_service_minutes + self.deployment_check_minutes
        return chain + self.overhead_minutes

    def problems(self) -> list[str]:
        found = []
        if not 3600 <= self.role_session_seconds <= 43200:
            found.append(f"role session {self.role_session_seconds}s is outside IAM's 3600-43200 seconds")
        if self.role_session_seconds < self.waits_minutes * 60:
            found.append(
                f"role session {self.role_session_seconds // 60} min < the waits of one up "
                f"({self.waits_minutes} min): the credentials expire mid-update"
            )
        if self.job_timeout_minutes * 60 < self.role_session_seconds + self.setup_minutes * 60:
            found.append(
                f"job timeout {self.job_timeout_minutes} min < setup {self.setup_minutes} min + role session "
                f"{self.role_session_seconds // 60} min: GitHub would kill the job and leave the lock"
            )
        if self.job_timeout_minutes > 360:
            found.append(f"job timeout {self.job_timeout_minutes} min is above GitHub's 360-minute limit")
        return found


BUDGET = Budget(
    rds_minutes=RDS_INSTANCE_MINUTES,
    ecs_service_minutes=ECS_SERVICE_MINUTES,
    deployment_check_minutes=DEPLOYMENT_CHECK_MINUTES,
    overhead_minutes=OVERHEAD_MINUTES,
    role_session_seconds=ROLE_SESSION_SECONDS,
    setup_minutes=SETUP_MINUTES,
    job_timeout_minutes=DEPLOY_JOB_TIMEOUT_MINUTES,
)


def minutes(value: int) -> str:
    """A Pulumi customTimeouts duration string."""
    return f"{value}m"
