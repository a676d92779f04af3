"""The Lambda release gate: the version `pulumi up` just published serves traffic only once it has
migrated the database and answered `/readyz` with 200 (the ECS circuit breaker's counterpart).

`ReleaseGate` (a dynamic resource) runs for every new published version, before the `live` alias moves:
1. EventBridge `PutEvents` STARTED (components/notifier.py turns release events into e-mails);
2. wait until the version is `Active` (GetFunctionConfiguration with the version as `Qualifier`: a
   function in a VPC stays `Pending` while Lambda creates its network interfaces; botocore's
   `PublishedVersionActive` waiter reads the same `State`: Active succeeds, Failed fails);
3. Invoke the version (`Qualifier` = the version number) with `{"booking": "migrate"}`: app/lambda_handler.py
   upgrades the schema under the advisory lock;
4. Invoke it with an ALB-shaped `GET /readyz` event; the answer must be `statusCode` 200.
Any `FunctionError` in an Invoke response (Lambda API reference, Invoke: "If present, indicates that an
error occurred during function execution. Details about the error are included in the response
payload"; `Handled`/`Unhandled`) or any other status fails the release: PutEvents FAILED with the reason,
then raise, so `up` fails and the alias, which depends on the gate, keeps the previous version.
`ReleaseCompleted` depends on the alias and puts COMPLETED once it points at the new version.

The deploy role needs lambda:GetAlias, lambda:GetFunctionConfiguration and lambda:InvokeFunction on this
function and its versions, and events:PutEvents on the default bus (components/deploy_policies/).
The step logic is plain functions over boto3 clients (tests: tests/infra/test_lambda_release.py).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ResourceProvider, UpdateResult

# The one definition the deploy role's PutEvents condition and the notifier's rule also use (the
# notifier's own runtime code keeps a copy, checked by tests/lambda/test_release_emails.py). EventBridge
# User Guide, "AWS service event metadata": a custom source may be anything "as long as it doesn't
# begin with aws.".
EVENT_SOURCE = "booking.release"
EVENT_DETAIL_TYPE = "Lambda Release State Change"
EVENT_BUS = "default"
MIGRATE_EVENT = {"booking": "migrate"}
ACTIVE_TIMEOUT_SECONDS = 600
# The readiness event names no real target group: it comes from the gate, not a load balancer.
GATE_ACCOUNT = "000000000000"
GATE_TARGET = "targetgroup/release-gate/0"
ACTIVE_POLL_SECONDS = 5  # botocore's PublishedVersionActive waiter polls every 5 s
EventName = Literal["STARTED", "COMPLETED", "FAILED"]


@dataclass(frozen=True)
class Release:
    """One release: the published `version` of `function_name` that should become `alias`."""

    region: str
    environment: str
    app: str
    function_name: str
    alias: str
    version: str
    previous_version: str | None
    image_digest: str | None


@dataclass(frozen=True)
class Step:
    ok: bool
    message: str


def image_digest(image_uri: str) -> str | None:
    """`sha256:…` of an image URI pinned by digest (`repo@sha256:…`), else None."""
    _, at, digest = image_uri.partition("@")
    return digest if at and digest.startswith("sha256:") else None


def release_entry(event_name: EventName, release: Release, reason: str | None = None) -> dict[str, Any]:
    """One `PutEvents` entry, the shape the deploy notifier's rule matches (docs/lambda-runtime.md)."""
    detail = {
        "eventName": event_name,
        "environment": release.environment,
        "app": release.app,
        "functionName": release.function_name,
        "alias": release.alias,
        "version": release.version,
        "previousVersion": release.previous_version,
        "imageDigest": release.image_digest,
        "reason": reason,
    }
    return {
        "Source": EVENT_SOURCE,
        "DetailType": EVENT_DETAIL_TYPE,
        "Detail": json.dumps(detail),
        "EventBusName": EVENT_BUS,
    }


def put_release_event(
    events: Any, event_name: EventName, release: Release, reason: str | None = None
) -> str | None:
    """Put one release event; None when EventBridge took it, else why not (the release goes on: an
    e-mail that cannot be sent must not block or undo a deployment, but `up` reports it)."""
    try:
        answer = events.put_events(Entries=[release_entry(event_name, release, reason)])
    except Exception as err:  # denied, throttled, unreachable
        return f"{event_name} event not sent: {err}"
    # PutEvents can succeed as a call and still fail the entry: FailedEntryCount and per-entry ErrorCode.
    if answer.get("FailedEntryCount"):
        entry = (answer.get("Entries") or [{}])[0]
        return f"{event_name} event not sent: {entry.get('ErrorCode')}: {entry.get('ErrorMessage')}"
    return None


def previous_version(lambda_client: Any, function_name: str, alias: str) -> str | None:
    """The version `alias` points at now (None on the first release, before the alias exists)."""
    try:
        return str(lambda_client.get_alias(FunctionName=function_name, Name=alias)["FunctionVersion"])
    except lambda_client.exceptions.ResourceNotFoundException:
        return None


def wait_until_active(
    lambda_client: Any,
    function_name: str,
    version: str,
    *,
    timeout: float = ACTIVE_TIMEOUT_SECONDS,
    poll: float = ACTIVE_POLL_SECONDS,
    sleep: Callable[[float], None] = time.sleep,
) -> Step:
    deadline = time.monotonic() + timeout
    while True:
        config = lambda_client.get_function_configuration(FunctionName=function_name, Qualifier=version)
        state = config.get("State")
        if state == "Active":
            return Step(True, f"version {version} is Active")
        if state == "Failed":
            reason = config.get("StateReason") or config.get("StateReasonCode") or "no reason given"
            return Step(False, f"version {version} failed to become Active: {reason}")
        if time.monotonic() >= deadline:
            return Step(False, f"version {version} still {state} after {int(timeout)} s")
        sleep(poll)


def invoke(
    lambda_client: Any, function_name: str, version: str, event: dict[str, Any]
) -> tuple[dict[str, Any], str | None]:
    """Invoke one version synchronously: (decoded payload, FunctionError or None)."""
    answer = lambda_client.invoke(
        FunctionName=function_name,
        Qualifier=version,
        InvocationType="RequestResponse",
        Payload=json.dumps(event).encode(),
    )
    raw = answer["Payload"].read() if hasattr(answer.get("Payload"), "read") else answer.get("Payload", b"")
    try:
        payload = json.loads(raw or b"null")
    except ValueError:
        payload = {"raw": raw.decode(errors="replace")[:500]}
    return (payload if isinstance(payload, dict) else {"value": payload}), answer.get("FunctionError")


def _error_text(payload: dict[str, Any], function_error: str) -> str:
    # The runtime's error object: {"errorMessage", "errorType", "stackTrace"}; Lambda's own for timeouts.
    kind = payload.get("errorType") or function_error
    return f"{kind}: {payload.get('errorMessage') or json.dumps(payload)[:500]}"


def migrate(lambda_client: Any, function_name: str, version: str) -> Step:
    payload, function_error = invoke(lambda_client, function_name, version, MIGRATE_EVENT)
    if function_error:
        return Step(False, f"migrations failed in version {version}: {_error_text(payload, function_error)}")
    if payload.get("status") != "ok":
        return Step(False, f"migrations in version {version} answered {json.dumps(payload)[:500]}")
    return Step(True, f"database at revision {payload.get('revision')}")


def readiness_event(region: str) -> dict[str, Any]:
    """`GET /readyz` as an ALB delivers it to a Lambda target (ELB user guide, "Lambda functions as
    targets"), without X-Forwarded-For: it comes from inside, like the load balancer's health checks."""
    return {
        "requestContext": {
            "elb": {"targetGroupArn": f"arn:aws:elasticloadbalancing:{region}:{GATE_ACCOUNT}:{GATE_TARGET}"}
        },
        "httpMethod": "GET",
        "path": "/readyz",
        "queryStringParameters": {},
        "headers": {"host": "release-gate", "user-agent": "booking-release-gate"},
        "body": "",
        "isBase64Encoded": False,
    }


def readiness(lambda_client: Any, function_name: str, version: str, region: str) -> Step:
    payload, function_error = invoke(lambda_client, function_name, version, readiness_event(region))
    if function_error:
        return Step(False, f"/readyz failed in version {version}: {_error_text(payload, function_error)}")
    status = payload.get("statusCode")
    if status != 200:
        return Step(
            False, f"/readyz of version {version} answered {status}: {str(payload.get('body'))[:500]}"
        )
    return Step(True, f"/readyz of version {version} answered 200")


def run_gate(
    lambda_client: Any, events: Any, release: Release, *, sleep: Callable[[float], None] = time.sleep
) -> Step:
    """STARTED, Active, migrate, /readyz; on the first failure FAILED with its reason."""
    notes = [note for note in [put_release_event(events, "STARTED", release)] if note]
    for check in (
        lambda: wait_until_active(lambda_client, release.function_name, release.version, sleep=sleep),
        lambda: migrate(lambda_client, release.function_name, release.version),
        lambda: readiness(lambda_client, release.function_name, release.version, release.region),
    ):
        try:
            step = check()
        except Exception as err:  # the Invoke itself failed (denied, throttled, timed out)
            step = Step(False, f"release of version {release.version} stopped: {type(err).__name__}: {err}")
        if not step.ok:
            note = put_release_event(events, "FAILED", release, step.message)
            suffix = f" ({note})" if note else ""
            return Step(
                False,
                f"{release.function_name} version {release.version} NOT released, alias {release.alias} "
                f"stays on {release.previous_version or 'no version'}: {step.message}{suffix}",
            )
        notes.append(step.message)
    return Step(True, "; ".join(notes))


def _clients(region: str, timeout_seconds: int) -> tuple[Any, Any]:
    import boto3  # imported here: only `pulumi up` needs it, not the offline runs
    from botocore.config import Config

    # A synchronous Invoke lasts up to the function's timeout; one attempt only, so a slow migration is
    # not started a second time by an SDK retry (it would queue on the advisory lock anyway).
    config = Config(read_timeout=timeout_seconds + 60, retries={"total_max_attempts": 1})
    return boto3.client("lambda", region_name=region, config=config), boto3.client(
        "events", region_name=region
    )


def release_from(props: dict[str, Any], previous: str | None) -> Release:
    return Release(
        region=props["region"],
        environment=props["environment"],
        app=props["app"],
        function_name=props["functionName"],
        alias=props["alias"],
        version=str(props["version"]),
        previous_version=previous,
        image_digest=image_digest(props.get("imageUri") or ""),
    )


RELEASE_KEYS = ("region", "environment", "app", "functionName", "alias", "version", "imageUri")


class _ReleaseStep(ResourceProvider):
    """One step of a release, run again for every new version (RELEASE_KEYS) and never replaced."""

    def _run(self, props: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError

    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult(id_=f"{props['functionName']}:{props['version']}", outs=self._run(props))

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changed = [k for k in RELEASE_KEYS if olds.get(k) != news.get(k)]
        return DiffResult(changes=bool(changed), replaces=[], delete_before_replace=False)

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(outs=self._run(news))


class _GateProvider(_ReleaseStep):
    def _run(self, props: dict[str, Any]) -> dict[str, Any]:
        lambda_client, events = _clients(props["region"], int(props["timeoutSeconds"]))
        previous = previous_version(lambda_client, props["functionName"], props["alias"])
        step = run_gate(lambda_client, events, release_from(props, previous))
        if not step.ok:
            raise RuntimeError(step.message)
        return {**props, "previous_version": previous, "verdict": step.message}


class _CompletedProvider(_ReleaseStep):
    def _run(self, props: dict[str, Any]) -> dict[str, Any]:
        _, events = _clients(props["region"], 0)
        release = release_from(props, props.get("previous_version"))
        note = put_release_event(events, "COMPLETED", release)
        return {**props, "verdict": note or f"{release.alias} -> version {release.version}"}


@dataclass(frozen=True)
class ReleaseArgs:
    region: str
    environment: str
    app: str
    function_name: pulumi.Input[str]
    alias: str
    version: pulumi.Input[str]
    image_uri: pulumi.Input[str]
    timeout_seconds: int
    """The function's timeout: how long one synchronous Invoke may take."""


def _props(args: ReleaseArgs) -> dict[str, Any]:
    return {
        "region": args.region,
        "environment": args.environment,
        "app": args.app,
        "functionName": args.function_name,
        "alias": args.alias,
        "version": args.version,
        "imageUri": args.image_uri,
        "timeoutSeconds": args.timeout_seconds,
        "verdict": None,
    }


class ReleaseGate(pulumi.dynamic.Resource):
    """Fails the update unless `version` migrated the database and answered /readyz with 200."""

    previous_version: pulumi.Output[str | None]
    verdict: pulumi.Output[str]

    def __init__(self, name: str, args: ReleaseArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(_GateProvider(), name, {**_props(args), "previous_version": None}, opts)


class ReleaseCompleted(pulumi.dynamic.Resource):
    """Puts COMPLETED once the alias points at `version` (declare it depending on the alias)."""

    verdict: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        args: ReleaseArgs,
        previous_version: pulumi.Input[str | None],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(
            _CompletedProvider(), name, {**_props(args), "previous_version": previous_version}, opts
        )
