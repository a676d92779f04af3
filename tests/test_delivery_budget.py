"""One `pulumi up`'s time budget adds up: job timeout ≥ role session ≥ the sum of the waits.

Each number lives in components/time_budget.py; the program, the bootstrap roles and the workflows copy
it, and these tests fail when a copy drifts or the order breaks.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
import yaml

from components import deployment_check, time_budget
from components.time_budget import BUDGET, minutes
from stacks.offline import run_stack
from tests.test_workflows import all_workflows, steps, uses


def test_the_budget_adds_up() -> None:
    assert BUDGET.problems() == []
    assert BUDGET.waits_minutes == 60 + 30 + 30 + 15
    # Issue 11: the longest first `up` (Multi-AZ RDS + rollout) needs sessions of at least two hours.
    assert time_budget.ROLE_SESSION_SECONDS >= 2 * 3600


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        (
            {"role_session_seconds": 3600},
            "the credentials expire mid-update",
        ),  # IAM's and the action's default
        ({"job_timeout_minutes": 60}, "GitHub would kill the job"),  # the workflows' old timeout
        ({"rds_minutes": 120}, "the credentials expire mid-update"),
        ({"job_timeout_minutes": 400}, "360-minute limit"),
        ({"role_session_seconds": 50000, "job_timeout_minutes": 900}, "outside IAM's"),
    ],
)
def test_a_budget_that_does_not_add_up_is_refused(change: dict[str, int], complaint: str) -> None:
    broken = dataclasses.replace(BUDGET, **change)
    assert any(complaint in problem for problem in broken.problems()), broken.problems()


@pytest.fixture(scope="module")
def prod() -> Any:
    run = run_stack("prod")
    assert run.error is None, run.error
    return run


def test_the_program_applies_the_waits(prod: Any) -> None:
    database = prod.one("aws:rds/instance:Instance")
    rds = minutes(time_budget.RDS_INSTANCE_MINUTES)
    assert database.custom_timeouts == {"create": rds, "update": rds}
    service = prod.one("aws:ecs/service:Service")
    assert service.inputs["waitForSteadyState"] is True
    ecs = minutes(time_budget.ECS_SERVICE_MINUTES)
    assert service.custom_timeouts == {"create": ecs, "update": ecs}
    assert deployment_check.TIMEOUT_SECONDS == time_budget.DEPLOYMENT_CHECK_MINUTES * 60


def _logins(job: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for s in steps(job) if uses(s).startswith("aws-actions/configure-aws-credentials@")]


def _runs_pulumi_up(job: dict[str, Any]) -> bool:
    return any(s.get("with", {}).get("command") == "up" for s in steps(job))


def test_every_job_with_aws_credentials_fits_its_session() -> None:
    checked = []
    for name, workflow in all_workflows().items():
        for job_name, job in workflow["jobs"].items():
            for login in _logins(job):
                requested = int(login["with"]["role-duration-seconds"])
                timeout = int(job["timeout-minutes"])
                checked.append(f"{name}:{job_name}")
                # The role allows it (max_session_duration), and the job outlives the credentials.
                assert requested <= time_budget.ROLE_SESSION_SECONDS, f"{name}:{job_name}"
                if _runs_pulumi_up(job):
                    assert requested == time_budget.ROLE_SESSION_SECONDS, f"{name}:{job_name}"
                    assert timeout == time_budget.DEPLOY_JOB_TIMEOUT_MINUTES, f"{name}:{job_name}"
                elif "vars.AWS_PREVIEW_ROLE_ARN" in login["with"]["role-to-assume"]:
                    assert requested == time_budget.PREVIEW_SESSION_SECONDS, f"{name}:{job_name}"
                    assert timeout == time_budget.PREVIEW_JOB_TIMEOUT_MINUTES, f"{name}:{job_name}"
                else:  # the image build: no Pulumi, no lock
                    assert timeout == time_budget.IMAGE_JOB_TIMEOUT_MINUTES, f"{name}:{job_name}"
                    continue
                assert timeout * 60 >= requested + time_budget.SETUP_MINUTES * 60, f"{name}:{job_name}"
    assert sorted(checked) == [
        "deploy.yml:dev",
        "deploy.yml:image",
        "deploy.yml:prod",
        "preview.yml:dev",
        "preview.yml:prod",
    ]


def test_the_pulumi_up_jobs_are_the_deploy_jobs() -> None:
    # The rule above is only as good as its reach: every `pulumi up` runs in a job it checked.
    ups = [
        f"{name}:{job_name}"
        for name, workflow in all_workflows().items()
        for job_name, job in workflow["jobs"].items()
        if _runs_pulumi_up(job)
    ]
    assert ups == ["deploy.yml:dev", "deploy.yml:prod"]


def test_no_run_of_pulumi_is_ever_cancelled_by_a_newer_one() -> None:
    # GitHub cancels a job by signalling it and killing it seconds later: too soon, maybe, for Pulumi to
    # delete its lock. So every workflow that runs Pulumi queues instead of cancelling.
    for name, workflow in all_workflows().items():
        if "pulumi/actions@" not in yaml.safe_dump(workflow):
            continue
        groups = [workflow.get("concurrency")] + [job.get("concurrency") for job in workflow["jobs"].values()]
        assert all(group is None or group["cancel-in-progress"] is False for group in groups), name
