"""The async PostgreSQL pool behind the hot paths (seat map, booking POST).

Sized to the worker's concurrency with no overflow: the sync engine's 5 + 10 overflow connections
were closed on return, so a loaded worker opened a new PostgreSQL backend (fork + SCRAM) every few
requests. Here every connection is opened once and reused. Connections run in autocommit, so a
hot-path request is one statement, one round trip (no pre-ping, BEGIN or COMMIT).

Same guarantees as the sync engine (app/core/db.py): connect and statement timeouts, TCP keepalives,
and with DB_SECRET_ARN the credentials come from Secrets Manager and are re-read once when
PostgreSQL rejects them (RDS rotation). SQLite has no async pool: its hot paths use the sync code.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import psycopg
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from app.core.config import Settings
from app.core.db import SecretCredentials, _is_auth_failure, database_url, libpq_options
from app.hotsql import HOT_SESSION_OPTIONS

log = logging.getLogger("booking.db")

__all__ = ["AsyncDatabase", "PoolTimeout"]


def connect_kwargs(settings: Settings) -> dict[str, Any]:
    """libpq parameters shared with the sync engine (bounded connects, statements and lock waits), plus
    the hot statements' session settings (generic plans: app/hotsql.py)."""
    url = database_url(settings)
    options = libpq_options(settings)
    kwargs: dict[str, Any] = {
        "host": url.host,
        "port": url.port or 5432,
        "dbname": url.database,
        "user": url.username,
        "password": url.password,
        **options,
        "options": f"{options['options']} {HOT_SESSION_OPTIONS}",
        "sslmode": url.query.get("sslmode", settings.DB_SSLMODE),
        "autocommit": True,
    }
    return {k: v for k, v in kwargs.items() if v is not None}


class AsyncDatabase:
    """One pool per event loop (one per worker in production; TestClient may start several loops)."""

    def __init__(self, settings: Settings, credentials: SecretCredentials | None) -> None:
        self.settings = settings
        self.credentials = credentials
        self.size = settings.DB_POOL_SIZE
        # Waiting for a free connection is bounded like a connect: an outage becomes a 503 quickly.
        self.timeout = min(settings.DB_POOL_TIMEOUT_SECONDS, 2 * settings.DB_CONNECT_TIMEOUT_SECONDS + 1)
        self._kwargs = connect_kwargs(settings)
        self._pool: AsyncConnectionPool[psycopg.AsyncConnection[Any]] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def _credentials(self, rejected: tuple[str, str] | None = None) -> dict[str, Any]:
        if self.credentials is None:
            return {}
        if rejected is None:
            user, password = await asyncio.to_thread(self.credentials.get)
        else:
            user, password = await asyncio.to_thread(self.credentials.refreshed, rejected)
        return {"user": user, "password": password}

    def _connection_class(self) -> type[psycopg.AsyncConnection[Any]]:
        database = self

        class Connection(psycopg.AsyncConnection[Any]):
            @classmethod
            async def connect(cls, conninfo: str = "", **kwargs: Any) -> Any:
                kwargs = {**kwargs, **database._kwargs, **await database._credentials()}
                try:
                    return await super().connect(conninfo, **kwargs)
                except psycopg.OperationalError as exc:
                    if database.credentials is None or not _is_auth_failure(exc):
                        raise
                    log.warning("database rejected cached credentials; re-reading the secret")
                    rejected = (kwargs["user"], kwargs["password"])
                    kwargs.update(await database._credentials(rejected))
                    return await super().connect(conninfo, **kwargs)

        return Connection

    async def pool(self) -> AsyncConnectionPool[psycopg.AsyncConnection[Any]]:
        loop = asyncio.get_running_loop()
        if self._pool is None or self._loop is not loop:
            pool: AsyncConnectionPool[psycopg.AsyncConnection[Any]] = AsyncConnectionPool(
                min_size=self.size,
                max_size=self.size,
                open=False,
                timeout=self.timeout,
                connection_class=self._connection_class(),
                name="booking-hot",
                # No pre-ping: a connection broken while idle fails its statement (503, and the pool
                # replaces it) rather than every request paying a round trip for the check.
                check=None,
            )
            await pool.open(wait=False)
            self._pool, self._loop = pool, loop
        return self._pool

    async def close(self) -> None:
        if self._pool is not None and self._loop is asyncio.get_running_loop():
            await self._pool.close()
        self._pool = self._loop = None
