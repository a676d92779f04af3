"""Lambda runtime: one e-mail per release event, in the same form as the ECS deployment e-mails.

The release gate (components/lambda_release.py) puts "Lambda Release State Change" events (source
"booking.release") on the default bus: STARTED before it runs the migrations and asks the new version's
/readyz, FAILED (with its reason) when either fails, so the alias stays where it was, and COMPLETED
after the alias moved. The event carries everything the e-mail shows, so, unlike ECS, nothing is looked
up: the e-mail is the event, checked (events.parse_release_event) and laid out like the ECS ones (same
subject form, same key/value body, same SNS message attributes).

Failure policy as for ECS events: an event that does not validate is logged (why, and the event id,
never its content) and skipped; an SNS failure raises so Lambda retries and finally hands the event to
the on-failure destination (DLQ).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from deployment_record import DIGEST_SHOWN
from events import RELEASE_SOURCE, ReleaseEvent, SkipEvent, parse_release_event
from notification import Notification, ascii_subject, key_value_lines, publish, service_label
from record_email import when_text

if TYPE_CHECKING:
    from mypy_boto3_sns import SNSClient

logger = logging.getLogger("deploy_notifier")

# The SNS `status` attribute speaks the ECS vocabulary, so one filter policy serves both runtimes.
STATUS_ATTRIBUTE = {"STARTED": "IN_PROGRESS", "COMPLETED": "COMPLETED", "FAILED": "FAILED"}
SEVERITY = {"STARTED": "info", "COMPLETED": "info", "FAILED": "error"}

__all__ = ["RELEASE_SOURCE", "build_release_notification", "handle_release"]


def short_image(image: str) -> str:
    """`...@sha256:abcdef123456` for subject lines, as the ECS e-mails show an image."""
    digest = image[image.index("sha256:") :] if "sha256:" in image else image
    return f"...@{digest[:DIGEST_SHOWN]}"


def component(function_name: str, *, app: str, environment: str) -> str:
    """`api` for `booking-dev-api` (names are `<app>-<env>-<component>`), so the subject reads
    `[dev] booking api: ...` exactly as for the ECS service `api`."""
    prefix = f"{app}-{environment}-"
    return function_name[len(prefix) :] if function_name.startswith(prefix) else function_name


def console_links(event: ReleaseEvent) -> list[tuple[str, str | None]]:
    """The alias in the Lambda console and the function's log group in the CloudWatch console (console
    deep links, not an API: their form is the consoles' own). The log group is Lambda's default,
    /aws/lambda/<function name>, which components/lambda_service.py creates."""
    region = event.region
    if region is None:
        return []
    console = f"https://{region}.console.aws.amazon.com"
    # The CloudWatch console's fragment encodes "/" as "$252F" (a twice URL-encoded "%2F").
    log_group = f"/aws/lambda/{event.function_name}".replace("/", "$252F")
    return [
        (
            "Alias console",
            f"{console}/lambda/home?region={region}#/functions/{event.function_name}"
            f"/aliases/{event.alias}?tab=configure",
        ),
        (
            "Function logs",
            f"{console}/cloudwatch/home?region={region}#logsV2:log-groups/log-group/{log_group}",
        ),
    ]


def _headline(event: ReleaseEvent) -> str:
    new = f"version {event.version}"
    labelled = f"{new} (image {short_image(event.image)})" if event.image else new
    why = f" (reason: {event.reason})" if event.reason else ""
    if event.event_name == "STARTED":
        return f"deploying {labelled}"
    if event.event_name == "COMPLETED":
        return f"deployed {labelled}"
    if event.previous_version is not None:
        return f"{new} FAILED, {event.alias} stays on version {event.previous_version}{why}"
    return f"{new} FAILED, not promoted to {event.alias}{why}"


def _alias_line(event: ReleaseEvent) -> str:
    previous = f"version {event.previous_version}" if event.previous_version else None
    if event.event_name == "COMPLETED":
        return f"{event.alias} -> version {event.version}"
    if event.event_name == "FAILED":
        stays = f"stays on {previous}" if previous else "not moved"
        return f"{event.alias} {stays} (version {event.version} not promoted)"
    now = f"on {previous}" if previous else "not yet pointing at a version"
    return f"{event.alias} {now}; moves to version {event.version} once the migrations and /readyz pass"


def build_release_notification(event: ReleaseEvent, *, app: str = "booking") -> Notification:
    label = service_label(app, component(event.function_name, app=app, environment=event.environment))
    headline = f"[{event.environment}] {label}: {_headline(event)}"
    lines: list[tuple[str, str | None]] = [
        ("Environment", event.environment),
        ("Function", event.function_name),
        ("Release status", event.event_name),
        ("Reason", event.reason),
        ("From", f"version {event.previous_version}" if event.previous_version else None),
        ("To", f"version {event.version}"),
        ("To image", event.image),
        ("Alias", _alias_line(event)),
        ("Event", f"{event.event_name} at {when_text(event.at)}" if event.at else event.event_name),
        *console_links(event),
        ("Region", event.region),
        ("Account", event.account),
        ("Event id", event.event_id or None),
    ]
    return Notification(
        subject=ascii_subject(headline),
        body="\n".join([headline, "", *key_value_lines(lines)]) + "\n",
        attributes={
            "environment": event.environment,
            "status": STATUS_ATTRIBUTE[event.event_name],
            "severity": SEVERITY[event.event_name],
            "release_status": event.event_name,
        },
    )


def handle_release(
    event: Mapping[str, Any], sns: Callable[[], SNSClient], *, topic_arn: str, environment: str
) -> dict[str, Any]:
    """Validate, render, publish; `sns` is only asked for a client when there is something to send."""
    try:
        parsed = parse_release_event(
            event,
            expected_environment=environment,
            expected_function=os.environ.get("FUNCTION_NAME") or None,
        )
    except SkipEvent as skip:
        event_id = event.get("id")
        logger.warning(
            "event skipped",
            extra={"eventId": event_id[:100] if isinstance(event_id, str) else None, "why": str(skip)},
        )
        return {"published": False, "skipped": str(skip)}

    notification = build_release_notification(parsed, app=os.environ.get("APP_NAME", "booking"))
    # No try/except: a failed publish must fail the invocation so Lambda retries, then the DLQ keeps it.
    message_id = publish(sns(), topic_arn, notification)
    logger.info(
        "notification published",
        extra={
            "eventId": parsed.event_id,
            "eventName": parsed.event_name,
            "functionName": parsed.function_name,
            "version": parsed.version,
            "subject": notification.subject,
            "messageId": message_id,
            **notification.attributes,
        },
    )
    return {"published": True, "messageId": message_id, "subject": notification.subject}
