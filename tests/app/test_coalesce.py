"""Request coalescing: concurrent calls of one key share one call; nothing outlives the call."""

from __future__ import annotations

import asyncio

import pytest

from app.core.coalesce import Coalescer


class Source:
    """A slow read that counts its calls; `gate` holds every call until it is set."""

    def __init__(self) -> None:
        self.calls = 0
        self.gate = asyncio.Event()
        self.fail: Exception | None = None

    async def read(self, value: str) -> str:
        self.calls += 1
        number = self.calls
        await self.gate.wait()
        if self.fail is not None:
            raise self.fail
        return f"{value}#{number}"


async def _started(tasks: list[asyncio.Task[str]]) -> None:
    for _ in range(3):  # let every task reach its await
        await asyncio.sleep(0)


def test_concurrent_calls_of_one_key_share_one_call_and_later_ones_call_again() -> None:
    async def scenario() -> None:
        coalescer: Coalescer[str] = Coalescer()
        source = Source()
        tasks = [asyncio.create_task(coalescer.run("f1", lambda: source.read("a"))) for _ in range(20)]
        other = asyncio.create_task(coalescer.run("f2", lambda: source.read("b")))
        await _started(tasks)
        assert coalescer.inflight() == 2
        source.gate.set()
        assert {await t for t in tasks} == {"a#1"}
        assert await other == "b#2"
        assert coalescer.inflight() == 0
        assert await coalescer.run("f1", lambda: source.read("a")) == "a#3"  # nothing kept
        assert source.calls == 3

    asyncio.run(scenario())


def test_an_error_reaches_every_waiter_and_is_not_kept() -> None:
    async def scenario() -> None:
        coalescer: Coalescer[str] = Coalescer()
        source = Source()
        source.fail = ConnectionError("database went away")
        tasks = [asyncio.create_task(coalescer.run("f1", lambda: source.read("a"))) for _ in range(5)]
        await _started(tasks)
        source.gate.set()
        results = await asyncio.gather(*tasks, return_exceptions=True)
        assert all(isinstance(r, ConnectionError) for r in results)
        source.fail = None
        assert await coalescer.run("f1", lambda: source.read("a")) == "a#2"

    asyncio.run(scenario())


def test_a_waiter_that_goes_away_does_not_cancel_the_call_for_the_others() -> None:
    async def scenario() -> None:
        coalescer: Coalescer[str] = Coalescer()
        source = Source()
        first = asyncio.create_task(coalescer.run("f1", lambda: source.read("a")))
        second = asyncio.create_task(coalescer.run("f1", lambda: source.read("a")))
        await _started([first, second])
        first.cancel()  # the client of the request that started the call disconnects
        with pytest.raises(asyncio.CancelledError):
            await first
        source.gate.set()
        assert await second == "a#1"
        assert source.calls == 1 and coalescer.inflight() == 0

    asyncio.run(scenario())
