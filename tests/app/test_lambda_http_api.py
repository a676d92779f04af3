"""The Lambda handler answers API Gateway HTTP API events (payload format 2.0) for the booking flow.

Events are shaped as the API Gateway developer guide, "Create AWS Lambda proxy integrations for HTTP
APIs", shows format 2.0: `version: "2.0"`, `routeKey: "$default"`, `rawPath`, `rawQueryString` (as the
client sent it), lower-case `headers` (duplicates combined with commas), `queryStringParameters`,
`requestContext.http.{method,path,sourceIp}`, `requestContext.stage: "$default"`, and a `body` with
`isBase64Encoded`. The response is format 2.0 too: `statusCode`, `headers`, `body`, `isBase64Encoded`,
with no `statusDescription` or `multiValueHeaders` (those belong to the ALB).
This is the `frontDoor: httpApi` path (components/http_api.py: `$default` route, AWS_PROXY, payload 2.0).
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl, urlencode

import pytest

from app.lambda_handler import LambdaHandler, make_handler
from app.main import create_app
from tests.app.conftest import flight_body
from tests.app.test_lambda_handler import _make_admin, lambda_env_settings, pg_url  # noqa: F401

pytestmark = pytest.mark.postgres

API_ID = "a1b2c3d4e5"
DOMAIN = f"{API_ID}.execute-api.us-east-1.amazonaws.com"


def http_api_event(
    method: str,
    path: str,
    *,
    raw_query: str = "",
    headers: dict[str, str] | None = None,
    body: bytes = b"",
    base64_body: bool = False,
) -> dict[str, Any]:
    """An HTTP API → Lambda request event, payload format 2.0, `$default` route and stage."""
    all_headers = {
        "accept": "application/json",
        "host": DOMAIN,
        "user-agent": "test-client/1.0",
        "x-amzn-trace-id": f"Root=1-5bdb40ca-{uuid.uuid4().hex[:24]}",
        "x-forwarded-for": "203.0.113.7",
        "x-forwarded-port": "443",
        "x-forwarded-proto": "https",
        **{k.lower(): v for k, v in (headers or {}).items()},
    }
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": raw_query,
        "headers": all_headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": API_ID,
            "domainName": DOMAIN,
            "domainPrefix": API_ID,
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "203.0.113.7",
                "userAgent": "test-client/1.0",
            },
            "requestId": uuid.uuid4().hex[:16],
            "routeKey": "$default",
            "stage": "$default",
            "time": "30/Nov/2026:09:00:00 +0000",
            "timeEpoch": 1795942800000,
        },
        "isBase64Encoded": base64_body,
    }
    if raw_query:
        # Format 2.0: "Duplicate query strings are combined with commas".
        combined: dict[str, list[str]] = {}
        for key, value in parse_qsl(raw_query, keep_blank_values=True):
            combined.setdefault(key, []).append(value)
        event["queryStringParameters"] = {k: ",".join(v) for k, v in combined.items()}
    if body:
        event["body"] = base64.b64encode(body).decode() if base64_body else body.decode()
    return event


class Response:
    def __init__(self, raw: dict[str, Any]) -> None:
        assert "statusDescription" not in raw and "multiValueHeaders" not in raw, raw
        self.status = raw["statusCode"]
        self.headers = {k.lower(): v for k, v in (raw.get("headers") or {}).items()}
        assert all(isinstance(v, str) for v in self.headers.values()), self.headers
        body = raw.get("body") or ""
        self.body = base64.b64decode(body) if raw.get("isBase64Encoded") else body.encode()

    def json(self) -> Any:
        return json.loads(self.body)


class Client:
    def __init__(self, handler: LambdaHandler) -> None:
        self.handler = handler

    def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        form: dict[str, str] | None = None,
        raw_query: str = "",
        headers: dict[str, str] | None = None,
    ) -> Response:
        headers = dict(headers or {})
        body, encoded = b"", False
        if json_body is not None:
            body = json.dumps(json_body).encode()
            headers["content-type"] = "application/json"
        if form is not None:
            # Sent Base64-encoded, as API Gateway may deliver a body it does not treat as text.
            body, encoded = urlencode(form).encode(), True
            headers["content-type"] = "application/x-www-form-urlencoded"
        event = http_api_event(
            method, path, raw_query=raw_query, headers=headers, body=body, base64_body=encoded
        )
        return Response(self.handler(event, None))


@pytest.fixture
def client(pg_url: str) -> Iterator[tuple[Client, Any]]:  # noqa: F811
    application = create_app(lambda_env_settings(pg_url))
    yield Client(make_handler(application)), application
    application.state.engine.dispose()


def _token(client: Client, email: str, password: str = "correct-horse-1") -> dict[str, str]:  # noqa: S107
    r = client.request("POST", "/auth/register", json_body={"email": email, "password": password})
    assert r.status == 201, r.body
    r = client.request("POST", "/auth/token", form={"username": email, "password": password})
    assert r.status == 200, r.body
    return {"authorization": f"Bearer {r.json()['access_token']}"}


def test_whole_booking_flow_through_http_api_events(client: tuple[Client, Any]) -> None:
    api, application = client
    assert application.state.engine.pool.size() == 1, "one connection per execution environment"
    admin = _token(api, "admin@example.com")
    _make_admin(application, "admin@example.com")
    r = api.request("POST", "/flights", json_body=flight_body(number="BK716"), headers=admin)
    assert r.status == 201, r.body
    flight_id = r.json()["id"]

    user = _token(api, "traveller@example.com")
    # rawQueryString is passed as the client sent it (percent-encoded): decoded exactly once.
    r = api.request("GET", "/flights", raw_query="origin=%4CHR&destination=JFK")
    assert r.status == 200, r.body
    assert [f["id"] for f in r.json()["items"]] == [flight_id]

    r = api.request("GET", f"/flights/{flight_id}/seats", headers=user)
    assert r.status == 200 and r.headers["content-type"].startswith("application/json")
    r = api.request(
        "GET", f"/flights/{flight_id}/seats", headers={**user, "if-none-match": r.headers["etag"]}
    )
    assert r.status == 304 and r.body == b""

    r = api.request("POST", f"/flights/{flight_id}/holds", json_body={"seats": ["3A"]}, headers=user)
    assert r.status == 201, r.body
    hold_id = r.json()["id"]
    r = api.request(
        "POST",
        "/bookings",
        json_body={"hold_id": hold_id, "passengers": [{"seat": "3A", "name": "Ada"}]},
        headers=user,
    )
    assert r.status == 201, r.body
    booking_id = r.json()["id"]
    r = api.request("POST", f"/flights/{flight_id}/holds", json_body={"seats": ["3A"]}, headers=user)
    assert r.status == 409, "a booked seat cannot be held again"

    r = api.request("GET", "/bookings", headers=user)
    assert [b["id"] for b in r.json()["items"]] == [booking_id]
    r = api.request("DELETE", f"/bookings/{booking_id}", headers=user)
    assert r.status == 200 and r.json()["status"] == "cancelled"


def test_http_api_errors_keep_their_status_and_json_body(client: tuple[Client, Any]) -> None:
    api, _ = client
    r = api.request("GET", "/flights", raw_query="limit=0")
    assert r.status == 422 and "detail" in r.json()
    r = api.request("GET", "/bookings")
    assert r.status == 401
    assert api.request("GET", "/healthz").json() == {"status": "ok"}
