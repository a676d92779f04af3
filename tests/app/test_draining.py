"""A task told to stop drops nothing, even while the load balancer still routes to it.

Two (then three) real production servers (`python -m app serve`, 2 workers each) behind HAProxy, which
health-checks them the way the ALB does: round robin, `GET /healthz` every second, 2 failures to mark a
server down, and no retries (an ALB never retries a request on another target). A steady load of seat
maps and bookings runs through the proxy while servers are stopped:
- Fargate Spot order: SIGTERM while the proxy still routes to the server ("AWS Fargate capacity
  providers": the two-minute warning is a SIGTERM to the running task, which may stay registered in its
  target group until it is STOPPED);
- ECS deployment order: deregister first (the proxy stops routing), then SIGTERM.
Every request must succeed, every 201 must be in the database, and each server must exit 0 within the
stopTimeout the stack would give it (components/shutdown.py).

Over 400 lines because the HAProxy harness, the load generator and the scenarios that use them are one
experiment.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import psycopg
import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher

from app.models import Booking, Flight, User
from components.shutdown import minimum_stop_timeout
from tests.app.conftest import JWT_SECRET
from tests.app.server import REPO, NotReady, wait_until_ready
from tests.conftest import PgServer, free_port

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

# HAProxy's check: inter 1 s, fall 2 -> the drain the stack would derive (components/shutdown.py).
CHECK_INTERVAL = 1
FALL = 2
DRAIN = CHECK_INTERVAL * FALL + CHECK_INTERVAL
GRACEFUL = 10
STOP_TIMEOUT = minimum_stop_timeout(DRAIN, GRACEFUL)
ROWS, LETTERS = 60, "ABCDEF"

HAPROXY = shutil.which("haproxy") or "/usr/sbin/haproxy"
needs_haproxy = pytest.mark.skipif(
    not os.path.exists(HAPROXY) and not os.environ.get("CI"),
    reason="haproxy is not installed (.ci/run installs it)",
)


@dataclass
class Server:
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop_and_time(self, sig: signal.Signals = signal.SIGTERM) -> float:
        """Send `sig`, wait for the exit (at most STOP_TIMEOUT, as ECS would), return the seconds it took."""
        start = time.monotonic()
        self.process.send_signal(sig)
        try:
            code = self.process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            kill_group(self.process)
            raise AssertionError(f"not stopped within stopTimeout {STOP_TIMEOUT} s:\n{self.log()}") from None
        assert code == 0, self.log()
        return time.monotonic() - start


def kill_group(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL the server's whole process group: killing the master alone would orphan its workers."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def start_server(db_url: str, log_path: Path, port: int | None = None, drain: int = DRAIN) -> Server:
    port = port or free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "PORT": str(port),
        "WEB_CONCURRENCY": "2",
        "DATABASE_URL": db_url,
        "JWT_SECRET": JWT_SECRET,
        "DRAIN_SECONDS": str(drain),
        "GRACEFUL_TIMEOUT_SECONDS": str(GRACEFUL),
        # The slow-request test holds a row lock for longer than the default 5 s statement timeout.
        "DB_STATEMENT_TIMEOUT_MS": "30000",
        "LOG_LEVEL": "INFO",
    }
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "app", "serve", "--host", "127.0.0.1"],
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Server(port, process, log_path)

    def exited() -> str | None:
        return None if process.poll() is None else f"server exited with {process.returncode}"

    try:
        wait_until_ready(f"{server.url}/healthz", exited, 90)
    except NotReady as exc:
        kill_group(process)
        raise RuntimeError(f"{exc}:\n{server.log()}") from None
    return server


class Proxy:
    """HAProxy in front of three server slots, health-checking like the ALB, with its admin socket."""

    def __init__(self, tmp: Path, ports: list[int]) -> None:
        self.port = free_port()
        self.socket_path = tmp / "haproxy.sock"
        config = tmp / "haproxy.cfg"
        servers = "\n".join(f"    server s{i} 127.0.0.1:{p} check" for i, p in enumerate(ports, start=1))
        config.write_text(
            f"""global
    stats socket {self.socket_path} mode 600 level admin
defaults
    mode http
    timeout connect 10s
    timeout client 60s
    timeout server 60s
    # Like the ALB's check timeout (5 s by default here): a slow answer on a busy machine is not a
    # failed check, so only a draining server's 503s mark a server down.
    timeout check 5s
    # An ALB does not retry a failed request on another target.
    retries 0
    no option redispatch
frontend api
    bind 127.0.0.1:{self.port}
    default_backend targets
backend targets
    balance roundrobin
    option httpchk GET /healthz
    http-check expect status 200
    default-server inter {CHECK_INTERVAL}s fall {FALL} rise 2
{servers}
"""
        )
        self.log_path = tmp / "haproxy.log"
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                [HAPROXY, "-db", "-f", str(config)], stdout=log, stderr=subprocess.STDOUT
            )
        self.url = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 60
        while not self.socket_path.exists():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"haproxy did not start:\n{self.log_path.read_text(errors='replace')}")
            time.sleep(0.1)

    def command(self, line: str) -> str:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(10)
            s.connect(str(self.socket_path))
            s.sendall(line.encode() + b"\n")
            chunks = []
            while chunk := s.recv(65536):
                chunks.append(chunk)
        return b"".join(chunks).decode()

    def status(self, server: str) -> str:
        for row in self.command("show stat").splitlines():
            cols = row.split(",")
            if len(cols) > 17 and cols[0] == "targets" and cols[1] == server:
                return cols[17]
        return "?"

    def wait_status(self, server: str, prefix: str, timeout: float = 60) -> None:
        """Until the server's status is `prefix` exactly, or starts with it for DOWN ("DOWN 1/2" is down)."""
        deadline = time.monotonic() + timeout

        def matches(status: str) -> bool:
            return status == prefix or (prefix == "DOWN" and status.startswith("DOWN"))

        while not matches(self.status(server)):
            if time.monotonic() > deadline:
                raise AssertionError(f"{server} not {prefix} within {timeout} s: {self.status(server)}")
            time.sleep(0.2)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


@dataclass
class Load:
    """Steady seat-map reads and bookings through the proxy, every outcome recorded."""

    url: str
    tokens: list[str]
    flights: list[int]
    failures: list[str] = field(default_factory=list)
    booked: list[int] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=lambda: {"seats": 0, "bookings": 0})
    stop: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        seats = [f"{row}{letter}" for row in range(1, ROWS + 1) for letter in LETTERS]
        self._next_seat = iter(itertools.product(self.flights, seats))

    def worker(self, n: int) -> None:
        with httpx.Client(base_url=self.url, timeout=60) as client:
            for i in itertools.count():
                if self.stop.is_set():
                    return
                flight = self.flights[(n + i) % len(self.flights)]
                try:
                    if i % 2:
                        with self.lock:
                            flight, seat = next(self._next_seat)
                        r = client.post(
                            "/bookings",
                            json={"flight_id": flight, "passengers": [{"seat": seat, "name": f"P{n}-{i}"}]},
                            headers={"Authorization": f"Bearer {self.tokens[n % len(self.tokens)]}"},
                        )
                        kind, ok = "bookings", r.status_code == 201
                        if ok:
                            with self.lock:
                                self.booked.append(r.json()["id"])
                    else:
                        r = client.get(f"/flights/{flight}/seats")
                        kind, ok = "seats", r.status_code == 200
                    with self.lock:
                        self.counts[kind] += 1
                        if not ok:
                            self.failures.append(
                                f"{r.request.method} {r.request.url.path}: {r.status_code} {r.text[:200]}"
                            )
                except StopIteration:
                    return
                except httpx.HTTPError as exc:
                    with self.lock:
                        self.failures.append(f"{type(exc).__name__}: {exc}")

    def run(self, workers: int = 8) -> list[threading.Thread]:
        threads = [threading.Thread(target=self.worker, args=(n,), daemon=True) for n in range(workers)]
        for t in threads:
            t.start()
        return threads


@pytest.fixture(scope="module")
def db_url(pg_server: PgServer) -> Iterator[str]:
    yield pg_server.create_database("draining")
    pg_server.drop_database("draining")


def seed(db_url: str, flights: int, users: int) -> tuple[list[int], list[tuple[str, str]]]:
    engine = sa.create_engine(db_url)
    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    departure = datetime(2033, 1, 1, 8, tzinfo=UTC)
    ids: list[int] = []
    creds: list[tuple[str, str]] = []
    stamp = time.monotonic_ns()
    with engine.begin() as conn:
        for i in range(flights):
            ids.append(
                conn.execute(
                    sa.insert(Flight)
                    .values(
                        number=f"DR{stamp % 10000}{i}",
                        origin="LHR",
                        destination="JFK",
                        departure_at=departure + timedelta(days=i),
                        arrival_at=departure + timedelta(days=i, hours=8),
                        seat_rows=ROWS,
                        seat_letters=LETTERS,
                        fare=100,
                        created_at=datetime.now(UTC),
                    )
                    .returning(Flight.id)
                ).scalar_one()
            )
        for i in range(users):
            email = f"drain{stamp}-{i}@example.com"
            conn.execute(
                sa.insert(User).values(
                    email=email,
                    hashed_password=cheap.hash("pw-drain-1"),
                    is_admin=False,
                    created_at=datetime.now(UTC),
                )
            )
            creds.append((email, "pw-drain-1"))
    engine.dispose()
    return ids, creds


def login(url: str, creds: list[tuple[str, str]]) -> list[str]:
    tokens = []
    for email, password in creds:
        r = httpx.post(f"{url}/auth/token", data={"username": email, "password": password}, timeout=60)
        assert r.status_code == 200, r.text
        tokens.append(r.json()["access_token"])
    return tokens


@needs_haproxy
def test_stopping_servers_behind_a_health_checking_proxy_drops_nothing(db_url: str, tmp_path: Path) -> None:
    a = start_server(db_url, tmp_path / "a.log")
    b = start_server(db_url, tmp_path / "b.log")
    spare = free_port()
    proxy = Proxy(tmp_path, [a.port, b.port, spare])
    servers = [a, b]
    try:
        # HAProxy starts every server UP until its checks fail: wait until the empty slot is DOWN, or
        # the first requests would go to a port nothing listens on.
        proxy.wait_status("s3", "DOWN")
        proxy.wait_status("s1", "UP")
        proxy.wait_status("s2", "UP")
        flights, creds = seed(db_url, flights=4, users=4)
        load = Load(proxy.url, login(proxy.url, creds), flights)
        threads = load.run()
        time.sleep(2)

        # Spot order: SIGTERM while the proxy still routes to the server; a replacement starts.
        stopped_a = a.stop_and_time()
        c = start_server(db_url, tmp_path / "c.log", port=spare)
        servers.append(c)
        proxy.wait_status("s3", "UP")
        stopped_b = b.stop_and_time()
        d = start_server(db_url, tmp_path / "d.log", port=a.port)
        servers.append(d)
        proxy.wait_status("s1", "UP")

        # Deployment order: deregister, let the deregistration delay pass, then SIGTERM.
        proxy.command("disable server targets/s3")
        time.sleep(2)
        stopped_c = c.stop_and_time()
        time.sleep(1)

        load.stop.set()
        for t in threads:
            t.join(timeout=90)
        assert load.counts["seats"] > 50 and load.counts["bookings"] > 50, load.counts
        assert load.failures == [], f"{len(load.failures)} failed of {load.counts}: {load.failures[:10]}"

        # Spot-order stops drained (served on for DRAIN s); all stopped well within stopTimeout.
        assert DRAIN <= stopped_a < STOP_TIMEOUT and DRAIN <= stopped_b < STOP_TIMEOUT, (stopped_a, stopped_b)
        assert stopped_c < STOP_TIMEOUT
        for server in (a, b):
            assert "draining for" in server.log() and "drain period over" in server.log()

        engine = sa.create_engine(db_url)
        with engine.connect() as conn:
            in_db = set(conn.scalars(sa.select(Booking.id).where(Booking.flight_id.in_(flights))))
        engine.dispose()
        assert set(load.booked) == in_db and len(in_db) == len(load.booked)
    finally:
        proxy.stop()
        for server in servers:
            kill_group(server.process)


def test_in_flight_request_finishes_after_sigterm_and_drain_keeps_serving(
    db_url: str, tmp_path: Path
) -> None:
    """A booking blocked on a row lock when SIGTERM arrives still completes; during the drain new
    connections are served, `/healthz` says 503 `draining` and responses close their connection."""
    server = start_server(db_url, tmp_path / "slow.log")
    try:
        (flight,), creds = seed(db_url, flights=1, users=1)
        token = login(server.url, creds)[0]
        result: dict[str, httpx.Response] = {}
        pg_url = db_url.replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(pg_url, autocommit=False) as blocker:
            # Hold the flight row so the booking's transaction waits on it, in flight.
            blocker.execute("SELECT id FROM flights WHERE id = %s FOR UPDATE", (flight,))

            def book() -> None:
                result["r"] = httpx.post(
                    f"{server.url}/bookings",
                    json={"flight_id": flight, "passengers": [{"seat": "1A", "name": "Slow"}]},
                    headers={"Authorization": f"Bearer {token}"},
                    timeout=60,
                )

            t = threading.Thread(target=book)
            t.start()
            time.sleep(1.5)
            assert "r" not in result, "the booking did not block on the lock; the test proves nothing"
            start = time.monotonic()
            server.process.send_signal(signal.SIGTERM)
            time.sleep(0.5)
            health = httpx.get(f"{server.url}/healthz", timeout=30)
            assert (health.status_code, health.json()) == (503, {"status": "draining"})
            assert health.headers["connection"] == "close"
            assert httpx.get(f"{server.url}/flights/{flight}", timeout=30).status_code == 200
            time.sleep(DRAIN)
            blocker.rollback()
        t.join(timeout=60)
        assert result["r"].status_code == 201, result["r"].text
        code = server.process.wait(timeout=STOP_TIMEOUT)
        assert code == 0 and time.monotonic() - start < STOP_TIMEOUT, server.log()
    finally:
        kill_group(server.process)


# Long enough that a stop which drained cannot be mistaken for one that skipped the drain, however
# slowly a busy machine boots and stops the workers.
LONG_DRAIN = 90


@pytest.mark.parametrize("second", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_second_signal_skips_the_drain(db_url: str, tmp_path: Path, second: signal.Signals) -> None:
    server = start_server(db_url, tmp_path / "twice.log", drain=LONG_DRAIN)
    try:
        server.process.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        elapsed = server.stop_and_time(second)
        assert "draining for 90 s" in server.log()
        assert elapsed < LONG_DRAIN / 2, f"took {elapsed:.1f} s: the drain was not skipped\n{server.log()}"
    finally:
        kill_group(server.process)


def test_sigint_alone_stops_without_draining(db_url: str, tmp_path: Path) -> None:
    server = start_server(db_url, tmp_path / "int.log", drain=LONG_DRAIN)
    elapsed = server.stop_and_time(signal.SIGINT)
    assert "draining for" not in server.log() and "without draining" in server.log(), server.log()
    assert elapsed < LONG_DRAIN / 2, server.log()
