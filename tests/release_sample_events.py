"""The release gate's "Lambda Release State Change" events, as EventBridge delivers them to a target.

The envelope (version, id, detail-type, source, account, time, region, resources, detail) is EventBridge's
("AWS service event metadata" in the EventBridge user guide; PutEvents fills it for custom events); the
detail is the stack's own contract (docs/notifier.md, "Lambda releases").
"""

from __future__ import annotations

from typing import Any

from tests.ecs_sample_events import ACCOUNT, REGION

FUNCTION = "booking-dev-api"
DIGEST = "sha256:" + "b2" * 32
IMAGE = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/booking-dev@{DIGEST}"
EVENT_ID = "6a7e8feb-b491-4cf7-a9f1-bf3703467718"


def release_detail(event_name: str, **overrides: Any) -> dict[str, Any]:
    detail: dict[str, Any] = {
        "eventName": event_name,
        "environment": "dev",
        "app": "booking",
        "functionName": FUNCTION,
        "alias": "live",
        "version": "8",
        "previousVersion": "7",
        "imageDigest": DIGEST,
        "reason": None,
    }
    detail.update(overrides)
    return detail


def release_event(event_name: str, *, time: str = "2026-11-30T06:00:02Z", **overrides: Any) -> dict[str, Any]:
    return {
        "version": "0",
        "id": EVENT_ID,
        "detail-type": "Lambda Release State Change",
        "source": "booking.release",
        "account": ACCOUNT,
        "time": time,
        "region": REGION,
        "resources": [],
        "detail": release_detail(event_name, **overrides),
    }
