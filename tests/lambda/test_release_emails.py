"""Lambda runtime: the release gate's events -> the deploy notifier -> SNS, as admins receive them.

SNS -> SQS and EventBridge are moto. The notifier is loaded from exactly the files its zip ships
(tests/deploy_notifier_loader.py). The release event needs no AWS read, so no ECS is set up at all: an
e-mail that tried to ask ECS would fail here.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from moto import mock_aws

from components.lambda_release import Release, release_entry
from components.notifier_policies import failures_filter_policy, release_event_pattern
from tests.deploy_notifier_loader import load_notifier
from tests.ecs_sample_events import ACCOUNT, REGION
from tests.release_sample_events import DIGEST, EVENT_ID, FUNCTION, IMAGE, release_event

notifier = load_notifier()
events = __import__("events")  # the zip's top-level sibling modules, as Lambda imports them
release_email = __import__("release_email")

ALIAS_CONSOLE = (
    f"https://{REGION}.console.aws.amazon.com/lambda/home?region={REGION}"
    f"#/functions/{FUNCTION}/aliases/live?tab=configure"
)
LOGS_CONSOLE = (
    f"https://{REGION}.console.aws.amazon.com/cloudwatch/home?region={REGION}"
    f"#logsV2:log-groups/log-group/$252Faws$252Flambda$252F{FUNCTION}"
)
SHORT = "...@sha256:b2b2b2b2b2b2"
READYZ_REASON = "GET /readyz on version 8 answered 503: database unavailable"
FAILED_HEADLINE = f"[dev] booking api: version 8 FAILED, live stays on version 7 (reason: {READYZ_REASON})"


def tail() -> str:
    return f"""\
Alias console:  {ALIAS_CONSOLE}
Function logs:  {LOGS_CONSOLE}
Region:         {REGION}
Account:        {ACCOUNT}
Event id:       {EVENT_ID}
"""


@dataclass
class Inbox:
    sqs: Any
    sns: Any
    topic_arn: str
    all_url: str
    failures_url: str

    def messages(self, url: str | None = None) -> list[dict[str, Any]]:
        got = self.sqs.receive_message(QueueUrl=url or self.all_url, MaxNumberOfMessages=10).get(
            "Messages", []
        )
        return [json.loads(m["Body"]) for m in got]


def _queue(sqs: Any, name: str) -> tuple[str, str]:
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, arn


@pytest.fixture
def inbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[Inbox]:
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(key, value)
    notifier._sns.cache_clear()
    monkeypatch.setattr(notifier, "_ecs", lambda: pytest.fail("a release e-mail must not ask ECS"))
    with mock_aws():
        sns = boto3.client("sns", region_name=REGION)
        sqs = boto3.client("sqs", region_name=REGION)
        topic_arn = sns.create_topic(Name="booking-dev-deployments")["TopicArn"]
        all_url, all_arn = _queue(sqs, "all")
        failures_url, failures_arn = _queue(sqs, "failures")
        sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=all_arn)
        # What `events: failures` subscribers get (the same filter policy the component sets).
        sns.subscribe(
            TopicArn=topic_arn,
            Protocol="sqs",
            Endpoint=failures_arn,
            Attributes={
                "FilterPolicy": json.dumps(failures_filter_policy()),
                "FilterPolicyScope": "MessageAttributes",
            },
        )
        monkeypatch.setenv("TOPIC_ARN", topic_arn)
        monkeypatch.setenv("ENVIRONMENT", "dev")
        monkeypatch.setenv("FUNCTION_NAME", FUNCTION)
        monkeypatch.delenv("SERVICE_ARN", raising=False)
        yield Inbox(sqs=sqs, sns=sns, topic_arn=topic_arn, all_url=all_url, failures_url=failures_url)


def attrs(message: dict[str, Any]) -> dict[str, str]:
    return {k: v["Value"] for k, v in message["MessageAttributes"].items()}


CASES = [
    pytest.param(
        release_event("STARTED"),
        f"[dev] booking api: deploying version 8 (image {SHORT})",
        f"""\
Environment:    dev
Function:       {FUNCTION}
Release status: STARTED
From:           version 7
To:             version 8
To image:       {DIGEST}
Alias:          live on version 7; moves to version 8 once the migrations and /readyz pass
Event:          STARTED at 2026-11-30 06:00:02 UTC
""",
        {"environment": "dev", "status": "IN_PROGRESS", "severity": "info", "release_status": "STARTED"},
        id="started",
    ),
    pytest.param(
        release_event("COMPLETED", time="2026-11-30T06:01:40Z", imageDigest=IMAGE),
        f"[dev] booking api: deployed version 8 (image {SHORT})",
        f"""\
Environment:    dev
Function:       {FUNCTION}
Release status: COMPLETED
From:           version 7
To:             version 8
To image:       {IMAGE}
Alias:          live -> version 8
Event:          COMPLETED at 2026-11-30 06:01:40 UTC
""",
        {"environment": "dev", "status": "COMPLETED", "severity": "info", "release_status": "COMPLETED"},
        id="completed",
    ),
    pytest.param(
        release_event("FAILED", time="2026-11-30T06:01:10Z", reason=READYZ_REASON),
        "[dev] booking api: version 8 FAILED, live stays on version 7 (reason: GET /readyz on version 8 a...",
        f"""\
Environment:    dev
Function:       {FUNCTION}
Release status: FAILED
Reason:         {READYZ_REASON}
From:           version 7
To:             version 8
To image:       {DIGEST}
Alias:          live stays on version 7 (version 8 not promoted)
Event:          FAILED at 2026-11-30 06:01:10 UTC
""",
        {"environment": "dev", "status": "FAILED", "severity": "error", "release_status": "FAILED"},
        id="failed",
    ),
]


@pytest.mark.parametrize(("event", "subject", "body", "attributes"), CASES)
def test_each_release_event_sends_one_email_like_the_ecs_ones(
    inbox: Inbox, event: dict[str, Any], subject: str, body: str, attributes: dict[str, str]
) -> None:
    result = notifier.handler(event, None)
    assert result["published"] is True
    [message] = inbox.messages()
    assert message["Subject"] == subject
    assert len(subject) < 100 and subject.isascii()
    # The first line is the subject, uncut (SNS cuts only the subject at 100 characters).
    headline = subject if not subject.endswith("...") else FAILED_HEADLINE
    assert message["Message"] == f"{headline}\n\n{body}{tail()}"
    assert attrs(message) == attributes
    # `events: failures` subscribers hear about the failure only, as for ECS deployments.
    assert len(inbox.messages(inbox.failures_url)) == (1 if attributes["severity"] == "error" else 0)


def test_a_first_release_that_fails_says_the_alias_was_not_moved(inbox: Inbox) -> None:
    event = release_event("FAILED", previousVersion=None, imageDigest=None, reason="migration failed")
    notifier.handler(event, None)
    [message] = inbox.messages()
    assert (
        message["Subject"]
        == "[dev] booking api: version 8 FAILED, not promoted to live (reason: migration failed)"
    )
    body = message["Message"]
    assert "Alias:          live not moved (version 8 not promoted)\n" in body
    assert "From:" not in body and "image" not in body


def test_reason_is_one_line_and_bounded(inbox: Inbox) -> None:
    reason = "Traceback (most recent call last):\n  File x\r\n" + "y" * 5000
    notifier.handler(release_event("FAILED", reason=reason), None)
    [message] = inbox.messages()
    [line] = [line for line in message["Message"].splitlines() if line.startswith("Reason:")]
    assert line.startswith("Reason:         Traceback (most recent call last): File x yyy")
    assert len(line) == len("Reason:         ") + events.REASON_MAX and line.endswith("...")


SECRET = "hunter2-db-password"
SKIPPED = [
    pytest.param(release_event("ROLLED_BACK"), "detail.eventName is not one of", id="unknown-event-name"),
    pytest.param(
        release_event("FAILED", environment="prod"), "detail.environment is not 'dev'", id="other-env"
    ),
    pytest.param(
        release_event("FAILED", functionName="booking-dev-worker"),
        "detail.functionName is not 'booking-dev-api'",
        id="other-function",
    ),
    pytest.param(
        release_event("FAILED", version=f"8 {SECRET}"), "detail.version is missing", id="bad-version"
    ),
    pytest.param(release_event("FAILED", version=None), "detail.version is missing", id="no-version"),
    pytest.param(release_event("FAILED", alias="123"), "detail.alias is missing", id="numeric-alias"),
    pytest.param(
        release_event("FAILED", imageDigest=f"latest-{SECRET}"), "detail.imageDigest", id="tag-not-digest"
    ),
    pytest.param(release_event("FAILED", reason={"password": SECRET}), "detail.reason", id="reason-object"),
    pytest.param({**release_event("FAILED"), "detail": SECRET}, "detail is missing or not", id="detail-text"),
    pytest.param(
        {**release_event("FAILED"), "detail-type": "Lambda Release"},
        "not a booking.release",
        id="detail-type",
    ),
]


@pytest.mark.parametrize(("event", "why"), SKIPPED)
def test_malformed_release_events_are_logged_and_skipped_without_their_content(
    inbox: Inbox, event: dict[str, Any], why: str, caplog: pytest.LogCaptureFixture
) -> None:
    if isinstance(event.get("detail"), dict):
        event["detail"].setdefault("reason", None)
        event["detail"]["token"] = SECRET  # an unexpected field must not leak into logs either
    with caplog.at_level(logging.INFO, logger="deploy_notifier"):
        result = notifier.handler(event, None)
    assert result["published"] is False
    assert why in result["skipped"]
    assert inbox.messages() == []
    [record] = [r for r in caplog.records if r.getMessage() == "event skipped"]
    assert why in record.why  # type: ignore[attr-defined]
    assert record.eventId == EVENT_ID  # type: ignore[attr-defined]
    assert all(SECRET not in json.dumps(vars(r), default=str) for r in caplog.records)


def test_sns_failure_raises_so_lambda_retries_and_the_dlq_keeps_the_event(inbox: Inbox) -> None:
    inbox.sns.delete_topic(TopicArn=inbox.topic_arn)
    with pytest.raises(inbox.sns.exceptions.NotFoundException):
        notifier.handler(release_event("FAILED", reason="x"), None)


def test_function_names_outside_the_naming_scheme_keep_their_full_name() -> None:
    assert release_email.component("booking-dev-api", app="booking", environment="dev") == "api"
    assert release_email.component("payments-api", app="booking", environment="dev") == "payments-api"
    parsed = events.parse_release_event(
        release_event("COMPLETED", functionName="payments-api"),
        expected_environment="dev",
        expected_function=None,
    )
    subject = release_email.build_release_notification(parsed, app="booking").subject
    assert subject.startswith("[dev] booking payments-api: deployed version 8")


# --- the whole path: PutEvents -> the component's rule (moto's matcher) -> the notifier -> SNS -----------


def _gate_release(environment: str, previous: str | None = "7") -> Release:
    return Release(
        region=REGION,
        environment=environment,
        app="booking",
        function_name=f"booking-{environment}-api",
        alias="live",
        version="8",
        previous_version=previous,
        image_digest=DIGEST,
    )


def test_the_gates_own_events_reach_the_admins_through_the_rule(inbox: Inbox) -> None:
    """Producer and consumer together: components/lambda_release.py's PutEvents entries, routed by the
    component's pattern (moto's matcher), handled by the notifier as shipped."""
    bus: Any = boto3.client("events", region_name=REGION)  # release_entry returns a plain dict
    delivered_url, delivered_arn = _queue(inbox.sqs, "delivered")
    pattern = release_event_pattern(environment="dev", function_name=FUNCTION)
    bus.put_rule(Name="booking-dev-release-notifier", EventPattern=json.dumps(pattern))
    bus.put_targets(Rule="booking-dev-release-notifier", Targets=[{"Id": "fn", "Arn": delivered_arn}])
    entries = [
        release_entry("FAILED", _gate_release("prod"), READYZ_REASON),  # another stack's release
        release_entry("STARTED", _gate_release("dev")),
        release_entry("FAILED", _gate_release("dev"), READYZ_REASON),
        release_entry("COMPLETED", _gate_release("dev", previous=None)),
    ]
    for entry in entries:  # one call each, as the gate sends them
        assert bus.put_events(Entries=[entry])["FailedEntryCount"] == 0
    got = inbox.sqs.receive_message(QueueUrl=delivered_url, MaxNumberOfMessages=10).get("Messages", [])
    delivered = [json.loads(m["Body"]) for m in got]  # the envelopes EventBridge built
    assert sorted(d["detail"]["eventName"] for d in delivered) == ["COMPLETED", "FAILED", "STARTED"]
    for event in delivered:
        assert notifier.handler(event, None)["published"] is True
    messages = {attrs(m)["release_status"]: m for m in inbox.messages()}
    assert messages["STARTED"]["Subject"] == f"[dev] booking api: deploying version 8 (image {SHORT})"
    assert messages["FAILED"]["Message"].startswith(FAILED_HEADLINE + "\n")
    assert messages["COMPLETED"]["Subject"] == f"[dev] booking api: deployed version 8 (image {SHORT})"
    assert "From:" not in messages["COMPLETED"]["Message"]  # the first release: no previous version
    failed = messages["FAILED"]["Message"]
    event = next(d for d in delivered if d["detail"]["eventName"] == "FAILED")
    assert f"Event id:       {event['id']}\n" in failed
    # moto's delivered envelope has no `account` (real EventBridge always sets it): the line is left out.
    account = event.get("account")
    assert (f"Account:        {account}\n" in failed) if account else ("Account:" not in failed)
