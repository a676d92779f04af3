"""The hot paths' asyncpg pool (app/core/asyncdb.py): which errors mean "unavailable" (503), and a
request that waits for a connection is not overtaken by one that asks later."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from app.core.asyncdb import AsyncDatabase, is_unavailable
from app.core.db import DatabaseUnavailable
from tests.app.conftest import make_settings
from tests.conftest import PgServer


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
    whenever a later request asks: asyncpg's pool queue (an asyncio.Queue) gives a returned
    connection to whichever getter runs first, so a request whose turn came in the same loop
    iteration as the release could take it and send the woken waiter to the back of the line."""
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
                release = asyncio.create_task(hot._release(first))
                late = asyncio.create_task(later(hops))
                done, _ = await asyncio.wait({waiting, late}, return_when=asyncio.FIRST_COMPLETED)
                if late in done:
                    overtaken.append(hops)
                await release
                for task in (*done, *({waiting, late} - done)):
                    await hot._release(await task)
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
