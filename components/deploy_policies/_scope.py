"""What one stack's roles may touch (`StackScope`) and the statement helpers every service module uses."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from components.iam_policies import Statement
from components.iam_policies import statement as _statement

PolicyDocument = dict[str, Any]

# The tag the stack's AWS provider puts on every taggable resource (stacks/settings/stack.py `tags`).
ENVIRONMENT_TAG = "Environment"


def boundary_policy_name(project: str, environment: str) -> str:
    """The permissions boundary every role of `<project>-<environment>` must carry.

    Outside the `<project>-<environment>-` prefix the deploy role manages, so it cannot edit it.
    """
    return f"{project}-boundary-{environment}"


def boundary_policy_arn(account_id: str, project: str, environment: str) -> str:
    return f"arn:aws:iam::{account_id}:policy/{boundary_policy_name(project, environment)}"


@dataclass(frozen=True)
class StackScope:
    """What one deploy (or preview) role may touch."""

    project: str
    stack: str
    account_id: str
    region: str
    state_bucket_arn: str
    secrets_key_arn: str
    """This stack's own secrets-provider key (one KMS key per stack)."""
    # Prod pulls the image dev already runs from dev's repository; None for dev itself.
    promote_from: str | None = None
    # The bucket's SSE-KMS key; None when the state bucket uses the stack key itself (tests).
    state_key_arn: str | None = None
    # `booking:https.domainName` / `hostedZoneId` of the stack, when it creates its own certificate.
    domain_name: str | None = None
    hosted_zone_id: str | None = None
    # Whether the stack may use the API Gateway HTTP API front door (`booking:lambda.frontDoor: httpApi`);
    # prod may not (stacks/settings: prod keeps the ALB), so its deploy role gets no API Gateway at all.
    http_api: bool = True

    @property
    def base(self) -> str:
        """`<project>-<stack>`: the physical name (or name prefix) of everything the stack creates."""
        return f"{self.project}-{self.stack}"

    @property
    def prefix(self) -> str:
        return f"{self.base}-"

    @property
    def boundary_arn(self) -> str:
        return boundary_policy_arn(self.account_id, self.project, self.stack)

    def arn(self, service: str, resource: str, *, region: bool = True) -> str:
        return f"arn:aws:{service}:{self.region if region else ''}:{self.account_id}:{resource}"

    def in_region(self, **extra: Any) -> dict[str, Any]:
        """`aws:RequestedRegion` is the stack's region (plus any other StringEquals keys)."""
        return {"StringEquals": {"aws:RequestedRegion": self.region, **extra}}

    def tagged(self, key: str = "aws:ResourceTag") -> dict[str, Any]:
        """The resource (or, with aws:RequestTag, the request) carries this environment's tag."""
        return self.in_region(**{f"{key}/{ENVIRONMENT_TAG}": self.stack})


def allow(sid: str, actions: Sequence[str], resources: Sequence[str], condition: Any = None) -> Statement:
    return _statement(sorted(set(actions)), list(resources), sid=sid, condition=condition or None)


def deny(sid: str, actions: Sequence[str], resources: Sequence[str], condition: Any = None) -> Statement:
    result = allow(sid, actions, resources, condition)
    result["Effect"] = "Deny"
    return result
