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
import contextlib
import logging
import socket
from collections import deque
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


class AsyncDatabase:
    """The hot paths' pool: up to DB_POOL_SIZE asyncpg connections per event loop (one loop per worker
    in production; TestClient may start several).

    Not asyncpg's Pool: its acquire and release cost ~46 us of CPU per statement, more than the
    statement itself (~33 us with TLS), against ~5 us here (bench/pool_cost.py): a task per release
    (asyncio.shield), two timeouts, a queue, a proxy object, and by default a reset (`RESET ALL` and
    more: a second round trip). A hot statement changes no session state, so a connection goes back
    as it came, unless its statement failed in a way that may leave it out of step (below)."""

    def __init__(self, settings: Settings, credentials: SecretCredentials | None) -> None:
        self.settings = settings
        self.credentials = credentials
        self.size = settings.DB_POOL_SIZE
        # Waiting for a free connection is bounded like a connect: an outage becomes a 503 quickly.
        self.timeout = min(settings.DB_POOL_TIMEOUT_SECONDS, 2 * settings.DB_CONNECT_TIMEOUT_SECONDS + 1)
        self._kwargs = connect_kwargs(settings)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._gate: asyncio.Semaphore | None = None
        self._idle: deque[asyncpg.Connection] = deque()
        self._open: set[asyncpg.Connection] = set()
        self._filling: asyncio.Task[None] | None = None
        self._retiring: set[asyncio.Task[None]] = set()

    async def _credentials(self, rejected: tuple[str, str] | None = None) -> dict[str, Any]:
        if self.credentials is None:
            return {}
        if rejected is None:
            user, password = await asyncio.to_thread(self.credentials.get)
        else:
            user, password = await asyncio.to_thread(self.credentials.refreshed, rejected)
        return {"user": user, "password": password}

    async def connect(self) -> asyncpg.Connection:
        """A new connection, re-reading the secret once if it is rejected."""
        kwargs = {**self._kwargs, **await self._credentials()}
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

    def open(self) -> None:
        """Start opening the connections, in the background (also done by the first request)."""
        self._bind()

    def _bind(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        if self._gate is None or self._loop is not loop:
            # Connections open on first use, so a database that is down at start-up costs 503s, not
            # a worker that cannot start. All of them open then, in the background: a burst later
            # would otherwise wait for connects (fork, TLS, SCRAM) in the middle of its traffic.
            # Requests get in through a semaphore as large as the pool: its waiters are served in
            # order (first come, first served), and whoever gets in finds a connection or a free slot.
            self._loop, self._gate = loop, asyncio.Semaphore(self.size)
            self._idle, self._open = deque(), set()
            self._filling = loop.create_task(self._fill())
        return self._gate

    async def _acquire(self) -> asyncpg.Connection:
        """A connection, waiting in line for at most `timeout` seconds (connecting included)."""
        gate = self._bind()
        deadline = None
        if gate.locked():
            deadline = asyncio.get_running_loop().time() + self.timeout
            async with asyncio.timeout_at(deadline):
                await gate.acquire()
        else:
            await gate.acquire()  # a free slot: returns without waiting (and without a timer)
        while self._idle:
            conn = self._idle.pop()
            if not conn.is_closed():
                return conn
            self._open.discard(conn)
        try:
            async with asyncio.timeout_at(deadline or asyncio.get_running_loop().time() + self.timeout):
                conn = await self.connect()
        except BaseException:
            gate.release()
            raise
        self._open.add(conn)
        return conn

    def _release(self, conn: asyncpg.Connection, reusable: bool = True) -> None:
        """Back to the idle connections, or closed when it may be out of step with its server."""
        gate = self._gate
        if gate is None or self._loop is None or conn not in self._open:  # close() or another loop
            conn.terminate()
            return
        if reusable and not conn.is_closed() and not conn.is_in_transaction():
            self._idle.append(conn)
            gate.release()
            return
        self._open.discard(conn)
        if conn.is_closed():
            gate.release()
            return
        # Interrupted mid-statement: asyncpg is cancelling the statement on the server (a cancel
        # request on a second connection). Connection.close() lets that finish before it says goodbye,
        # so the backend stops working on it; terminate() would drop the cancel and leave the backend
        # running the statement until statement_timeout. The slot stays taken until then: never more
        # connections than the pool's size.
        retiring = self._loop.create_task(self._retire(conn, gate))
        self._retiring.add(retiring)
        retiring.add_done_callback(self._retiring.discard)

    async def _retire(self, conn: asyncpg.Connection, gate: asyncio.Semaphore) -> None:
        try:
            # Not in time, or the server is gone: close() has aborted the connection then.
            with contextlib.suppress(Exception):
                await conn.close(timeout=self.timeout)
        finally:
            gate.release()

    def connection(self) -> _Borrowed:
        """`async with db.connection() as conn`: a pooled connection for one statement;
        unavailability surfaces as DatabaseUnavailable."""
        return _Borrowed(self)

    async def _fill(self) -> None:
        """Connect every slot of the pool. A failure is left to the next request that needs the
        connection to report (and retry)."""
        held = await asyncio.gather(*(self._acquire() for _ in range(self.size)), return_exceptions=True)
        for conn in held:
            if isinstance(conn, asyncpg.Connection):
                self._release(conn)

    async def close(self) -> None:
        if self._gate is not None and self._loop is asyncio.get_running_loop():
            if self._filling is not None:
                await self._filling  # bounded by the pool timeout; cancelled, it would leak connections
            await asyncio.gather(*self._retiring)  # each bounded by the pool timeout
            idle, in_use = list(self._idle), self._open - set(self._idle)
            self._open = set()
            for conn in in_use:  # their requests are over (the server drained them) or stuck
                conn.terminate()
            for conn in idle:
                try:
                    await conn.close(timeout=self.timeout)
                except Exception:  # an unreachable server: drop it regardless
                    conn.terminate()
        self._loop = self._gate = self._filling = None
        self._idle, self._open = deque(), set()


class _Borrowed:
    """The context manager `AsyncDatabase.connection()` returns (a class rather than
    @asynccontextmanager: no generator to create and drive per statement)."""

    __slots__ = ("conn", "db")

    def __init__(self, db: AsyncDatabase) -> None:
        self.db = db

    async def __aenter__(self) -> asyncpg.Connection:
        try:
            self.conn: asyncpg.Connection = await self.db._acquire()
        except Exception as exc:
            unavailable = _unavailable(exc)
            if unavailable is None:
                raise
            raise unavailable from exc
        return self.conn

    async def __aexit__(self, _type: type[BaseException] | None, exc: BaseException | None, _tb: Any) -> None:
        # An error the server answered (a constraint, statement_timeout, ...) leaves the connection in
        # step: the server has sent ReadyForQuery. Anything else (cancelled or timed out mid-statement,
        # a broken socket, a client-side error) may not, so that connection is closed, not reused.
        self.db._release(self.conn, exc is None or isinstance(exc, asyncpg.PostgresError))
        if isinstance(exc, Exception) and (unavailable := _unavailable(exc)) is not None:
            raise unavailable from exc


def _unavailable(exc: Exception) -> DatabaseUnavailable | None:
    if not is_unavailable(exc):
        return None
    return DatabaseUnavailable(f"{type(exc).__name__}: {exc}".splitlines()[0])


def _set_keepalive(conn: asyncpg.Connection) -> None:
    # asyncpg has no keepalive parameters; the socket is its transport's (asyncio's "socket" extra).
    sock = conn._transport.get_extra_info("socket")
    if sock is None:
        return
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    for name, value in KEEPALIVE.items():
        if hasattr(socket, name):
            sock.setsockopt(socket.IPPROTO_TCP, getattr(socket, name), value)
