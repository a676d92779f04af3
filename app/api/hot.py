"""Answer the two hot requests before routing, when they are a plain success.

Routing and dependency solving cost more than the rest of a seat-map request (FastAPI matches the
routes of every router in order, then solves each parameter). This middleware sits inside the request
logging (same access-log line and metrics, under the same route template) and on PostgreSQL answers:
- `GET /flights/{id}/seats` for an existing flight, with the body the endpoint builds (`hot_seat_map`)
  and the same ETag / 304 handling (`conditional`);
- `POST /bookings` with a valid bearer token, a valid `BookingCreate` JSON body for a `flight_id`
  and the booking made by `book_hot` (one statement; see app/hotsql.py).
Everything else goes through the normal route, which answers exactly as before: SQLite, invalid input
(401/422), a 404, a booking the statement declined (the route then skips straight to the full rules),
and database errors, which the route re-raises so the app's handlers answer them (503 + Retry-After)
without a second attempt.
"""

from __future__ import annotations

import re
from types import SimpleNamespace
from typing import Any

import jwt
from pydantic import ValidationError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.conditional import conditional
from app.api.routes.bookings import IDEMPOTENCY_KEY_PATTERN, book_hot, request_fingerprint
from app.api.routes.flights import hot_seat_map
from app.core.hotstate import HOT_DECLINED, HOT_ERROR
from app.core.security import decode_access_token
from app.schemas import MAX_ID, BookingCreate

_SEAT_MAP = re.compile(r"^/flights/([1-9][0-9]{0,18})/seats$")
# What the access log and metrics label requests by (scope["route"].path), as the router would set.
_SEAT_MAP_ROUTE = SimpleNamespace(path="/flights/{flight_id}/seats")
_BOOKINGS_ROUTE = SimpleNamespace(path="/bookings")
_IDEMPOTENCY_KEY = re.compile(IDEMPOTENCY_KEY_PATTERN)
_MAX_BODY = 64 * 1024  # a booking body is < 3 KiB; anything bigger is the normal route's business
_JSON = b"application/json"


class HotPaths:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            hot = scope["app"].state.hot_db
            if hot is not None and scope["method"] == "GET":
                match = _SEAT_MAP.match(scope["path"])
                if match and int(match.group(1)) <= MAX_ID and await self._seat_map(hot, scope, send, match):
                    return
            elif hot is not None and scope["method"] == "POST" and scope["path"] == "/bookings":
                handed_on = await self._booking(hot, scope, receive, send)
                if handed_on is None:
                    return
                receive = handed_on
        await self.app(scope, receive, send)

    async def _seat_map(self, hot: Any, scope: Scope, send: Send, match: re.Match[str]) -> bool:
        try:
            found = await hot_seat_map(hot, int(match.group(1)))
        except Exception as exc:
            scope.setdefault("state", {})[HOT_ERROR] = exc
            return False
        if found is None:
            return False
        scope["route"] = _SEAT_MAP_ROUTE
        if_none_match = [v.decode("latin-1") for k, v in scope["headers"] if k == b"if-none-match"]
        status, headers, content = conditional(", ".join(if_none_match) or None, *found)
        extra = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
        await _respond(send, status, content, extra)
        return True

    async def _booking(self, hot: Any, scope: Scope, receive: Receive, send: Send) -> Receive | None:
        """None when answered; else the `receive` to hand on (it replays the body already read)."""
        messages: list[Message] = []
        size = 0
        while True:
            message = await receive()
            messages.append(message)
            size += len(message.get("body", b""))
            if message["type"] != "http.request" or not message.get("more_body") or size > _MAX_BODY:
                break
        replay = _replaying(messages, receive)
        headers = _headers(scope)
        if messages[-1]["type"] != "http.request" or messages[-1].get("more_body") or headers is None:
            return replay
        auth, key = headers.get(b"authorization"), headers.get(b"idempotency-key")
        if (
            auth is None
            or auth[:7].lower() != "bearer "
            or headers.get(b"content-type") != "application/json"
        ):
            return replay
        if key is not None and not (len(key) <= 255 and _IDEMPOTENCY_KEY.match(key)):
            return replay
        try:
            user_id = int(decode_access_token(auth[7:], scope["app"].state.jwt_secret))
            body = BookingCreate.model_validate_json(b"".join(m.get("body", b"") for m in messages))
        except (jwt.PyJWTError, ValueError, ValidationError):
            return replay
        if body.flight_id is None:
            return replay
        try:
            created = await book_hot(hot, user_id, body, key, request_fingerprint(body))
        except Exception as exc:
            scope.setdefault("state", {})[HOT_ERROR] = exc
            return replay
        if created is None:
            scope.setdefault("state", {})[HOT_DECLINED] = True
            return replay
        scope["route"] = _BOOKINGS_ROUTE
        await _respond(send, 201, created)
        return None


def _headers(scope: Scope) -> dict[bytes, str] | None:
    """The request's headers, or None when one of interest repeats (the normal route decides then)."""
    seen: dict[bytes, str] = {}
    for name, value in scope["headers"]:
        if name in (b"authorization", b"idempotency-key", b"content-type"):
            if name in seen:
                return None
            seen[name] = value.decode("latin-1")
    if b"content-type" in seen:
        seen[b"content-type"] = seen[b"content-type"].split(";")[0].strip().lower()
    return seen


def _replaying(messages: list[Message], receive: Receive) -> Receive:
    pending = list(messages)

    async def replay() -> Message:
        return pending.pop(0) if pending else await receive()

    return replay


async def _respond(
    send: Send, status: int, body: bytes, extra: list[tuple[bytes, bytes]] | None = None
) -> None:
    if status == 304:  # no body, no content headers (as Starlette's Response(status_code=304))
        headers = extra or []
    else:
        headers = [(b"content-length", str(len(body)).encode()), (b"content-type", _JSON), *(extra or [])]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
