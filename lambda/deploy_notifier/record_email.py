"""The e-mail's facts from ECS's own record of the deployment (ListServiceDeployments ->
DescribeServiceDeployments -> DescribeServiceRevisions), decided by `deployment_record.judge`, the same
function `pulumi up`'s DeploymentCheck uses (components/deployment_record.py, shipped in this zip).

The deployment event names its deployment only as `deploymentId` ("ecs-svc/…", the id DescribeServices
uses); the service deployments API identifies deployments by `serviceDeploymentArn`
(…:service-deployment/<cluster>/<service>/<id>) and no AWS document maps one to the other. So the event is
matched by time: the service deployment ECS created most recently before the event is the one the event
belongs to. A rollback is part of the deployment that failed (its status becomes ROLLBACK_*), so the
rollback's own IN_PROGRESS/COMPLETED events, whose deploymentId is new, still land on it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from deployment_record import Outcome, Revision, judge, parse_time, revision_arns

if TYPE_CHECKING:
    from mypy_boto3_ecs import ECSClient

logger = logging.getLogger("deploy_notifier")

# ECS stamps the event (`updatedAt`) and the service deployment (`createdAt`) separately; allow for a
# deployment created a moment after an event that announces it.
CLOCK_SKEW = timedelta(seconds=60)
MAX_PAGES = 5  # 100 service deployments (maxResults 20 by default): days of history for one service


@dataclass(frozen=True)
class RecordLookup:
    outcome: Outcome | None
    problems: tuple[str, ...] = ()
    """Why the record (outcome None) or part of it (revision details) is unavailable."""


def service_deployment_at(
    briefs: Sequence[Mapping[str, Any]], when: datetime | None
) -> Mapping[str, Any] | None:
    """The `ServiceDeploymentBrief` that was ECS's current deployment at `when`, or None.

    None also when the newest one had already finished before `when`: then the event's deployment is
    not listed yet, and reporting the previous deployment's outcome would be silently wrong."""
    dated = [
        (created, brief)
        for brief in briefs
        if (created := parse_time(brief.get("createdAt") or brief.get("startedAt"))) is not None
        and (when is None or created <= when + CLOCK_SKEW)
    ]
    if not dated:
        return None
    brief = max(dated, key=lambda pair: pair[0])[1]
    finished = parse_time(brief.get("finishedAt"))
    if when is not None and finished is not None and finished < when - CLOCK_SKEW:
        return None
    return brief


def read_record(ecs: ECSClient, *, cluster: str, service_arn: str, when: datetime | None) -> RecordLookup:
    """Ask ECS for the deployment's record; any failure is returned as a problem, never raised."""
    try:
        briefs: list[Mapping[str, Any]] = []
        token: str | None = None
        for _ in range(MAX_PAGES):
            page = (
                ecs.list_service_deployments(cluster=cluster, service=service_arn, nextToken=token)
                if token
                else ecs.list_service_deployments(cluster=cluster, service=service_arn)
            )
            briefs += page.get("serviceDeployments", [])
            token = page.get("nextToken")
            if not token:
                break
        brief = service_deployment_at(briefs, when)
        if brief is None:
            return RecordLookup(None, (f"ListServiceDeployments lists no deployment of {service_arn} yet",))
        arn = str(brief["serviceDeploymentArn"])
        described = ecs.describe_service_deployments(serviceDeploymentArns=[arn])
        deployments = described.get("serviceDeployments") or []
        if not deployments:
            failure = (described.get("failures") or [{}])[0]
            return RecordLookup(None, (f"DescribeServiceDeployments: {failure.get('reason', 'not found')}",))
        deployment: Mapping[str, Any] = deployments[0]
    except Exception as err:  # denied, throttled, unsupported region: fall back, and say so
        logger.warning("deployment record unavailable", extra={"error": repr(err)})
        return RecordLookup(None, (f"{_call(err)} failed: {err}",))

    revisions: dict[str, Mapping[str, Any]] = {}
    problems: list[str] = []
    try:
        response = ecs.describe_service_revisions(serviceRevisionArns=list(revision_arns(deployment)))
        revisions = {r["serviceRevisionArn"]: r for r in response.get("serviceRevisions", [])}
        problems += [
            f"DescribeServiceRevisions {f.get('arn', '?').rsplit('/', 1)[-1]}: {f.get('reason', '?')}"
            for f in response.get("failures") or []
        ]
    except Exception as err:  # the status is still known; only revision numbers and images are missing
        logger.warning("service revisions unavailable", extra={"error": repr(err)})
        problems.append(f"DescribeServiceRevisions failed: {err}")
    return RecordLookup(judge(deployment, revisions), tuple(problems))


def record_lines(outcome: Outcome) -> list[tuple[str, str | None]]:
    """Key/value lines of the e-mail body, after Environment/Service/Cluster."""
    lines: list[tuple[str, str | None]] = [("ECS status", outcome.status), ("Reason", outcome.reason)]
    if outcome.source is not None and outcome.source != outcome.target:
        lines += _revision_lines("From", outcome.source)
    if outcome.target is not None:
        lines += _revision_lines("To", outcome.target)
    if outcome.rollback_to is not None and outcome.rollback_to != outcome.source:
        lines += _revision_lines("Rolled back to", outcome.rollback_to)
    elif outcome.rollback_to is not None:
        lines.append(("Rolled back to", outcome.rollback_to.name))
    lines.append(("Tasks", _tasks(outcome)))
    lines += [
        ("Started", when_text(outcome.started_at))
        if outcome.started_at
        else ("Created", when_text(outcome.created_at)),
        ("Rollback at", when_text(outcome.rollback_started_at)),
        ("Finished", when_text(outcome.finished_at)),
    ]
    start = outcome.started_at or outcome.created_at
    if start and outcome.rollback_started_at:
        lines.append(("Failed after", format_duration((outcome.rollback_started_at - start).total_seconds())))
    if outcome.duration_seconds is not None:
        lines.append(("Duration", format_duration(outcome.duration_seconds)))
    lines.append(("Service deployment", outcome.arn or None))
    return lines


def _revision_lines(key: str, revision: Revision) -> list[tuple[str, str | None]]:
    name = revision.name
    if revision.task_definition_name:
        name += f" ({revision.task_definition_name})"
    return [(key, name)] + [(f"{key} image", f"{i.container}: {i.pinned}") for i in revision.images]


def _tasks(outcome: Outcome) -> str | None:
    parts = []
    seen: set[str] = set()
    for revision in (outcome.target, outcome.rollback_to or outcome.source):
        if revision is None or revision.arn in seen or revision.requested is None:
            continue
        seen.add(revision.arn)
        text = f"{revision.name}: {revision.running or 0} running of {revision.requested} requested"
        parts.append(text + (f" ({revision.pending} pending)" if revision.pending else ""))
    return "; ".join(parts) or None


def format_duration(seconds: float) -> str:
    total = max(round(seconds), 0)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes:02d}m {secs:02d}s"
    if minutes:
        return f"{minutes}m {secs:02d}s"
    return f"{secs}s"


def when_text(value: datetime | None) -> str | None:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if value else None


def _call(err: Exception) -> str:
    operation = getattr(err, "operation_name", None)
    return str(operation) if operation else "ECS"
