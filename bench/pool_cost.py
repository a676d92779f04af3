"""Client CPU per statement through the hot paths' pool, asyncpg's Pool and a bare connection.

    .venv/bin/python bench/pool_cost.py [--statements 4000] [--rounds 3]

Starts a throwaway PostgreSQL (TLS, as RDS), then on uvloop (the server's loop) runs `SELECT 1` one
statement at a time, in turn: through `AsyncDatabase.connection()`, through an asyncpg Pool set up as
the hot paths once had it (no reset on release, a gate in front), and on one connection with no pool.
It prints this process's CPU microseconds per statement (time.process_time), each round side by side:
the pool's own cost is the difference from the bare connection.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
import uvloop

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from app.core.asyncdb import AsyncDatabase, connect_kwargs  # noqa: E402
from app.core.config import Settings  # noqa: E402
from tests.conftest import start_pg_server  # noqa: E402


async def _no_reset(_conn: asyncpg.Connection) -> None:
    return None


async def measure(url: str, statements: int, rounds: int) -> None:
    settings = Settings(DATABASE_URL=url, DB_POOL_SIZE=5)
    hot = AsyncDatabase(settings, None)
    hot.open()
    pool = await asyncpg.create_pool(
        min_size=5,
        max_size=5,
        reset=_no_reset,
        max_inactive_connection_lifetime=0,
        **connect_kwargs(settings),
    )
    gate = asyncio.Semaphore(5)
    bare = await asyncpg.connect(**connect_kwargs(settings))

    @asynccontextmanager
    async def asyncpg_pool() -> AsyncIterator[asyncpg.Connection]:
        async with asyncio.timeout(hot.timeout):
            await gate.acquire()
            try:
                conn = await pool.acquire()
            except BaseException:
                gate.release()
                raise
        try:
            yield conn
        finally:
            try:
                await pool.release(conn)
            finally:
                gate.release()

    async def via_hot() -> None:
        async with hot.connection() as conn:
            await conn.fetchval("SELECT 1")

    async def via_asyncpg_pool() -> None:
        async with asyncpg_pool() as conn:
            await conn.fetchval("SELECT 1")

    async def on_bare() -> None:
        await bare.fetchval("SELECT 1")

    ways: dict[str, Callable[[], Awaitable[None]]] = {
        "AsyncDatabase (hot paths)": via_hot,
        "asyncpg Pool + gate": via_asyncpg_pool,
        "one connection, no pool": on_bare,
    }
    try:
        for way in ways.values():  # warm up: connections open, statements prepared
            for _ in range(200):
                await way()
        for k in range(1, rounds + 1):
            for name, way in ways.items():
                started = time.process_time()
                for _ in range(statements):
                    await way()
                spent = (time.process_time() - started) / statements * 1e6
                print(f"round {k}: {name:<28} {spent:6.1f} us CPU per statement")
    finally:
        await bare.close()
        await pool.close()
        await hot.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--statements", type=int, default=4000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    server, root = start_pg_server()
    try:
        url = server.create_database("pool_cost")
        uvloop.run(measure(url, args.statements, args.rounds))
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
