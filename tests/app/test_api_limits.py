"""Request body limit (413 before parsing), safe 422 bodies, /auth/token with JSON, offline docs
and CORS; on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from app.core.errors import ECHO_PREFIX_CHARS
from app.main import create_app
from tests.app.conftest import Api, flight_body, make_settings

JSON = {"content-type": "application/json"}


def chunks(total: int, size: int = 8192) -> Iterator[bytes]:
    """A body sent with Transfer-Encoding: chunked (httpx does so for an iterator): no Content-Length."""
    sent = 0
    while sent < total:
        piece = min(size, total - sent)
        sent += piece
        yield b" " * piece


def test_large_body_is_413_before_it_is_parsed(api: Api) -> None:
    admin = api.admin()
    body = b'{"email": "' + b"x" * (50 * 1024 * 1024) + b'"}'
    started = time.monotonic()
    r = api.client.post("/auth/register", content=body, headers=JSON)
    assert r.status_code == 413
    assert "65536 bytes" in r.json()["detail"]
    assert len(r.content) < 200
    assert time.monotonic() - started < 5
    r = api.client.post("/flights", content=b"[" + b"1," * 40_000 + b"1]", headers={**JSON, **admin})
    assert r.status_code == 413


def test_chunked_body_without_content_length_is_limited_too(api: Api) -> None:
    r = api.client.post("/auth/register", content=chunks(65 * 1024), headers=JSON)
    assert r.status_code == 413
    # Within the limit, a chunked body is passed on whole.
    body = json.dumps({"email": "chunky@example.com", "password": "long-enough-1"}).encode()
    r = api.client.post("/auth/register", content=iter([body[:10], body[10:]]), headers=JSON)
    assert r.status_code == 201, r.text


def test_body_limit_is_configurable(db_url: str) -> None:
    with TestClient(create_app(make_settings(db_url, MAX_BODY_BYTES=2048))) as client:
        r = client.post("/auth/register", content=b" " * 2049, headers=JSON)
        assert r.status_code == 413
        assert "2048 bytes" in r.json()["detail"]
        r = client.post("/auth/register", content=b" " * 2048, headers=JSON)
        assert r.status_code == 422


def test_422_never_echoes_a_password(api: Api) -> None:
    secrets = ["qz1", "qz" * 100, "tab\tqz-password", "\ud800qz-surrogate"]
    for secret in secrets:
        body = json.dumps({"email": "a@example.com", "password": secret}).encode()
        r = api.client.post("/auth/register", content=body, headers=JSON)
        assert r.status_code == 422, r.text
        errors = r.json()["detail"]
        assert [e["loc"] for e in errors] == [["body", "password"]]
        assert "input" not in errors[0]
        assert "qz" not in r.text


def test_422_echoes_at_most_a_short_prefix(api: Api) -> None:
    admin = api.admin()
    flight = api.flight(admin)
    long_name = "N" * 5000
    r = api.client.post(
        "/bookings",
        json={"flight_id": flight["id"], "passengers": [{"seat": "1A", "name": long_name}]},
        headers=api.user(),
    )
    assert r.status_code == 422
    error = r.json()["detail"][0]
    assert error["input"] == "N" * ECHO_PREFIX_CHARS + "…"
    assert len(r.content) < 600
    # A seat label is quoted nowhere in full either (the message used to repeat the value).
    r = api.client.post("/flights/1/holds", json={"seats": ["Z" * 3000]}, headers=api.user("s@example.com"))
    assert r.status_code == 422
    assert "Z" * (ECHO_PREFIX_CHARS + 1) not in r.text


def test_the_error_path_survives_unencodable_and_non_finite_input(api: Api) -> None:
    """The 422 for a value reports it without crashing: no NaN in JSON, no lone surrogate in UTF-8."""
    admin = api.admin()
    cases = [flight_body(rows=float("nan")), flight_body(fare=float("-inf")), flight_body(number="\ud800")]
    for case in cases:
        body = json.dumps(case, allow_nan=True).encode()
        r = api.client.post("/flights", content=body, headers={**JSON, **admin})
        assert r.status_code == 422, r.text
        r.content.decode("utf-8")
        assert r.json()["detail"]
    r = api.client.post("/flights", content=b'{"rows": 1' + b"0" * 300 + b"}", headers={**JSON, **admin})
    assert r.status_code == 422
    assert "0" * 100 not in r.text


def test_token_with_json_says_it_expects_a_form(api: Api) -> None:
    api.user("form@example.com")
    r = api.client.post("/auth/token", json={"username": "form@example.com", "password": "correct-horse-1"})
    assert r.status_code == 415
    assert "form" in r.json()["detail"]
    assert "application/x-www-form-urlencoded" in r.json()["detail"]
    assert "correct-horse-1" not in r.text


def test_docs_and_redoc_work_offline(api: Api) -> None:
    for page in ("/docs", "/redoc"):
        r = api.client.get(page)
        assert r.status_code == 200
        urls = re.findall(r"""(?:src|href)=["']([^"']+)["']""", r.text)
        assert urls, page
        # Every asset is served by the app itself, none from a CDN or font service.
        assert all(u.startswith("/") for u in urls), urls
        assert "cdn" not in r.text.lower()
        for url in urls:
            asset = api.client.get(url)
            assert asset.status_code == 200, url
            assert len(asset.content) > 100, url
    js = api.client.get("/static-offline-docs/swagger-ui-bundle.js")
    assert "javascript" in js.headers["content-type"]


def test_no_cors_by_default(api: Api) -> None:
    preflight = {"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}
    r = api.client.options("/bookings", headers=preflight)
    assert "access-control-allow-origin" not in r.headers
    r = api.client.get("/flights", headers={"Origin": "https://evil.example"})
    assert r.status_code == 200
    assert "access-control-allow-origin" not in r.headers


@pytest.fixture
def cors_client(db_url: str) -> Iterator[TestClient]:
    settings = make_settings(db_url, CORS_ORIGINS="https://book.example, https://admin.example/")
    with TestClient(create_app(settings)) as client:
        yield client


def test_cors_preflight_for_configured_origins(cors_client: TestClient) -> None:
    r = cors_client.options(
        "/flights/1",
        headers={
            "Origin": "https://admin.example",
            "Access-Control-Request-Method": "PATCH",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    assert r.status_code == 200
    assert r.headers["access-control-allow-origin"] == "https://admin.example"
    assert "PATCH" in r.headers["access-control-allow-methods"]
    allowed = r.headers["access-control-allow-headers"].lower()
    assert "authorization" in allowed and "content-type" in allowed
    assert r.headers["vary"].lower().count("origin") >= 1

    r = cors_client.options(
        "/flights", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"}
    )
    assert r.status_code == 400
    assert "access-control-allow-origin" not in r.headers
    r = cors_client.options(
        "/flights", headers={"Origin": "https://book.example", "Access-Control-Request-Method": "PUT"}
    )
    assert r.status_code == 400

    r = cors_client.get("/flights", headers={"Origin": "https://book.example"})
    assert r.headers["access-control-allow-origin"] == "https://book.example"
    assert "x-request-id" in r.headers["access-control-expose-headers"].lower()
    r = cors_client.get("/flights", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in r.headers
    # Even a refused oversized body carries the header, so the browser can show the 413.
    r = cors_client.post(
        "/auth/register", content=b" " * 70_000, headers={**JSON, "Origin": "https://book.example"}
    )
    assert r.status_code == 413
    assert r.headers["access-control-allow-origin"] == "https://book.example"


def test_a_value_the_database_refuses_is_a_422_not_a_500(db_url: str) -> None:
    """The last line of defence behind validation: the database's DataError becomes a 422 that does
    not repeat the database's message (which would quote the value)."""
    import sqlalchemy as sa

    app = create_app(make_settings(db_url))

    @app.get("/refused")
    def refused() -> None:
        raise sa.exc.DataError("INSERT …", {"name": "x\x00"}, ValueError("NUL (0x00) in 'x\x00'"))

    with TestClient(app) as client:
        r = client.get("/refused")
    assert r.status_code == 422
    assert r.json() == {"detail": "a value in the request cannot be stored"}
