"""Password hashing (argon2id) and access tokens (JWT, HS256, with expiry)."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from functools import lru_cache

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

JWT_ALGORITHM = "HS256"

# argon2-cffi's defaults (argon2id, RFC 9106 low-memory profile). Tests swap in a cheaper hasher.
password_hasher = PasswordHasher()
# Each hash takes 64 MiB: without a cap, a burst of logins on the 40-thread pool would need gigabytes
# and get a small Fargate task OOM-killed. Extra logins queue here instead.
_hashing_slots = threading.BoundedSemaphore(2)


def hash_password(password: str) -> str:
    with _hashing_slots:
        return password_hasher.hash(password)


@lru_cache
def _dummy_hash() -> str:
    return password_hasher.hash("not-a-real-password")


def verify_password(hashed: str | None, password: str) -> bool:
    """True when `password` matches; an unknown user costs the same time as a wrong password."""
    against = hashed or _dummy_hash()
    try:
        with _hashing_slots:
            return password_hasher.verify(against, password) and hashed is not None
    except (VerificationError, InvalidHashError):
        return False


def create_access_token(subject: str, secret: str, ttl_minutes: int, now: datetime | None = None) -> str:
    issued = now or datetime.now(UTC)
    claims = {"sub": subject, "iat": issued, "exp": issued + timedelta(minutes=ttl_minutes)}
    return jwt.encode(claims, secret, algorithm=JWT_ALGORITHM)


# Tokens whose signature this process has verified: (token, key) -> (subject, exp). A client sends
# the same token with every request until it expires, and PyJWT's decode (key checks, base64, two JSON
# parses, HMAC) was the largest part of a booking's CPU. Expiry is still checked on every use; a
# different key (rotation) never matches an entry. Bounded: cleared when full.
_VERIFIED: dict[tuple[str, str], tuple[str, float]] = {}
_VERIFIED_MAX = 4096


def decode_access_token(token: str, secret: str) -> str:
    """The token's subject; raises jwt.PyJWTError when it is invalid or expired."""
    known = _VERIFIED.get((token, secret))
    # PyJWT's own rule without leeway: expired once `exp <= now`.
    if known is not None and time.time() < known[1]:
        return known[0]
    claims = jwt.decode(token, secret, algorithms=[JWT_ALGORITHM], options={"require": ["exp", "sub"]})
    subject = str(claims["sub"])
    if len(_VERIFIED) >= _VERIFIED_MAX:
        _VERIFIED.clear()
    _VERIFIED[(token, secret)] = (subject, float(claims["exp"]))
    return subject
