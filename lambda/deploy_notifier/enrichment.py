"""What DescribeServices and DescribeTaskDefinition say about a service: plain data (no AWS calls).

The fallback when ECS's service deployment record cannot be read (handler.py): deployments with their
rollout state, and each task definition's images. Shipped in the Lambda's zip beside handler.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from events import _cluster_from_arn, _timestamp


@dataclass(frozen=True)
class Deployment:
    id: str
    status: str  # PRIMARY | ACTIVE | INACTIVE
    task_definition: str
    rollout_state: str | None = None
    desired: int | None = None
    running: int | None = None
    pending: int | None = None
    failed: int | None = None
    created_at: datetime | None = None


@dataclass(frozen=True)
class Enrichment:
    cluster: str | None = None
    service: str | None = None
    circuit_breaker_rollback: bool | None = None
    deployments: tuple[Deployment, ...] = ()
    images: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # task definition ARN -> images
    problems: tuple[str, ...] = ()  # why some details are missing


def enrichment_from_service(service: Mapping[str, Any]) -> Enrichment:
    """The parts of a DescribeServices `services[0]` the e-mail needs."""
    deployments = tuple(
        Deployment(
            id=str(d.get("id", "")),
            status=str(d.get("status", "")),
            task_definition=str(d.get("taskDefinition", "")),
            rollout_state=d.get("rolloutState"),
            desired=d.get("desiredCount"),
            running=d.get("runningCount"),
            pending=d.get("pendingCount"),
            failed=d.get("failedTasks"),
            created_at=_timestamp(d.get("createdAt")),
        )
        for d in service.get("deployments", [])
        if isinstance(d, Mapping)
    )
    breaker = (service.get("deploymentConfiguration") or {}).get("deploymentCircuitBreaker")
    return Enrichment(
        cluster=_cluster_from_arn(service.get("clusterArn")),
        service=service.get("serviceName"),
        circuit_breaker_rollback=bool(breaker.get("enable") and breaker.get("rollback"))
        if isinstance(breaker, Mapping)
        else None,
        deployments=deployments,
    )


def container_images(task_definition: Mapping[str, Any]) -> tuple[str, ...]:
    """`name: image` per container of a DescribeTaskDefinition `taskDefinition`."""
    return tuple(
        f"{c.get('name', '?')}: {c.get('image', '?')}"
        for c in task_definition.get("containerDefinitions", [])
        if isinstance(c, Mapping)
    )
