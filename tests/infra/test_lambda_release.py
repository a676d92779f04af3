"""The release gate's steps (components/lambda_release.py) against botocore's Stubber: the requests are
validated against the real Lambda and EventBridge API models, the answers are shaped as the API returns
them (Invoke: `StatusCode`, `FunctionError`, `ExecutedVersion`, streaming `Payload`)."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.response import StreamingBody
from botocore.stub import ANY, Stubber

from components.lambda_release import (
    EVENT_DETAIL_TYPE,
    EVENT_SOURCE,
    MIGRATE_EVENT,
    Release,
    image_digest,
    previous_version,
    readiness_event,
    release_entry,
    run_gate,
)

FUNCTION = "booking-dev-api"
DIGEST = "sha256:" + "ab" * 32
RELEASE = Release(
    region="us-east-1",
    environment="dev",
    app="booking",
    function_name=FUNCTION,
    alias="live",
    version="7",
    previous_version="6",
    image_digest=DIGEST,
)


def _body(value: Any) -> StreamingBody:
    raw = json.dumps(value).encode()
    return StreamingBody(io.BytesIO(raw), len(raw))


class Stubs:
    def __init__(self) -> None:
        self.lambda_ = boto3.client(
            "lambda", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y"
        )
        self.events = boto3.client(
            "events", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y"
        )
        self.lambda_stub = Stubber(self.lambda_)
        self.events_stub = Stubber(self.events)
        self.sent: list[dict[str, Any]] = []

    def event(self, name: str) -> None:
        self.events_stub.add_response(
            "put_events", {"FailedEntryCount": 0, "Entries": [{"EventId": f"id-{name}"}]}, {"Entries": ANY}
        )

    def active(self, state: str = "Active", reason: str | None = None) -> None:
        answer: dict[str, Any] = {"FunctionName": FUNCTION, "Version": "7", "State": state}
        if reason:
            answer["StateReason"] = reason
        self.lambda_stub.add_response(
            "get_function_configuration", answer, {"FunctionName": FUNCTION, "Qualifier": "7"}
        )

    def invoke(self, event: dict[str, Any], payload: Any, function_error: str | None = None) -> None:
        answer: dict[str, Any] = {"StatusCode": 200, "ExecutedVersion": "7", "Payload": _body(payload)}
        if function_error:
            answer["FunctionError"] = function_error
        expected = {
            "FunctionName": FUNCTION,
            "Qualifier": "7",
            "InvocationType": "RequestResponse",
            "Payload": json.dumps(event).encode(),
        }
        self.lambda_stub.add_response("invoke", answer, expected)

    def run(self) -> Any:
        original = self.events.put_events

        def recording(**kwargs: Any) -> Any:
            self.sent.extend(json.loads(e["Detail"]) for e in kwargs["Entries"])
            return original(**kwargs)

        self.events.put_events = recording  # type: ignore[method-assign]
        with self.lambda_stub, self.events_stub:
            step = run_gate(self.lambda_, self.events, RELEASE, sleep=lambda _s: None)
            self.lambda_stub.assert_no_pending_responses()
            self.events_stub.assert_no_pending_responses()
        return step


@pytest.fixture
def stubs() -> Iterator[Stubs]:
    yield Stubs()


READY = {
    "statusCode": 200,
    "statusDescription": "200 OK",
    "isBase64Encoded": False,
    "headers": {},
    "body": "{}",
}


def test_success_migrates_then_checks_readyz_and_announces_started_only(stubs: Stubs) -> None:
    stubs.event("STARTED")
    stubs.active("Pending")
    stubs.active()
    stubs.invoke(MIGRATE_EVENT, {"booking": "migrate", "status": "ok", "revision": "0007"})
    stubs.invoke(readiness_event("us-east-1"), READY)
    step = stubs.run()
    assert step.ok, step.message
    assert "revision 0007" in step.message
    # COMPLETED belongs to ReleaseCompleted, after the alias moved: the gate only says STARTED.
    assert [e["eventName"] for e in stubs.sent] == ["STARTED"]


def test_function_error_on_migrate_fails_with_its_message_and_sends_failed(stubs: Stubs) -> None:
    stubs.event("STARTED")
    stubs.active()
    error = {
        "errorType": "MigrationFailed",
        "errorMessage": "migration to 0007 failed: lock timeout",
        "stackTrace": [],
    }
    stubs.invoke(MIGRATE_EVENT, error, function_error="Unhandled")
    stubs.event("FAILED")
    step = stubs.run()
    assert not step.ok
    assert "NOT released, alias live stays on 6" in step.message
    assert "MigrationFailed: migration to 0007 failed: lock timeout" in step.message
    failed = stubs.sent[-1]
    assert failed["eventName"] == "FAILED" and "lock timeout" in failed["reason"]


def test_readyz_503_fails_the_release(stubs: Stubs) -> None:
    stubs.event("STARTED")
    stubs.active()
    stubs.invoke(MIGRATE_EVENT, {"booking": "migrate", "status": "ok", "revision": "0007"})
    body = json.dumps({"status": "unavailable", "detail": "database unreachable: OperationalError"})
    stubs.invoke(readiness_event("us-east-1"), {**READY, "statusCode": 503, "body": body})
    stubs.event("FAILED")
    step = stubs.run()
    assert not step.ok and "/readyz of version 7 answered 503" in step.message
    assert "database unreachable" in stubs.sent[-1]["reason"]


def test_version_that_never_becomes_active_is_not_invoked(stubs: Stubs) -> None:
    stubs.event("STARTED")
    stubs.active(
        "Failed",
        reason="The provided execution role does not have permissions to call CreateNetworkInterface on EC2",
    )
    stubs.event("FAILED")
    step = stubs.run()  # no invoke stubbed: Stubber would fail on any Invoke call
    assert not step.ok and "CreateNetworkInterface" in step.message


def test_release_event_contents() -> None:
    entry = release_entry("FAILED", RELEASE, "readyz 503")
    assert entry["Source"] == EVENT_SOURCE == "booking.release"
    assert entry["DetailType"] == EVENT_DETAIL_TYPE == "Lambda Release State Change"
    assert entry["EventBusName"] == "default"
    assert json.loads(entry["Detail"]) == {
        "eventName": "FAILED",
        "environment": "dev",
        "app": "booking",
        "functionName": FUNCTION,
        "alias": "live",
        "version": "7",
        "previousVersion": "6",
        "imageDigest": DIGEST,
        "reason": "readyz 503",
    }
    first = json.loads(
        release_entry(
            "STARTED", Release(**{**RELEASE.__dict__, "previous_version": None, "image_digest": None})
        )["Detail"]
    )
    assert first["previousVersion"] is None and first["imageDigest"] is None and first["reason"] is None


def test_rejected_event_entry_is_reported_not_fatal(stubs: Stubs) -> None:
    """PutEvents answers 200 with FailedEntryCount 1 for a rejected entry; the release goes on and says so."""
    stubs.events_stub.add_response(
        "put_events",
        {
            "FailedEntryCount": 1,
            "Entries": [{"ErrorCode": "AccessDeniedException", "ErrorMessage": "denied"}],
        },
        {"Entries": ANY},
    )
    stubs.active()
    stubs.invoke(MIGRATE_EVENT, {"booking": "migrate", "status": "ok", "revision": "0007"})
    stubs.invoke(readiness_event("us-east-1"), READY)
    step = stubs.run()
    assert step.ok and "STARTED event not sent: AccessDeniedException: denied" in step.message


def test_previous_version_is_none_before_the_alias_exists(stubs: Stubs) -> None:
    with stubs.lambda_stub:
        stubs.lambda_stub.add_client_error("get_alias", "ResourceNotFoundException", http_status_code=404)
        assert previous_version(stubs.lambda_, FUNCTION, "live") is None
        stubs.lambda_stub.add_response(
            "get_alias", {"Name": "live", "FunctionVersion": "6"}, {"FunctionName": FUNCTION, "Name": "live"}
        )
        assert previous_version(stubs.lambda_, FUNCTION, "live") == "6"


def test_image_digest_only_from_a_pinned_uri() -> None:
    assert image_digest(f"123456789012.dkr.ecr.us-east-1.amazonaws.com/booking-dev@{DIGEST}") == DIGEST
    assert image_digest("123456789012.dkr.ecr.us-east-1.amazonaws.com/booking-dev:v1") is None
