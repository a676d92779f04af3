"""decode_access_token remembers verified tokens, yet expiry and the key still decide every use."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt
import pytest

from app.core import security

KEY = "k" * 40
OTHER_KEY = "o" * 40


@pytest.fixture(autouse=True)
def empty_cache() -> None:
    security._VERIFIED.clear()


def test_a_verified_token_is_answered_from_the_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    token = security.create_access_token("7", KEY, 5)
    assert security.decode_access_token(token, KEY) == "7"
    calls: list[str] = []
    monkeypatch.setattr(security.jwt, "decode", lambda *a, **k: calls.append("decode"))
    assert security.decode_access_token(token, KEY) == "7"
    assert calls == []


def test_a_cached_token_stops_working_when_it_expires(monkeypatch: pytest.MonkeyPatch) -> None:
    issued = datetime.now(UTC)
    token = security.create_access_token("7", KEY, 5, now=issued)
    assert security.decode_access_token(token, KEY) == "7"
    expiry = (issued + timedelta(minutes=5)).timestamp()
    monkeypatch.setattr(security.time, "time", lambda: expiry)  # PyJWT: expired once exp <= now
    asked: list[str] = []

    def pyjwt_at_expiry(*args: object, **kwargs: object) -> None:
        asked.append(str(args[0]))
        raise jwt.ExpiredSignatureError("Signature has expired")

    monkeypatch.setattr(security.jwt, "decode", pyjwt_at_expiry)
    with pytest.raises(jwt.ExpiredSignatureError):
        security.decode_access_token(token, KEY)
    assert asked == [token]  # the cache did not answer: PyJWT decided


def test_another_key_never_matches_a_cached_token() -> None:
    token = security.create_access_token("7", KEY, 5)
    assert security.decode_access_token(token, KEY) == "7"
    with pytest.raises(jwt.InvalidSignatureError):
        security.decode_access_token(token, OTHER_KEY)


def test_an_expired_token_is_refused_and_not_remembered() -> None:
    token = security.create_access_token("7", KEY, 5, now=datetime.now(UTC) - timedelta(minutes=10))
    with pytest.raises(jwt.ExpiredSignatureError):
        security.decode_access_token(token, KEY)
    assert security._VERIFIED == {}


def test_the_cache_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(security, "_VERIFIED_MAX", 3)
    for subject in range(10):
        security.decode_access_token(security.create_access_token(str(subject), KEY, 5), KEY)
        assert len(security._VERIFIED) <= 3
