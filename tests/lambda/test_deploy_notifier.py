"""The deploy notifier Lambda against moto: ECS for enrichment, SNS -> SQS to read what admins receive.

These are the e-mails when ECS's service deployment record cannot be read (the notifier's role is denied
ListServiceDeployments here): the outcome is inferred from DescribeServices, and each deployment e-mail
says so. The e-mails written from the record are in test_deploy_emails.py.

Over 400 lines: one table of ECS events, each driven through moto's ECS, SNS and SQS.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.ecs.models import ecs_backends

from tests.deploy_notifier_loader import load_notifier
from tests.ecs_sample_events import (
    ACCOUNT,
    REGION,
    deployment_event,
    service_action_event,
    service_arn,
    task_state_change_event,
)

CLUSTER = "booking-prod"
SERVICE = "api"
REPO = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/booking"
OLD_IMAGE = f"{REPO}@sha256:{'a' * 64}"
NEW_IMAGE = f"{REPO}@sha256:{'b' * 64}"
TD = f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/booking-api"
CONSOLE = f"https://{REGION}.console.aws.amazon.com/ecs/v2/clusters/{CLUSTER}/services/{SERVICE}"


notifier = load_notifier()


@dataclass
class Aws:
    topic_arn: str
    queue_url: str
    sqs: Any
    sns: Any

    def received(self) -> list[dict[str, Any]]:
        messages = self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10).get(
            "Messages", []
        )
        return [json.loads(m["Body"]) for m in messages]


DENIED = (
    "An error occurred (AccessDeniedException) when calling the ListServiceDeployments operation: "
    "not authorized to perform: ecs:ListServiceDeployments"
)
RECORD_UNAVAILABLE = [
    "ECS's record of this deployment is unavailable, so the outcome below is inferred from",
    f"DescribeServices and may be incomplete (ListServiceDeployments failed: {DENIED}).",
]


def deny_deployment_record(**_: Any) -> None:
    raise ClientError(
        {
            "Error": {
                "Code": "AccessDeniedException",
                "Message": "not authorized to perform: ecs:ListServiceDeployments",
            }
        },
        "ListServiceDeployments",
    )


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Aws]:
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(key, value)
    notifier._ecs.cache_clear()
    notifier._sns.cache_clear()
    with mock_aws():
        sns = boto3.client("sns", region_name=REGION)
        sqs = boto3.client("sqs", region_name=REGION)
        topic_arn = sns.create_topic(Name="booking-prod-deployments")["TopicArn"]
        queue_url = sqs.create_queue(QueueName="inbox")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)  # raw delivery off

        ecs = boto3.client("ecs", region_name=REGION)
        ecs.meta.events.register("before-call.ecs.ListServiceDeployments", deny_deployment_record)
        monkeypatch.setattr(notifier, "_ecs", lambda: ecs)
        ecs.create_cluster(clusterName=CLUSTER)
        for image in (OLD_IMAGE, NEW_IMAGE):  # revisions 1 and 2
            ecs.register_task_definition(
                family="booking-api", containerDefinitions=[{"name": "api", "image": image, "memory": 512}]
            )
        ecs.create_service(cluster=CLUSTER, serviceName=SERVICE, taskDefinition=f"{TD}:1", desiredCount=2)
        monkeypatch.setenv("TOPIC_ARN", topic_arn)
        monkeypatch.setenv("ENVIRONMENT", "prod")
        monkeypatch.setenv("SERVICE_ARN", service_arn(CLUSTER, SERVICE))
        yield Aws(topic_arn=topic_arn, queue_url=queue_url, sqs=sqs, sns=sns)


def deployment(
    id_: str, status: str, revision: int, rollout: str, created: str, running: int = 2, failed: int = 0
) -> dict[str, Any]:
    return {
        "id": id_,
        "status": status,
        "taskDefinition": f"{TD}:{revision}",
        "desiredCount": 2,
        "pendingCount": 2 - running,
        "runningCount": running,
        "failedTasks": failed,
        "createdAt": datetime.fromisoformat(created).replace(tzinfo=UTC),
        "updatedAt": datetime.fromisoformat(created).replace(tzinfo=UTC),
        "launchType": "FARGATE",
        "rolloutState": rollout,
        "rolloutStateReason": "",
    }


def set_ecs_state(deployments: list[dict[str, Any]], *, rollback: bool = True) -> None:
    """What DescribeServices reports at that moment of a rollout (moto models a single deployment)."""
    service = ecs_backends[ACCOUNT][REGION].services[f"{CLUSTER}:{SERVICE}"]
    service.deployments = deployments
    service.deployment_configuration = {  # type: ignore[attr-defined]
        "deploymentCircuitBreaker": {"enable": True, "rollback": rollback},
        "maximumPercent": 200,
        "minimumHealthyPercent": 100,
    }


FORWARD = [
    deployment("ecs-svc/2", "PRIMARY", 2, "IN_PROGRESS", "2020-05-23T11:05:00", running=1),
    deployment("ecs-svc/1", "ACTIVE", 1, "COMPLETED", "2020-05-20T09:00:00"),
]
DONE = [deployment("ecs-svc/2", "PRIMARY", 2, "COMPLETED", "2020-05-23T11:05:00")]
ROLLING_BACK = [
    deployment("ecs-svc/3", "PRIMARY", 1, "IN_PROGRESS", "2020-05-23T11:11:11", running=0),
    deployment("ecs-svc/2", "ACTIVE", 2, "FAILED", "2020-05-23T11:05:00", running=0, failed=3),
    deployment("ecs-svc/1", "ACTIVE", 1, "COMPLETED", "2020-05-20T09:00:00"),
]


def attrs(message: dict[str, Any]) -> dict[str, str]:
    return {k: v["Value"] for k, v in message["MessageAttributes"].items()}


CASES = [
    pytest.param(
        FORWARD,
        deployment_event(
            "SERVICE_DEPLOYMENT_IN_PROGRESS", cluster=CLUSTER, service=SERVICE, deployment_id="ecs-svc/2"
        ),
        "[prod] booking api: deployment IN_PROGRESS",
        [
            "Environment:     prod",
            "Service:         api",
            f"Cluster:         {CLUSTER}",
            "Status:          IN_PROGRESS",
            "Reason:          ECS deployment ecs-svc/2 in progress.",
            "Deployment:      ecs-svc/2",
            "Revision:        booking-api:1 -> booking-api:2",
            f"Image:           api: {NEW_IMAGE}",
            f"Previous image:  api: {OLD_IMAGE}",
            "Tasks:           1 running of 2 desired (1 pending)",
            "Started:         2020-05-23 11:05:00 UTC",
            "Time:            2020-05-23 11:11:11 UTC",
        ],
        {"environment": "prod", "status": "IN_PROGRESS", "severity": "info"},
        id="in-progress",
    ),
    pytest.param(
        DONE,
        deployment_event(
            "SERVICE_DEPLOYMENT_COMPLETED",
            cluster=CLUSTER,
            service=SERVICE,
            deployment_id="ecs-svc/2",
            updated_at="2020-05-23T11:12:41Z",
        ),
        "[prod] booking api: deployment COMPLETED",
        [
            "Status:          COMPLETED",
            "Reason:          ECS deployment ecs-svc/2 completed.",
            "Revision:        booking-api:2",
            f"Image:           api: {NEW_IMAGE}",
            "Tasks:           2 running of 2 desired",
            "Duration:        7m 41s",
        ],
        {"environment": "prod", "status": "COMPLETED", "severity": "info"},
        id="completed",
    ),
    pytest.param(
        ROLLING_BACK,
        deployment_event(
            "SERVICE_DEPLOYMENT_FAILED", cluster=CLUSTER, service=SERVICE, deployment_id="ecs-svc/2"
        ),
        "[prod] booking api: deployment FAILED (rolled back)",
        [
            "Status:          FAILED, rolling back to booking-api:1",
            "Reason:          ECS deployment circuit breaker: task failed to start.",
            "Deployment:      ecs-svc/2",
            "Revision:        booking-api:2 -> booking-api:1",
            f"Failed image:    api: {NEW_IMAGE}",
            f"Restored image:  api: {OLD_IMAGE}",
            "Tasks:           0 running of 2 desired (2 pending, 3 failed)",
            "Duration:        6m 11s",
        ],
        {"environment": "prod", "status": "FAILED", "severity": "error"},
        id="failed-rolled-back",
    ),
    pytest.param(
        ROLLING_BACK,
        deployment_event(
            "SERVICE_DEPLOYMENT_IN_PROGRESS",
            cluster=CLUSTER,
            service=SERVICE,
            deployment_id="ecs-svc/3",
            reason="ECS deployment circuit breaker: rolling back to deploymentId ecs-svc/1.",
        ),
        "[prod] booking api: rollback IN_PROGRESS",
        [
            "Status:          IN_PROGRESS (rollback to an earlier revision)",
            "Revision:        booking-api:2 -> booking-api:1",
            f"Failed image:    api: {NEW_IMAGE}",
            f"Restored image:  api: {OLD_IMAGE}",
        ],
        {"environment": "prod", "status": "IN_PROGRESS", "severity": "warning"},
        id="rollback-in-progress",
    ),
    pytest.param(
        FORWARD,
        service_action_event("SERVICE_TASK_START_IMPAIRED", "WARN", cluster=CLUSTER, service=SERVICE),
        "[prod] booking api: WARN tasks are failing to start",
        [
            "Environment:     prod",
            "Service:         api",
            f"Cluster:         {CLUSTER}",
            "Status:          WARN SERVICE_TASK_START_IMPAIRED",
            "Deployment:      ecs-svc/2 (IN_PROGRESS)",
            "Revision:        booking-api:2",
            f"Image:           api: {NEW_IMAGE}",
            "Tasks:           1 running of 2 desired (1 pending)",
            "Time:            2019-11-19 19:55:38 UTC",
            f"Service console: {CONSOLE}/health?region={REGION}",
        ],
        {"environment": "prod", "status": "SERVICE_TASK_START_IMPAIRED", "severity": "warning"},
        id="service-action-impaired",
    ),
    pytest.param(
        FORWARD,
        service_action_event(
            "SERVICE_TASK_PLACEMENT_FAILURE",
            "ERROR",
            cluster=CLUSTER,
            service=SERVICE,
            reason="RESOURCE:FARGATE",
            capacity_provider="FARGATE_SPOT",
        ),
        "[prod] booking api: ERROR task placement failed",
        [
            "Status:          ERROR SERVICE_TASK_PLACEMENT_FAILURE",
            "Reason:          RESOURCE:FARGATE",
            "Capacity:        FARGATE_SPOT",
        ],
        {"environment": "prod", "status": "SERVICE_TASK_PLACEMENT_FAILURE", "severity": "error"},
        id="service-action-placement-failure",
    ),
]


@pytest.mark.parametrize(("deployments", "event", "subject", "body_lines", "attributes"), CASES)
def test_event_becomes_one_readable_email(
    aws: Aws,
    deployments: list[dict[str, Any]],
    event: dict[str, Any],
    subject: str,
    body_lines: list[str],
    attributes: dict[str, str],
) -> None:
    set_ecs_state(deployments)
    result = notifier.handler(event, None)
    assert result["published"] is True
    [message] = aws.received()
    assert message["Subject"] == subject
    assert len(subject) < 100 and subject.isascii()
    lines = message["Message"].splitlines()
    assert lines[0] == subject
    if event["detail-type"] == "ECS Deployment State Change":
        assert lines[2:4] == RECORD_UNAVAILABLE
    else:  # service actions are not deployments: no record is looked up, none is missing
        assert "ECS's record" not in message["Message"]
    for line in body_lines:
        assert line in lines, f"{line!r} not in:\n{message['Message']}"
    assert attrs(message) == attributes
    assert "Some details are missing" not in message["Message"]


def test_deployment_email_links_to_the_service_and_its_deployments(aws: Aws) -> None:
    set_ecs_state(FORWARD)
    notifier.handler(
        deployment_event(
            "SERVICE_DEPLOYMENT_IN_PROGRESS", cluster=CLUSTER, service=SERVICE, deployment_id="ecs-svc/2"
        ),
        None,
    )
    [message] = aws.received()
    lines = message["Message"].splitlines()
    assert f"Service console: {CONSOLE}/health?region={REGION}" in lines
    assert f"Deployments:     {CONSOLE}/deployments?region={REGION}" in lines


def test_failed_without_rollback_says_so(aws: Aws) -> None:
    set_ecs_state(
        [deployment("ecs-svc/2", "PRIMARY", 2, "FAILED", "2020-05-23T11:05:00", running=0)], rollback=False
    )
    notifier.handler(
        deployment_event(
            "SERVICE_DEPLOYMENT_FAILED", cluster=CLUSTER, service=SERVICE, deployment_id="ecs-svc/2"
        ),
        None,
    )
    [message] = aws.received()
    assert message["Subject"] == "[prod] booking api: deployment FAILED (not rolled back)"
    assert "Status:          FAILED, no automatic rollback" in message["Message"].splitlines()


def test_enrichment_failure_still_sends_what_the_event_carries(
    aws: Aws, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # A service ECS does not know (e.g. just deleted): DescribeServices answers with a MISSING failure.
    monkeypatch.setenv("SERVICE_ARN", service_arn(CLUSTER, "gone"))
    event = deployment_event(
        "SERVICE_DEPLOYMENT_FAILED", cluster=CLUSTER, service="gone", deployment_id="ecs-svc/9"
    )
    notifier.handler(event, None)
    [message] = aws.received()
    assert message["Subject"] == "[prod] booking gone: deployment FAILED"
    lines = message["Message"].splitlines()
    assert "Reason:          ECS deployment circuit breaker: task failed to start." in lines
    assert "Deployment:      ecs-svc/9" in lines
    assert (
        "Some details are missing: DescribeServices failed: DescribeServices found no service (MISSING)"
        in lines
    )
    assert attrs(message) == {"environment": "prod", "status": "FAILED", "severity": "error"}
    assert any(
        r.getMessage() == "enrichment failed" and getattr(r, "step", None) == "DescribeServices"
        for r in caplog.records
    )


def test_missing_task_definition_still_sends_the_rest(aws: Aws, caplog: pytest.LogCaptureFixture) -> None:
    # DescribeServices works, but the new revision cannot be described (here: it does not exist).
    set_ecs_state(
        [
            deployment("ecs-svc/9", "PRIMARY", 9, "IN_PROGRESS", "2020-05-23T11:05:00", running=0),
            deployment("ecs-svc/1", "ACTIVE", 1, "COMPLETED", "2020-05-20T09:00:00"),
        ]
    )
    notifier.handler(
        deployment_event(
            "SERVICE_DEPLOYMENT_IN_PROGRESS", cluster=CLUSTER, service=SERVICE, deployment_id="ecs-svc/9"
        ),
        None,
    )
    [message] = aws.received()
    lines = message["Message"].splitlines()
    assert message["Subject"] == "[prod] booking api: deployment IN_PROGRESS"
    assert "Revision:        booking-api:1 -> booking-api:9" in lines
    assert f"Previous image:  api: {OLD_IMAGE}" in lines
    assert not any(line.startswith("Image:") for line in lines)
    assert lines[-1].startswith("Some details are missing: DescribeTaskDefinition booking-api:9 failed: ")
    assert any(getattr(r, "step", None) == "DescribeTaskDefinition" for r in caplog.records)


@pytest.mark.parametrize(
    ("event", "why"),
    [
        pytest.param(
            deployment_event("SERVICE_DEPLOYMENT_FAILED", cluster="booking-dev", service=SERVICE),
            f"event is for {service_arn('booking-dev', SERVICE)}",
            id="another-cluster",
        ),
        pytest.param(
            task_state_change_event(cluster=CLUSTER), "detail-type 'ECS Task State Change'", id="unknown"
        ),
        pytest.param(
            service_action_event("SERVICE_STEADY_STATE", "INFO", cluster=CLUSTER, service=SERVICE),
            "only WARN and ERROR are reported",
            id="info-service-action",
        ),
        pytest.param(
            {
                **deployment_event("SERVICE_DEPLOYMENT_FAILED", cluster=CLUSTER, service=SERVICE),
                "detail": "oops",
            },
            "detail is missing or not an object",
            id="malformed-detail",
        ),
        pytest.param(
            {
                **deployment_event("SERVICE_DEPLOYMENT_FAILED", cluster=CLUSTER, service=SERVICE),
                "resources": [],
            },
            "resources holds no ECS service ARN",
            id="malformed-resources",
        ),
        pytest.param(
            deployment_event("SERVICE_DEPLOYMENT_PAUSED", cluster=CLUSTER, service=SERVICE),
            "not a documented deployment state",
            id="unknown-event-name",
        ),
        pytest.param(["not", "an", "event"], "event is a list", id="not-an-object"),
        pytest.param({"source": "aws.s3"}, "source 'aws.s3' is not aws.ecs", id="other-source"),
    ],
)
def test_unknown_or_malformed_events_are_logged_and_skipped(
    aws: Aws, event: object, why: str, caplog: pytest.LogCaptureFixture
) -> None:
    set_ecs_state(FORWARD)
    result = notifier.handler(event, None)
    assert result["published"] is False
    assert why in result["skipped"]
    assert aws.received() == []
    assert any(r.getMessage() == "event skipped" and why in getattr(r, "why", "") for r in caplog.records)


def test_sns_failure_raises_so_lambda_retries_and_the_dlq_keeps_the_event(aws: Aws) -> None:
    set_ecs_state(FORWARD)
    aws.sns.delete_topic(TopicArn=aws.topic_arn)
    event = deployment_event(
        "SERVICE_DEPLOYMENT_IN_PROGRESS", cluster=CLUSTER, service=SERVICE, deployment_id="ecs-svc/2"
    )
    with pytest.raises(aws.sns.exceptions.NotFoundException):
        notifier.handler(event, None)


# --- pure functions -------------------------------------------------------------------------------


def test_subject_is_ascii_single_line_and_under_100_characters() -> None:
    subject = notifier.ascii_subject("[prod] bööking\napi:\x07 " + "x" * 200)
    assert subject.isascii() and "\n" not in subject and len(subject) == 99
    assert subject.startswith("[prod] b??king api:? xxx") and subject.endswith("...")


@pytest.mark.parametrize(("seconds", "text"), [(5, "5s"), (461, "7m 41s"), (3725, "1h 02m 05s"), (-3, "0s")])
def test_durations_read_like_a_human_wrote_them(seconds: float, text: str) -> None:
    assert notifier.format_duration(seconds) == text


def test_old_format_service_arn_takes_the_cluster_from_configuration() -> None:
    event = deployment_event("SERVICE_DEPLOYMENT_COMPLETED", cluster=CLUSTER, service=SERVICE)
    event["resources"] = [f"arn:aws:ecs:{REGION}:{ACCOUNT}:service/{SERVICE}"]
    parsed = notifier.parse_event(event, expected_service_arn=None, fallback_cluster=CLUSTER)
    assert (parsed.cluster, parsed.service) == (CLUSTER, SERVICE)


def test_fallback_email_in_full_says_the_record_is_unavailable(aws: Aws) -> None:
    set_ecs_state(ROLLING_BACK)
    event = deployment_event(
        "SERVICE_DEPLOYMENT_FAILED", cluster=CLUSTER, service=SERVICE, deployment_id="ecs-svc/2"
    )
    notifier.handler(event, None)
    [message] = aws.received()
    assert message["Message"] == "\n".join(
        [
            "[prod] booking api: deployment FAILED (rolled back)",
            "",
            *RECORD_UNAVAILABLE,
            "",
            "Environment:     prod",
            "Service:         api",
            "Cluster:         booking-prod",
            "Status:          FAILED, rolling back to booking-api:1",
            "Reason:          ECS deployment circuit breaker: task failed to start.",
            "Deployment:      ecs-svc/2",
            "Revision:        booking-api:2 -> booking-api:1",
            f"Failed image:    api: {NEW_IMAGE}",
            f"Restored image:  api: {OLD_IMAGE}",
            "Tasks:           0 running of 2 desired (2 pending, 3 failed)",
            "Started:         2020-05-23 11:05:00 UTC",
            "Time:            2020-05-23 11:11:11 UTC",
            "Duration:        6m 11s",
            f"Service console: {CONSOLE}/health?region={REGION}",
            f"Deployments:     {CONSOLE}/deployments?region={REGION}",
            f"Region:          {REGION}",
            f"Account:         {ACCOUNT}",
            "Event id:        ddca6449-b258-46c0-8653-e0e3a6EXAMPLE",
            "",
        ]
    )
