"""Events as EventBridge delivers them, validated and parsed (pure, no AWS calls): ECS deployment and
service action events into `EcsEvent`, and our own Lambda release events into `ReleaseEvent`.

Event shapes (ECS developer guide, "Amazon ECS events"): see handler.py's docstring. The release event is
the stack's contract (components/lambda_release.py puts it, docs/notifier.md documents it). Shipped in
the Lambda's zip beside handler.py (components/notifier.py ships every .py file of this folder).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

DEPLOYMENT_DETAIL_TYPE = "ECS Deployment State Change"
SERVICE_ACTION_DETAIL_TYPE = "ECS Service Action"
DEPLOYMENT_EVENTS = {
    "SERVICE_DEPLOYMENT_IN_PROGRESS": "IN_PROGRESS",
    "SERVICE_DEPLOYMENT_COMPLETED": "COMPLETED",
    "SERVICE_DEPLOYMENT_FAILED": "FAILED",
}
# Our own events (PutEvents from the release gate). EventBridge user guide, "AWS service event metadata":
# customer-generated events may use any `source` "as long as it doesn't begin with aws.".
RELEASE_SOURCE = "booking.release"
RELEASE_DETAIL_TYPE = "Lambda Release State Change"
RELEASE_EVENTS = ("STARTED", "COMPLETED", "FAILED")
# Lambda API reference (CreateAlias / AliasConfiguration): function names `[a-zA-Z0-9-_]+` (at most 64
# characters as a plain name), versions `(\$LATEST|[0-9]+)`, alias names `(?!^[0-9]+$)([a-zA-Z0-9-_]+)`.
_FUNCTION_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_VERSION = re.compile(r"^(\$LATEST|[0-9]{1,10})$")
_ALIAS = re.compile(r"^(?![0-9]+$)[A-Za-z0-9_-]{1,128}$")
_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
_IMAGE = re.compile(r"^[A-Za-z0-9./:@_-]{1,512}$")  # `sha256:…` or `<repository>@sha256:…`
REASON_MAX = 1000  # the gate's reason is one status line or a short error; the e-mail needs no more
_SERVICE_ARN = re.compile(
    r"^arn:(?P<partition>[\w-]+):ecs:(?P<region>[\w-]+):(?P<account>\d{12}):service/(?P<path>.+)$"
)


class SkipEvent(Exception):
    """The event is not one we notify about; the message says why."""


# --- parsing -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EcsEvent:
    kind: Literal["deployment", "service_action"]
    event_id: str
    event_name: str
    event_type: str
    service_arn: str
    region: str
    account: str
    cluster: str | None
    service: str
    deployment_id: str | None
    reason: str | None
    at: datetime | None
    capacity_providers: tuple[str, ...] = ()


def parse_event(event: object, *, expected_service_arn: str | None, fallback_cluster: str | None) -> EcsEvent:
    """Validate an EventBridge event against AWS's documented shape; raise SkipEvent otherwise."""
    if not isinstance(event, Mapping):
        raise SkipEvent(f"event is a {type(event).__name__}, not an object")
    if event.get("source") != "aws.ecs":
        raise SkipEvent(f"source {event.get('source')!r} is not aws.ecs")
    detail_type = event.get("detail-type")
    if detail_type not in (DEPLOYMENT_DETAIL_TYPE, SERVICE_ACTION_DETAIL_TYPE):
        raise SkipEvent(f"detail-type {detail_type!r} is not handled")
    detail = event.get("detail")
    if not isinstance(detail, Mapping):
        raise SkipEvent("detail is missing or not an object")
    event_name = _text(detail, "eventName")
    event_type = _text(detail, "eventType")
    if event_name is None or event_type is None:
        raise SkipEvent("detail.eventName or detail.eventType is missing")

    resources = event.get("resources")
    service_arns = (
        [r for r in resources if isinstance(r, str) and _SERVICE_ARN.match(r)]
        if isinstance(resources, list)
        else []
    )
    if not service_arns:
        raise SkipEvent("resources holds no ECS service ARN")
    service_arn = service_arns[0]
    if expected_service_arn and service_arn != expected_service_arn:
        raise SkipEvent(f"event is for {service_arn}, this notifier watches {expected_service_arn}")
    match = _SERVICE_ARN.match(service_arn)
    assert match is not None
    path = match["path"].split("/")
    service = path[-1]
    # New-format ARNs are service/<cluster>/<service>; old ones omit the cluster.
    cluster = (
        path[0] if len(path) == 2 else _cluster_from_arn(_text(detail, "clusterArn")) or fallback_cluster
    )

    if detail_type == DEPLOYMENT_DETAIL_TYPE:
        if event_name not in DEPLOYMENT_EVENTS:
            raise SkipEvent(f"deployment event {event_name!r} is not a documented deployment state")
        deployment_id = _text(detail, "deploymentId")
        if deployment_id is None:
            raise SkipEvent("detail.deploymentId is missing")
        kind: Literal["deployment", "service_action"] = "deployment"
        at = _timestamp(detail.get("updatedAt"))
    else:
        if event_type not in ("WARN", "ERROR"):
            raise SkipEvent(f"service action {event_name} is {event_type}; only WARN and ERROR are reported")
        deployment_id = None
        kind = "service_action"
        at = _timestamp(detail.get("createdAt"))
    providers = detail.get("capacityProviderArns")
    return EcsEvent(
        kind=kind,
        event_id=str(event.get("id") or ""),
        event_name=event_name,
        event_type=event_type,
        service_arn=service_arn,
        region=match["region"],
        account=match["account"],
        cluster=cluster,
        service=service,
        deployment_id=deployment_id,
        reason=_text(detail, "reason"),
        at=at or _timestamp(event.get("time")),
        capacity_providers=tuple(p.rsplit("/", 1)[-1] for p in providers if isinstance(p, str))
        if isinstance(providers, list)
        else (),
    )


def _text(mapping: Mapping[str, Any], key: str) -> str | None:
    value = mapping.get(key)
    return value if isinstance(value, str) and value else None


def _cluster_from_arn(arn: str | None) -> str | None:
    return arn.rsplit("/", 1)[-1] if arn and ":cluster/" in arn else None


def _timestamp(value: object) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


# --- Lambda release events (our own contract) ----------------------------------------------------------


@dataclass(frozen=True)
class ReleaseEvent:
    event_id: str
    event_name: str  # STARTED | COMPLETED | FAILED
    environment: str
    function_name: str
    alias: str
    version: str
    previous_version: str | None
    image: str | None  # as sent: `sha256:…` or `<repository>@sha256:…`
    reason: str | None
    region: str | None
    account: str | None
    at: datetime | None


def parse_release_event(
    event: object, *, expected_environment: str, expected_function: str | None
) -> ReleaseEvent:
    """Validate a "Lambda Release State Change" event; raise SkipEvent (naming the field, never echoing
    the event) when it is not one this notifier reports."""
    if not isinstance(event, Mapping):
        raise SkipEvent(f"event is a {type(event).__name__}, not an object")
    if event.get("source") != RELEASE_SOURCE or event.get("detail-type") != RELEASE_DETAIL_TYPE:
        raise SkipEvent(f"not a {RELEASE_SOURCE} {RELEASE_DETAIL_TYPE!r} event")
    detail = event.get("detail")
    if not isinstance(detail, Mapping):
        raise SkipEvent("detail is missing or not an object")
    event_name = detail.get("eventName")
    if event_name not in RELEASE_EVENTS:
        raise SkipEvent(f"detail.eventName is not one of {', '.join(RELEASE_EVENTS)}")
    environment = _text(detail, "environment")
    if environment is None or environment != expected_environment:
        raise SkipEvent(f"detail.environment is not {expected_environment!r}")
    function_name = _matching(detail, "functionName", _FUNCTION_NAME)
    if expected_function and function_name != expected_function:
        raise SkipEvent(f"detail.functionName is not {expected_function!r}")
    alias = _matching(detail, "alias", _ALIAS)
    version = _matching(detail, "version", _VERSION)
    previous = detail.get("previousVersion")
    previous_version = None if previous is None else _matching(detail, "previousVersion", _VERSION)
    image = None if detail.get("imageDigest") is None else _matching(detail, "imageDigest", _IMAGE)
    if image is not None and not _DIGEST.search(image):
        raise SkipEvent("detail.imageDigest holds no sha256 digest")
    reason = detail.get("reason")
    if reason is not None and not isinstance(reason, str):
        raise SkipEvent("detail.reason is not a string or null")
    region = _text(event, "region")
    account = _text(event, "account")
    return ReleaseEvent(
        event_id=str(event.get("id") or ""),
        event_name=str(event_name),
        environment=environment,
        function_name=function_name,
        alias=alias,
        version=version,
        previous_version=previous_version,
        image=image,
        reason=_one_line(reason, REASON_MAX) if reason else None,
        region=region if region and re.fullmatch(r"[a-z0-9-]{1,32}", region) else None,
        account=account if account and re.fullmatch(r"\d{12}", account) else None,
        at=_timestamp(event.get("time")),
    )


def _matching(detail: Mapping[str, Any], key: str, pattern: re.Pattern[str]) -> str:
    value = detail.get(key)
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)  # a version sent as a JSON number
    if not isinstance(value, str) or not pattern.match(value):
        raise SkipEvent(f"detail.{key} is missing or malformed")
    return value


def _one_line(text: str, limit: int) -> str:
    """Control characters (line breaks included) become spaces; long texts are cut with an ellipsis."""
    flat = " ".join("".join(c if c.isprintable() else " " for c in text).split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."
