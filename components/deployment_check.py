"""DeploymentCheck: make `pulumi up` fail when ECS rolls a deployment back.

pulumi-aws (terraform-provider-aws) implements `wait_for_steady_state` with the `services-stable`
waiter: after the deployment circuit breaker rolls a bad deployment back, the service is stable again on
the *previous* task definition, and the update reports success (hashicorp/terraform-provider-aws#19519
and #20858, both open; pulumi/pulumi-awsx#1848 for awsx). Only `sigint_rollback` looks at deployments,
and only for a user's Ctrl-C.

So after every change of the service's task definition this dynamic resource asks ECS
(DescribeServices) what it actually runs and fails the update when it is not the revision we declared.
The decision is `judge_deployment`, a plain function over the DescribeServices response.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ResourceProvider, UpdateResult

from components.time_budget import DEPLOYMENT_CHECK_MINUTES

POLL_SECONDS = 15
TIMEOUT_SECONDS = DEPLOYMENT_CHECK_MINUTES * 60  # part of the delivery time budget


@dataclass(frozen=True)
class Verdict:
    done: bool
    """False while the deployment is still rolling out: ask again later."""
    failed: bool
    message: str


def judge_deployment(describe_services: dict[str, Any], expected_task_definition: str) -> Verdict:
    """Did the service end up running `expected_task_definition`? Decided from DescribeServices.

    - the PRIMARY deployment runs another task definition → ECS rolled ours back (circuit breaker or
      CloudWatch alarm): failed, with the reason ECS gave on the failed deployment if still listed;
    - the PRIMARY deployment is ours with rolloutState FAILED → failed (no earlier revision to roll back to);
    - ours, IN_PROGRESS → not done; ours, COMPLETED → success.
    """
    failures = describe_services.get("failures") or []
    services = describe_services.get("services") or []
    if not services:
        reason = failures[0].get("reason", "unknown") if failures else "not found"
        return Verdict(True, True, f"ECS service not found: {reason}")
    service = services[0]
    name = service.get("serviceName", "?")
    deployments = service.get("deployments") or []
    primary = next((d for d in deployments if d.get("status") == "PRIMARY"), None)
    if primary is None:
        return Verdict(False, False, f"service {name} has no PRIMARY deployment yet")
    ours = [d for d in deployments if d.get("taskDefinition") == expected_task_definition]
    reasons = [d.get("rolloutStateReason", "") for d in ours if d.get("rolloutState") == "FAILED"]
    reason = next((r for r in reasons if r), primary.get("rolloutStateReason", ""))

    if primary.get("taskDefinition") != expected_task_definition:
        return Verdict(
            True,
            True,
            f"ECS rolled back the deployment of {expected_task_definition} on service {name}: it now runs "
            f"{primary.get('taskDefinition')}. {reason}".strip(),
        )
    state = primary.get("rolloutState")
    if state == "FAILED":
        return Verdict(
            True,
            True,
            f"ECS deployment of {expected_task_definition} on service {name} failed: {reason}".strip(),
        )
    if state == "COMPLETED":
        return Verdict(True, False, f"service {name} runs {expected_task_definition}")
    return Verdict(False, False, f"service {name} is still rolling out {expected_task_definition} ({state})")


def wait_for_deployment(
    client: Any,
    cluster: str,
    service: str,
    task_definition: str,
    *,
    timeout: float = TIMEOUT_SECONDS,
    poll: float = POLL_SECONDS,
) -> Verdict:
    deadline = time.monotonic() + timeout
    while True:
        verdict = judge_deployment(
            client.describe_services(cluster=cluster, services=[service]), task_definition
        )
        if verdict.done:
            return verdict
        if time.monotonic() >= deadline:
            return Verdict(True, True, f"timed out waiting for ECS: {verdict.message}")
        time.sleep(poll)


class _Provider(ResourceProvider):
    def _check(self, props: dict[str, Any]) -> dict[str, Any]:
        import boto3  # imported here: only `pulumi up` needs it, not the offline runs

        client = boto3.client("ecs", region_name=props["region"])
        verdict = wait_for_deployment(client, props["cluster"], props["service"], props["taskDefinitionArn"])
        if verdict.failed:
            raise RuntimeError(verdict.message)
        return {**props, "verdict": verdict.message}

    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult(id_=f"{props['cluster']}/{props['service']}", outs=self._check(props))

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        keys = ("region", "cluster", "service", "taskDefinitionArn")
        changed = [k for k in keys if olds.get(k) != news.get(k)]
        return DiffResult(changes=bool(changed), replaces=[], delete_before_replace=False)

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(outs=self._check(news))


@dataclass(frozen=True)
class DeploymentCheckArgs:
    region: str
    cluster: pulumi.Input[str]
    service: pulumi.Input[str]
    task_definition_arn: pulumi.Input[str]


class DeploymentCheck(pulumi.dynamic.Resource):
    """Fails the update when ECS is not running `task_definition_arn` once the service is stable."""

    verdict: pulumi.Output[str]

    def __init__(
        self, name: str, args: DeploymentCheckArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(
            _Provider(),
            name,
            {
                "region": args.region,
                "cluster": args.cluster,
                "service": args.service,
                "taskDefinitionArn": args.task_definition_arn,
                "verdict": None,
            },
            opts,
        )
