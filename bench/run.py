"""Benchmark the booking API against its ceiling and a baseline, in one run, on one PostgreSQL.

    .venv/bin/python bench/run.py [--duration 10] [--connections 32] [--workers 2]

1. starts a throwaway PostgreSQL (the test suite's `start_pg_server`), migrates it, seeds flights;
2. the booking API under its production server (`python -m app serve`, WEB_CONCURRENCY workers),
   loaded with wrk: seat-map GET, then booking POST (a new seat and Idempotency-Key per request);
3. the baseline: bench/baseline.py (plain FastAPI + ORM seat-map endpoint), served the same way;
4. the ceiling: pgbench sending the SQL those endpoints send (bench/pgbench/*.sql), same clients;
and prints one table (also written to bench/results/). Needs wrk, pgbench and the PostgreSQL server
binaries (apt-get install wrk postgresql). Load generator, servers and database share this machine.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import platform
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.app.server import NotReady, wait_until_ready  # noqa: E402
from tests.conftest import PgServer, free_port, start_pg_server  # noqa: E402

BENCH = ROOT / "bench"
PYTHON = sys.executable
ROWS, LETTERS = 99, "ABCDEFGHJK"  # the largest seat layout the API accepts: 990 seats per flight
SEATMAP_ROWS, SEATMAP_LETTERS, SEATMAP_TAKEN = 30, "ABCDEF", 60  # a typical narrow-body, a third sold
ADMIN_EMAIL, USER_EMAIL = "bench-admin@example.com", "bench-user@example.com"
# Upper bounds used only to seed enough seats that no request runs out of them.
MAX_API_BOOKINGS_PER_S, MAX_SQL_BOOKINGS_PER_S = 3000, 15000


@dataclass
class Result:
    endpoint: str
    target: str
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


# --- servers -------------------------------------------------------------------------------------------
@contextlib.contextmanager
def serving(cmd: list[str], env: dict[str, str], port: int, ready_path: str, logfile: Path) -> Iterator[str]:
    """Run an HTTP server until the block ends (SIGTERM, like ECS); yields its base URL once it answers."""
    with logfile.open("wb") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    base = f"http://127.0.0.1:{port}"

    def exited() -> str | None:
        return None if proc.poll() is None else f"{cmd} exited {proc.returncode}"

    try:
        try:
            wait_until_ready(f"{base}{ready_path}", exited, 60)
        except NotReady as exc:
            raise SystemExit(f"{exc}:\n{logfile.read_text()[-3000:]}") from None
        yield base
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


# --- load generators -----------------------------------------------------------------------------------
_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def _wrk_latency_ms(output: str, percentile: str) -> float:
    match = re.search(rf"^\s+{percentile}%\s+([\d.]+)(us|ms|s|m)\s*$", output, re.MULTILINE)
    if match is None:
        raise SystemExit(f"no {percentile}% latency in wrk output:\n{output}")
    return float(match.group(1)) * _UNIT_MS[match.group(2)]


def parse_wrk(output: str, endpoint: str, target: str) -> Result:
    rps = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.MULTILINE)
    total = re.search(r"^\s+(\d+) requests in", output, re.MULTILINE)
    if rps is None or total is None:
        raise SystemExit(f"unexpected wrk output:\n{output}")
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    errors = int(non_2xx.group(1)) if non_2xx else 0
    errors += sum(int(n) for n in socket_errors.groups()) if socket_errors else 0
    return Result(endpoint, target, float(rps.group(1)), _wrk_latency_ms(output, "50"),
                  _wrk_latency_ms(output, "99"), int(total.group(1)), errors)


def wrk(base: str, script: str, args: argparse.Namespace, env: dict[str, str], duration: float) -> str:
    cmd = ["wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{duration}s", "--latency",
           "--timeout", "10s", "-s", str(BENCH / "wrk" / script), base]
    result = subprocess.run(cmd, env={**os.environ, **env}, capture_output=True, text=True, check=True)
    return result.stdout


def pgbench(pg: PgServer, database: str, script: str, defines: dict[str, int], args: argparse.Namespace,
            endpoint: str, workdir: Path) -> Result:
    logs = workdir / f"pgbench-{Path(script).stem}"
    logs.mkdir()
    cmd = [str(pg.bindir / "pgbench"), "-h", pg.host, "-p", str(pg.port), "-U", pg.user, "-n",
           "-M", "prepared", f"-c{args.connections}", f"-j{args.threads}", f"-T{args.duration}",
           "-l", f"--log-prefix={logs}/tx", "-f", str(BENCH / "pgbench" / script),
           *[f"-D{name}={value}" for name, value in defines.items()], database]
    result = subprocess.run(cmd, env={**os.environ, "PGPASSWORD": pg.password}, capture_output=True,
                            text=True, check=False)
    if result.returncode not in (0, 2):  # 2: some clients failed, which the errors column reports
        raise SystemExit(f"pgbench failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    tps = re.search(r"^tps = ([\d.]+)", result.stdout, re.MULTILINE)
    done = re.search(r"number of transactions actually processed: (\d+)", result.stdout)
    failed = re.search(r"number of failed transactions: (\d+)", result.stdout)
    if tps is None or done is None:
        raise SystemExit(f"unexpected pgbench output:\n{result.stdout}\n{result.stderr}")
    # Per-transaction log lines: client_id tx_no latency_us script_no epoch_s epoch_us
    latencies = sorted(int(line.split()[2]) for f in logs.iterdir() for line in f.read_text().splitlines())
    errors = int(failed.group(1)) if failed else 0
    errors += len(re.findall(r"client \d+ aborted", result.stderr))
    return Result(endpoint, "ceiling: pgbench, same SQL", float(tps.group(1)), _pct(latencies, 50) / 1000,
                  _pct(latencies, 99) / 1000, int(done.group(1)), errors)


def _pct(sorted_values: list[int], pct: float) -> float:
    if not sorted_values:
        return float("nan")
    return float(sorted_values[min(len(sorted_values) - 1, math.ceil(pct / 100 * len(sorted_values)) - 1)])


# --- seeding -------------------------------------------------------------------------------------------
def _login(client: httpx.Client, email: str, password: str) -> str:
    response = client.post("/auth/token", data={"username": email, "password": password})
    response.raise_for_status()
    token: str = response.json()["access_token"]
    return token


def _flight(client: httpx.Client, token: str, number: str, rows: int, letters: str) -> int:
    response = client.post("/flights", headers={"Authorization": f"Bearer {token}"}, json={
        "number": number, "origin": "LIS", "destination": "OPO", "departure_at": "2031-06-01T08:00:00Z",
        "arrival_at": "2031-06-01T09:00:00Z", "rows": rows, "seat_letters": letters, "fare": "59.90",
    })
    response.raise_for_status()
    flight_id: int = response.json()["id"]
    return flight_id


def seed(base: str, admin_password: str, user_password: str, booking_flights: int) -> dict[str, object]:
    """Through the API: the seat-map flight with a third of its seats sold, empty flights to book."""
    with httpx.Client(base_url=base, timeout=30) as client:
        admin = _login(client, ADMIN_EMAIL, admin_password)
        seatmap_flight = _flight(client, admin, "BK100", SEATMAP_ROWS, SEATMAP_LETTERS)
        registered = client.post("/auth/register", json={"email": USER_EMAIL, "password": user_password})
        registered.raise_for_status()
        user = _login(client, USER_EMAIL, user_password)
        seats = [f"{row}{letter}" for row in range(1, SEATMAP_ROWS + 1) for letter in SEATMAP_LETTERS]
        for seat in seats[::3][:SEATMAP_TAKEN]:
            client.post("/bookings", headers={"Authorization": f"Bearer {user}"}, json={
                "flight_id": seatmap_flight, "passengers": [{"seat": seat, "name": "Seed Passenger"}],
            }).raise_for_status()
        flights = [_flight(client, admin, f"BK{200 + i}", ROWS, LETTERS) for i in range(booking_flights)]
        user_id: int = client.get("/auth/me", headers={"Authorization": f"Bearer {user}"}).json()["id"]
    return {"seatmap_flight": seatmap_flight, "booking_flights": flights, "token": user, "user_id": user_id}


def sql_flights(pg: PgServer, database: str, template: int, count: int) -> int:
    """`count` more empty flights for pgbench's bookings, consecutive ids; returns the first id."""
    with pg.connect(database) as conn:
        columns = [row[0] for row in conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'flights' "
            "AND column_name <> 'id' ORDER BY ordinal_position"
        )]
        names = ", ".join(columns)
        ids = [row[0] for row in conn.execute(
            f"INSERT INTO flights ({names}) SELECT {names} FROM flights, generate_series(1, %s) "
            "WHERE id = %s ORDER BY generate_series RETURNING id", (count, template),
        )]
    ids.sort()
    assert ids == list(range(ids[0], ids[0] + count)), "pgbench needs consecutive flight ids"
    return ids[0]


# --- report --------------------------------------------------------------------------------------------
def table(results: list[Result]) -> str:
    lines = ["| endpoint | server | req/s | p50 ms | p99 ms | requests | errors |",
             "| --- | --- | ---: | ---: | ---: | ---: | ---: |"]
    lines += [f"| {r.endpoint} | {r.target} | {r.rps:,.0f} | {r.p50_ms:.1f} | {r.p99_ms:.1f} | "
              f"{r.requests:,} | {r.errors} |" for r in results]
    return "\n".join(lines)


def machine() -> str:
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.machine())
    load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    return f"{os.cpu_count()} CPUs ({model}), load average {load}, {platform.system()} {platform.release()}"


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duration", type=int, default=10, help="seconds per measurement (default 10)")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections / pgbench clients")
    parser.add_argument("--threads", type=int, default=2, help="wrk / pgbench threads (default 2)")
    parser.add_argument("--workers", type=int, default=2, help="server worker processes (WEB_CONCURRENCY)")
    args = parser.parse_args()
    for tool in ("wrk",):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} not found: apt-get install {tool}")

    started = datetime.now(UTC)
    host = machine()
    pg, pg_root = start_pg_server()
    workdir = Path(tempfile.mkdtemp(prefix="booking-bench-"))
    results: list[Result] = []
    try:
        database = "bench"
        url = pg.create_database(database)
        admin_password, user_password = secrets.token_urlsafe(12), secrets.token_urlsafe(12)
        env = {**os.environ, "DATABASE_URL": url, "JWT_SECRET": secrets.token_urlsafe(32),
               "WEB_CONCURRENCY": str(args.workers), "LOG_LEVEL": "warning", "PYTHONPATH": str(ROOT)}
        subprocess.run([PYTHON, "-m", "app", "migrate"], cwd=ROOT, env=env, check=True)
        subprocess.run([PYTHON, "-m", "app", "create-admin", "--email", ADMIN_EMAIL, "--password",
                        admin_password], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
        per_thread = math.ceil(MAX_API_BOOKINGS_PER_S * args.duration / (ROWS * len(LETTERS)) / args.threads)
        port = free_port()
        api_cmd = [PYTHON, "-m", "app", "serve", "--no-migrate", "--host", "127.0.0.1", "--port", str(port)]

        log(f"booking API: {args.workers} workers, wrk {args.connections} connections, {args.duration} s")
        with serving(api_cmd, env, port, "/readyz", workdir / "api.log") as base:
            data = seed(base, admin_password, user_password, per_thread * args.threads)
            seatmap = {"BENCH_FLIGHT_ID": str(data["seatmap_flight"])}
            wrk(base, "seatmap.lua", args, seatmap, 2)  # warm-up: workers, pools, prepared statements
            results.append(parse_wrk(wrk(base, "seatmap.lua", args, seatmap, args.duration),
                                     "GET /flights/{id}/seats", "booking API (python -m app serve)"))
            booking_env = {
                "BENCH_TOKEN": str(data["token"]), "BENCH_ROWS": str(ROWS), "BENCH_SEAT_LETTERS": LETTERS,
                "BENCH_THREADS": str(args.threads), "BENCH_RUN": secrets.token_hex(4),
                "BENCH_FLIGHT_IDS": ",".join(map(str, data["booking_flights"])),  # type: ignore[call-overload]
            }
            results.append(parse_wrk(wrk(base, "booking.lua", args, booking_env, args.duration),
                                     "POST /bookings", "booking API (python -m app serve)"))

        log("baseline: plain FastAPI + ORM seat map")
        port = free_port()
        baseline_cmd = [PYTHON, "-m", "gunicorn", "--workers", str(args.workers), "--worker-class",
                        "uvicorn_worker.UvicornWorker", "--bind", f"127.0.0.1:{port}", "--keep-alive", "65",
                        "--log-level", "warning", "bench.baseline:app"]
        with serving(baseline_cmd, env, port, "/openapi.json", workdir / "baseline.log") as base:
            wrk(base, "seatmap.lua", args, seatmap, 2)
            results.append(parse_wrk(wrk(base, "seatmap.lua", args, seatmap, args.duration),
                                     "GET /flights/{id}/seats", "baseline: plain FastAPI + ORM"))

        log("ceiling: pgbench")
        results.append(pgbench(pg, database, "seatmap.sql", {"flight_id": int(seatmap["BENCH_FLIGHT_ID"])},
                                  args, "GET /flights/{id}/seats", workdir))
        flights = math.ceil(MAX_SQL_BOOKINGS_PER_S * args.duration / (ROWS * len(LETTERS)))
        first = sql_flights(pg, database, int(seatmap["BENCH_FLIGHT_ID"]), flights)
        results.append(pgbench(pg, database, "booking.sql", {
            "first_flight": first, "user_id": int(data["user_id"]),  # type: ignore[call-overload]
            "clients": args.connections, "n": 0,
        }, args, "POST /bookings", workdir))
    finally:
        with contextlib.suppress(Exception):
            pg.stop()
        shutil.rmtree(pg_root, ignore_errors=True)
        shutil.rmtree(workdir, ignore_errors=True)

    # GET rows first, each as API, baseline, ceiling.
    order = ["booking", "baseline", "ceiling"]
    results.sort(key=lambda r: (r.endpoint.startswith("POST"), order.index(r.target.split()[0].rstrip(":"))))
    report = (
        f"Benchmark {started:%Y-%m-%d %H:%M} UTC, {args.connections} connections, {args.duration} s per row, "
        f"{args.workers} server workers\nMachine: {host}\n\n{table(results)}\n"
    )
    print(report)
    out = BENCH / "results"
    out.mkdir(exist_ok=True)
    (out / f"{started:%Y%m%dT%H%M%S}.md").write_text(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
