"""Request coalescing ("single flight"): concurrent reads of the same key share one in-flight call.

A read that arrives while an identical read is in flight waits for that one's answer instead of
sending its own query. Nothing is kept once the call finishes: a read that arrives afterwards starts a
new call. So an answer is at most one call older than the request that receives it (the call may have
started just before the request arrived), and a burst of N identical reads costs one query instead
of N. Used for the seat map (app/api/routes/flights.py), where a stale read can only turn into a 409
when the seat is then booked, never into a double booking (the unique (flight_id, seat) index decides).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Hashable
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class Coalescer(Generic[T]):
    def __init__(self) -> None:
        # Keyed by event loop too: a task belongs to the loop that created it (TestClient may run
        # several loops in one process).
        self._inflight: dict[tuple[asyncio.AbstractEventLoop, Hashable], asyncio.Task[T]] = {}

    async def run(self, key: Hashable, call: Callable[[], Coroutine[Any, Any, T]]) -> T:
        """`call()`'s result, shared with every concurrent `run` of the same key.

        The call runs in its own task, so a waiter that goes away (client disconnect, cancellation)
        does not cancel it for the others; an exception reaches every waiter."""
        loop = asyncio.get_running_loop()
        slot = (loop, key)
        task = self._inflight.get(slot)
        if task is None:
            task = loop.create_task(call())
            self._inflight[slot] = task
            task.add_done_callback(lambda done: self._forget(slot, done))
        return await asyncio.shield(task)

    def _forget(self, slot: tuple[asyncio.AbstractEventLoop, Hashable], done: asyncio.Task[T]) -> None:
        if self._inflight.get(slot) is done:
            del self._inflight[slot]
        if not done.cancelled():
            done.exception()  # retrieved: every waiter may have gone, nobody else would log it

    def inflight(self) -> int:
        return len(self._inflight)
