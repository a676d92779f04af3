"""The hot paths' pool (app/core/asyncdb.py): which errors mean "unavailable" (503), a request that
waits for a connection is not overtaken by one that asks later, and which connections are reused."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import asyncpg
import pytest

from app.core.asyncdb import AsyncDatabase, is_unavailable
from app.core.db import APPLICATION_NAME, DatabaseUnavailable
from tests.app.conftest import make_settings
from tests.conftest import PgServer

T = TypeVar("T")
# The app's connections to this test's database (pg_stat_activity lists the whole server's).
BACKENDS = "SELECT pid FROM pg_stat_activity WHERE application_name = %s AND datname = current_database()"


@pytest.mark.parametrize(
    ("exc", "unavailable"),
    [
        (asyncpg.QueryCanceledError("statement timeout"), True),  # 57014: statement_timeout
        (asyncpg.LockNotAvailableError("lock timeout"), True),  # 55P03: lock_timeout
        (asyncpg.TooManyConnectionsError("too many"), True),  # 53300
        (asyncpg.AdminShutdownError("shutting down"), True),  # 57P01: failover, restart
        (asyncpg.ConnectionDoesNotExistError("closed mid-query"), True),  # 08003
        (asyncpg.InvalidPasswordError("password authentication failed"), True),  # 28P01
        (asyncpg.InterfaceError("connection is closed"), True),
        (ConnectionRefusedError(111, "refused"), True),
        (TimeoutError(), True),  # connect, acquire or command timeout
        (asyncpg.UniqueViolationError("duplicate key"), False),  # 23505: the full rules decide
        (asyncpg.InvalidTextRepresentationError("bad input"), False),  # 22P02: a bug, a 500
        (asyncpg.DataError("invalid input for query argument $1"), False),  # encoding an argument
        (ValueError("not a database error"), False),
    ],
)
def test_unavailable_follows_the_sync_engines_rule(exc: BaseException, unavailable: bool) -> None:
    """The SQLSTATEs psycopg raises as OperationalError (the sync engine's 503s), and unreachable."""
    assert is_unavailable(exc) is unavailable


@pytest.mark.postgres
def test_a_waiting_request_gets_the_connection_before_a_later_one(
    pg_server: PgServer, pg_template: str
) -> None:
    """With every connection busy, the request that has waited longest gets the next one returned,
    whenever a later request asks. A queue that gives a returned connection to whichever getter runs
    first (asyncpg's pool: an asyncio.Queue) lets a request whose turn came in the same loop iteration
    as the release take it and send the woken waiter to the back of the line."""
    url = pg_server.create_database("asyncdb_fifo", template=pg_template)
    hot = AsyncDatabase(make_settings(url, DB_POOL_SIZE=1), None)

    async def later(hops: int) -> asyncpg.Connection:
        for _ in range(hops):  # arrive that many loop iterations after the release began
            await asyncio.sleep(0)
        return await hot._acquire()

    async def scenario() -> list[int]:
        overtaken = []
        try:
            for hops in range(6):
                first = await hot._acquire()
                waiting = asyncio.create_task(hot._acquire())
                await asyncio.sleep(0.02)
                hot._release(first)
                late = asyncio.create_task(later(hops))
                done, _ = await asyncio.wait({waiting, late}, return_when=asyncio.FIRST_COMPLETED)
                if late in done:
                    overtaken.append(hops)
                for task in (*done, *({waiting, late} - done)):
                    hot._release(await task)
        finally:
            await hot.close()
        return overtaken

    assert asyncio.run(scenario()) == [], "a later request overtook the waiting one"


@pytest.mark.postgres
def test_a_statement_timeout_is_database_unavailable(pg_server: PgServer, pg_template: str) -> None:
    url = pg_server.create_database("asyncdb_timeout", template=pg_template)
    hot = AsyncDatabase(make_settings(url, DB_STATEMENT_TIMEOUT_MS=100), None)

    async def scenario() -> None:
        try:
            with pytest.raises(DatabaseUnavailable, match="QueryCanceledError"):
                async with hot.connection() as conn:
                    await conn.execute("SELECT pg_sleep(5)")
            async with hot.connection() as conn:  # the connection is still good
                assert await conn.fetchval("SELECT 1") == 1
        finally:
            await hot.close()

    asyncio.run(scenario())


@pytest.fixture
def new_pool(pg_server: PgServer, pg_template: str) -> Callable[..., AsyncDatabase]:
    """An AsyncDatabase on a fresh database `name` (migrated), with settings overridden."""

    def make(name: str, **settings: Any) -> AsyncDatabase:
        return AsyncDatabase(
            make_settings(pg_server.create_database(name, template=pg_template), **settings), None
        )

    return make


def _run(hot: AsyncDatabase, scenario: Callable[[], Awaitable[T]]) -> T:
    async def closing() -> T:
        try:
            return await scenario()
        finally:
            await hot.close()

    return asyncio.run(closing())


async def _backend(hot: AsyncDatabase) -> int:
    async with hot.connection() as conn:
        return int(await conn.fetchval("SELECT pg_backend_pid()"))


@pytest.mark.postgres
def test_a_connection_stays_in_use_after_an_error_the_server_answered(
    new_pool: Callable[..., AsyncDatabase],
) -> None:
    hot = new_pool("asyncdb_answered", DB_POOL_SIZE=1)

    async def scenario() -> tuple[int, int]:
        before = await _backend(hot)
        with pytest.raises(asyncpg.DivisionByZeroError):
            async with hot.connection() as conn:
                await conn.fetchval("SELECT 1 / 0")
        return before, await _backend(hot)

    before, after = _run(hot, scenario)
    assert after == before


@pytest.mark.postgres
@pytest.mark.parametrize("interruption", ["cancelled", "timed out"])
def test_a_connection_interrupted_mid_statement_is_closed_not_reused(
    pg_server: PgServer, new_pool: Callable[..., AsyncDatabase], interruption: str
) -> None:
    """A statement abandoned on the client side (the request's task cancelled; asyncpg's timeout, as
    command_timeout) can leave the connection out of step with its server: the next request gets
    another one, and the abandoned statement is cancelled on the server, not left running."""
    hot = new_pool("asyncdb_interrupted", DB_POOL_SIZE=1)

    async def sleep_on_it(timeout: float | None = None) -> None:
        async with hot.connection() as conn:
            await conn.execute("SELECT pg_sleep(5)", timeout=timeout)

    async def scenario() -> tuple[int, int, list[int]]:
        before = await _backend(hot)
        if interruption == "cancelled":
            task = asyncio.create_task(sleep_on_it())
            await asyncio.sleep(0.2)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
        else:
            with pytest.raises(DatabaseUnavailable, match="TimeoutError"):
                await sleep_on_it(timeout=0.2)
        after = await _backend(hot)
        with pg_server.connect("asyncdb_interrupted") as admin:
            rows = admin.execute(BACKENDS, (APPLICATION_NAME,)).fetchall()
        return before, after, [pid for (pid,) in rows]

    before, after, open_backends = _run(hot, scenario)
    assert after != before and open_backends == [after], "the interrupted connection was closed"


@pytest.mark.postgres
def test_a_connection_the_server_closed_while_idle_is_replaced(
    pg_server: PgServer, new_pool: Callable[..., AsyncDatabase]
) -> None:
    """A backend terminated between requests (restart, failover, idle kill): the next request gets a
    new connection, not an error."""
    hot = new_pool("asyncdb_terminated", DB_POOL_SIZE=1)

    async def scenario() -> tuple[int, int]:
        before = await _backend(hot)
        with pg_server.connect("asyncdb_terminated") as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (before,))
        for _ in range(100):  # until the loop has read the server's goodbye
            await asyncio.sleep(0.01)
        return before, await _backend(hot)

    before, after = _run(hot, scenario)
    assert after != before


@pytest.mark.postgres
def test_the_pool_never_opens_more_than_its_size_and_close_closes_them(
    pg_server: PgServer, new_pool: Callable[..., AsyncDatabase]
) -> None:
    hot = new_pool("asyncdb_size", DB_POOL_SIZE=3)

    def backends() -> int:
        with pg_server.connect("asyncdb_size") as admin:
            return len(admin.execute(BACKENDS, (APPLICATION_NAME,)).fetchall())

    async def one() -> int:
        async with hot.connection() as conn:
            await asyncio.sleep(0.01)
            return int(await conn.fetchval("SELECT pg_backend_pid()"))

    async def scenario() -> tuple[set[int], int, int]:
        pids = set(await asyncio.gather(*(one() for _ in range(40))))
        during = backends()
        await hot.close()
        after_close = backends()
        await one()  # usable again after close(): it reopens
        return pids, during, after_close

    pids, during, after_close = _run(hot, scenario)
    assert len(pids) <= 3 and during == 3 and after_close == 0
