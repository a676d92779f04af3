"""The deployment e-mails written from ECS's own record of each deployment, one per status.

ECS is botocore's Stubber (moto implements none of the service deployment APIs); its responses are shaped
like the ECS API reference's examples (tests/ecs_service_deployments.py) and validated against the
installed service model, and the Stubber fails any call not queued, so these e-mails provably come from
the record alone: no DescribeServices, no heuristics. SNS -> SQS is moto, to read what admins receive.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import botocore.session
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from tests import ecs_service_deployments as record
from tests.deploy_notifier_loader import load_notifier
from tests.ecs_sample_events import ACCOUNT, REGION, deployment_event

notifier = load_notifier()
record_email = __import__("record_email")  # the zip's top-level sibling module, as Lambda imports it

ARN = record.deployment_arn("Kx7rQ2mP9sLwQn4vB8fYd")
OLDER = record.brief("Pq3sT5uV7wX9yZ1aB3cD5", "SUCCESSFUL", 41, "2026-11-20T09:00:00")
CONSOLE = (
    f"https://{REGION}.console.aws.amazon.com/ecs/v2/clusters/{record.CLUSTER}/services/{record.SERVICE}"
)
IMAGE_41 = f"api: {record.REPO}@{record.DIGEST_41}"
IMAGE_42 = f"api: {record.REPO}@{record.DIGEST_42}"
REASON = record.BREAKER_REASON
HEAD = f"""
Environment:        prod
Service:            api
Cluster:            {record.CLUSTER}
"""
REVISIONS = f"""\
From:               revision 41 (booking-api:41)
From image:         {IMAGE_41}
To:                 revision 42 (booking-api:42)
To image:           {IMAGE_42}
"""


def tail(event_line: str) -> str:
    return f"""\
Service deployment: {ARN}
Event:              {event_line}
Service console:    {CONSOLE}/health?region={REGION}
Deployments:        {CONSOLE}/deployments?region={REGION}
Region:             {REGION}
Account:            {ACCOUNT}
Event id:           ddca6449-b258-46c0-8653-e0e3a6EXAMPLE
"""


@dataclass
class Inbox:
    sqs: Any
    queue_url: str

    def one(self) -> dict[str, Any]:
        messages = self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10).get(
            "Messages", []
        )
        assert len(messages) == 1
        return json.loads(messages[0]["Body"])


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
    with mock_aws():
        sns = boto3.client("sns", region_name=REGION)
        sqs = boto3.client("sqs", region_name=REGION)
        topic_arn = sns.create_topic(Name="booking-prod-deployments")["TopicArn"]
        queue_url = sqs.create_queue(QueueName="inbox")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)
        monkeypatch.setenv("TOPIC_ARN", topic_arn)
        monkeypatch.setenv("ENVIRONMENT", "prod")
        monkeypatch.setenv("SERVICE_ARN", record.SERVICE_ARN)
        yield Inbox(sqs=sqs, queue_url=queue_url)


@pytest.fixture
def ecs(monkeypatch: pytest.MonkeyPatch) -> Iterator[Stubber]:
    client = botocore.session.get_session().create_client(
        "ecs", region_name=REGION, aws_access_key_id="testing", aws_secret_access_key="testing"
    )
    monkeypatch.setattr(notifier, "_ecs", lambda: client)
    with Stubber(client) as stubber:
        yield stubber
        stubber.assert_no_pending_responses()


def expect_record(stubber: Stubber, status: str, *, briefs: list[dict[str, Any]] | None = None) -> None:
    ours = record.brief("Kx7rQ2mP9sLwQn4vB8fYd", status, 42, "2026-11-30T06:00:00")
    stubber.add_response(
        "list_service_deployments",
        {"serviceDeployments": briefs if briefs is not None else [ours, OLDER]},
        {"cluster": record.CLUSTER, "service": record.SERVICE_ARN},
    )
    stubber.add_response(
        "describe_service_deployments",
        {"serviceDeployments": [record.RECORDS[status]], "failures": []},
        {"serviceDeploymentArns": [ARN]},
    )
    stubber.add_response(
        "describe_service_revisions",
        record.REVISIONS,
        {"serviceRevisionArns": [record.revision_arn(42), record.revision_arn(41)]},
    )


def event(name: str, deployment_id: str, updated_at: str) -> dict[str, Any]:
    reason = {
        "SERVICE_DEPLOYMENT_IN_PROGRESS": f"ECS deployment {deployment_id} in progress.",
        "SERVICE_DEPLOYMENT_COMPLETED": f"ECS deployment {deployment_id} completed.",
        "SERVICE_DEPLOYMENT_FAILED": REASON,
    }[name]
    return deployment_event(
        name,
        cluster=record.CLUSTER,
        service=record.SERVICE,
        deployment_id=deployment_id,
        updated_at=updated_at,
        reason=reason,
    )


CASES = [
    pytest.param(
        "PENDING",
        event("SERVICE_DEPLOYMENT_IN_PROGRESS", "ecs-svc/2", "2026-11-30T06:00:01Z"),
        "[prod] booking api: deployment of revision 42 (image ...@sha256:b2b2b2b2b2b2) pending",
        "ECS status:         PENDING\n"
        + REVISIONS
        + "Tasks:              revision 42: 0 running of 0 requested; revision 41: 2 running of 2 requested\n"
        "Created:            2026-11-30 06:00:00 UTC\n"
        + tail("SERVICE_DEPLOYMENT_IN_PROGRESS ecs-svc/2 at 2026-11-30 06:00:01 UTC"),
        "info",
        id="pending",
    ),
    pytest.param(
        "IN_PROGRESS",
        event("SERVICE_DEPLOYMENT_IN_PROGRESS", "ecs-svc/2", "2026-11-30T06:00:02Z"),
        "[prod] booking api: deploying revision 42 (image ...@sha256:b2b2b2b2b2b2)",
        "ECS status:         IN_PROGRESS\n"
        + REVISIONS
        + "Tasks:              revision 42: 1 running of 2 requested (1 pending); "
        "revision 41: 2 running of 2 requested\n"
        "Started:            2026-11-30 06:00:00 UTC\n"
        + tail("SERVICE_DEPLOYMENT_IN_PROGRESS ecs-svc/2 at 2026-11-30 06:00:02 UTC"),
        "info",
        id="in-progress",
    ),
    pytest.param(
        "SUCCESSFUL",
        event("SERVICE_DEPLOYMENT_COMPLETED", "ecs-svc/2", "2026-11-30T06:07:41Z"),
        "[prod] booking api: deployed revision 42 (image ...@sha256:b2b2b2b2b2b2)",
        "ECS status:         SUCCESSFUL\n"
        + REVISIONS
        + "Tasks:              revision 42: 2 running of 2 requested; revision 41: 0 running of 0 requested\n"
        "Started:            2026-11-30 06:00:00 UTC\n"
        "Finished:           2026-11-30 06:07:41 UTC\n"
        "Duration:           7m 41s\n"
        + tail("SERVICE_DEPLOYMENT_COMPLETED ecs-svc/2 at 2026-11-30 06:07:41 UTC"),
        "info",
        id="successful",
    ),
    pytest.param(
        "ROLLBACK_IN_PROGRESS",
        event("SERVICE_DEPLOYMENT_FAILED", "ecs-svc/2", "2026-11-30T06:06:12Z"),
        f"[prod] booking api: revision 42 FAILED, rolling back to revision 41 (reason: {REASON})",
        f"ECS status:         ROLLBACK_IN_PROGRESS\nReason:             {REASON}\n"
        + REVISIONS
        + "Rolled back to:     revision 41\n"
        "Tasks:              revision 42: 0 running of 0 requested; "
        "revision 41: 1 running of 2 requested (1 pending)\n"
        "Started:            2026-11-30 06:00:00 UTC\n"
        "Rollback at:        2026-11-30 06:06:11 UTC\n"
        "Failed after:       6m 11s\n"
        + tail("SERVICE_DEPLOYMENT_FAILED ecs-svc/2 at 2026-11-30 06:06:12 UTC"),
        "error",
        id="failed-rolling-back",
    ),
    pytest.param(
        # The rollback's own COMPLETED event: a new deploymentId, and DescribeServices no longer lists the
        # failed deployment. The record still belongs to the deployment that failed: ROLLBACK_SUCCESSFUL.
        "ROLLBACK_SUCCESSFUL",
        event("SERVICE_DEPLOYMENT_COMPLETED", "ecs-svc/3", "2026-11-30T06:09:30Z"),
        f"[prod] booking api: revision 42 FAILED and rolled back to revision 41 (reason: {REASON})",
        f"ECS status:         ROLLBACK_SUCCESSFUL\nReason:             {REASON}\n"
        + REVISIONS
        + "Rolled back to:     revision 41\n"
        "Tasks:              revision 42: 0 running of 0 requested; revision 41: 2 running of 2 requested\n"
        "Started:            2026-11-30 06:00:00 UTC\n"
        "Rollback at:        2026-11-30 06:06:11 UTC\n"
        "Finished:           2026-11-30 06:09:30 UTC\n"
        "Failed after:       6m 11s\n"
        "Duration:           9m 30s\n"
        + tail("SERVICE_DEPLOYMENT_COMPLETED ecs-svc/3 at 2026-11-30 06:09:30 UTC"),
        "error",
        id="rolled-back-completed-after-failed-deployment-is-gone",
    ),
    pytest.param(
        "ROLLBACK_FAILED",
        event("SERVICE_DEPLOYMENT_FAILED", "ecs-svc/3", "2026-11-30T06:31:00Z"),
        f"[prod] booking api: rollback FAILED: service is unstable (reason: {REASON})",
        f"ECS status:         ROLLBACK_FAILED\nReason:             {REASON}\n"
        + REVISIONS
        + "Rolled back to:     revision 41\n"
        "Tasks:              revision 42: 0 running of 0 requested; "
        "revision 41: 0 running of 2 requested (2 pending)\n"
        "Started:            2026-11-30 06:00:00 UTC\n"
        "Rollback at:        2026-11-30 06:06:11 UTC\n"
        "Finished:           2026-11-30 06:31:00 UTC\n"
        "Failed after:       6m 11s\n"
        "Duration:           31m 00s\n"
        + tail("SERVICE_DEPLOYMENT_FAILED ecs-svc/3 at 2026-11-30 06:31:00 UTC"),
        "error",
        id="rollback-failed",
    ),
    pytest.param(
        "STOPPED",
        event("SERVICE_DEPLOYMENT_FAILED", "ecs-svc/2", "2026-11-30T06:06:12Z"),
        f"[prod] booking api: deployment of revision 42 STOPPED, not rolled back (reason: {REASON})",
        f"ECS status:         STOPPED\nReason:             {REASON}\n"
        + REVISIONS
        + "Tasks:              revision 42: 0 running of 2 requested; revision 41: 2 running of 2 requested\n"
        "Started:            2026-11-30 06:00:00 UTC\n"
        "Finished:           2026-11-30 06:06:12 UTC\n"
        "Duration:           6m 12s\n"
        + tail("SERVICE_DEPLOYMENT_FAILED ecs-svc/2 at 2026-11-30 06:06:12 UTC"),
        "error",
        id="stopped",
    ),
]


@pytest.mark.parametrize(("status", "ecs_event", "first_line", "facts", "severity"), CASES)
def test_each_deployment_status_becomes_its_own_email(
    inbox: Inbox,
    ecs: Stubber,
    status: str,
    ecs_event: dict[str, Any],
    first_line: str,
    facts: str,
    severity: str,
) -> None:
    expect_record(ecs, status)
    result = notifier.handler(ecs_event, None)
    message = inbox.one()
    assert message["Message"] == first_line + "\n" + HEAD + facts
    subject = notifier.ascii_subject(first_line)
    assert message["Subject"] == subject == result["subject"]
    assert len(subject) < 100 and subject.isascii()
    assert subject == first_line or subject == first_line[:96] + "..."
    assert {k: v["Value"] for k, v in message["MessageAttributes"].items()} == {
        "environment": "prod",
        "status": ecs_event["detail"]["eventName"].removeprefix("SERVICE_DEPLOYMENT_"),
        "severity": severity,
        "deployment_status": status,
    }


def test_the_event_is_matched_to_the_deployment_ecs_ran_at_that_time(inbox: Inbox, ecs: Stubber) -> None:
    # A newer deployment (created after the event) and an older one are listed too; Stubber checks that
    # DescribeServiceDeployments is asked for ours.
    newer = record.brief("Zz9yX8wV7uT6sR5qP4oN3", "IN_PROGRESS", 41, "2026-11-30T06:20:00")
    ours = record.brief("Kx7rQ2mP9sLwQn4vB8fYd", "ROLLBACK_SUCCESSFUL", 42, "2026-11-30T06:00:00")
    expect_record(ecs, "ROLLBACK_SUCCESSFUL", briefs=[OLDER, newer, ours])
    notifier.handler(event("SERVICE_DEPLOYMENT_COMPLETED", "ecs-svc/3", "2026-11-30T06:09:30Z"), None)
    assert inbox.one()["Subject"].startswith("[prod] booking api: revision 42 FAILED and rolled back to")


def test_revisions_unavailable_still_reports_the_outcome_and_says_what_is_missing(
    inbox: Inbox, ecs: Stubber
) -> None:
    ours = record.brief("Kx7rQ2mP9sLwQn4vB8fYd", "ROLLBACK_SUCCESSFUL", 42, "2026-11-30T06:00:00")
    ecs.add_response("list_service_deployments", {"serviceDeployments": [ours]})
    ecs.add_response(
        "describe_service_deployments", {"serviceDeployments": [record.RECORDS["ROLLBACK_SUCCESSFUL"]]}
    )
    ecs.add_client_error(
        "describe_service_revisions", service_error_code="AccessDeniedException", http_status_code=400
    )
    notifier.handler(event("SERVICE_DEPLOYMENT_COMPLETED", "ecs-svc/3", "2026-11-30T06:09:30Z"), None)
    lines = inbox.one()["Message"].splitlines()
    assert lines[0] == (
        "[prod] booking api: service revision 4980306466373577095 FAILED and rolled back to service revision "
        f"1485800978477494678 (reason: {REASON})"
    )
    assert "ECS status:         ROLLBACK_SUCCESSFUL" in lines
    assert lines[-1] == (
        "Some details are missing: DescribeServiceRevisions failed: "
        "An error occurred (AccessDeniedException) when calling the DescribeServiceRevisions operation: "
    )


def test_service_deployment_at_picks_the_newest_created_before_the_event() -> None:
    newer = record.brief("new", "IN_PROGRESS", 41, "2026-11-30T06:20:00")
    ours = record.brief("ours", "SUCCESSFUL", 42, "2026-11-30T06:00:00")
    at = record.at
    assert record_email.service_deployment_at([OLDER, newer, ours], at("2026-11-30T06:09:30")) is ours
    # ECS may stamp the deployment a moment after the event that announces it.
    assert record_email.service_deployment_at([OLDER, ours], at("2026-11-30T05:59:30")) is ours
    assert record_email.service_deployment_at([OLDER, newer, ours], None) is newer
    assert record_email.service_deployment_at([ours], at("2026-11-29T00:00:00")) is None
    # The newest listed deployment finished before the event: the event's own deployment is not listed
    # yet, so there is no answer (and the e-mail falls back), rather than the previous deployment's.
    done = record.brief("done", "SUCCESSFUL", 41, "2026-11-30T05:00:00", finishedAt=at("2026-11-30T05:07:00"))
    assert record_email.service_deployment_at([done], at("2026-11-30T06:00:02")) is None
    assert record_email.service_deployment_at([done], at("2026-11-30T05:07:30")) is done
