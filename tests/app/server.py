"""Run the real production server (`python -m app serve`: gunicorn + uvicorn workers) in a subprocess."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.conftest import free_port

REPO = Path(__file__).resolve().parents[2]


@dataclass
class LiveServer:
    url: str
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


class NotReady(Exception):
    """The server stopped, or did not answer in time; the message says which."""


def wait_until_ready(
    url: str,
    stopped: Callable[[], str | None],
    timeout: float,
    interval: float = 0.2,
    request_timeout: float = 1,
) -> None:
    """Poll GET `url` until it answers 200; `stopped()` says why the server is gone, or None while it runs."""
    deadline = time.monotonic() + timeout
    while True:
        reason = stopped()
        if reason is not None:
            raise NotReady(reason)
        try:
            if httpx.get(url, timeout=request_timeout).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise NotReady(f"{url} not 200 within {timeout:g} s")
        time.sleep(interval)


@contextmanager
def live_server(
    env: dict[str, str], log_path: Path, workers: int = 2, migrate: bool = True
) -> Iterator[LiveServer]:
    """Start the server, wait for /healthz, and on exit stop it with SIGTERM (asserting a clean exit)."""
    port = free_port()
    full_env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "PORT": str(port),
        "WEB_CONCURRENCY": str(workers),
        "LOG_LEVEL": "INFO",
        **env,
    }
    args = [sys.executable, "-m", "app", "serve", "--host", "127.0.0.1"]
    if not migrate:
        args.append("--no-migrate")
    with open(log_path, "wb") as log:
        process = subprocess.Popen(args, cwd=REPO, env=full_env, stdout=log, stderr=subprocess.STDOUT)
    server = LiveServer(f"http://127.0.0.1:{port}", port, process, log_path)

    def exited() -> str | None:
        return None if process.poll() is None else f"server exited with {process.returncode}"

    try:
        try:
            wait_until_ready(f"{server.url}/healthz", exited, 60)
        except NotReady as exc:
            raise RuntimeError(f"{exc}:\n{server.log()}") from None
        yield server
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
                raise AssertionError(f"server did not stop within 15 s of SIGTERM:\n{server.log()}") from None
