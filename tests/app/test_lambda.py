"""The same API behind Lambda (Mangum): ALB target-group events and API Gateway HTTP API v2 events,
shaped as AWS documents them."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

from mangum import Mangum

from app.core.config import Settings
from app.main import create_app

CONTEXT = SimpleNamespace(aws_request_id="req-1", function_name="booking-api", memory_limit_in_mb=512)


def alb_event(
    method: str,
    path: str,
    query: dict[str, str] | None = None,
    body: str = "",
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    return {
        "requestContext": {
            "elb": {
                "targetGroupArn": "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/"
                "lambda-279XGJDqGZ5rsrHC2Fjr/49e9d65c45c6791a"
            }
        },
        "httpMethod": method,
        "path": path,
        "queryStringParameters": query or {},
        "headers": {
            "accept": "application/json",
            "host": "lambda-alb-123578498.us-east-1.elb.amazonaws.com",
            "user-agent": "curl/8.5.0",
            "x-amzn-trace-id": "Root=1-5c536348-3d683b8b04734faae651f476",
            "x-forwarded-for": "72.12.164.125",
            "x-forwarded-port": "443",
            "x-forwarded-proto": "https",
            **(headers or {}),
        },
        "body": body,
        "isBase64Encoded": False,
    }


def http_api_event(
    method: str, path: str, raw_query: str = "", body: str = "", headers: dict[str, str] | None = None
) -> dict[str, Any]:
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": raw_query,
        "headers": {
            "host": "abc123.execute-api.us-east-1.amazonaws.com",
            "user-agent": "curl/8.5.0",
            **(headers or {}),
        },
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abc123",
            "domainName": "abc123.execute-api.us-east-1.amazonaws.com",
            "domainPrefix": "abc123",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "192.0.2.1",
                "userAgent": "curl/8.5.0",
            },
            "requestId": "JKJaXmPLvHcESHA=",
            "routeKey": "$default",
            "stage": "$default",
            "time": "10/Mar/2031:19:03:58 +0000",
            "timeEpoch": 1930935838390,
        },
        "body": body,
        "isBase64Encoded": False,
    }


def test_package_handler_answers_an_alb_health_check() -> None:
    from app.lambda_handler import handler

    response = handler(alb_event("GET", "/healthz", headers={"x-request-id": "alb-42"}), CONTEXT)
    assert response["statusCode"] == 200
    assert json.loads(response["body"]) == {"status": "ok"}
    assert response["headers"]["x-request-id"] == "alb-42"
    assert response["isBase64Encoded"] is False


def test_package_handler_survives_asyncio_run_in_its_thread() -> None:
    """asyncio.run() leaves the thread without a current loop; the next invocation must still work."""
    import asyncio

    from app.lambda_handler import handler

    asyncio.run(asyncio.sleep(0))
    response = handler(alb_event("GET", "/healthz"), CONTEXT)
    assert response["statusCode"] == 200


def test_alb_event_reaches_the_database(settings: Settings) -> None:
    handler = Mangum(create_app(settings), lifespan="off")
    response = handler(alb_event("GET", "/flights", query={"origin": "LHR", "limit": "5"}), CONTEXT)
    assert response["statusCode"] == 200, response
    assert json.loads(response["body"]) == {"items": [], "total": 0, "limit": 5, "offset": 0}
    bad = handler(alb_event("GET", "/flights", query={"limit": "0"}), CONTEXT)
    assert bad["statusCode"] == 422


def test_http_api_v2_event_register_and_login(settings: Settings) -> None:
    handler = Mangum(create_app(settings), lifespan="off")
    created = handler(
        http_api_event(
            "POST",
            "/auth/register",
            body=json.dumps({"email": "l@example.com", "password": "lambda-pw-1"}),
            headers={"content-type": "application/json"},
        ),
        CONTEXT,
    )
    assert created["statusCode"] == 201, created
    token = handler(
        http_api_event(
            "POST",
            "/auth/token",
            body="username=l%40example.com&password=lambda-pw-1",
            headers={"content-type": "application/x-www-form-urlencoded"},
        ),
        CONTEXT,
    )
    assert token["statusCode"] == 200, token
    access = json.loads(token["body"])["access_token"]
    me = handler(http_api_event("GET", "/auth/me", headers={"authorization": f"Bearer {access}"}), CONTEXT)
    assert json.loads(me["body"])["email"] == "l@example.com"
    listed = handler(http_api_event("GET", "/flights", raw_query="date=2031-05-01"), CONTEXT)
    assert listed["statusCode"] == 200


def test_each_invocation_writes_its_emf_metrics(settings: Settings) -> None:
    from app.core import emf
    from app.lambda_handler import make_handler

    handler = make_handler(create_app(settings))
    lines: list[str] = []
    emf.configure("Booking/lambda-test", write=lines.append)
    try:
        response = handler(alb_event("GET", "/flights/not-a-number"), CONTEXT)
    finally:
        emf.configure(None)
    assert response["statusCode"] == 422
    records = [json.loads(line) for line in lines]
    assert [r["BookingsCreated"] for r in records if "BookingsCreated" in r] == [0]
    requests = [r for r in records if "Requests" in r]
    assert [(r["Route"], r["StatusClass"], r["Requests"]) for r in requests] == [
        ("GET /flights/{flight_id}", "4xx", 1)
    ]
