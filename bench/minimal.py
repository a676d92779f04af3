"""The Python ceiling: a bare ASGI app (no framework), the booking API's driver, pool and statements
(app/core/asyncdb.py, app/hotsql.py), served like the API.

- GET /flights/{id}/seats: SEAT_MAP_SQL and the API's JSON body builder.
- POST /bookings: BOOK_SQL with the parameters the API sends and the same 201 body, but no token check,
  no validation and no fallback to the full rules: the user is MINIMAL_USER_ID, the body is trusted.
  It is the least Python can do per booking on this driver, not something to deploy."""

from __future__ import annotations

import hashlib
import os
from typing import Any

import orjson

from app.api.routes.bookings import book_params, booked_body
from app.api.routes.flights import seat_map_body
from app.core.asyncdb import AsyncDatabase
from app.core.config import Settings
from app.hotsql import BOOK, SEAT_MAP
from app.models import utcnow

hot = AsyncDatabase(Settings(), None)
JSON = [(b"content-type", b"application/json")]
USER_ID = int(os.environ.get("MINIMAL_USER_ID", "0"))


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        await receive()  # lifespan.startup
        hot.open()
        await send({"type": "lifespan.startup.complete"})
        await receive()  # lifespan.shutdown
        await hot.close()
        await send({"type": "lifespan.shutdown.complete"})
        return
    if scope["method"] == "POST" and scope["path"] == "/bookings":
        await book(scope, receive, send)
        return
    parts = scope["path"].split("/")  # /flights/{id}/seats
    row = None
    if len(parts) == 4 and parts[1] == "flights" and parts[3] == "seats" and parts[2].isdigit():
        async with hot.connection() as conn:
            args = SEAT_MAP.args({"flight_id": int(parts[2]), "now": utcnow()})
            row = await conn.fetchrow(SEAT_MAP.sql, *args)
    if row is None:
        await send({"type": "http.response.start", "status": 404, "headers": JSON})
        await send({"type": "http.response.body", "body": b'{"detail":"not found"}'})
        return
    await send({"type": "http.response.start", "status": 200, "headers": JSON})
    await send(
        {"type": "http.response.body", "body": seat_map_body(int(parts[2]), row[3], row[0], row[1], row[2])}
    )


async def book(scope: dict[str, Any], receive: Any, send: Any) -> None:
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    request = orjson.loads(body)
    key = next((v.decode() for k, v in scope["headers"] if k == b"idempotency-key"), None)
    seats = [p["seat"] for p in request["passengers"]]
    names = [p["name"].strip() for p in request["passengers"]]
    fingerprint = hashlib.sha256(body).hexdigest()
    params = book_params(USER_ID, request["flight_id"], key, seats, names, fingerprint)
    async with hot.connection() as conn:
        row = await conn.fetchrow(BOOK.sql, *BOOK.args(params))
    if row is None:
        await send({"type": "http.response.start", "status": 409, "headers": JSON})
        await send({"type": "http.response.body", "body": b'{"detail":"not booked"}'})
        return
    await send({"type": "http.response.start", "status": 201, "headers": JSON})
    await send({"type": "http.response.body", "body": booked_body(params, row[0], row[1])})
