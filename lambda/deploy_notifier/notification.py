"""What every deployment e-mail shares, whichever runtime it reports on: the message, its subject rules,
its key/value body and the one SNS call (pure, except `publish`).

Shipped in the Lambda's zip beside handler.py; handler.py (ECS) and release_email.py (Lambda releases)
both build their e-mails from here, so the two look alike.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mypy_boto3_sns import SNSClient

SUBJECT_MAX = 99  # SNS Publish: subjects "less than 100 characters long", no line breaks or controls


@dataclass(frozen=True)
class Notification:
    subject: str
    body: str
    attributes: Mapping[str, str]


def ascii_subject(text: str) -> str:
    """One ASCII line SNS accepts as a subject (e-mail clients render it everywhere)."""
    words = text.encode("ascii", "replace").decode("ascii").split()
    clean = "".join(c if c.isprintable() else "?" for c in " ".join(words))
    return clean if len(clean) <= SUBJECT_MAX else clean[: SUBJECT_MAX - 3] + "..."


def service_label(app: str, service: str) -> str:
    """`booking api` for the service `api`; a name that already starts with the app stays as it is."""
    return service if service.lower().startswith(app.lower()) else f"{app} {service}"


def key_value_lines(lines: Sequence[tuple[str, str | None]]) -> list[str]:
    """`Key:   value` lines, aligned on the longest key that has a value; empty values are left out."""
    width = max(len(key) for key, value in lines if value) + 2
    return [f"{key + ':':<{width}}{value}" for key, value in lines if value]


def publish(sns: SNSClient, topic_arn: str, notification: Notification) -> str:
    response = sns.publish(
        TopicArn=topic_arn,
        Subject=notification.subject,
        Message=notification.body,
        MessageAttributes={
            key: {"DataType": "String", "StringValue": value}
            for key, value in notification.attributes.items()
        },
    )
    return str(response["MessageId"])
