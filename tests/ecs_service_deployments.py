"""ECS service deployment API responses shaped like the ECS API reference's examples.

- ListServiceDeployments: `serviceDeployments[]` of ServiceDeploymentBrief {serviceDeploymentArn,
  serviceArn, clusterArn, startedAt, createdAt, finishedAt, targetServiceRevisionArn, status,
  statusReason} (API reference example; times as in the AWS CLI example "To list service deployments").
- DescribeServiceDeployments: `serviceDeployments[]` of ServiceDeployment {serviceDeploymentArn,
  serviceArn, clusterArn, createdAt, startedAt, finishedAt, stoppedAt, updatedAt,
  sourceServiceRevisions[], targetServiceRevision {arn, requestedTaskCount, runningTaskCount,
  pendingTaskCount}, status, statusReason, deploymentConfiguration, rollback {reason, startedAt,
  serviceRevisionArn}, deploymentCircuitBreaker {status, failureCount, threshold}}, `failures[]`.
- DescribeServiceRevisions: `serviceRevisions[]` of ServiceRevision {serviceRevisionArn, serviceArn,
  clusterArn, taskDefinition, launchType, platformVersion, platformFamily, networkConfiguration,
  containerImages [{containerName, imageDigest, image}], createdAt}, `failures[]`.

Only ids, names, times, counts and texts are parameters. botocore's Stubber validates every response
against the installed service model, so a misspelt or misplaced field fails the test that uses it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tests.ecs_sample_events import ACCOUNT, REGION

CLUSTER = "booking-prod"
SERVICE = "api"
SERVICE_ARN = f"arn:aws:ecs:{REGION}:{ACCOUNT}:service/{CLUSTER}/{SERVICE}"
CLUSTER_ARN = f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/{CLUSTER}"
TD = f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/booking-api"
REPO = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/booking"
DIGEST_41 = "sha256:" + "a1" * 32
DIGEST_42 = "sha256:" + "b2" * 32
# Service revision ids are long decimal numbers in AWS's examples (…/4980306466373577095).
REVISION_IDS = {41: "1485800978477494678", 42: "4980306466373577095"}
BREAKER_REASON = "ECS deployment circuit breaker: tasks failed to start."


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def deployment_arn(deployment_id: str) -> str:
    return f"arn:aws:ecs:{REGION}:{ACCOUNT}:service-deployment/{CLUSTER}/{SERVICE}/{deployment_id}"


def revision_arn(task_definition_revision: int) -> str:
    revision_id = REVISION_IDS[task_definition_revision]
    return f"arn:aws:ecs:{REGION}:{ACCOUNT}:service-revision/{CLUSTER}/{SERVICE}/{revision_id}"


def brief(deployment_id: str, status: str, target: int, created: str, **extra: Any) -> dict[str, Any]:
    result = {
        "serviceDeploymentArn": deployment_arn(deployment_id),
        "serviceArn": SERVICE_ARN,
        "clusterArn": CLUSTER_ARN,
        "startedAt": at(created),
        "createdAt": at(created),
        "targetServiceRevisionArn": revision_arn(target),
        "status": status,
    }
    return result | extra


def summary(revision: int, requested: int, running: int, pending: int = 0) -> dict[str, Any]:
    return {
        "arn": revision_arn(revision),
        "requestedTaskCount": requested,
        "runningTaskCount": running,
        "pendingTaskCount": pending,
    }


def service_deployment(
    deployment_id: str,
    status: str,
    *,
    target: dict[str, Any],
    sources: list[dict[str, Any]],
    created: str,
    updated: str,
    finished: str | None = None,
    stopped: str | None = None,
    status_reason: str | None = None,
    rollback: dict[str, Any] | None = None,
    breaker: dict[str, Any] | None = None,
) -> dict[str, Any]:
    result: dict[str, Any] = {
        "serviceDeploymentArn": deployment_arn(deployment_id),
        "serviceArn": SERVICE_ARN,
        "clusterArn": CLUSTER_ARN,
        "createdAt": at(created),
        "updatedAt": at(updated),
        "sourceServiceRevisions": sources,
        "targetServiceRevision": target,
        "status": status,
        "deploymentConfiguration": {
            "deploymentCircuitBreaker": {"enable": True, "rollback": True},
            "maximumPercent": 200,
            "minimumHealthyPercent": 100,
        },
        "deploymentCircuitBreaker": breaker or {"status": "MONITORING", "failureCount": 0, "threshold": 3},
    }
    if status != "PENDING":  # "created, but has not started" (developer guide, service deployment stages)
        result["startedAt"] = at(created)
    if finished:
        result["finishedAt"] = at(finished)
    if stopped:
        result["stoppedAt"] = at(stopped)
    if status_reason:
        result["statusReason"] = status_reason
    if rollback:
        result["rollback"] = rollback
    return result


def service_revision(revision: int) -> dict[str, Any]:
    digest = {41: DIGEST_41, 42: DIGEST_42}[revision]
    return {
        "serviceRevisionArn": revision_arn(revision),
        "serviceArn": SERVICE_ARN,
        "clusterArn": CLUSTER_ARN,
        "taskDefinition": f"{TD}:{revision}",
        "launchType": "FARGATE",
        "platformVersion": "1.4.0",
        "platformFamily": "DockerLinux",
        "networkConfiguration": {
            "awsvpcConfiguration": {
                "subnets": ["subnet-0a4040e73895f04e1"],
                "securityGroups": ["sg-09605d60a6bc1b296"],
                "assignPublicIp": "DISABLED",
            }
        },
        # The task definition names the image by tag; ECS records the digest it resolved and runs.
        "containerImages": [
            {"containerName": "api", "imageDigest": digest, "image": f"{REPO}:release-{revision}"}
        ],
        "createdAt": at("2026-11-30T05:00:00"),
    }


# One rollout of revision 42 over 41 seen at each status, as DescribeServiceDeployments reports it.
FROM_41 = [summary(41, 2, 2)]
RECORDS: dict[str, dict[str, Any]] = {
    "PENDING": service_deployment(
        "Kx7rQ2mP9sLwQn4vB8fYd",
        "PENDING",
        target=summary(42, 0, 0),
        sources=FROM_41,
        created="2026-11-30T06:00:00",
        updated="2026-11-30T06:00:00",
    ),
    "IN_PROGRESS": service_deployment(
        "Kx7rQ2mP9sLwQn4vB8fYd",
        "IN_PROGRESS",
        target=summary(42, 2, 1, 1),
        sources=FROM_41,
        created="2026-11-30T06:00:00",
        updated="2026-11-30T06:02:10",
    ),
    "SUCCESSFUL": service_deployment(
        "Kx7rQ2mP9sLwQn4vB8fYd",
        "SUCCESSFUL",
        target=summary(42, 2, 2),
        sources=[summary(41, 0, 0)],
        created="2026-11-30T06:00:00",
        updated="2026-11-30T06:07:41",
        finished="2026-11-30T06:07:41",
        breaker={"status": "MONITORING_COMPLETE", "failureCount": 0, "threshold": 3},
    ),
    "ROLLBACK_IN_PROGRESS": service_deployment(
        "Kx7rQ2mP9sLwQn4vB8fYd",
        "ROLLBACK_IN_PROGRESS",
        target=summary(42, 0, 0),
        sources=[summary(41, 2, 1, 1)],
        created="2026-11-30T06:00:00",
        updated="2026-11-30T06:06:12",
        status_reason=BREAKER_REASON,
        rollback={
            "reason": BREAKER_REASON,
            "startedAt": at("2026-11-30T06:06:11"),
            "serviceRevisionArn": revision_arn(41),
        },
        breaker={"status": "TRIGGERED", "failureCount": 3, "threshold": 3},
    ),
    "ROLLBACK_SUCCESSFUL": service_deployment(
        "Kx7rQ2mP9sLwQn4vB8fYd",
        "ROLLBACK_SUCCESSFUL",
        target=summary(42, 0, 0),
        sources=[summary(41, 2, 2)],
        created="2026-11-30T06:00:00",
        updated="2026-11-30T06:09:30",
        finished="2026-11-30T06:09:30",
        status_reason=BREAKER_REASON,
        rollback={
            "reason": BREAKER_REASON,
            "startedAt": at("2026-11-30T06:06:11"),
            "serviceRevisionArn": revision_arn(41),
        },
        breaker={"status": "TRIGGERED", "failureCount": 3, "threshold": 3},
    ),
    "ROLLBACK_FAILED": service_deployment(
        "Kx7rQ2mP9sLwQn4vB8fYd",
        "ROLLBACK_FAILED",
        target=summary(42, 0, 0),
        sources=[summary(41, 2, 0, 2)],
        created="2026-11-30T06:00:00",
        updated="2026-11-30T06:31:00",
        finished="2026-11-30T06:31:00",
        status_reason="ECS deployment circuit breaker: rollback failed.",
        rollback={
            "reason": BREAKER_REASON,
            "startedAt": at("2026-11-30T06:06:11"),
            "serviceRevisionArn": revision_arn(41),
        },
        breaker={"status": "TRIGGERED", "failureCount": 3, "threshold": 3},
    ),
    "STOPPED": service_deployment(
        "Kx7rQ2mP9sLwQn4vB8fYd",
        "STOPPED",
        target=summary(42, 2, 0),
        sources=[summary(41, 2, 2)],
        created="2026-11-30T06:00:00",
        updated="2026-11-30T06:06:12",
        stopped="2026-11-30T06:06:12",
        status_reason=BREAKER_REASON,
        breaker={"status": "TRIGGERED", "failureCount": 3, "threshold": 3},
    ),
}
REVISIONS = {"serviceRevisions": [service_revision(42), service_revision(41)], "failures": []}
