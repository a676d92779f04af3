"""Error bodies that are safe to send back, whatever the client sent.

A 422 names the field and says what is wrong; it never echoes a password or token, and of any other
input at most a short prefix. Every string that goes back is made encodable (a lone surrogate in a
JSON string decodes fine in Python but cannot be written as UTF-8) and every number finite (JSON has
no NaN), so the error path cannot crash on the input it reports.
"""

from __future__ import annotations

import logging
import math
import re
from typing import Any

import sqlalchemy as sa
from fastapi import FastAPI, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger("booking.errors")

# How much of a rejected value a 422 may repeat, so the client can tell which value was meant.
ECHO_PREFIX_CHARS = 16
MAX_MESSAGE_CHARS = 200
MAX_ERRORS = 20
# Field names whose values are never echoed (credentials, whatever their position in the body).
SECRET_FIELDS = frozenset(
    {"password", "new_password", "token", "access_token", "refresh_token", "client_secret", "authorization"}
)
_SURROGATES = re.compile("[\ud800-\udfff]")


def safe_text(value: str, limit: int | None = None) -> str:
    """`value` with lone surrogates replaced (U+FFFD) and cut to `limit` characters (marked with …)."""
    if limit is not None and len(value) > limit:
        value = value[:limit] + "…"
    return _SURROGATES.sub("\ufffd", value)


def _echo(value: Any) -> Any:
    """A short, encodable stand-in for a rejected input value."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value if value.bit_length() <= 64 else f"<integer of {value.bit_length()} bits>"
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, str):
        return safe_text(value, ECHO_PREFIX_CHARS)
    if isinstance(value, dict):
        return f"<object with {len(value)} keys>"
    if isinstance(value, list | tuple):
        return f"<array of {len(value)} items>"
    return safe_text(str(value), ECHO_PREFIX_CHARS)


def _is_secret(loc: tuple[Any, ...]) -> bool:
    return any(isinstance(part, str) and part.lower() in SECRET_FIELDS for part in loc)


def safe_validation_errors(errors: Any) -> list[dict[str, Any]]:
    """Pydantic/FastAPI error dicts reduced to `type`, `loc`, `msg` and a safe `input` prefix."""
    out: list[dict[str, Any]] = []
    for error in list(errors)[:MAX_ERRORS]:
        loc = tuple(error.get("loc", ()))
        item: dict[str, Any] = {
            "type": str(error.get("type", "value_error")),
            "loc": [part if isinstance(part, int) else safe_text(str(part), 64) for part in loc],
            "msg": safe_text(str(error.get("msg", "invalid value")), MAX_MESSAGE_CHARS),
        }
        if "input" in error and not _is_secret(loc):
            item["input"] = _echo(error["input"])
        ctx = error.get("ctx")
        if isinstance(ctx, dict):
            # Limits such as max_length or pattern help the client; the `error` object is not data.
            simple = {
                k: (safe_text(v, MAX_MESSAGE_CHARS) if isinstance(v, str) else v)
                for k, v in ctx.items()
                if isinstance(v, str | int) and not isinstance(v, bool)
            }
            if simple:
                item["ctx"] = simple
        out.append(item)
    return out


def install_error_handlers(application: FastAPI) -> None:
    @application.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse(
            {"detail": safe_validation_errors(exc.errors())},
            status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
        )

    @application.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail
        if isinstance(detail, str):
            detail = safe_text(detail, 1000)
        return JSONResponse({"detail": detail}, status_code=exc.status_code, headers=exc.headers)

    @application.exception_handler(sa.exc.DataError)
    async def unstorable(request: Request, exc: sa.exc.DataError) -> JSONResponse:
        # A last line of defence: validation should have refused the value already.
        log.warning("database refused a value: %s", type(exc.orig).__name__)
        return JSONResponse(
            {"detail": "a value in the request cannot be stored"},
            status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
        )
