"""CPU the EMF metrics add per request on the seat-map and booking paths (a benchmark, not a test).

    .venv/bin/python bench/emf_overhead.py            # --rounds 7 --seatmaps 400 --bookings 200

In one process, on SQLite: the app is driven by direct ASGI calls (no HTTP client or server in the
measurement), alternating rounds with EMF off (no METRICS_NAMESPACE) and on; each round's CPU time
(`time.process_time`, all threads) is divided by its requests. Reported: median CPU per request off
and on, the difference, and — less noisy on a shared machine — the cost of exactly what EMF adds to a
request (`observe_request` + the counter calls) and of the once-a-minute flush, measured on their own,
as a share of the seat-map and booking CPU per request.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.core import emf
from app.core import metric_catalogue as mc
from app.core.config import Settings
from app.core.db import make_engine
from app.core.migrations import upgrade
from app.main import create_app

JWT = "bench-jwt-secret-of-sufficient-length-0123"
ROWS, LETTERS = 99, "ABCDEFGHJK"


async def call(
    app: Any, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None
) -> int:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
    }
    sent = False
    status = 0

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    return status


async def setup(app: Any, flights: int) -> tuple[int, dict[str, str]]:
    """An admin and `flights` empty 99 x 10 flights (ids 1..flights in the fresh database)."""

    def js(value: Any) -> bytes:
        return json.dumps(value).encode()

    ct = {"content-type": "application/json"}
    email = f"bench-{uuid.uuid4().hex[:8]}@example.com"
    assert (
        await call(app, "POST", "/auth/register", js({"email": email, "password": "bench-pass-1"}), ct) == 201
    )
    with app.state.sessionmaker() as session, session.begin():
        from sqlalchemy import update

        from app.models import User

        session.execute(update(User).where(User.email == email).values(is_admin=True))
    token = await token_for(app, email)
    auth = {"authorization": f"Bearer {token}", **ct}
    for day in range(flights):
        flight = {
            "number": "BN100",
            "origin": "LHR",
            "destination": "JFK",
            "departure_at": f"2031-05-{day + 1:02d}T09:00:00+00:00",
            "arrival_at": f"2031-05-{day + 1:02d}T17:00:00+00:00",
            "rows": ROWS,
            "seat_letters": LETTERS,
            "fare": "100.00",
        }
        assert await call(app, "POST", "/flights", js(flight), auth) == 201
    return 1, auth


async def token_for(app: Any, email: str) -> str:
    out: dict[str, Any] = {}
    body = f"username={email}&password=bench-pass-1".encode()
    headers = [(b"content-type", b"application/x-www-form-urlencoded")]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/auth/token",
        "raw_path": b"/auth/token",
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
    }
    done = False

    async def receive() -> dict[str, Any]:
        nonlocal done
        if done:
            return {"type": "http.disconnect"}
        done = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.body" and message.get("body"):
            out.update(json.loads(message["body"]))

    await app(scope, receive, send)
    return str(out["access_token"])


def seats(flights: int) -> Any:
    for flight in range(1, flights + 1):
        for row in range(1, ROWS + 1):
            for letter in LETTERS:
                yield flight, f"{row}{letter}"


async def round_cpu(
    app: Any, flight: int, auth: dict[str, str], seat_iter: Any, n_map: int, n_book: int
) -> tuple[float, float]:
    start = time.process_time()
    for _ in range(n_map):
        assert await call(app, "GET", f"/flights/{flight}/seats") == 200
    seatmap = (time.process_time() - start) / n_map
    start = time.process_time()
    for _ in range(n_book):
        to, seat = next(seat_iter)
        body = json.dumps({"flight_id": to, "passengers": [{"seat": seat, "name": "Bench"}]}).encode()
        headers = {**auth, "idempotency-key": uuid.uuid4().hex}
        assert await call(app, "POST", "/bookings", body, headers) == 201
    booking = (time.process_time() - start) / n_book
    return seatmap, booking


def micro(n: int = 200_000) -> tuple[float, float, float]:
    """µs per request of exactly what EMF adds (observe + a counter), and µs per flush of a busy minute."""
    agg = emf.Aggregator("Booking/bench", lambda _line: None)
    emf._active = agg
    start = time.process_time()
    for i in range(n):
        emf.observe_request("GET", "/flights/{flight_id}/seats", 200, 0.004 + (i % 50) / 10_000)
    observe = (time.process_time() - start) / n * 1e6
    start = time.process_time()
    for _ in range(n):
        emf.count(mc.BOOKINGS_CREATED)
    count = (time.process_time() - start) / n * 1e6
    emf._active = None
    # A busy worker-minute: 15 routes, 3 status classes, 2,000 requests each.
    busy = emf.Aggregator("Booking/bench", lambda _line: None)
    for r in range(15):
        for i in range(2000):
            busy.request(f"GET /route{r}", (200, 404, 500)[i % 3], (i % 200) / 1000)
    start = time.process_time()
    busy.flush()
    flush = (time.process_time() - start) * 1e6
    return observe, count, flush


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--seatmaps", type=int, default=400)
    parser.add_argument("--bookings", type=int, default=200)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="emf-bench-"))
    url = f"sqlite:///{tmp / 'bench.db'}"
    settings = Settings(DATABASE_URL=url, JWT_SECRET=JWT, LOG_LEVEL="WARNING")  # type: ignore[arg-type]
    upgrade(make_engine(settings))
    app = create_app(settings)
    flights = (args.rounds * 2 * args.bookings + 20) // (ROWS * len(LETTERS)) + 1
    flight, auth = await setup(app, flights)
    seat_iter = seats(flights)
    await round_cpu(app, flight, auth, seat_iter, 50, 20)  # warm-up
    results: dict[bool, list[tuple[float, float]]] = {False: [], True: []}
    for _ in range(args.rounds):
        for enabled in (False, True):
            emf.configure("Booking/bench" if enabled else None, 3600, write=lambda _line: None)
            results[enabled].append(
                await round_cpu(app, flight, auth, seat_iter, args.seatmaps, args.bookings)
            )
    emf.configure(None)
    observe, count, flush = micro()
    print(
        f"rounds {args.rounds}, per round {args.seatmaps} seat maps + {args.bookings} bookings"
        " (SQLite, in-process ASGI)"
    )
    for index, path in ((0, "GET /flights/{id}/seats"), (1, "POST /bookings")):
        off = statistics.median(r[index] for r in results[False]) * 1e6
        on = statistics.median(r[index] for r in results[True]) * 1e6
        added = observe + (count if index == 1 else 0)
        print(
            f"{path}: CPU/request off {off:.0f} µs, on {on:.0f} µs"
            f" (A/B {100 * (on - off) / off:+.2f} %, noise-bound); "
            f"EMF's own calls {added:.2f} µs = {100 * added / off:.3f} %"
        )
    print(
        f"observe_request {observe:.2f} µs, count {count:.2f} µs; flush of a busy worker-minute "
        f"(15 routes x 2,000 requests) {flush / 1000:.1f} ms = {flush / 30_000:.3f} µs per request"
    )


if __name__ == "__main__":
    asyncio.run(main())
