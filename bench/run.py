"""Benchmark the booking API against its ceiling and a baseline, in one run, on one PostgreSQL.

    .venv/bin/python bench/run.py [--duration 10] [--connections 32] [--workers 2]

1. starts a throwaway PostgreSQL (the test suite's `start_pg_server`), migrates it, seeds flights;
2. the booking API under its production server (`python -m app serve`, WEB_CONCURRENCY workers),
   loaded with wrk: seat-map GET, and booking POST (a new seat and Idempotency-Key per request);
3. the baseline: bench/baseline.py (plain FastAPI + ORM seat-map endpoint), served the same way;
4. the Python ceiling: bench/minimal.py (bare ASGI, same driver, pool and statement), served the same way;
5. the database ceiling: pgbench sending exactly the statements the endpoints send (app/hotsql.py, the
   module the app executes) with the same session settings (HOT_SESSION_OPTIONS), same clients;
The three booking rows (API, minimal app, pgbench) run in turn in --slices short slices, so all three
see the same machine (bench/slices.py); every other row runs whole, after VACUUM and CHECKPOINT.
It prints one table (also written to bench/results/) with, per row, the new PostgreSQL connections
opened during it (pg_stat_database.sessions) and the CPU milliseconds per request spent by the server
processes and by PostgreSQL (from /proc), then the ratios. Needs wrk, pgbench and the PostgreSQL
server binaries (apt-get install wrk postgresql). Load generator, servers and database share this
machine, so compare rows of one run; CPU ms per request is the least noisy column.

Over 400 lines: every row must run in one process against one PostgreSQL to be comparable.
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
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from app.hotsql import BOOK_SQL, HOT_SESSION_OPTIONS, SEAT_MAP_SQL, pgbench_sql  # noqa: E402
from bench.slices import Result, Slice, merge  # noqa: E402
from tests.app.server import NotReady, wait_until_ready  # noqa: E402
from tests.conftest import PgServer, free_port, start_pg_server  # noqa: E402

BENCH = ROOT / "bench"
DATABASE = "bench"
PYTHON = sys.executable
SEATS = "GET /flights/{id}/seats"
API = "booking API (python -m app serve)"
MINIMAL = "minimal ASGI, same driver + SQL"
CEILING = "ceiling: pgbench, same SQL"
ROWS, LETTERS = 99, "ABCDEFGHJK"  # the largest seat layout the API accepts: 990 seats per flight
SEATMAP_ROWS, SEATMAP_LETTERS, SEATMAP_TAKEN = 30, "ABCDEF", 60  # a typical narrow-body, a third sold
ADMIN_EMAIL, USER_EMAIL = "bench-admin@example.com", "bench-user@example.com"
# Upper bounds used only to seed enough seats that no request runs out of them (a request past the
# last seeded seat is an error in its row: the minimal app reached 3,810 bookings/s at 17:24 UTC).
MAX_API_BOOKINGS_PER_S, MAX_SQL_BOOKINGS_PER_S = 8000, 15000


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


# --- servers -------------------------------------------------------------------------------------------
@contextlib.contextmanager
def serving(cmd: list[str], env: dict[str, str], port: int, ready_path: str, logfile: Path) -> Iterator[str]:
    """Run an HTTP server until the block ends (SIGTERM, like ECS); yields its base URL once it answers.

    The server's process id is in `SERVER_PIDS[-1]` while the block runs (for its CPU time)."""
    with logfile.open("wb") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    base = f"http://127.0.0.1:{port}"

    def exited() -> str | None:
        return None if proc.poll() is None else f"{cmd} exited {proc.returncode}"

    SERVER_PIDS.append(proc.pid)
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


SERVER_PIDS: list[int] = []


# --- what a run costs: PostgreSQL connections and CPU -------------------------------------------------
def tree_cpu_seconds(root: int) -> float:
    """CPU time of `root` and all its descendants, live ones and reaped ones (cutime/cstime)."""
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    tick = os.sysconf("SC_CLK_TCK")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        parents[int(entry.name)] = int(fields[1])
        times[int(entry.name)] = sum(int(f) for f in fields[11:15]) / tick  # utime stime cutime cstime
    total = 0.0
    for pid, seconds in times.items():
        p = pid
        while p not in (0, 1, root):
            p = parents.get(p, 0)
        if p == root:
            total += seconds
    return total


def pg_sessions(pg: PgServer) -> int:
    with pg.connect() as conn:
        row = conn.execute("SELECT sum(sessions)::bigint FROM pg_stat_database").fetchone()
    return int(row[0] or 0) if row else 0


def postmaster_pid(pg: PgServer) -> int:
    return int((pg.datadir / "postmaster.pid").read_text().split()[0])


def settle(pg: PgServer) -> None:
    """VACUUM (ANALYZE) and CHECKPOINT before a row, as pgbench does before a run unless -n: no row pays
    for the previous one's dead rows, unset hint bits, missing statistics or an autovacuum launched
    mid-row. Without it, five pgbench booking rows in a row measured 7,112 to 16,278 tps."""
    with pg.connect(DATABASE) as conn:
        conn.autocommit = True
        conn.execute("VACUUM (ANALYZE)")
        conn.execute("CHECKPOINT")


@contextlib.contextmanager
def costs(pg: PgServer, server_pid: int | None, settle_first: bool = True) -> Iterator[dict[str, float]]:
    """Settle the database (unless a slice of an interleaved row), then count the new PostgreSQL
    sessions and CPU seconds (server tree, PostgreSQL tree) spent in the block."""
    if settle_first:
        settle(pg)
    out: dict[str, float] = {}
    sessions = pg_sessions(pg)
    pg_pid = postmaster_pid(pg)
    app0 = tree_cpu_seconds(server_pid) if server_pid else 0.0
    pg0 = tree_cpu_seconds(pg_pid)
    yield out
    out["app_cpu"] = (tree_cpu_seconds(server_pid) - app0) if server_pid else float("nan")
    out["pg_cpu"] = tree_cpu_seconds(pg_pid) - pg0
    time.sleep(1.5)  # backends flush their statistics (the session count) at most once a second
    out["sessions"] = pg_sessions(pg) - sessions - 1  # minus the one pg_sessions() itself opened


def with_costs(result: Result, spent: dict[str, float]) -> Result:
    result.new_connections = int(spent["sessions"])
    result.app_cpu_ms = spent["app_cpu"] * 1000 / max(result.requests, 1)
    result.pg_cpu_ms = spent["pg_cpu"] * 1000 / max(result.requests, 1)
    return result


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


def wrk_slice(base: str, args: argparse.Namespace, env: dict[str, str], seconds: int, pg: PgServer,
              server_pid: int) -> Slice:
    """One slice of a booking row: wrk with bench/wrk/booking.lua, which prints latency quantiles."""
    with costs(pg, server_pid, settle_first=False) as spent:
        output = wrk(base, "booking.lua", args, env, seconds)
    row = parse_wrk(output, "", "")
    quantiles = re.search(r"^BENCH_QUANTILES_US (.+)$", output, re.MULTILINE)
    if quantiles is None:
        raise SystemExit(f"no BENCH_QUANTILES_US in wrk output:\n{output}")
    points = [float(v) for v in quantiles.group(1).split()]
    return Slice(row.requests, row.errors, row.requests / row.rps, points, spent["app_cpu"], spent["pg_cpu"],
                 int(spent["sessions"]))


def wrk(base: str, script: str, args: argparse.Namespace, env: dict[str, str], duration: float) -> str:
    cmd = ["wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{duration}s", "--latency",
           "--timeout", "10s", "-s", str(BENCH / "wrk" / script), base]
    result = subprocess.run(cmd, env={**os.environ, **env}, capture_output=True, text=True, check=True)
    return result.stdout


def seat_map_row(base: str, args: argparse.Namespace, seatmap: dict[str, str], pg: PgServer, server_pid: int,
                 target: str) -> Result:
    """A whole seat-map row: a 2 s warm-up (workers, pools, prepared statements), then the measurement."""
    wrk(base, "seatmap.lua", args, seatmap, 2)
    with costs(pg, server_pid) as spent:
        output = wrk(base, "seatmap.lua", args, seatmap, args.duration)
    return with_costs(parse_wrk(output, SEATS, target), spent)


def gunicorn_cmd(args: argparse.Namespace, port: int, app: str) -> list[str]:
    """The baseline's and the minimal app's server: gunicorn with uvicorn workers, like `app serve`."""
    return [PYTHON, "-m", "gunicorn", "--workers", str(args.workers), "--worker-class",
            "uvicorn_worker.UvicornWorker", "--bind", f"127.0.0.1:{port}", "--keep-alive", "65",
            "--log-level", "warning", app]


def pgbench(pg: PgServer, script: Path, defines: dict[str, object], args: argparse.Namespace,
            workdir: Path, seconds: int, settle_first: bool = True) -> tuple[Slice, int]:
    """One pgbench run: its slice and the most transactions any one client ran (for the next offset)."""
    logs = Path(tempfile.mkdtemp(prefix="pgbench-", dir=workdir))
    cmd = [str(pg.bindir / "pgbench"), "-h", pg.host, "-p", str(pg.port), "-U", pg.user, "-n",
           "-M", "prepared", f"-c{args.connections}", f"-j{args.threads}", f"-T{seconds}",
           "-l", f"--log-prefix={logs}/tx", "-f", str(script),
           *[f"-D{name}={value}" for name, value in defines.items()], DATABASE]
    with costs(pg, None, settle_first) as spent:
        # The hot pool's session settings too (generic plans), so both run the statement the same way.
        env = {**os.environ, "PGPASSWORD": pg.password, "PGOPTIONS": HOT_SESSION_OPTIONS}
        result = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if result.returncode not in (0, 2):  # 2: some clients failed, which the errors column reports
        raise SystemExit(f"pgbench failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    tps = re.search(r"^tps = ([\d.]+)", result.stdout, re.MULTILINE)
    done = re.search(r"number of transactions actually processed: (\d+)", result.stdout)
    failed = re.search(r"number of failed transactions: (\d+)", result.stdout)
    if tps is None or done is None:
        raise SystemExit(f"unexpected pgbench output:\n{result.stdout}\n{result.stderr}")
    # Per-transaction log lines: client_id tx_no latency_us script_no epoch_s epoch_us
    lines = [line.split() for f in logs.iterdir() for line in f.read_text().splitlines()]
    errors = int(failed.group(1)) if failed else 0
    errors += len(re.findall(r"client \d+ aborted", result.stderr))
    processed = int(done.group(1))
    most = max((int(fields[1]) + 1 for fields in lines), default=0)
    latencies = [float(fields[2]) for fields in lines]
    return Slice(processed, errors, processed / float(tps.group(1)), latencies, float("nan"), spent["pg_cpu"],
                 int(spent["sessions"])), most


# pgbench scripts: the app's own statements (app/hotsql.py) with pgbench variables for the parameters.
SEATMAP_SCRIPT = "-- GET /flights/{id}/seats: app.hotsql.SEAT_MAP_SQL\n" + pgbench_sql(SEAT_MAP_SQL) + ";\n"
# Every transaction books seat 1A of a new flight (consecutive ids from :first_flight), so each is a
# real booking; key and reference are unique per transaction (client c's t-th: t * clients + c, after
# :offset, which each slice moves past the previous slices' numbers).
BOOKING_SCRIPT = (
    "-- POST /bookings: app.hotsql.BOOK_SQL\n\\set tx :tx + 1\n"
    "\\set g :offset + :tx * :clients + :client_id\n"
    "\\set flight_id :first_flight + :g\n\\set key :g\n\\set reference :g\n" + pgbench_sql(BOOK_SQL) + ";\n"
)


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


def sql_flights(pg: PgServer, template: int, count: int) -> int:
    """`count` more empty flights for pgbench's bookings, consecutive ids; returns the first id."""
    with pg.connect(DATABASE) as conn:
        columns = [row[0] for row in conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'flights' "
            "AND column_name <> 'id' ORDER BY ordinal_position"
        )]
        names = ", ".join(columns)
        # (number, departure_at) is unique (migration 0002): each copy departs and arrives a minute later.
        select = ", ".join(
            f"{c} + make_interval(mins => generate_series)" if c in ("departure_at", "arrival_at") else c
            for c in columns
        )
        ids = [row[0] for row in conn.execute(
            f"INSERT INTO flights ({names}) SELECT {select} FROM flights, generate_series(1, %s) "
            "WHERE id = %s ORDER BY generate_series RETURNING id", (count, template),
        )]
    ids.sort()
    assert ids == list(range(ids[0], ids[0] + count)), "pgbench needs consecutive flight ids"
    return ids[0]


# --- report --------------------------------------------------------------------------------------------
def table(results: list[Result]) -> str:
    lines = ["| endpoint | server | req/s | p50 ms | p99 ms | requests | errors | new PG conns "
             "| app CPU ms/req | PG CPU ms/req |",
             "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    lines += [f"| {r.endpoint} | {r.target} | {r.rps:,.0f} | {r.p50_ms:.1f} | {r.p99_ms:.1f} | "
              f"{r.requests:,} | {r.errors} | {r.new_connections} | {r.app_cpu_ms:.2f} | {r.pg_cpu_ms:.2f} |"
              for r in results]
    return "\n".join(lines)


def ratios(results: list[Result], pool_limit: int) -> str:
    """The goals of issue 17, computed from this run's rows."""
    def row(endpoint: str, target: str) -> Result:
        return next(r for r in results if r.endpoint.startswith(endpoint) and r.target.startswith(target))

    def cpu(r: Result) -> float:
        return r.app_cpu_ms + r.pg_cpu_ms

    api_map, api_book = row("GET", "booking API"), row("POST", "booking API")
    baseline, minimal_book, sql_book = row("GET", "baseline"), row("POST", "minimal"), row("POST", "ceiling")
    lines = [
        f"- seat map: {api_map.rps / row('GET', 'baseline').rps:.2f}x the plain FastAPI + ORM baseline "
        f"(goal >= 5x), p99 {api_map.p99_ms:.1f} ms (goal <= 20); "
        f"{api_map.rps / row('GET', 'minimal').rps:.0%} of the minimal ASGI app",
        f"- booking: {api_book.rps / row('POST', 'ceiling').rps:.0%} of pgbench running the same statement "
        f"(goal >= 40%), p99 {api_book.p99_ms:.1f} ms (goal <= 50); {api_book.rps / minimal_book.rps:.0%} "
        f"of the minimal ASGI app, which books at {minimal_book.rps / sql_book.rps:.0%} of pgbench",
        # CPU per request is what a shared machine's scheduler cannot skew (req/s follows each
        # row's share of contended cores, e.g. the baseline's 40 threads get more than 2 event loops).
        f"- CPU ms per request, app + PostgreSQL: seat map {cpu(api_map):.2f} vs baseline "
        f"{cpu(baseline):.2f} ({cpu(baseline) / cpu(api_map):.2f}x less) vs minimal "
        f"{cpu(row('GET', 'minimal')):.2f}; booking {cpu(api_book):.2f} vs pgbench's PostgreSQL "
        f"{row('POST', 'ceiling').pg_cpu_ms:.2f} vs minimal {cpu(row('POST', 'minimal')):.2f}",
        f"- new PostgreSQL connections during the API rows: seat map {api_map.new_connections}, booking "
        f"{api_book.new_connections} (limit: pool size x workers = {pool_limit})",
    ]
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
    parser.add_argument("--pool-size", type=int, default=5, help="DB_POOL_SIZE per worker (default 5)")
    parser.add_argument("--slices", type=int, default=5,
                        help="booking rows run in this many alternating slices (default 5, bench/slices.py)")
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
        url = pg.create_database(DATABASE)
        admin_password, user_password = secrets.token_urlsafe(12), secrets.token_urlsafe(12)
        env = {**os.environ, "DATABASE_URL": url, "JWT_SECRET": secrets.token_urlsafe(32),
               "WEB_CONCURRENCY": str(args.workers), "DB_POOL_SIZE": str(args.pool_size),
               # Access logs on, as in production (to a file here, to CloudWatch there).
               "LOG_LEVEL": "info", "PYTHONPATH": str(ROOT)}
        subprocess.run([PYTHON, "-m", "app", "migrate"], cwd=ROOT, env=env, check=True)
        # One argv item: a token_urlsafe password may start with "-", which argparse reads as an option.
        subprocess.run([PYTHON, "-m", "app", "create-admin", "--email", ADMIN_EMAIL,
                        f"--password={admin_password}"],
                       cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
        slice_s = max(1, round(args.duration / args.slices))  # wrk and pgbench take whole seconds
        per_slice = math.ceil(MAX_API_BOOKINGS_PER_S * slice_s / (ROWS * len(LETTERS)) / args.threads)
        per_slice *= args.threads  # flights per slice of a booking row: wrk deals them to its threads
        port = free_port()
        api_cmd = [PYTHON, "-m", "app", "serve", "--no-migrate", "--host", "127.0.0.1", "--port", str(port)]

        log(f"booking API: {args.workers} workers, wrk {args.connections} connections, {args.duration} s")
        with contextlib.ExitStack() as servers:
            api = servers.enter_context(serving(api_cmd, env, port, "/readyz", workdir / "api.log"))
            api_pid = SERVER_PIDS[-1]
            # Flights for the API's booking slices, then as many for the minimal app's.
            data = seed(api, admin_password, user_password, 2 * args.slices * per_slice)
            flight_ids = list(data["booking_flights"])  # type: ignore[call-overload]
            seatmap = {"BENCH_FLIGHT_ID": str(data["seatmap_flight"])}
            results.append(seat_map_row(api, args, seatmap, pg, api_pid, API))

            log("baseline: plain FastAPI + ORM seat map")
            port = free_port()
            baseline_cmd = gunicorn_cmd(args, port, "bench.baseline:app")
            with serving(baseline_cmd, env, port, "/openapi.json", workdir / "baseline.log") as base:
                results.append(seat_map_row(base, args, seatmap, pg, SERVER_PIDS[-1],
                                            "baseline: plain FastAPI + ORM"))

            log("Python ceiling: minimal ASGI app, same driver and statements")
            port = free_port()
            minimal_cmd = gunicorn_cmd(args, port, "bench.minimal:app")
            minimal_env = {**env, "MINIMAL_USER_ID": str(data["user_id"])}
            minimal = servers.enter_context(serving(minimal_cmd, minimal_env, port,
                                                    f"/flights/{seatmap['BENCH_FLIGHT_ID']}/seats",
                                                    workdir / "minimal.log"))
            minimal_pid = SERVER_PIDS[-1]
            results.append(seat_map_row(minimal, args, seatmap, pg, minimal_pid, MINIMAL))

            log("ceiling: pgbench")
            scripts = {"seatmap": workdir / "seatmap.sql", "booking": workdir / "booking.sql"}
            scripts["seatmap"].write_text(SEATMAP_SCRIPT)
            scripts["booking"].write_text(BOOKING_SCRIPT)
            now = datetime.now(UTC).isoformat()
            seat_slice, _ = pgbench(pg, scripts["seatmap"], {"flight_id": int(seatmap["BENCH_FLIGHT_ID"]),
                                                             "now": now}, args, workdir, args.duration)
            results.append(merge(SEATS, CEILING, [seat_slice]))
            template = int(seatmap["BENCH_FLIGHT_ID"])
            first = sql_flights(pg, template, MAX_SQL_BOOKINGS_PER_S * args.duration)

            log(f"bookings: API, minimal ASGI app and pgbench in turn, {args.slices} x {slice_s:g} s each")
            settle(pg)
            booking_env = {"BENCH_TOKEN": str(data["token"]), "BENCH_ROWS": str(ROWS),
                           "BENCH_SEAT_LETTERS": LETTERS, "BENCH_THREADS": str(args.threads)}
            defines: dict[str, object] = {
                "first_flight": first, "user_id": int(data["user_id"]),  # type: ignore[call-overload]
                "clients": args.connections, "tx": 0, "now": now, "seats": "{1A}",
                "names": '{"Bench Passenger"}', "n": 1, "hash": "0" * 64, "offset": 0,
            }
            slices: dict[str, list[Slice]] = {API: [], MINIMAL: [], CEILING: []}
            for k in range(args.slices):
                for target, base, pid, offset in ((API, api, api_pid, 0), (MINIMAL, minimal, minimal_pid, 1)):
                    own = flight_ids[(2 * k + offset) * per_slice:(2 * k + offset + 1) * per_slice]
                    slice_env = {**booking_env, "BENCH_FLIGHT_IDS": ",".join(map(str, own)),
                                 "BENCH_RUN": secrets.token_hex(4)}
                    slices[target].append(wrk_slice(base, args, slice_env, slice_s, pg, pid))
                sql_slice, most = pgbench(pg, scripts["booking"], defines, args, workdir, slice_s, False)
                slices[CEILING].append(sql_slice)
                defines["offset"] = int(defines["offset"]) + (most + 1) * args.connections  # type: ignore[call-overload]
            results += [merge("POST /bookings", target, parts) for target, parts in slices.items()]
            # pgbench counts a transaction as done even when BOOK_SQL inserted nothing (a reused key or
            # seat): every one of them must have booked, or the ceiling ran a cheaper statement.
            with pg.connect(DATABASE) as conn:
                row = conn.execute("SELECT count(*) FROM bookings WHERE flight_id >= %s", (first,)).fetchone()
            booked, processed = (row[0] if row else 0), sum(part.requests for part in slices[CEILING])
            if booked != processed:
                raise SystemExit(f"pgbench processed {processed} bookings but {booked} were made")
    finally:
        with contextlib.suppress(Exception):
            pg.stop()
        shutil.rmtree(pg_root, ignore_errors=True)
        shutil.rmtree(workdir, ignore_errors=True)

    # GET rows first, each as API, baseline, ceiling.
    order = ["booking", "baseline", "minimal", "ceiling"]
    results.sort(key=lambda r: (r.endpoint.startswith("POST"), order.index(r.target.split()[0].rstrip(":"))))
    report = (
        f"Benchmark {started:%Y-%m-%d %H:%M} UTC, {args.connections} connections, {args.duration} s per row, "
        f"{args.workers} server workers, DB_POOL_SIZE {args.pool_size}, booking rows in {args.slices} "
        f"alternating slices\nMachine: {host}\n\n"
        f"{table(results)}\n\n"
        f"{ratios(results, args.workers * args.pool_size)}\n"
    )
    print(report)
    out = BENCH / "results"
    out.mkdir(exist_ok=True)
    (out / f"{started:%Y%m%dT%H%M%S}.md").write_text(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
