"""ECS events shaped exactly like the examples in AWS's ECS developer guide ("Amazon ECS events").

Only the account, region, ARNs, ids and times are parameters; every field name and its nesting is as
AWS documents it, so the notifier and the EventBridge rule are tested against what ECS really sends.
"""

from __future__ import annotations

from typing import Any

ACCOUNT = "123456789012"  # moto's default account, so the events match resources moto creates
REGION = "us-east-1"


def service_arn(cluster: str, service: str, *, region: str = REGION, account: str = ACCOUNT) -> str:
    return f"arn:aws:ecs:{region}:{account}:service/{cluster}/{service}"


def deployment_event(
    event_name: str,
    *,
    cluster: str,
    service: str,
    deployment_id: str = "ecs-svc/123",
    reason: str | None = None,
    event_type: str | None = None,
    updated_at: str = "2020-05-23T11:11:11Z",
    region: str = REGION,
    account: str = ACCOUNT,
) -> dict[str, Any]:
    """Detail-type "ECS Deployment State Change" (SERVICE_DEPLOYMENT_IN_PROGRESS|COMPLETED|FAILED)."""
    default_reason = {
        "SERVICE_DEPLOYMENT_IN_PROGRESS": f"ECS deployment {deployment_id} in progress.",
        "SERVICE_DEPLOYMENT_COMPLETED": f"ECS deployment {deployment_id} completed.",
        "SERVICE_DEPLOYMENT_FAILED": "ECS deployment circuit breaker: task failed to start.",
    }.get(event_name, "")
    return {
        "version": "0",
        "id": "ddca6449-b258-46c0-8653-e0e3a6EXAMPLE",
        "detail-type": "ECS Deployment State Change",
        "source": "aws.ecs",
        "account": account,
        "time": "2020-05-23T12:31:14Z",
        "region": region,
        "resources": [service_arn(cluster, service, region=region, account=account)],
        "detail": {
            "eventType": event_type or ("ERROR" if event_name == "SERVICE_DEPLOYMENT_FAILED" else "INFO"),
            "eventName": event_name,
            "deploymentId": deployment_id,
            "updatedAt": updated_at,
            "reason": reason if reason is not None else default_reason,
        },
    }


def service_action_event(
    event_name: str,
    event_type: str,
    *,
    cluster: str,
    service: str,
    reason: str | None = None,
    capacity_provider: str | None = None,
    created_at: str = "2019-11-19T19:55:38.725Z",
    region: str = REGION,
    account: str = ACCOUNT,
) -> dict[str, Any]:
    """Detail-type "ECS Service Action" (e.g. SERVICE_TASK_START_IMPAIRED, SERVICE_TASK_PLACEMENT_FAILURE)."""
    detail: dict[str, Any] = {
        "eventType": event_type,
        "eventName": event_name,
        "clusterArn": f"arn:aws:ecs:{region}:{account}:cluster/{cluster}",
    }
    if capacity_provider:
        detail["capacityProviderArns"] = [
            f"arn:aws:ecs:{region}:{account}:capacity-provider/{capacity_provider}"
        ]
    if reason:
        detail["reason"] = reason
    detail["createdAt"] = created_at
    return {
        "version": "0",
        "id": "57c9506e-9d21-294c-d2fe-e8738da7e67d",
        "detail-type": "ECS Service Action",
        "source": "aws.ecs",
        "account": account,
        "time": "2019-11-19T19:55:38Z",
        "region": region,
        "resources": [service_arn(cluster, service, region=region, account=account)],
        "detail": detail,
    }


def task_state_change_event(*, cluster: str) -> dict[str, Any]:
    """Detail-type "ECS Task State Change" (abridged to its top-level shape): not a deployment event."""
    task_arn = f"arn:aws:ecs:{REGION}:{ACCOUNT}:task/{cluster}/c13b4cb40f1f4fe4a2971f76ae5a47ad"
    return {
        "version": "0",
        "id": "3317b2af-7005-947d-b652-f55e762e571a",
        "detail-type": "ECS Task State Change",
        "source": "aws.ecs",
        "account": ACCOUNT,
        "time": "2020-01-23T17:57:58Z",
        "region": REGION,
        "resources": [task_arn],
        "detail": {
            "clusterArn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/{cluster}",
            "taskArn": task_arn,
            "lastStatus": "RUNNING",
            "desiredStatus": "RUNNING",
            "group": "service:api",
            "version": 4,
        },
    }
