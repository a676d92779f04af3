"""Registration, login and the bearer token, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher, Type

from app.core import security
from tests.app.conftest import JWT_SECRET, PRODUCTION_HASHER, Api


def test_register_login_me(api: Api) -> None:
    r = api.client.post("/auth/register", json={"email": "Ann@Example.com", "password": "s3cret-pass"})
    assert r.status_code == 201
    assert r.json() == {"id": r.json()["id"], "email": "ann@example.com", "is_admin": False}
    assert "password" not in r.text

    token = api.client.post("/auth/token", data={"username": "ann@example.com", "password": "s3cret-pass"})
    assert token.status_code == 200
    assert token.json()["token_type"] == "bearer"
    me = api.client.get("/auth/me", headers={"Authorization": f"Bearer {token.json()['access_token']}"})
    assert me.status_code == 200
    assert me.json()["email"] == "ann@example.com"


def test_duplicate_email_is_409(api: Api) -> None:
    api.user("dup@example.com")
    r = api.client.post("/auth/register", json={"email": "DUP@example.com", "password": "another-pass"})
    assert r.status_code == 409
    assert "already registered" in r.json()["detail"]


def test_bad_registration_input_names_the_field(api: Api) -> None:
    r = api.client.post("/auth/register", json={"email": "not-an-email", "password": "long-enough"})
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["body", "email"]
    r = api.client.post("/auth/register", json={"email": "short@example.com", "password": "short"})
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["body", "password"]


def test_wrong_password_and_unknown_user_are_401(api: Api) -> None:
    api.user("bob@example.com", password="right-password")
    for username, password in [("bob@example.com", "wrong-password"), ("nobody@example.com", "whatever1")]:
        r = api.client.post("/auth/token", data={"username": username, "password": password})
        assert r.status_code == 401
        assert r.json()["detail"] == "incorrect email or password"


def test_me_needs_a_valid_unexpired_token(api: Api) -> None:
    assert api.client.get("/auth/me").status_code == 401
    assert api.client.get("/auth/me", headers={"Authorization": "Bearer garbage"}).status_code == 401
    api.user("carol@example.com")
    expired = security.create_access_token("1", JWT_SECRET, 5, now=datetime.now(UTC) - timedelta(minutes=10))
    assert api.client.get("/auth/me", headers={"Authorization": f"Bearer {expired}"}).status_code == 401
    forged = security.create_access_token("1", "some-other-secret-of-good-length", 5)
    assert api.client.get("/auth/me", headers={"Authorization": f"Bearer {forged}"}).status_code == 401


def test_passwords_are_stored_as_argon2id(api: Api) -> None:
    hashed = security.hash_password("pw-123456")
    assert hashed.startswith("$argon2id$")
    assert security.verify_password(hashed, "pw-123456")
    assert not security.verify_password(hashed, "pw-1234567")
    assert not security.verify_password(None, "pw-123456")


def test_production_hasher_uses_argon2_defaults() -> None:
    # The tests swap in a cheap hasher; the module's own is argon2-cffi's recommended profile.
    assert PRODUCTION_HASHER.type is Type.ID
    assert PRODUCTION_HASHER.time_cost == PasswordHasher().time_cost
    assert PRODUCTION_HASHER.memory_cost == PasswordHasher().memory_cost >= 65536
