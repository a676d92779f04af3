"""DeploymentCheck: make `pulumi up` fail when ECS rolls a deployment back.

pulumi-aws (terraform-provider-aws) implements `wait_for_steady_state` with the `services-stable`
waiter: after the deployment circuit breaker rolls a bad deployment back, the service is stable again on
the *previous* task definition, and the update reports success (hashicorp/terraform-provider-aws#19519
and #20858, both open; pulumi/pulumi-awsx#1848 for awsx). Only `sigint_rollback` looks at deployments,
and only for a user's Ctrl-C.

So after every change of the service's task definition this dynamic resource reads ECS's own record of
the deployment that rolled out our task definition (ListServiceDeployments, DescribeServiceRevisions to
find the one whose target revision runs it, DescribeServiceDeployments) and decides with
`components.deployment_record.judge`, the same function the deploy notifier's e-mail is written from:
SUCCESSFUL passes; ROLLBACK_* and STOPPED fail `up` with ECS's reason. If that record cannot be read
(denied, or no service deployment lists our revision, e.g. revisions older than 2024-10-25), it falls back
to `judge_deployment` over DescribeServices, and the verdict says so.

The deploy role may call these APIs: components/deploy_policies.py grants `ecs:Describe*` and `ecs:List*`.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ResourceProvider, UpdateResult

from components.deployment_record import Outcome, judge, parse_time, revision_arns
from components.time_budget import DEPLOYMENT_CHECK_MINUTES

POLL_SECONDS = 15
TIMEOUT_SECONDS = DEPLOYMENT_CHECK_MINUTES * 60  # part of the delivery time budget
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MAX_PAGES = 5  # ListServiceDeployments pages (20 each): our deployment is among the newest


@dataclass(frozen=True)
class Verdict:
    done: bool
    """False while the deployment is still rolling out: ask again later."""
    failed: bool
    message: str


def judge_deployment(describe_services: dict[str, Any], expected_task_definition: str) -> Verdict:
    """Fallback: did the service end up running `expected_task_definition`? Inferred from DescribeServices.

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


def verdict_from_record(outcome: Outcome, service: str) -> Verdict:
    """`up`'s verdict from the shared decision over ECS's record."""
    message = f"service {service}: {outcome.headline} [{outcome.status}, {outcome.arn}]"
    return Verdict(outcome.done, outcome.failed, message)


def find_deployment_of(
    client: Any, cluster: str, service: str, task_definition: str
) -> tuple[Mapping[str, Any], dict[str, Mapping[str, Any]]] | None:
    """The newest service deployment whose target revision runs `task_definition`, with its revisions.

    ListServiceDeployments returns briefs (ARN, times, status, target revision ARN) but not the task
    definition; DescribeServiceRevisions (max 20 ARNs a call) maps target revisions to task definitions."""
    briefs: list[Mapping[str, Any]] = []
    token: str | None = None
    for _ in range(MAX_PAGES):
        kwargs = {"cluster": cluster, "service": service, **({"nextToken": token} if token else {})}
        page = client.list_service_deployments(**kwargs)
        briefs += page.get("serviceDeployments", [])
        token = page.get("nextToken")
        if not token:
            break
    # Newest first: a redeploy of the same task definition (e.g. a retry) is judged, not an older one.
    briefs.sort(key=lambda b: parse_time(b.get("createdAt")) or EPOCH, reverse=True)
    targets = list(
        dict.fromkeys(str(b["targetServiceRevisionArn"]) for b in briefs if b.get("targetServiceRevisionArn"))
    )
    runs: dict[str, str] = {}
    for start in range(0, len(targets), 20):
        described = client.describe_service_revisions(serviceRevisionArns=targets[start : start + 20])
        runs |= {
            r["serviceRevisionArn"]: r.get("taskDefinition", "")
            for r in described.get("serviceRevisions", [])
        }
    ours = next(
        (b for b in briefs if runs.get(str(b.get("targetServiceRevisionArn"))) == task_definition), None
    )
    if ours is None:
        return None
    deployments = client.describe_service_deployments(serviceDeploymentArns=[ours["serviceDeploymentArn"]])
    if not deployments.get("serviceDeployments"):
        return None
    deployment: Mapping[str, Any] = deployments["serviceDeployments"][0]
    revisions = client.describe_service_revisions(serviceRevisionArns=list(revision_arns(deployment)))
    return deployment, {r["serviceRevisionArn"]: r for r in revisions.get("serviceRevisions", [])}


def check_once(client: Any, cluster: str, service: str, task_definition: str) -> Verdict:
    """One look: ECS's deployment record if readable, else DescribeServices (and the verdict says so)."""
    try:
        found = find_deployment_of(client, cluster, service, task_definition)
        why = f"no service deployment of {service} targets {task_definition}"
    except Exception as err:  # AccessDenied, UnsupportedFeature, throttling: the fallback still decides
        found, why = None, f"reading the deployment record failed: {err}"
    if found is not None:
        return verdict_from_record(judge(*found), service)
    fallback = judge_deployment(
        client.describe_services(cluster=cluster, services=[service]), task_definition
    )
    return Verdict(fallback.done, fallback.failed, f"{fallback.message} (from DescribeServices; {why})")


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
        verdict = check_once(client, cluster, service, task_definition)
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
