"""What ECS's own record of one service deployment says happened: the ONE decision both the deploy
notifier e-mail and `pulumi up`'s DeploymentCheck are made from.

Inputs are the API's own shapes (ECS API reference): a `ServiceDeployment` from DescribeServiceDeployments
(`status`, `statusReason`, `rollback {reason, startedAt, serviceRevisionArn}`, `sourceServiceRevisions`,
`targetServiceRevision`, times) and the `ServiceRevision`s from DescribeServiceRevisions (`taskDefinition`,
`containerImages [{containerName, image, imageDigest}]`), keyed by ARN.

Status meanings (developer guide, "View service history using Amazon ECS service deployments"): PENDING,
then ongoing IN_PROGRESS / STOP_REQUESTED / ROLLBACK_REQUESTED / ROLLBACK_IN_PROGRESS, then completed
SUCCESSFUL / STOPPED / ROLLBACK_SUCCESSFUL / ROLLBACK_FAILED. A circuit-breaker or alarm rollback does not
create a new service deployment: the failed one moves to ROLLBACK_* and `rollback.serviceRevisionArn` names
the revision it returns to ("Properties included in an Amazon ECS service deployment"). STOPPED is what a
failure without the rollback option, or a manual stop, ends in (API reference, ServiceDeployment.stoppedAt).

This module is shipped inside the notifier Lambda's zip (components/notifier.py, `lambda_archive`), so it
may import nothing but the standard library (tests/infra/test_deployment_record.py checks that).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

Severity = Literal["info", "warning", "error"]

ROLLBACK_STATUSES = frozenset({"ROLLBACK_REQUESTED", "ROLLBACK_IN_PROGRESS"})
DIGEST_SHOWN = len("sha256:") + 12  # enough to recognise an image, short enough for a subject line
_TASK_DEFINITION = re.compile(r"task-definition/(?P<family>[^:/]+):(?P<revision>\d+)$")


@dataclass(frozen=True)
class Image:
    container: str
    image: str
    digest: str | None

    @property
    def pinned(self) -> str:
        """`repo@sha256:<full digest>` (the digest ECS resolved, even if the task definition used a tag)."""
        if self.digest is None:
            return self.image
        repository = self.image.split("@", 1)[0]
        if ":" in repository.rsplit("/", 1)[-1]:
            repository = repository.rsplit(":", 1)[0]
        return f"{repository}@{self.digest}"

    @property
    def short(self) -> str:
        """`...@sha256:abcdef123456` for subject lines (ASCII: SNS subjects are ASCII here)."""
        return f"...@{self.digest[:DIGEST_SHOWN]}" if self.digest else self.image.rsplit("/", 1)[-1]


@dataclass(frozen=True)
class Revision:
    arn: str
    task_definition: str | None = None
    images: tuple[Image, ...] = ()
    requested: int | None = None
    running: int | None = None
    pending: int | None = None

    @property
    def number(self) -> int | None:
        match = _TASK_DEFINITION.search(self.task_definition or "")
        return int(match["revision"]) if match else None

    @property
    def name(self) -> str:
        """`revision 42` (the task definition revision), or the service revision id if not described."""
        return f"revision {self.number}" if self.number is not None else f"service revision {_id(self.arn)}"

    @property
    def label(self) -> str:
        """`revision 42 (image ...@sha256:abcdef123456)`."""
        return f"{self.name} (image {self.images[0].short})" if self.images else self.name

    @property
    def task_definition_name(self) -> str | None:
        return self.task_definition.rsplit("/", 1)[-1] if self.task_definition else None


@dataclass(frozen=True)
class Outcome:
    """The decision: what happened to one service deployment, in words and as a verdict for `up`."""

    arn: str
    status: str
    headline: str
    severity: Severity
    done: bool
    """False while ECS is still working on it (PENDING, IN_PROGRESS, STOP_REQUESTED): ask again later."""
    failed: bool
    """The deployment did not put its target revision in service (ROLLBACK_*, STOPPED, STOP_REQUESTED)."""
    reason: str | None
    source: Revision | None
    target: Revision | None
    rollback_to: Revision | None
    created_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    rollback_started_at: datetime | None

    @property
    def duration_seconds(self) -> float | None:
        start = self.started_at or self.created_at
        return (self.finished_at - start).total_seconds() if start and self.finished_at else None


def revision_from_api(
    arn: str, summary: Mapping[str, Any] | None, described: Mapping[str, Any] | None
) -> Revision:
    """A `ServiceRevisionSummary` (task counts) joined with its `ServiceRevision` (task definition,
    images)."""
    images = tuple(
        Image(
            container=str(c.get("containerName", "?")),
            image=str(c.get("image", "?")),
            digest=c.get("imageDigest") or None,
        )
        for c in (described or {}).get("containerImages", [])
        if isinstance(c, Mapping)
    )
    summary = summary or {}
    return Revision(
        arn=arn,
        task_definition=(described or {}).get("taskDefinition"),
        images=images,
        requested=summary.get("requestedTaskCount"),
        running=summary.get("runningTaskCount"),
        pending=summary.get("pendingTaskCount"),
    )


def revision_arns(deployment: Mapping[str, Any]) -> tuple[str, ...]:
    """Every service revision a deployment names (for one DescribeServiceRevisions call, max 20 ARNs)."""
    arns = [(deployment.get("targetServiceRevision") or {}).get("arn")]
    arns += [s.get("arn") for s in deployment.get("sourceServiceRevisions") or []]
    arns.append((deployment.get("rollback") or {}).get("serviceRevisionArn"))
    return tuple(dict.fromkeys(a for a in arns if isinstance(a, str) and a))[:20]


def judge(deployment: Mapping[str, Any], revisions: Mapping[str, Mapping[str, Any]]) -> Outcome:
    """Decide from one DescribeServiceDeployments `serviceDeployments[]` item and its described revisions."""
    target_summary = deployment.get("targetServiceRevision") or {}
    target = (
        revision_from_api(target_summary["arn"], target_summary, revisions.get(target_summary["arn"]))
        if target_summary.get("arn")
        else None
    )
    sources = [
        revision_from_api(s["arn"], s, revisions.get(s["arn"]))
        for s in deployment.get("sourceServiceRevisions") or []
        if isinstance(s, Mapping) and s.get("arn")
    ]
    source = sources[0] if sources else None
    rollback = deployment.get("rollback") or {}
    rollback_arn = rollback.get("serviceRevisionArn")
    rollback_to = (
        next((s for s in sources if s.arn == rollback_arn), None)
        or revision_from_api(rollback_arn, None, revisions.get(rollback_arn))
        if rollback_arn
        else None
    )
    status = str(deployment.get("status") or "UNKNOWN")
    reason = rollback.get("reason") or deployment.get("statusReason") or None
    headline, severity, done, failed = _verdict(status, target, rollback_to or source, reason)
    return Outcome(
        arn=str(deployment.get("serviceDeploymentArn", "")),
        status=status,
        headline=headline,
        severity=severity,
        done=done,
        failed=failed,
        reason=reason,
        source=source,
        target=target,
        rollback_to=rollback_to,
        created_at=parse_time(deployment.get("createdAt")),
        started_at=parse_time(deployment.get("startedAt")),
        finished_at=parse_time(deployment.get("finishedAt") or deployment.get("stoppedAt")),
        rollback_started_at=parse_time(rollback.get("startedAt")),
    )


def _verdict(
    status: str, target: Revision | None, back_to: Revision | None, reason: str | None
) -> tuple[str, Severity, bool, bool]:
    new = target.label if target else "the new revision"
    new_name = target.name if target else "the new revision"
    old = back_to.name if back_to else "the previous revision"
    why = f" (reason: {reason})" if reason else ""
    if status == "SUCCESSFUL":
        return f"deployed {new}", "info", True, False
    if status == "PENDING":
        return f"deployment of {new} pending", "info", False, False
    if status == "IN_PROGRESS":
        return f"deploying {new}", "info", False, False
    if status in ROLLBACK_STATUSES:
        # `up` fails now: ECS has already given up on our revision, waiting only delays the bad news.
        return f"{new_name} FAILED, rolling back to {old}{why}", "error", True, True
    if status == "ROLLBACK_SUCCESSFUL":
        return f"{new_name} FAILED and rolled back to {old}{why}", "error", True, True
    if status == "ROLLBACK_FAILED":
        return f"rollback FAILED: service is unstable{why}", "error", True, True
    if status == "STOP_REQUESTED":
        return f"deployment of {new_name} is being stopped{why}", "warning", False, True
    if status == "STOPPED":
        return f"deployment of {new_name} STOPPED, not rolled back{why}", "error", True, True
    # A status this code does not know yet: say so rather than guess; `up` keeps waiting, then times out.
    return f"deployment of {new_name} is {status}{why}", "warning", False, False


def _id(arn: str) -> str:
    return arn.rsplit("/", 1)[-1]


def parse_time(value: object) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None


__all__: Sequence[str] = [
    "Image",
    "Outcome",
    "Revision",
    "judge",
    "parse_time",
    "revision_arns",
    "revision_from_api",
]
