"""Draining: on SIGTERM keep serving while the load balancer notices, then stop.

Why: ECS sends SIGTERM to a Fargate Spot task while the ALB may still route to it ("AWS Fargate
capacity providers" / Fargate Spot: the two-minute warning is a SIGTERM to the running task, and a
FARGATE_SPOT task may stay registered in its target group until it is STOPPED). gunicorn's own
SIGTERM handling closes the listening sockets at once, so every new connection the ALB sends before
its health checks fail is refused. Here the master first *drains*: it keeps its sockets open and its
workers serving for `DRAIN_SECONDS`, while `/healthz` answers 503 so the target is marked unhealthy and
the ALB stops sending new work; then it does gunicorn's normal graceful stop (close the sockets,
SIGTERM the workers, which finish in-flight requests within `GRACEFUL_TIMEOUT_SECONDS`).

A second SIGTERM, or SIGINT (Ctrl-C), skips what is left of the drain.

The master tells its workers it is draining through a flag file whose path it puts in the environment
before forking them: a worker stats it at most every CHECK_INTERVAL_SECONDS, and workers respawned
during the drain see it too.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

DRAIN_FLAG_ENV = "BOOKING_DRAIN_FLAG"


# Every response asks (to close its connection while draining): the flag is looked at most this often,
# and once seen it is remembered, since a drain only ends with the process.
CHECK_INTERVAL_SECONDS = 0.1
_seen = False
_next_check = 0.0


def is_draining() -> bool:
    global _seen, _next_check
    if _seen:
        return True
    now = time.monotonic()
    if now < _next_check:
        return False
    _next_check = now + CHECK_INTERVAL_SECONDS
    flag = os.environ.get(DRAIN_FLAG_ENV)
    _seen = flag is not None and os.path.exists(flag)
    return _seen


def arbiter_class() -> type:
    """gunicorn's Arbiter with a drain before its graceful stop (imported only by `serve`)."""
    from gunicorn.arbiter import Arbiter

    class DrainingArbiter(Arbiter):
        drain_seconds: float = 0.0
        drain_flag: Path | None = None
        _drain_until: float | None = None

        def handle_term(self) -> None:
            if self._drain_until is None and self.drain_seconds > 0 and self.drain_flag is not None:
                self.drain_flag.touch()
                self._drain_until = time.monotonic() + self.drain_seconds
                self.log.info(
                    "SIGTERM: draining for %g s (/healthz answers 503, still serving); "
                    "send SIGTERM again or SIGINT to stop now",
                    self.drain_seconds,
                )
                return
            raise StopIteration  # gunicorn's graceful stop

        def handle_int(self) -> None:
            # gunicorn's default is a quick stop that drops in-flight requests; Ctrl-C and a second
            # signal mean "stop now", not "lose work": skip the drain, keep the graceful stop.
            self.log.info("SIGINT: stopping gracefully without draining")
            raise StopIteration

        def manage_workers(self) -> None:
            # Called by the master loop at least once a second.
            if self._drain_until is not None and time.monotonic() >= self._drain_until:
                self.log.info("drain period over: closing listeners, finishing in-flight requests")
                raise StopIteration
            super().manage_workers()

    return DrainingArbiter


def configure(arbiter: Any, drain_seconds: float, flag: Path) -> None:
    arbiter.drain_seconds = drain_seconds
    arbiter.drain_flag = flag
