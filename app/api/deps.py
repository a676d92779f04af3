"""FastAPI dependencies: database session, settings, the current user and the admin check."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

import anyio
import jwt
from fastapi import Depends, HTTPException, Path, Query, Request, status
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.orm import Session

from app.core.config import Settings
from app.core.security import decode_access_token
from app.models import User
from app.schemas import MAX_ID, MAX_OFFSET

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/auth/token")


async def get_db(request: Request) -> AsyncIterator[Session]:
    """A session for the request; its connection goes back to the pool as soon as the work is done.

    Sync dependencies and endpoints run in the shared threadpool. If a request kept a connection
    while waiting for a thread to clean up, and every thread were waiting for a connection, the
    server would deadlock under load; so cleanup that must talk to the database runs on its own
    small limiter, and the current-user lookup ends its transaction before returning.
    """
    session: Session = request.app.state.sessionmaker()
    try:
        yield session
    finally:
        if session.in_transaction():
            await anyio.to_thread.run_sync(session.close, limiter=_cleanup_limiter(request))
        else:
            session.close()


def _cleanup_limiter(request: Request) -> anyio.CapacityLimiter:
    limiter: anyio.CapacityLimiter | None = getattr(request.app.state, "cleanup_limiter", None)
    if limiter is None:
        limiter = request.app.state.cleanup_limiter = anyio.CapacityLimiter(16)
    return limiter


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SessionDep = Annotated[Session, Depends(get_db)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
TokenDep = Annotated[str, Depends(oauth2_scheme)]


def unauthorized() -> HTTPException:
    return HTTPException(
        status_code=status.HTTP_401_UNAUTHORIZED,
        detail="invalid or expired access token",
        headers={"WWW-Authenticate": "Bearer"},
    )


async def token_user_id(request: Request, token: TokenDep) -> int:
    """The user id the access token names; whether that user still exists is the caller's check."""
    try:
        return int(decode_access_token(token, request.app.state.jwt_secret))
    except (jwt.PyJWTError, ValueError):
        raise unauthorized() from None


TokenUserId = Annotated[int, Depends(token_user_id)]


def get_current_user(session: SessionDep, user_id: TokenUserId) -> User:
    user = session.get(User, user_id)
    # Release the connection now rather than hold it until the endpoint gets a thread.
    session.commit()
    if user is None:
        raise unauthorized()
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]


def get_admin_user(user: CurrentUser) -> User:
    if not user.is_admin:
        raise HTTPException(status_code=status.HTTP_403_FORBIDDEN, detail="admin only")
    return user


AdminUser = Annotated[User, Depends(get_admin_user)]


FlightId = Annotated[int, Path(ge=1, le=MAX_ID, description="flight id")]
BookingId = Annotated[int, Path(ge=1, le=MAX_ID, description="booking id")]
HoldId = Annotated[str, Path(min_length=1, max_length=36, description="hold id")]
Limit = Annotated[int, Query(ge=1, le=100)]
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET)]
