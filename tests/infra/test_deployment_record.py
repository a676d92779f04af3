"""The one decision the e-mail and `pulumi up` share: ECS's service deployment record -> what happened."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

from components.deployment_record import Image, judge, revision_arns
from tests.ecs_service_deployments import (
    BREAKER_REASON,
    DIGEST_42,
    RECORDS,
    REPO,
    REVISIONS,
    deployment_arn,
    revision_arn,
)

DESCRIBED = {r["serviceRevisionArn"]: r for r in REVISIONS["serviceRevisions"]}
WHY = f" (reason: {BREAKER_REASON})"


@pytest.mark.parametrize(
    ("status", "headline", "severity", "done", "failed"),
    [
        (
            "PENDING",
            "deployment of revision 42 (image ...@sha256:b2b2b2b2b2b2) pending",
            "info",
            False,
            False,
        ),
        ("IN_PROGRESS", "deploying revision 42 (image ...@sha256:b2b2b2b2b2b2)", "info", False, False),
        ("SUCCESSFUL", "deployed revision 42 (image ...@sha256:b2b2b2b2b2b2)", "info", True, False),
        (
            "ROLLBACK_IN_PROGRESS",
            f"revision 42 FAILED, rolling back to revision 41{WHY}",
            "error",
            True,
            True,
        ),
        (
            "ROLLBACK_SUCCESSFUL",
            f"revision 42 FAILED and rolled back to revision 41{WHY}",
            "error",
            True,
            True,
        ),
        ("ROLLBACK_FAILED", f"rollback FAILED: service is unstable{WHY}", "error", True, True),
        ("STOPPED", f"deployment of revision 42 STOPPED, not rolled back{WHY}", "error", True, True),
    ],
)
def test_each_status_reads_as_what_happened(
    status: str, headline: str, severity: str, done: bool, failed: bool
) -> None:
    outcome = judge(RECORDS[status], DESCRIBED)
    assert (outcome.status, outcome.headline, outcome.severity) == (status, headline, severity)
    assert (outcome.done, outcome.failed) == (done, failed)
    assert outcome.arn == deployment_arn("Kx7rQ2mP9sLwQn4vB8fYd")


def test_rollback_names_both_revisions_images_and_durations() -> None:
    outcome = judge(RECORDS["ROLLBACK_SUCCESSFUL"], DESCRIBED)
    assert outcome.target is not None and outcome.rollback_to is not None
    assert (outcome.target.number, outcome.rollback_to.number) == (42, 41)
    assert outcome.target.images[0].pinned == f"{REPO}@{DIGEST_42}"
    assert outcome.reason == BREAKER_REASON
    assert outcome.duration_seconds == 9 * 60 + 30


def test_undescribed_revisions_are_named_by_their_service_revision_id() -> None:
    outcome = judge(RECORDS["ROLLBACK_SUCCESSFUL"], {})
    assert outcome.headline == (
        "service revision 4980306466373577095 FAILED and rolled back to service revision "
        f"1485800978477494678{WHY}"
    )


def test_an_unknown_status_is_reported_as_is_and_keeps_up_waiting() -> None:
    outcome = judge({**RECORDS["IN_PROGRESS"], "status": "PAUSED"}, DESCRIBED)
    assert (outcome.headline, outcome.done, outcome.failed) == (
        "deployment of revision 42 is PAUSED",
        False,
        False,
    )


def test_revision_arns_lists_each_revision_once() -> None:
    assert revision_arns(RECORDS["ROLLBACK_SUCCESSFUL"]) == (revision_arn(42), revision_arn(41))


@pytest.mark.parametrize(
    ("image", "pinned"),
    [
        (f"{REPO}:release-42", f"{REPO}@{DIGEST_42}"),
        (f"{REPO}@{DIGEST_42}", f"{REPO}@{DIGEST_42}"),
        ("localhost:5000/booking", f"localhost:5000/booking@{DIGEST_42}"),  # a port is not a tag
    ],
)
def test_images_are_shown_by_the_digest_ecs_resolved(image: str, pinned: str) -> None:
    assert Image("api", image, DIGEST_42).pinned == pinned


def test_the_shared_module_imports_only_the_standard_library() -> None:
    # It is shipped inside the Lambda zip, where only the standard library (and boto3) exist.
    path = Path(__file__).resolve().parents[2] / "components" / "deployment_record.py"
    imported = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
    assert imported <= set(sys.stdlib_module_names) | {"__future__"}
