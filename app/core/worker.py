"""The gunicorn worker class `serve` runs: uvicorn's, minus a misleading line at every shutdown."""

from __future__ import annotations

import socket
from typing import Any

from uvicorn.server import Server
from uvicorn_worker import UvicornWorker


class BookingUvicornWorker(UvicornWorker):
    """Hands uvicorn the plain listening sockets rather than gunicorn's wrappers around them.

    On shutdown asyncio closes the file descriptor behind a wrapper's back and uvicorn then closes the
    wrapper, which logs "Error while closing socket [Errno 9] Bad file descriptor" on every normal
    stop. A plain socket closes twice without complaint; the master still owns and closes its own.
    """

    async def _serve(self) -> None:
        self.config.app = self.wsgi
        server = Server(config=self.config)
        self._install_sigquit_handler()
        sockets: list[Any] = [getattr(s, "sock", s) for s in self.sockets]
        await server.serve(sockets=[s for s in sockets if isinstance(s, socket.socket)])
        if not server.started:
            import sys

            from gunicorn.arbiter import Arbiter

            sys.exit(Arbiter.WORKER_BOOT_ERROR)
