"""The same API on AWS Lambda behind an ALB or an API Gateway HTTP API (`app.lambda_handler.handler`).

The image is the one Fargate runs; the function's image config starts it as
`python -m awslambdaric app.lambda_handler.handler` (docs/lambda-runtime.md). Importing this module is
the function's init phase: the app is built once per execution environment, with a pool of one
connection (`lambda_settings`) and the JWT key from Secrets Manager (`with_jwt_secret`), and every
invocation reuses it.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI
from mangum import Mangum
from pydantic import SecretStr

from app.core import emf, migrations
from app.core.config import Settings, get_settings, lambda_settings
from app.main import create_app

log = logging.getLogger("booking.lambda")

LambdaHandler = Callable[[dict[str, Any], Any], dict[str, Any]]

# ELB user guide, "Lambda functions as targets": "The maximum size of the response JSON that the
# Lambda function can send is 1 MB". Counted as 10^6 bytes to stay on the safe side of either reading.
ALB_MAX_RESPONSE_BYTES = 1_000_000
RESPONSE_TOO_LARGE_DETAIL = (
    "response too large for the load balancer; narrow the request (e.g. a smaller page)"
)
# The release gate's direct invocation (components/lambda_release.py). Neither the ALB nor an HTTP API
# can send it: both shape their own events, so only a principal allowed lambda:InvokeFunction can.
ACTION_KEY = "booking"
MIGRATE = "migrate"


class MigrationFailed(RuntimeError):
    """Raised out of the handler: Lambda answers the Invoke with `FunctionError` and this message."""


def make_handler(application: FastAPI) -> LambdaHandler:
    """A Lambda handler for `application` (ALB and API Gateway events, via Mangum)."""
    # lifespan off: an execution environment is frozen, not shut down, between invocations, and
    # the app needs no startup work; the engine lives as long as the environment.
    adapter = Mangum(application, lifespan="off")

    def handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
        if ACTION_KEY in event:
            return run_action(application, event)
        ensure_event_loop()
        try:
            response: dict[str, Any] = adapter(event, context)
        finally:
            # The invocation's EMF metrics (docs/business-metrics.md): the environment may be frozen
            # after it returns, so no background flush is relied on; Lambda ships stdout to its logs.
            emf.flush()
        if is_alb_event(event):
            response = for_alb(response, event)
        return response

    return handle


def run_action(application: FastAPI, event: dict[str, Any]) -> dict[str, Any]:
    """`{"booking": "migrate"}`: upgrade the schema to head under the advisory lock, before any traffic.

    Runs in the version being released, so the migrations are that image's own. A failure raises:
    Lambda reports it as a function error (Invoke's `FunctionError`, with `errorType`/`errorMessage` in
    the payload) and the release gate stops the release with that message.
    """
    action = event.get(ACTION_KEY)
    if action != MIGRATE:
        raise ValueError(f"unknown booking action {action!r}; the only one is {MIGRATE!r}")
    engine = application.state.engine
    head = migrations.head_revision()
    try:
        migrations.upgrade(engine)
        with engine.connect() as conn:
            current = migrations.current_revision(conn)
    except Exception as err:
        first_line = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        log.exception("migration to %s failed", head)
        raise MigrationFailed(f"migration to {head} failed: {type(err).__name__}: {first_line}") from err
    if current != head:
        raise MigrationFailed(f"migration ended at {current}, expected {head}")
    log.info("database schema at %s", current)
    return {"booking": MIGRATE, "status": "ok", "revision": current}


def ensure_event_loop() -> None:
    """Give this thread a usable event loop before Mangum runs the request on it.

    Mangum sets a loop only when the adapter is built, yet asks `asyncio.get_event_loop()` for it on
    every call; anything that ran `asyncio.run()` in this thread since then has left no current loop
    (or a closed one), and the invocation would fail with "There is no current event loop".
    """
    try:
        loop = asyncio.get_event_loop()
    except RuntimeError:
        loop = None
    if loop is None or loop.is_closed():
        asyncio.set_event_loop(asyncio.new_event_loop())


def is_alb_event(event: dict[str, Any]) -> bool:
    return "elb" in (event.get("requestContext") or {})


def for_alb(response: dict[str, Any], event: dict[str, Any]) -> dict[str, Any]:
    """Complete Mangum's answer to what the ALB requires of a Lambda target's response.

    ELB user guide, "Lambda functions as targets" / "Respond to the load balancer": the response must
    include `statusDescription` ("the status code and reason phrase, separated by a single space"),
    and a response JSON over 1 MB is not delivered: the client would get an anonymous 502 from the
    load balancer, so the function answers 500 with a reason instead and logs it.
    """
    status = int(response["statusCode"])
    response["statusDescription"] = _status_line(status)
    size = len(json.dumps(response).encode())
    if size <= ALB_MAX_RESPONSE_BYTES:
        return response
    log.error(
        "response to %s %s is %d bytes, over the ALB limit for Lambda targets (%d)",
        event.get("httpMethod"),
        event.get("path"),
        size,
        ALB_MAX_RESPONSE_BYTES,
    )
    headers = {"content-type": "application/json"}
    replacement: dict[str, Any] = {
        "statusCode": 500,
        "statusDescription": _status_line(500),
        "isBase64Encoded": False,
        "body": json.dumps({"detail": RESPONSE_TOO_LARGE_DETAIL}),
    }
    # "You must use multiValueHeaders if you have enabled multi-value headers and headers otherwise"
    # (same page, "Multi-value headers"); the request shows which mode the target group is in.
    if "multiValueHeaders" in event:
        replacement["multiValueHeaders"] = {k: [v] for k, v in headers.items()}
    else:
        replacement["headers"] = headers
    return replacement


def with_jwt_secret(settings: Settings, client: Any = None) -> Settings:
    """`settings` with JWT_SECRET read from Secrets Manager when only JWT_SECRET_ARN is set.

    On ECS the task definition's `secrets` put the value in the environment; a Lambda function has
    no such field, and a plain environment variable would expose it (GetFunctionConfiguration
    returns the environment). The secret holds the key as a plain string (components/secrets.py).
    A failure here fails the init phase, so a version that cannot read its key is never promoted.
    """
    if settings.JWT_SECRET is not None or not settings.JWT_SECRET_ARN:
        return settings
    if client is None:
        import boto3

        client = boto3.client("secretsmanager", region_name=settings.AWS_REGION)
    value = client.get_secret_value(SecretId=settings.JWT_SECRET_ARN)["SecretString"]
    # Same rule as the JWT_SECRET field: HS256 wants at least 32 bytes of key (RFC 7518 3.2).
    if len(value) < 32:
        raise ValueError(f"the secret {settings.JWT_SECRET_ARN} is shorter than 32 characters")
    return settings.model_copy(update={"JWT_SECRET": SecretStr(value)})


def _status_line(status: int) -> str:
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return f"{status} Unknown"


app = create_app(lambda_settings(with_jwt_secret(get_settings())))
handler = make_handler(app)
