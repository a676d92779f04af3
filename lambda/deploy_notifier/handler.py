"""ECS deployment events (EventBridge) -> one readable e-mail per event (SNS).

AWS's ECS events name neither the cluster nor the image (aws/containers-roadmap#1371). A deployment event
is therefore read against ECS's own record of that deployment (ListServiceDeployments ->
DescribeServiceDeployments -> DescribeServiceRevisions, see record_email.py): its status says whether it
succeeded, was rolled back, failed to roll back or was stopped, so the e-mail never has to guess. Only when
that record cannot be read (denied, throttled, not yet listed) does the e-mail fall back to inferring the
outcome from DescribeServices / DescribeTaskDefinition, and it says so. Service action events use
DescribeServices. Parsing, analysis and formatting are pure functions; `handler` and the `read_record` /
`enrich` readers are the only places that talk to AWS.

The zip holds this folder's .py files plus components/deployment_record.py as a top-level module
(components/notifier.py, `lambda_archive`): the decision shared with `pulumi up`'s DeploymentCheck.
Parsing is in events.py, the DescribeServices data in enrichment.py, the record's e-mail lines in
record_email.py, what every e-mail shares (subject rules, body layout, the SNS call) in notification.py.
A Lambda runtime's release events (source "booking.release") go to release_email.py, which needs no ECS.
This file stays at ~420 lines because the fallback assessment and the two e-mail builders share its
private assessment types; splitting them would export those types for no reader.

Event shapes (ECS developer guide, "Amazon ECS events"):
- detail-type "ECS Deployment State Change": detail {eventType INFO|ERROR, eventName
  SERVICE_DEPLOYMENT_IN_PROGRESS|COMPLETED|FAILED, deploymentId, updatedAt, reason}; the service ARN is
  only in `resources`.
- detail-type "ECS Service Action": detail {eventType INFO|WARN|ERROR, eventName, clusterArn, createdAt,
  and for some events reason, capacityProviderArns}.

Environment: TOPIC_ARN, ENVIRONMENT (required); FUNCTION_NAME (Lambda runtime: release events of any
other function are skipped); SERVICE_ARN (events for any other service are skipped);
CLUSTER_NAME (only needed for old-format service ARNs that omit the cluster); APP_NAME (subject prefix,
default "booking").

Failure policy: an event we cannot understand is logged and skipped (retrying it cannot help); an SNS
failure raises so Lambda retries and finally hands the event to the on-failure destination (DLQ).
"""

from __future__ import annotations

import functools
import logging
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

import boto3
from enrichment import Deployment, Enrichment, container_images, enrichment_from_service
from events import (
    DEPLOYMENT_EVENTS,
    EcsEvent,
    SkipEvent,
    parse_event,
)
from notification import Notification, ascii_subject, key_value_lines, publish
from notification import service_label as _label
from record_email import RecordLookup, format_duration, read_record, record_lines, when_text
from release_email import RELEASE_SOURCE, handle_release

if TYPE_CHECKING:
    from mypy_boto3_ecs import ECSClient
    from mypy_boto3_sns import SNSClient

logger = logging.getLogger("deploy_notifier")
logger.setLevel(logging.INFO)

# Short titles for the documented WARN/ERROR service action events; others fall back to their name.
SERVICE_ACTION_TITLES = {
    "SERVICE_TASK_START_IMPAIRED": "tasks are failing to start",
    "SERVICE_TASK_PLACEMENT_FAILURE": "task placement failed",
    "SERVICE_TASK_CONFIGURATION_FAILURE": "task configuration error",
    "SERVICE_DISCOVERY_INSTANCE_UNHEALTHY": "service discovery instance unhealthy",
    "SERVICE_DAEMON_PLACEMENT_CONSTRAINT_VIOLATED": "daemon placement constraint violated",
    "ECS_OPERATION_THROTTLED": "ECS API throttled the scheduler",
    "SERVICE_DISCOVERY_OPERATION_THROTTLED": "Cloud Map API throttled the scheduler",
    "VPC_LATTICE_TARGET_UNHEALTHY": "VPC Lattice target unhealthy",
}
_TASK_DEFINITION_ARN = re.compile(r"task-definition/(?P<family>[^:/]+):(?P<revision>\d+)$")

Severity = Literal["info", "warning", "error"]


# --- analysis and formatting -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Assessment:
    status: str
    rollback: bool | None  # None: unknown
    this: Deployment | None
    from_td: str | None
    to_td: str | None


def _revision(task_definition: str | None) -> tuple[str, int] | None:
    match = _TASK_DEFINITION_ARN.search(task_definition or "")
    return (match["family"], int(match["revision"])) if match else None


def short_task_definition(arn: str | None) -> str | None:
    """`arn:...:task-definition/booking-api:7` -> `booking-api:7`."""
    return arn.rsplit("/", 1)[-1] if arn else None


def _assess(event: EcsEvent, enrichment: Enrichment | None) -> _Assessment:
    status = DEPLOYMENT_EVENTS[event.event_name]
    deployments = enrichment.deployments if enrichment else ()
    this = next((d for d in deployments if d.id == event.deployment_id), None)
    primary = _primary(enrichment)
    others = [d for d in deployments if this is None or d.id != this.id]
    reason = (event.reason or "").lower()

    rollback: bool | None = None
    if "rolling back" in reason:
        # Documented reason of a rollback: "ECS deployment circuit breaker: rolling back to deploymentId ..."
        rollback = True
    elif status == "FAILED":
        if this is not None and primary is not None and primary.id != this.id:
            rollback = True  # ECS already started the rollback deployment, now PRIMARY
        elif enrichment is not None and enrichment.circuit_breaker_rollback is not None:
            rollback = enrichment.circuit_breaker_rollback
    elif this is not None and others:
        # A deployment whose task definition is older than the one it replaces is a rollback.
        mine = _revision(this.task_definition)
        rollback = any(
            mine is not None
            and (other := _revision(d.task_definition)) is not None
            and other[0] == mine[0]
            and other[1] > mine[1]
            for d in others
        )
    elif this is not None:
        rollback = False

    from_td: str | None = None
    to_td: str | None = None
    if this is not None:
        if status == "FAILED" and rollback and primary is not None and primary.id != this.id:
            from_td, to_td = this.task_definition, primary.task_definition
        else:
            previous = sorted(others, key=lambda d: d.created_at or datetime.min.replace(tzinfo=UTC))
            from_td = previous[-1].task_definition if previous else None
            to_td = this.task_definition
    return _Assessment(status=status, rollback=rollback, this=this, from_td=from_td, to_td=to_td)


def _primary(enrichment: Enrichment | None) -> Deployment | None:
    deployments = enrichment.deployments if enrichment else ()
    return next((d for d in deployments if d.status == "PRIMARY"), None)


def _tasks(deployment: Deployment | None) -> str | None:
    if deployment is None or deployment.desired is None:
        return None
    counts = f"{deployment.running or 0} running of {deployment.desired} desired"
    extras = [
        f"{n} {what}" for n, what in ((deployment.pending, "pending"), (deployment.failed, "failed")) if n
    ]
    return counts + (f" ({', '.join(extras)})" if extras else "")


def task_definitions_to_describe(event: EcsEvent, enrichment: Enrichment) -> tuple[str, ...]:
    """The revisions whose images the e-mail shows."""
    wanted: tuple[str | None, ...]
    if event.kind == "deployment":
        assessment = _assess(event, enrichment)
        wanted = (assessment.to_td, assessment.from_td)
    else:
        primary = _primary(enrichment)
        wanted = (primary.task_definition if primary else None,)
    return tuple(dict.fromkeys(arn for arn in wanted if arn))


def console_links(event: EcsEvent, cluster: str | None) -> list[tuple[str, str]]:
    if not cluster:
        return []
    base = f"https://{event.region}.console.aws.amazon.com/ecs/v2/clusters/{cluster}/services/{event.service}"
    links = [("Service console", f"{base}/health?region={event.region}")]
    if event.kind == "deployment":
        links.append(("Deployments", f"{base}/deployments?region={event.region}"))
    return links


def build_notification(
    event: EcsEvent,
    enrichment: Enrichment | None,
    *,
    environment: str,
    app: str = "booking",
    record_problems: Sequence[str] = (),
) -> Notification:
    """The e-mail from DescribeServices heuristics: service actions, and deployments whose ECS record
    could not be read (`record_problems` says why, and the e-mail says the outcome is inferred)."""
    cluster = (enrichment.cluster if enrichment else None) or event.cluster
    label = _label(app, event.service)
    lines: list[tuple[str, str | None]] = [
        ("Environment", environment),
        ("Service", event.service),
        ("Cluster", cluster),
    ]
    if event.kind == "deployment":
        assessment = _assess(event, enrichment)
        status = assessment.status
        if status == "FAILED":
            severity: Severity = "error"
            suffix = {True: " (rolled back)", False: " (not rolled back)", None: ""}[assessment.rollback]
            headline = f"deployment FAILED{suffix}"
            target = short_task_definition(assessment.to_td) or "the previous deployment"
            status_text = (
                "FAILED"
                + {
                    True: f", rolling back to {target}",
                    False: ", no automatic rollback",
                    None: "",
                }[assessment.rollback]
            )
        elif assessment.rollback:
            severity = "warning"
            headline = f"rollback {status}"
            status_text = f"{status} (rollback to an earlier revision)"
        else:
            severity = "info"
            headline = f"deployment {status}"
            status_text = status
        lines += [
            ("Status", status_text),
            ("Reason", event.reason),
            ("Deployment", event.deployment_id),
        ]
        if assessment.to_td:
            old = short_task_definition(assessment.from_td)
            new = short_task_definition(assessment.to_td)
            lines.append(("Revision", f"{old} -> {new}" if old else new))
        images = enrichment.images if enrichment else {}
        # A rollback moves away from the image that failed, back to the one that worked.
        to_label, from_label = (
            ("Restored image", "Failed image") if assessment.rollback else ("Image", "Previous image")
        )
        lines += [(from_label, image) for image in images.get(assessment.from_td or "", ())]
        lines += [(to_label, image) for image in images.get(assessment.to_td or "", ())]
        this = assessment.this
        lines.append(("Tasks", _tasks(this)))
        started = this.created_at if this else None
        lines += [("Started", when_text(started)), ("Time", when_text(event.at))]
        if started and event.at and status != "IN_PROGRESS":
            lines.append(("Duration", format_duration((event.at - started).total_seconds())))
        status_attribute = status
    else:
        severity = "error" if event.event_type == "ERROR" else "warning"
        title = SERVICE_ACTION_TITLES.get(event.event_name, event.event_name)
        headline = f"{event.event_type} {title}"
        lines += [
            ("Status", f"{event.event_type} {event.event_name}"),
            ("Reason", event.reason),
            ("Capacity", ", ".join(event.capacity_providers) or None),
        ]
        # Which rollout is affected: the service's PRIMARY deployment, as ECS reports it now.
        primary = _primary(enrichment)
        if primary is not None:
            state = f" ({primary.rollout_state})" if primary.rollout_state else ""
            lines += [
                ("Deployment", f"{primary.id}{state}"),
                ("Revision", short_task_definition(primary.task_definition)),
            ]
            images = enrichment.images if enrichment else {}
            lines += [("Image", image) for image in images.get(primary.task_definition, ())]
            lines.append(("Tasks", _tasks(primary)))
        lines.append(("Time", when_text(event.at)))
        status_attribute = event.event_name

    lines += console_links(event, cluster)
    lines += [("Region", event.region), ("Account", event.account), ("Event id", event.event_id or None)]
    subject = ascii_subject(f"[{environment}] {label}: {headline}")
    body_lines = [subject, ""]
    if record_problems:
        body_lines += [
            "ECS's record of this deployment is unavailable, so the outcome below is inferred from",
            "DescribeServices and may be incomplete (" + "; ".join(record_problems) + ").",
            "",
        ]
    body_lines += key_value_lines(lines)
    if enrichment is None or enrichment.problems:
        problems = enrichment.problems if enrichment else ("ECS was not asked",)
        body_lines += ["", "Some details are missing: " + "; ".join(problems)]
    return Notification(
        subject=subject,
        body="\n".join(body_lines) + "\n",
        attributes={"environment": environment, "status": status_attribute, "severity": severity},
    )


def build_record_notification(
    event: EcsEvent, lookup: RecordLookup, *, environment: str, app: str = "booking"
) -> Notification:
    """The e-mail from ECS's record: subject and first line say what happened to the deployment."""
    outcome = lookup.outcome
    assert outcome is not None
    headline = f"[{environment}] {_label(app, event.service)}: {outcome.headline}"
    lines: list[tuple[str, str | None]] = [
        ("Environment", environment),
        ("Service", event.service),
        ("Cluster", event.cluster),
        *record_lines(outcome),
        ("Event", f"{event.event_name} {event.deployment_id} at {when_text(event.at)}"),
        *console_links(event, event.cluster),
        ("Region", event.region),
        ("Account", event.account),
        ("Event id", event.event_id or None),
    ]
    body_lines = [headline, "", *key_value_lines(lines)]
    if lookup.problems:
        body_lines += ["", "Some details are missing: " + "; ".join(lookup.problems)]
    return Notification(
        subject=ascii_subject(headline),
        body="\n".join(body_lines) + "\n",
        attributes={
            "environment": environment,
            "status": DEPLOYMENT_EVENTS[event.event_name],
            "severity": outcome.severity,
            "deployment_status": outcome.status,
        },
    )


# --- AWS I/O -----------------------------------------------------------------------------------------


def enrich(ecs: ECSClient, event: EcsEvent) -> Enrichment:
    """Ask ECS what the event leaves out; on any error, keep what we have and say why."""
    try:
        response = ecs.describe_services(cluster=event.cluster or "default", services=[event.service_arn])
        services = response.get("services") or []
        if not services:
            failures = response.get("failures") or [{}]
            raise LookupError(f"DescribeServices found no service ({failures[0].get('reason', 'unknown')})")
        enrichment = enrichment_from_service(services[0])
    except Exception as err:  # the e-mail still goes out with what the event carries
        logger.warning("enrichment failed", extra={"step": "DescribeServices", "error": repr(err)})
        return Enrichment(problems=(f"DescribeServices failed: {err}",))

    problems: list[str] = []
    if event.kind == "deployment" and not any(d.id == event.deployment_id for d in enrichment.deployments):
        problems.append(f"deployment {event.deployment_id} is no longer listed by DescribeServices")
    images: dict[str, tuple[str, ...]] = {}
    for arn in task_definitions_to_describe(event, enrichment):
        try:
            images[arn] = container_images(ecs.describe_task_definition(taskDefinition=arn)["taskDefinition"])
        except Exception as err:
            logger.warning(
                "enrichment failed",
                extra={"step": "DescribeTaskDefinition", "taskDefinition": arn, "error": repr(err)},
            )
            problems.append(f"DescribeTaskDefinition {short_task_definition(arn)} failed: {err}")
    return replace(enrichment, images=images, problems=tuple(problems))


@functools.cache
def _ecs() -> ECSClient:
    # One client per execution environment; boto3 ships with the Lambda runtime, it is not packaged.
    return boto3.client("ecs")


@functools.cache
def _sns() -> SNSClient:
    return boto3.client("sns")


def handler(event: object, context: object) -> dict[str, Any]:
    topic_arn = os.environ["TOPIC_ARN"]
    environment = os.environ["ENVIRONMENT"]
    if isinstance(event, Mapping) and event.get("source") == RELEASE_SOURCE:  # a Lambda runtime's release
        return handle_release(event, _sns, topic_arn=topic_arn, environment=environment)
    event_id = event.get("id") if isinstance(event, Mapping) else None
    try:
        parsed = parse_event(
            event,
            expected_service_arn=os.environ.get("SERVICE_ARN") or None,
            fallback_cluster=os.environ.get("CLUSTER_NAME") or None,
        )
    except SkipEvent as skip:
        logger.warning("event skipped", extra={"eventId": event_id, "why": str(skip)})
        return {"published": False, "skipped": str(skip)}

    app = os.environ.get("APP_NAME", "booking")
    record = RecordLookup(None)
    if parsed.kind == "deployment":
        record = read_record(
            _ecs(), cluster=parsed.cluster or "default", service_arn=parsed.service_arn, when=parsed.at
        )
    if record.outcome is not None:
        notification = build_record_notification(parsed, record, environment=environment, app=app)
    else:
        notification = build_notification(
            parsed, enrich(_ecs(), parsed), environment=environment, app=app, record_problems=record.problems
        )
    # No try/except: a failed publish must fail the invocation so Lambda retries, then the DLQ keeps it.
    message_id = publish(_sns(), topic_arn, notification)
    logger.info(
        "notification published",
        extra={
            "eventId": parsed.event_id,
            "eventName": parsed.event_name,
            "deploymentId": parsed.deployment_id,
            "subject": notification.subject,
            "messageId": message_id,
            **notification.attributes,
        },
    )
    return {"published": True, "messageId": message_id, "subject": notification.subject}


__all__: Sequence[str] = [
    "EcsEvent",
    "Enrichment",
    "Notification",
    "SkipEvent",
    "build_notification",
    "build_record_notification",
    "enrich",
    "handler",
    "parse_event",
]
