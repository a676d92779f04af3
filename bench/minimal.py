"""The Python ceiling for the seat map: a bare ASGI app (no framework), the booking API's driver, pool
and statement (app/hotsql.py SEAT_MAP_SQL) and the same JSON body builder, served like the API."""

from __future__ import annotations

from typing import Any

from psycopg_pool import AsyncConnectionPool

from app.api.routes.flights import seat_map_body
from app.core.asyncdb import connect_kwargs
from app.core.config import Settings
from app.hotsql import SEAT_MAP_SQL
from app.models import utcnow

settings = Settings()
pool: AsyncConnectionPool[Any] = AsyncConnectionPool(
    min_size=settings.DB_POOL_SIZE,
    max_size=settings.DB_POOL_SIZE,
    open=False,
    kwargs=connect_kwargs(settings),
)
JSON = [(b"content-type", b"application/json")]


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        await receive()  # lifespan.startup
        await pool.open()
        await send({"type": "lifespan.startup.complete"})
        await receive()  # lifespan.shutdown
        await pool.close()
        await send({"type": "lifespan.shutdown.complete"})
        return
    parts = scope["path"].split("/")  # /flights/{id}/seats
    row = None
    if len(parts) == 4 and parts[1] == "flights" and parts[3] == "seats" and parts[2].isdigit():
        async with pool.connection() as conn:
            cur = await conn.execute(SEAT_MAP_SQL, {"flight_id": int(parts[2]), "now": utcnow()})
            row = await cur.fetchone()
    if row is None:
        await send({"type": "http.response.start", "status": 404, "headers": JSON})
        await send({"type": "http.response.body", "body": b'{"detail":"not found"}'})
        return
    await send({"type": "http.response.start", "status": 200, "headers": JSON})
    await send(
        {"type": "http.response.body", "body": seat_map_body(int(parts[2]), row[3], row[0], row[1], row[2])}
    )
