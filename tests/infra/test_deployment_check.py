"""How the rollback check decides, on DescribeServices responses shaped like AWS's.

The shapes follow the DescribeServices reference (deployments with status PRIMARY/ACTIVE, rolloutState
COMPLETED/IN_PROGRESS/FAILED and the circuit breaker's rolloutStateReason texts). moto is not used:
its update_service leaves the deployment on the old task definition, which would test moto, not us.
"""

from __future__ import annotations

from typing import Any

from components.deployment_check import judge_deployment, wait_for_deployment

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
