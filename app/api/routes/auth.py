from __future__ import annotations

from typing import Annotated

import sqlalchemy as sa
from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.security import OAuth2PasswordRequestForm

from app.api.deps import CurrentUser, SessionDep, SettingsDep
from app.core.security import create_access_token, hash_password, verify_password
from app.models import User
from app.schemas import Token, UserCreate, UserOut, has_unstorable_chars

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post("/register", status_code=status.HTTP_201_CREATED, response_model=UserOut)
def register(body: UserCreate, session: SessionDep) -> User:
    user = User(email=body.email.lower(), hashed_password=hash_password(body.password), is_admin=False)
    session.add(user)
    try:
        session.commit()
    except sa.exc.IntegrityError:
        session.rollback()
        raise HTTPException(status.HTTP_409_CONFLICT, detail="email is already registered") from None
    return user


def expects_form(request: Request) -> None:
    """A JSON body gets told what this endpoint wants instead of a list of missing form fields."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "application/json" or content_type.endswith("+json"):
        raise HTTPException(
            status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
            detail="POST /auth/token expects an OAuth2 password form, not JSON: send "
            "Content-Type: application/x-www-form-urlencoded with username=<email>&password=<password>",
        )


INCORRECT_LOGIN = "incorrect email or password"


@router.post("/token", response_model=Token, dependencies=[Depends(expects_form)])
def token(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    session: SessionDep,
    settings: SettingsDep,
    request: Request,
) -> Token:
    """OAuth2 password flow: form fields `username` (the email) and `password`."""
    unauthorized = HTTPException(
        status.HTTP_401_UNAUTHORIZED, detail=INCORRECT_LOGIN, headers={"WWW-Authenticate": "Bearer"}
    )
    if has_unstorable_chars(form.username) or has_unstorable_chars(form.password):
        # No account can have such an email or password (registration refuses them).
        raise unauthorized
    user = session.scalar(sa.select(User).where(User.email == form.username.lower()))
    if not verify_password(user.hashed_password if user else None, form.password) or user is None:
        raise unauthorized
    access = create_access_token(str(user.id), request.app.state.jwt_secret, settings.JWT_TTL_MINUTES)
    return Token(access_token=access, expires_in=settings.JWT_TTL_MINUTES * 60)


@router.get("/me", response_model=UserOut)
def me(user: CurrentUser) -> User:
    return user
