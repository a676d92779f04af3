"""The Lambda handler answers ALB events for the whole booking flow against the test PostgreSQL.

Events are shaped as the ELB user guide, "Lambda functions as targets", shows them: `requestContext.elb`,
`httpMethod`, `path`, `queryStringParameters` (or `multiValueQueryStringParameters` / `multiValueHeaders`
when the target group enables multi-value headers), lower-case `headers` including the X-Forwarded-*
and X-Amzn-Trace-Id the load balancer adds, and a body sent as is for text/*, application/json,
application/javascript and application/xml but Base64-encoded with `isBase64Encoded: true` otherwise.
Each handler built here stands for one execution environment: its own app, engine and 1-connection pool.
"""

from __future__ import annotations

import base64
import json
import threading
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import boto3
import pytest
import sqlalchemy as sa
from moto import mock_aws
from pydantic import SecretStr

from app.core.config import Settings, lambda_settings
from app.lambda_handler import (
    ALB_MAX_RESPONSE_BYTES,
    LambdaHandler,
    for_alb,
    make_handler,
    with_jwt_secret,
)
from app.main import create_app
from app.models import User
from tests.app.conftest import flight_body, make_settings
from tests.conftest import PgServer, free_port

pytestmark = pytest.mark.postgres

TARGET_GROUP = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/booking-api/6d0ecf831eec9f09"
# The content types the load balancer passes through unencoded (ELB guide, "Receive events").
TEXT_TYPES = ("text/", "application/json", "application/javascript", "application/xml")


def alb_event(
    method: str,
    path: str,
    *,
    query: dict[str, list[str]] | None = None,
    headers: dict[str, list[str]] | None = None,
    body: bytes = b"",
    multi_value: bool = False,
) -> dict[str, Any]:
    """An ALB → Lambda request event; `multi_value`: the target group enables multi-value headers."""
    all_headers: dict[str, list[str]] = {
        "host": ["booking-1234567890.us-east-1.elb.amazonaws.com"],
        "user-agent": ["test-client/1.0"],
        "x-amzn-trace-id": [f"Root=1-5bdb40ca-{uuid.uuid4().hex[:24]}"],
        "x-forwarded-for": ["203.0.113.7"],
        "x-forwarded-port": ["443"],
        "x-forwarded-proto": ["https"],
    }
    for name, values in (headers or {}).items():
        all_headers[name.lower()] = values
    content_type = all_headers.get("content-type", [""])[-1]
    encode = bool(body) and not content_type.startswith(TEXT_TYPES)
    event: dict[str, Any] = {
        "requestContext": {"elb": {"targetGroupArn": TARGET_GROUP}},
        "httpMethod": method,
        "path": path,
        "isBase64Encoded": encode,
        "body": base64.b64encode(body).decode() if encode else body.decode(),
    }
    if multi_value:
        event["multiValueQueryStringParameters"] = query or {}
        event["multiValueHeaders"] = all_headers
    else:
        # Without multi-value headers the load balancer passes the last value of each.
        event["queryStringParameters"] = {k: v[-1] for k, v in (query or {}).items()}
        event["headers"] = {k: v[-1] for k, v in all_headers.items()}
    return event


class Response:
    def __init__(self, raw: dict[str, Any], multi_value: bool) -> None:
        self.raw = raw
        self.status = raw["statusCode"]
        # "You must use multiValueHeaders if you have enabled multi-value headers and headers otherwise."
        if multi_value:
            assert "headers" not in raw and isinstance(raw["multiValueHeaders"], dict), raw
            self.headers = {k.lower(): v for k, v in raw["multiValueHeaders"].items()}
        else:
            assert "multiValueHeaders" not in raw and isinstance(raw["headers"], dict), raw
            self.headers = {}
            for k, v in raw["headers"].items():
                self.headers.setdefault(k.lower(), []).append(v)
        body = raw.get("body") or ""
        self.body = base64.b64decode(body) if raw["isBase64Encoded"] else body.encode()

    def json(self) -> Any:
        return json.loads(self.body)

    def header(self, name: str) -> str:
        values = self.headers[name.lower()]
        assert len(values) == 1, values
        return values[0]


class Client:
    """Sends ALB events to one handler (one execution environment) and checks the response shape."""

    def __init__(self, handler: LambdaHandler, multi_value: bool = False) -> None:
        self.handler = handler
        self.multi_value = multi_value

    def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        form: dict[str, str] | None = None,
        query: dict[str, list[str]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Response:
        header_lists = {k: [v] for k, v in (headers or {}).items()}
        body = b""
        if json_body is not None:
            body = json.dumps(json_body).encode()
            header_lists["content-type"] = ["application/json"]
        if form is not None:
            body = urlencode(form).encode()
            header_lists["content-type"] = ["application/x-www-form-urlencoded"]
        event = alb_event(
            method, path, query=query, headers=header_lists, body=body, multi_value=self.multi_value
        )
        raw = self.handler(event, None)
        # "The statusDescription header must contain the status code and reason phrase, separated by a
        # single space" (ELB guide, "Respond to the load balancer").
        code, _, phrase = raw["statusDescription"].partition(" ")
        assert code == str(raw["statusCode"]) and phrase, raw["statusDescription"]
        return Response(raw, self.multi_value)


def lambda_env_settings(url: str, **overrides: Any) -> Settings:
    return lambda_settings(make_settings(url, DB_POOL_TIMEOUT_SECONDS=5, **overrides))


@pytest.fixture
def pg_url(pg_server: PgServer, pg_template: str) -> Iterator[str]:
    name = f"l_{uuid.uuid4().hex[:12]}"
    yield pg_server.create_database(name, template=pg_template)
    pg_server.drop_database(name)


@pytest.fixture
def environment(pg_url: str) -> Iterator[tuple[LambdaHandler, Any]]:
    application = create_app(lambda_env_settings(pg_url))
    yield make_handler(application), application
    application.state.engine.dispose()


def _token(client: Client, email: str, password: str = "correct-horse-1") -> dict[str, str]:  # noqa: S107
    r = client.request("POST", "/auth/register", json_body={"email": email, "password": password})
    assert r.status == 201, r.body
    # A form body is not one of the pass-through types: the ALB sends it Base64-encoded.
    r = client.request("POST", "/auth/token", form={"username": email, "password": password})
    assert r.status == 200, r.body
    return {"authorization": f"Bearer {r.json()['access_token']}"}


def _make_admin(application: Any, email: str) -> None:
    with application.state.sessionmaker() as session, session.begin():
        session.execute(sa.update(User).where(User.email == email).values(is_admin=True))


@pytest.mark.parametrize("multi_value", [False, True], ids=["single-value", "multi-value"])
def test_whole_booking_flow_through_alb_events(
    environment: tuple[LambdaHandler, Any], multi_value: bool
) -> None:
    handler, application = environment
    assert application.state.engine.pool.size() == 1, "one connection per execution environment"
    client = Client(handler, multi_value)

    admin = _token(client, "admin@example.com")
    _make_admin(application, "admin@example.com")
    r = client.request("POST", "/flights", json_body=flight_body(number="BK714"), headers=admin)
    assert r.status == 201, r.body
    flight_id = r.json()["id"]

    user = _token(client, "traveller@example.com")
    # Search: the load balancer does not decode URL-encoded query parameters (ELB guide,
    # "Multi-value headers"); the handler must, so a %-encoded value still matches.
    r = client.request("GET", "/flights", query={"origin": ["%4CHR"], "destination": ["JFK"]})
    assert r.status == 200, r.body
    assert [f["id"] for f in r.json()["items"]] == [flight_id]

    r = client.request("GET", f"/flights/{flight_id}/seats", headers=user)
    assert r.status == 200, r.body
    etag = r.header("etag")
    r = client.request("GET", f"/flights/{flight_id}/seats", headers={**user, "if-none-match": etag})
    assert r.status == 304 and r.body == b""

    r = client.request("POST", f"/flights/{flight_id}/holds", json_body={"seats": ["1A", "1B"]}, headers=user)
    assert r.status == 201, r.body
    hold_id = r.json()["id"]
    r = client.request(
        "POST",
        "/bookings",
        json_body={
            "hold_id": hold_id,
            "passengers": [{"seat": "1A", "name": "Ada"}, {"seat": "1B", "name": "Bo"}],
        },
        headers=user,
    )
    assert r.status == 201, r.body
    booking_id = r.json()["id"]

    r = client.request("GET", "/bookings", headers=user)
    assert r.status == 200, r.body
    assert [b["id"] for b in r.json()["items"]] == [booking_id]

    r = client.request("DELETE", f"/bookings/{booking_id}", headers=user)
    assert r.status == 200, r.body
    assert r.json()["status"] == "cancelled"
    r = client.request("POST", f"/flights/{flight_id}/holds", json_body={"seats": ["1A"]}, headers=user)
    assert r.status == 201, "a cancelled booking frees its seats"


def test_multi_value_query_and_headers_reach_the_app(environment: tuple[LambdaHandler, Any]) -> None:
    """With multi-value headers on, repeated query keys arrive as arrays; FastAPI sees the last one
    as the value of a scalar parameter, exactly as it would behind an HTTP server."""
    handler, _ = environment
    client = Client(handler, multi_value=True)
    r = client.request("GET", "/flights", query={"limit": ["1", "2"]})
    assert r.status == 200, r.body
    assert r.json()["limit"] == 2


def test_alb_health_check_event(environment: tuple[LambdaHandler, Any]) -> None:
    """The health check event exactly as the ELB guide shows it ("Enable health checks"), at /healthz."""
    handler, _ = environment
    event = {
        "requestContext": {"elb": {"targetGroupArn": TARGET_GROUP}},
        "httpMethod": "GET",
        "path": "/healthz",
        "queryStringParameters": {},
        "headers": {"user-agent": "ELB-HealthChecker/2.0"},
        "body": "",
        "isBase64Encoded": False,
    }
    raw = handler(event, None)
    assert raw["statusCode"] == 200 and raw["statusDescription"] == "200 OK"
    assert json.loads(raw["body"]) == {"status": "ok"}


def test_concurrent_invocations_race_for_a_seat(pg_url: str) -> None:
    """Two execution environments (each its own app, engine and pool of one) hold the same seat at once:
    exactly one gets 201, the other 409."""
    setup = create_app(lambda_env_settings(pg_url))
    client = Client(make_handler(setup))
    admin = _token(client, "admin@example.com")
    _make_admin(setup, "admin@example.com")
    flight_id = client.request(
        "POST", "/flights", json_body=flight_body(number="BK715"), headers=admin
    ).json()["id"]
    tokens = [_token(client, f"racer{i}@example.com") for i in range(2)]
    setup.state.engine.dispose()

    barrier = threading.Barrier(2, timeout=120)
    results: list[int] = []
    errors: list[BaseException] = []

    def environment_thread(auth: dict[str, str]) -> None:
        try:
            # Built in the thread: Mangum binds an event loop to the thread that creates it, as each
            # Lambda environment has its own process.
            application = create_app(lambda_env_settings(pg_url))
            env_client = Client(make_handler(application))
            env_client.request("GET", "/readyz")  # warm: the race is between requests, not connects
            barrier.wait()
            r = env_client.request(
                "POST", f"/flights/{flight_id}/holds", json_body={"seats": ["2C"]}, headers=auth
            )
            results.append(r.status)
            application.state.engine.dispose()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=environment_thread, args=(t,)) for t in tokens]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not errors, errors
    assert sorted(results) == [201, 409]


def test_database_down_is_a_503_with_retry_after() -> None:
    """Nothing listens on the database port: requests that need it answer 503 + Retry-After, the
    liveness check stays 200 (a DB outage must not make the ALB drop the target)."""
    url = f"postgresql+psycopg://booking:pw@127.0.0.1:{free_port()}/booking"
    application = create_app(lambda_env_settings(url, DB_CONNECT_TIMEOUT_SECONDS=2))
    client = Client(make_handler(application))
    for method, path in (("GET", "/flights"), ("GET", "/readyz")):
        r = client.request(method, path)
        assert r.status == 503, (path, r.body)
        assert r.header("retry-after").isdigit()
    r = client.request("POST", "/auth/token", form={"username": "a@example.com", "password": "x" * 12})
    assert r.status == 503 and r.header("retry-after").isdigit()
    assert client.request("GET", "/healthz").status == 200


def test_oversized_response_is_a_500_with_a_reason() -> None:
    """An ALB drops a Lambda response over 1 MB (ELB guide, "Lambda functions as targets"); the handler
    answers 500 with a reason instead, in the header mode of the request."""
    big = {
        "statusCode": 200,
        "isBase64Encoded": False,
        "headers": {},
        "body": "x" * (ALB_MAX_RESPONSE_BYTES + 1),
    }
    for multi_value in (False, True):
        event = alb_event("GET", "/flights", multi_value=multi_value)
        out = Response(for_alb(dict(big), event), multi_value)
        assert out.status == 500 and "too large" in out.json()["detail"]
        assert out.raw["statusDescription"] == "500 Internal Server Error"
    small = for_alb(
        {"statusCode": 201, "isBase64Encoded": False, "headers": {}, "body": "{}"}, alb_event("GET", "/")
    )
    assert small["statusCode"] == 201 and small["statusDescription"] == "201 Created"


def test_lambda_pool_defaults_yield_to_explicit_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DB_POOL_SIZE", raising=False)
    monkeypatch.delenv("DB_MAX_OVERFLOW", raising=False)
    assert lambda_settings(Settings()).db_connections_per_process == 1
    assert Settings().db_connections_per_process == 15, "Fargate keeps its pool"
    monkeypatch.setenv("DB_POOL_SIZE", "2")
    tuned = lambda_settings(Settings())
    assert (tuned.DB_POOL_SIZE, tuned.DB_MAX_OVERFLOW) == (2, 0)


def test_jwt_key_comes_from_secrets_manager_at_init(monkeypatch: pytest.MonkeyPatch) -> None:
    """Lambda has no `secrets` injection: the function gets JWT_SECRET_ARN and reads the key at init."""
    monkeypatch.delenv("JWT_SECRET", raising=False)
    monkeypatch.delenv("JWT_SECRET_ARN", raising=False)
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(key, value)
    with mock_aws():
        sm = boto3.client("secretsmanager", region_name="us-east-1")
        key = "k" * 40
        arn = sm.create_secret(Name="booking/jwt-signing-key-1", SecretString=key)["ARN"]
        short = sm.create_secret(Name="booking/jwt-short", SecretString="too-short")["ARN"]
        resolved = with_jwt_secret(Settings(JWT_SECRET_ARN=arn, AWS_REGION="us-east-1"))
        assert resolved.JWT_SECRET is not None and resolved.JWT_SECRET.get_secret_value() == key
        explicit = Settings(JWT_SECRET=SecretStr("e" * 32), JWT_SECRET_ARN=arn)
        assert with_jwt_secret(explicit) is explicit, "an explicit JWT_SECRET wins, no call"
        with pytest.raises(ValueError, match="shorter than 32"):
            with_jwt_secret(Settings(JWT_SECRET_ARN=short, AWS_REGION="us-east-1"))
    assert with_jwt_secret(Settings()).JWT_SECRET is None, "neither set: the app's random-key fallback"


def test_request_body_over_the_app_limit_is_413_before_the_alb_limit(
    environment: tuple[LambdaHandler, Any],
) -> None:
    """The ALB passes request bodies up to 1 MB to a Lambda target; the app's own MAX_BODY_BYTES
    (64 KiB by default) answers 413 first, whether the body came Base64-encoded or not."""
    handler, _ = environment
    client = Client(handler)
    r = client.request(
        "POST", "/auth/register", json_body={"email": "a@example.com", "password": "p" * 100_000}
    )
    assert r.status == 413, r.body
    r = client.request("POST", "/auth/token", form={"username": "a@example.com", "password": "p" * 100_000})
    assert r.status == 413, r.body
