"""How the rollback check decides `pulumi up`: from ECS's service deployment record (botocore Stubber,
responses shaped like the API reference's examples, validated against the installed service model), and,
when that record cannot be read, from DescribeServices responses shaped like AWS's.

moto is not used: it implements none of ListServiceDeployments / DescribeServiceDeployments /
DescribeServiceRevisions (moto/ecs has no handler for them), and its update_service leaves the
deployment on the old task definition, which would test moto, not us.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import botocore.session
import pytest
from botocore.stub import Stubber

from components.deployment_check import check_once, judge_deployment, wait_for_deployment
from tests import ecs_service_deployments as record

TD = "arn:aws:ecs:us-east-1:123456789012:task-definition/booking-dev-api:{}"
SERVICE = "arn:aws:ecs:us-east-1:123456789012:service/booking-dev/api"


def deployment(status: str, revision: int, rollout: str, reason: str, deployment_id: str) -> dict[str, Any]:
    return {
        "id": deployment_id,
        "status": status,
        "taskDefinition": TD.format(revision),
        "desiredCount": 1,
        "pendingCount": 0,
        "runningCount": 1 if rollout == "COMPLETED" else 0,
        "failedTasks": 0 if rollout != "FAILED" else 3,
        "createdAt": "2026-11-22T21:00:00+00:00",
        "updatedAt": "2026-11-22T21:10:00+00:00",
        "capacityProviderStrategy": [{"capacityProvider": "FARGATE_SPOT", "weight": 1, "base": 0}],
        "platformVersion": "1.4.0",
        "rolloutState": rollout,
        "rolloutStateReason": reason,
    }


def describe(*deployments: dict[str, Any]) -> dict[str, Any]:
    primary = next(d for d in deployments if d["status"] == "PRIMARY")
    return {
        "services": [
            {
                "serviceArn": SERVICE,
                "serviceName": "api",
                "clusterArn": "arn:aws:ecs:us-east-1:123456789012:cluster/booking-dev",
                "status": "ACTIVE",
                "desiredCount": 1,
                "runningCount": 1,
                "taskDefinition": primary["taskDefinition"],
                "deploymentConfiguration": {
                    "deploymentCircuitBreaker": {"enable": True, "rollback": True},
                    "maximumPercent": 200,
                    "minimumHealthyPercent": 100,
                },
                "deployments": list(deployments),
            }
        ],
        "failures": [],
    }


COMPLETED = describe(
    deployment("PRIMARY", 7, "COMPLETED", "ECS deployment ecs-svc/111 completed.", "ecs-svc/111")
)

# While the circuit breaker rolls back: our deployment FAILED, a new PRIMARY for the previous revision.
ROLLING_BACK = describe(
    deployment(
        "PRIMARY",
        6,
        "IN_PROGRESS",
        "ECS deployment circuit breaker: rolling back to deploymentId ecs-svc/100.",
        "ecs-svc/112",
    ),
    deployment(
        "ACTIVE", 7, "FAILED", "ECS deployment circuit breaker: tasks failed to start.", "ecs-svc/111"
    ),
)

# Once stable again (what wait_for_steady_state returns on): only the previous revision is left.
ROLLED_BACK = describe(
    deployment("PRIMARY", 6, "COMPLETED", "ECS deployment ecs-svc/112 completed.", "ecs-svc/112")
)

# The very first deployment fails: nothing to roll back to.
FIRST_FAILED = describe(
    deployment("PRIMARY", 1, "FAILED", "ECS deployment circuit breaker: tasks failed to start.", "ecs-svc/1")
)


def test_completed_deployment_of_our_revision_passes() -> None:
    verdict = judge_deployment(COMPLETED, TD.format(7))
    assert (verdict.done, verdict.failed) == (True, False)


def test_rollback_in_progress_fails_with_ecs_reason() -> None:
    verdict = judge_deployment(ROLLING_BACK, TD.format(7))
    assert (verdict.done, verdict.failed) == (True, True)
    assert verdict.message == (
        f"ECS rolled back the deployment of {TD.format(7)} on service api: it now runs {TD.format(6)}. "
        "ECS deployment circuit breaker: tasks failed to start."
    )


def test_stable_after_rollback_still_fails() -> None:
    # This is the case the provider reports as success (terraform-provider-aws#19519).
    verdict = judge_deployment(ROLLED_BACK, TD.format(7))
    assert (verdict.done, verdict.failed) == (True, True)
    assert f"it now runs {TD.format(6)}" in verdict.message


def test_failed_first_deployment_fails() -> None:
    verdict = judge_deployment(FIRST_FAILED, TD.format(1))
    assert (verdict.done, verdict.failed) == (True, True)
    assert verdict.message.endswith("failed: ECS deployment circuit breaker: tasks failed to start.")


def test_in_progress_is_not_done() -> None:
    verdict = judge_deployment(
        describe(
            deployment("PRIMARY", 7, "IN_PROGRESS", "ECS deployment ecs-svc/111 in progress.", "ecs-svc/111")
        ),
        TD.format(7),
    )
    assert (verdict.done, verdict.failed) == (False, False)


def test_missing_service_fails() -> None:
    verdict = judge_deployment(
        {"services": [], "failures": [{"arn": SERVICE, "reason": "MISSING"}]}, TD.format(7)
    )
    assert (verdict.done, verdict.failed, verdict.message) == (True, True, "ECS service not found: MISSING")


class FakeEcs:
    def __init__(self, responses: list[dict[str, Any]]) -> None:
        self.responses = responses
        self.calls: list[dict[str, Any]] = []

    def describe_services(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(kwargs)
        return self.responses.pop(0)


def test_wait_polls_until_the_rollout_ends() -> None:
    in_progress = describe(deployment("PRIMARY", 7, "IN_PROGRESS", "", "ecs-svc/111"))
    client = FakeEcs([in_progress, in_progress, COMPLETED])
    verdict = wait_for_deployment(client, "booking-dev", "api", TD.format(7), poll=0)
    assert not verdict.failed
    assert client.calls == [{"cluster": "booking-dev", "services": ["api"]}] * 3


def test_wait_times_out_as_a_failure() -> None:
    in_progress = describe(deployment("PRIMARY", 7, "IN_PROGRESS", "", "ecs-svc/111"))
    verdict = wait_for_deployment(FakeEcs([in_progress] * 5), "c", "api", TD.format(7), timeout=0, poll=0)
    assert verdict.failed and verdict.message.startswith("timed out waiting for ECS")


# --- from ECS's service deployment record ---------------------------------------------------------

OURS = f"{record.TD}:42"
OLDER = record.brief("Pq3sT5uV7wX9yZ1aB3cD5", "SUCCESSFUL", 41, "2026-11-20T09:00:00")


@pytest.fixture
def ecs() -> Iterator[tuple[Any, Stubber]]:
    client = botocore.session.get_session().create_client(
        "ecs", region_name=record.REGION, aws_access_key_id="testing", aws_secret_access_key="testing"
    )
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def expect_record(stubber: Stubber, status: str) -> None:
    """The calls check_once makes when ECS lists our deployment, answering with its record at `status`."""
    ours = record.brief("Kx7rQ2mP9sLwQn4vB8fYd", status, 42, "2026-11-30T06:00:00")
    stubber.add_response(
        "list_service_deployments",
        {"serviceDeployments": [OLDER, ours]},
        {"cluster": record.CLUSTER, "service": record.SERVICE},
    )
    stubber.add_response(
        "describe_service_revisions",
        record.REVISIONS,
        {"serviceRevisionArns": [record.revision_arn(42), record.revision_arn(41)]},
    )
    stubber.add_response(
        "describe_service_deployments",
        {"serviceDeployments": [record.RECORDS[status]], "failures": []},
        {"serviceDeploymentArns": [ours["serviceDeploymentArn"]]},
    )
    stubber.add_response("describe_service_revisions", record.REVISIONS)


ARN = record.deployment_arn("Kx7rQ2mP9sLwQn4vB8fYd")
WHY = f"(reason: {record.BREAKER_REASON})"


@pytest.mark.parametrize(
    ("status", "done", "failed", "message"),
    [
        ("SUCCESSFUL", True, False, "deployed revision 42 (image ...@sha256:b2b2b2b2b2b2)"),
        ("IN_PROGRESS", False, False, "deploying revision 42 (image ...@sha256:b2b2b2b2b2b2)"),
        ("ROLLBACK_IN_PROGRESS", True, True, f"revision 42 FAILED, rolling back to revision 41 {WHY}"),
        ("ROLLBACK_SUCCESSFUL", True, True, f"revision 42 FAILED and rolled back to revision 41 {WHY}"),
        ("ROLLBACK_FAILED", True, True, f"rollback FAILED: service is unstable {WHY}"),
        ("STOPPED", True, True, f"deployment of revision 42 STOPPED, not rolled back {WHY}"),
    ],
)
def test_up_verdict_comes_from_the_record(
    ecs: tuple[Any, Stubber], status: str, done: bool, failed: bool, message: str
) -> None:
    client, stubber = ecs
    expect_record(stubber, status)
    verdict = check_once(client, record.CLUSTER, record.SERVICE, OURS)
    assert (verdict.done, verdict.failed) == (done, failed)
    assert verdict.message == f"service {record.SERVICE}: {message} [{status}, {ARN}]"


def test_up_waits_on_the_record_until_ecs_decides(ecs: tuple[Any, Stubber]) -> None:
    client, stubber = ecs
    for status in ("PENDING", "IN_PROGRESS", "ROLLBACK_SUCCESSFUL"):
        expect_record(stubber, status)
    verdict = wait_for_deployment(client, record.CLUSTER, record.SERVICE, OURS, poll=0)
    assert verdict.failed and "FAILED and rolled back to revision 41" in verdict.message


def test_denied_record_falls_back_to_describe_services_and_says_so(ecs: tuple[Any, Stubber]) -> None:
    client, stubber = ecs
    stubber.add_client_error(
        "list_service_deployments", service_error_code="AccessDeniedException", http_status_code=400
    )
    stubber.add_response(
        "describe_services", ROLLED_BACK, {"cluster": record.CLUSTER, "services": [record.SERVICE]}
    )
    verdict = check_once(client, record.CLUSTER, record.SERVICE, TD.format(7))
    assert (verdict.done, verdict.failed) == (True, True)
    assert verdict.message.startswith(f"ECS rolled back the deployment of {TD.format(7)}")
    assert (
        "(from DescribeServices; reading the deployment record failed: An error occurred (AccessDenied"
        in (verdict.message)
    )


def test_no_deployment_of_our_revision_falls_back_to_describe_services(ecs: tuple[Any, Stubber]) -> None:
    client, stubber = ecs
    stubber.add_response("list_service_deployments", {"serviceDeployments": [OLDER]})
    stubber.add_response("describe_service_revisions", {"serviceRevisions": [record.service_revision(41)]})
    stubber.add_response("describe_services", COMPLETED)
    verdict = check_once(client, record.CLUSTER, record.SERVICE, TD.format(7))
    assert (verdict.done, verdict.failed) == (True, False)
    assert verdict.message.endswith(
        f"(from DescribeServices; no service deployment of api targets {TD.format(7)})"
    )
