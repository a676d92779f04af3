"""The async PostgreSQL pool behind the hot paths (seat map, booking POST), on asyncpg.

Sized to the worker's concurrency with no overflow: the sync engine's 5 + 10 overflow connections
were closed on return, so a loaded worker opened a new PostgreSQL backend (fork + SCRAM) every few
requests. Here every connection is opened once and reused, and a hot-path request is one statement,
one round trip (no pre-ping, BEGIN, COMMIT or reset). asyncpg rather than psycopg because its client
side costs less CPU per statement: measured in docs/benchmark-hot-paths.md.

Same guarantees as the sync engine (app/core/db.py): connect and statement timeouts, TCP keepalives,
and with DB_SECRET_ARN the credentials come from Secrets Manager and are re-read once when
PostgreSQL rejects them (RDS rotation). Errors that mean "the database is unavailable" (the ones
psycopg calls OperationalError, plus refused, broken and timed-out connections) become
DatabaseUnavailable, which the app answers with a 503 + Retry-After, like the sync engine's.
SQLite has no async pool: its hot paths use the sync code.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import psycopg

from app.core.config import Settings
from app.core.db import (
    APPLICATION_NAME,
    KEEPALIVE_COUNT,
    KEEPALIVE_IDLE,
    KEEPALIVE_INTERVAL,
    DatabaseUnavailable,
    SecretCredentials,
    _is_auth_failure,
    database_url,
    session_settings,
    unanswered_limit_ms,
)
from app.hotsql import HOT_SESSION_SETTINGS

log = logging.getLogger("booking.db")

__all__ = ["AsyncDatabase", "connect_kwargs", "is_unavailable"]

# A database that vanishes while a connection is idle (failover, black-holed network): the kernel
# notices after idle + interval x count seconds and the connection is closed, so the pool opens a new
# one instead of handing out a dead one. The sync engine sets the same through libpq's keepalives_*.
KEEPALIVE = {
    "TCP_KEEPIDLE": KEEPALIVE_IDLE,
    "TCP_KEEPINTVL": KEEPALIVE_INTERVAL,
    "TCP_KEEPCNT": KEEPALIVE_COUNT,
}


def connect_kwargs(settings: Settings) -> dict[str, Any]:
    """asyncpg.connect() arguments: the sync engine's timeouts and session settings, plus the hot
    statements' (generic plans: app/hotsql.py)."""
    url = database_url(settings)
    kwargs: dict[str, Any] = {
        "host": url.host,
        "port": url.port or 5432,
        "database": url.database,
        "user": url.username,
        "password": url.password,
        # asyncpg.connect: `ssl` takes libpq's sslmode names; `timeout` bounds the connect.
        "ssl": url.query.get("sslmode", settings.DB_SSLMODE),
        "timeout": settings.DB_CONNECT_TIMEOUT_SECONDS,
        # A client-side bound on every statement, for when the server cannot enforce its own
        # statement_timeout (gone mid-query): libpq's tcp_user_timeout in the sync engine.
        "command_timeout": unanswered_limit_ms(settings) / 1000,
        "server_settings": {
            "application_name": APPLICATION_NAME,
            **session_settings(settings),
            **HOT_SESSION_SETTINGS,
        },
    }
    return {k: v for k, v in kwargs.items() if v is not None}


def is_unavailable(exc: BaseException) -> bool:
    """Whether `exc` means the database cannot serve right now (503), by the sync engine's rule:
    the SQLSTATEs psycopg raises as OperationalError (connection, resources, operator intervention
    such as statement_timeout's query_canceled, lock timeouts, ...), and any failure to reach it."""
    if isinstance(exc, asyncpg.PostgresError):
        sqlstate = getattr(exc, "sqlstate", None) or ""
        try:
            kind = psycopg.errors.lookup(sqlstate)
        except KeyError:
            kind = psycopg.errors.get_base_exception(sqlstate)
        return issubclass(kind, psycopg.OperationalError)
    # Refused or reset (OSError), a connect, acquire or command timeout, a connection closed under us;
    # not asyncpg's client-side ValueErrors (an argument it cannot encode, a bad client setting).
    if isinstance(exc, asyncpg.InterfaceError):
        return not isinstance(exc, ValueError)
    return isinstance(exc, OSError | TimeoutError)


async def _keep_session(_conn: asyncpg.Connection) -> None:
    """The pool's reset on release: nothing. asyncpg's default sends `RESET ALL` (and more), a second
    round trip per request that would also drop the session settings; hot statements change none."""


class AsyncDatabase:
    """One pool per event loop (one per worker in production; TestClient may start several loops)."""

    def __init__(self, settings: Settings, credentials: SecretCredentials | None) -> None:
        self.settings = settings
        self.credentials = credentials
        self.size = settings.DB_POOL_SIZE
        # Waiting for a free connection is bounded like a connect: an outage becomes a 503 quickly.
        self.timeout = min(settings.DB_POOL_TIMEOUT_SECONDS, 2 * settings.DB_CONNECT_TIMEOUT_SECONDS + 1)
        self._kwargs = connect_kwargs(settings)
        self._pool: asyncpg.Pool | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._filling: asyncio.Task[None] | None = None
        self._gate: asyncio.Semaphore | None = None

    async def _credentials(self, rejected: tuple[str, str] | None = None) -> dict[str, Any]:
        if self.credentials is None:
            return {}
        if rejected is None:
            user, password = await asyncio.to_thread(self.credentials.get)
        else:
            user, password = await asyncio.to_thread(self.credentials.refreshed, rejected)
        return {"user": user, "password": password}

    async def connect(self, *_args: Any, **pool_kwargs: Any) -> asyncpg.Connection:
        """A new connection (the pool's `connect`), re-reading the secret once if it is rejected."""
        kwargs = {**pool_kwargs, **self._kwargs, **await self._credentials()}
        try:
            conn = await asyncpg.connect(**kwargs)
        except asyncpg.PostgresError as exc:
            if self.credentials is None or not _is_auth_failure(exc):
                raise
            log.warning("database rejected cached credentials; re-reading the secret")
            kwargs.update(await self._credentials((kwargs["user"], kwargs["password"])))
            conn = await asyncpg.connect(**kwargs)
        _set_keepalive(conn)
        return conn

    async def pool(self) -> asyncpg.Pool:
        loop = asyncio.get_running_loop()
        if self._pool is None or self._loop is not loop:
            # min_size 0: connections open on first use (as many as requests need, up to the size),
            # so a database that is down at start-up costs 503s, not a worker that cannot start.
            pool = asyncpg.create_pool(
                min_size=0,
                max_size=self.size,
                connect=self.connect,
                reset=_keep_session,
                # Kept open while idle, like the sync engine's pool (asyncpg's default closes them
                # after 300 s, and a quiet worker would then pay connects on its next burst).
                max_inactive_connection_lifetime=0,
            )
            await pool
            self._pool, self._loop, self._gate = pool, loop, asyncio.Semaphore(self.size)
            # Open them all now, in the background, as the first requests arrive: a burst later would
            # otherwise wait for connects (fork, TLS, SCRAM) in the middle of its traffic.
            self._filling = asyncio.create_task(self._fill())
        return self._pool

    async def _acquire(self) -> asyncpg.Connection:
        """A connection, waiting in line (first come, first served) for at most `timeout` seconds.

        asyncpg's pool hands a returned connection to whoever asks next, not to the request that has
        waited longest (an asyncio.Queue: a woken waiter that loses the race goes to the back), which
        with more requests than connections gave bookings a p99 of ~80 ms instead of ~35. The gate in
        front, an asyncio.Semaphore (its waiters are served in order), lets in only as many requests as
        there are connections, so the pool itself never has waiters."""
        pool = await self.pool()
        assert self._gate is not None
        async with asyncio.timeout(self.timeout):
            await self._gate.acquire()
            try:
                return await pool.acquire()
            except BaseException:
                self._gate.release()
                raise

    async def _release(self, conn: asyncpg.Connection) -> None:
        assert self._pool is not None and self._gate is not None
        try:
            await self._pool.release(conn)
        finally:
            self._gate.release()

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[asyncpg.Connection]:
        """A pooled connection for one statement; unavailability surfaces as DatabaseUnavailable."""
        try:
            conn = await self._acquire()
            try:
                yield conn
            finally:
                await self._release(conn)
        except Exception as exc:
            if is_unavailable(exc):
                raise DatabaseUnavailable(f"{type(exc).__name__}: {exc}".splitlines()[0]) from exc
            raise

    async def _fill(self) -> None:
        """Connect every slot of the pool. A failure is left to the next request that needs the
        connection to report (and retry)."""
        held = await asyncio.gather(*(self._acquire() for _ in range(self.size)), return_exceptions=True)
        for conn in held:
            if isinstance(conn, asyncpg.Connection):
                await self._release(conn)

    async def close(self) -> None:
        if self._pool is not None and self._loop is asyncio.get_running_loop():
            if self._filling is not None:
                # Let it finish (bounded by the pool timeout) rather than cancel it: cancelled, it
                # would keep the connections it had taken, and pool.close() waits for every one.
                await self._filling
            await self._pool.close()
        self._pool = self._loop = self._filling = self._gate = None


def _set_keepalive(conn: asyncpg.Connection) -> None:
    # asyncpg has no keepalive parameters; the socket is its transport's (asyncio's "socket" extra).
    sock = conn._transport.get_extra_info("socket")
    if sock is None:
        return
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    for name, value in KEEPALIVE.items():
        if hasattr(socket, name):
            sock.setsockopt(socket.IPPROTO_TCP, getattr(socket, name), value)
