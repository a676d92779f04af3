"""`python -m app serve | migrate | create-admin | seed-demo | healthcheck`.

Imports stay inside the commands: `serve` must set PROMETHEUS_MULTIPROC_DIR before anything loads
prometheus_client, and `healthcheck` (run by ECS every few seconds) should start fast.
"""

from __future__ import annotations

import argparse
import logging
import os
import secrets
import shutil
import sys
import tempfile
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

log = logging.getLogger("booking.cli")


def _settings() -> Any:
    from pydantic import ValidationError
    from sqlalchemy.exc import ArgumentError

    from app.core.config import Settings
    from app.core.db import database_url

    try:
        settings = Settings()
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise SystemExit(f"invalid environment: {problems}") from None
    try:
        database_url(settings)
    except (ArgumentError, ValueError):
        raise SystemExit("invalid environment: DATABASE_URL is not a database URL (dialect://…)") from None
    return settings


def _database_error(command: str, settings: Any, exc: BaseException, hint: str = "") -> int:
    """Print one line naming the command, the database (no password) and the error; exit code 1."""
    from app.core.db import describe_database

    reason = getattr(exc, "orig", None) or exc
    first = (str(reason).strip().splitlines() or [type(reason).__name__])[0]
    print(f"{command}: database {describe_database(settings)}: {first}{hint}", file=sys.stderr)
    return 1


_MIGRATE_HINT = " (did you run `python -m app migrate`?)"


def _db_errors() -> tuple[type[BaseException], ...]:
    import sqlalchemy as sa

    from app.core.db import DatabaseUnavailable

    return (sa.exc.SQLAlchemyError, DatabaseUnavailable, OSError)


def cmd_migrate(_args: argparse.Namespace) -> int:
    from sqlalchemy.pool import NullPool

    from app.core.db import describe_database, make_engine, wait_for_database
    from app.core.migrations import upgrade

    settings = _settings()
    engine = make_engine(settings, poolclass=NullPool)
    try:
        # Tasks may start before the database accepts connections (first deploy, failover).
        wait_for_database(engine, timeout=float(os.environ.get("DB_WAIT_SECONDS", "60")))
        upgrade(engine)
    except _db_errors() as exc:
        return _database_error("migrate", settings, exc)
    finally:
        engine.dispose()
    print(f"database schema is up to date: {describe_database(settings)}", file=sys.stderr)
    return 0


def cmd_create_admin(args: argparse.Namespace) -> int:
    import sqlalchemy as sa
    from pydantic import ValidationError

    from app.core.db import describe_database, make_engine, make_sessionmaker, session_scope
    from app.core.security import hash_password
    from app.models import User
    from app.schemas import UserCreate

    try:
        body = UserCreate(email=args.email, password=args.password)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        print(f"create-admin: {problems}", file=sys.stderr)
        return 2
    settings = _settings()
    engine = make_engine(settings)
    try:
        with session_scope(make_sessionmaker(engine)) as session:
            email = body.email.lower()
            user = session.scalar(sa.select(User).where(User.email == email))
            if user is None:
                session.add(User(email=email, hashed_password=hash_password(body.password), is_admin=True))
                action = "created"
            else:
                user.is_admin = True
                user.hashed_password = hash_password(body.password)
                action = "updated"
    except _db_errors() as exc:
        return _database_error("create-admin", settings, exc, _MIGRATE_HINT)
    finally:
        engine.dispose()
    print(f"admin {email} {action} in {describe_database(settings)}")
    return 0


DEMO_FLIGHTS = [
    # number, origin, destination, days from today, departure hour UTC, minutes, rows, letters, fare
    ("BK101", "LHR", "JFK", 1, 8, 480, 30, "ABCDEF", "420.00"),
    ("BK102", "JFK", "LHR", 2, 18, 420, 30, "ABCDEF", "395.00"),
    ("BK201", "CDG", "FCO", 1, 7, 125, 20, "ABCDEF", "89.00"),
    ("BK202", "FCO", "CDG", 3, 16, 130, 20, "ABCDEF", "95.00"),
    ("BK301", "SFO", "SEA", 1, 9, 125, 12, "ABCD", "149.00"),
]


def cmd_seed_demo(_args: argparse.Namespace) -> int:
    import sqlalchemy as sa

    from app.core.db import describe_database, make_engine, make_sessionmaker, session_scope
    from app.models import Flight

    settings = _settings()
    engine = make_engine(settings)
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    created = 0
    try:
        with session_scope(make_sessionmaker(engine)) as session:
            for number, origin, dest, days, hour, minutes, rows, letters, fare in DEMO_FLIGHTS:
                departure = today + timedelta(days=days, hours=hour)
                exists = session.scalar(
                    sa.select(Flight.id).where(Flight.number == number, Flight.departure_at == departure)
                )
                if exists is None:
                    session.add(
                        Flight(
                            number=number,
                            origin=origin,
                            destination=dest,
                            departure_at=departure,
                            arrival_at=departure + timedelta(minutes=minutes),
                            seat_rows=rows,
                            seat_letters=letters,
                            fare=Decimal(fare),
                        )
                    )
                    created += 1
    except _db_errors() as exc:
        return _database_error("seed-demo", settings, exc, _MIGRATE_HINT)
    finally:
        engine.dispose()
    print(
        f"seed-demo: {created} flights added ({len(DEMO_FLIGHTS) - created} already there)"
        f" in {describe_database(settings)}"
    )
    return 0


def cmd_healthcheck(args: argparse.Namespace) -> int:
    port = args.port or int(os.environ.get("PORT", "8000"))
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=3) as resp:
            return 0 if resp.status == 200 else 1
    except (urllib.error.URLError, OSError, ValueError):
        return 1


def cmd_serve(args: argparse.Namespace) -> int:
    # Workers are forked from this process: everything they share is set up before gunicorn starts.
    metrics_dir = os.environ["PROMETHEUS_MULTIPROC_DIR"]
    if not os.environ.get("JWT_SECRET"):
        print("serve: JWT_SECRET is not set; tokens will not survive a restart", file=sys.stderr)
        os.environ["JWT_SECRET"] = secrets.token_urlsafe(32)
    settings = _settings()
    if not args.no_migrate:
        code = cmd_migrate(args)
        if code:
            return code
    from gunicorn.app.base import BaseApplication

    from app.core import draining

    workers = args.workers or settings.WEB_CONCURRENCY
    if settings.is_sqlite and workers > 1:
        print(f"serve: SQLite has a single writer; running 1 worker instead of {workers}", file=sys.stderr)
        workers = 1
    port = args.port or settings.PORT

    def child_exit(_server: Any, worker: Any) -> None:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)

    class Server(BaseApplication):
        def load_config(self) -> None:
            options = {
                "bind": f"{args.host}:{port}",
                "workers": workers,
                # uvicorn's worker, minus a misleading "Bad file descriptor" line at every stop.
                "worker_class": "app.core.worker.BookingUvicornWorker",
                # After the drain, in-flight requests get this long; the task's stopTimeout covers
                # DRAIN_SECONDS + this (stacks validate it), after which ECS sends SIGKILL.
                "graceful_timeout": settings.GRACEFUL_TIMEOUT_SECONDS,
                "timeout": 60,
                # Longer than the ALB idle timeout (60 s), so the ALB closes idle connections, not us.
                "keepalive": 65,
                # Only the load balancer can reach the task (security groups), so its
                # X-Forwarded-For/-Proto are trusted: logs then show the real client address.
                "forwarded_allow_ips": "*",
                "accesslog": None,
                "errorlog": "-",
                "loglevel": settings.LOG_LEVEL.lower(),
                "worker_tmp_dir": "/tmp",  # noqa: S108
                "child_exit": child_exit,
                "proc_name": "booking-api",
                # Its default lives under $HOME, which is read-only in the container.
                "control_socket_disable": True,
            }
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self) -> Any:
            from app.main import app

            return app

    # Workers inherit the flag's path; the master creates the file when SIGTERM starts a drain.
    drain_flag = Path(metrics_dir) / "draining"
    os.environ[draining.DRAIN_FLAG_ENV] = str(drain_flag)
    server = Server()
    try:
        arbiter = draining.arbiter_class()(server)
        draining.configure(arbiter, settings.DRAIN_SECONDS, drain_flag)
        arbiter.run()
    except RuntimeError as exc:  # what gunicorn's BaseApplication.run() does with a bad config
        print(f"serve: {exc}", file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(metrics_dir, ignore_errors=True)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m app", description="Booking API commands")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="production server (gunicorn + uvicorn workers)")
    serve.add_argument("--host", default="0.0.0.0")  # noqa: S104 (the container listens on all interfaces)
    serve.add_argument("--port", type=int, default=None, help="default: $PORT or 8000")
    serve.add_argument("--workers", type=int, default=None, help="default: $WEB_CONCURRENCY or 2")
    serve.add_argument("--no-migrate", action="store_true", help="skip `migrate` before serving")
    serve.set_defaults(func=cmd_serve)

    sub.add_parser("migrate", help="upgrade the database schema to the newest migration").set_defaults(
        func=cmd_migrate
    )

    admin = sub.add_parser("create-admin", help="create an admin user (or promote and reset an existing one)")
    admin.add_argument("--email", required=True)
    admin.add_argument("--password", required=True)
    admin.set_defaults(func=cmd_create_admin)

    sub.add_parser("seed-demo", help="add a few demo flights (idempotent)").set_defaults(func=cmd_seed_demo)

    health = sub.add_parser("healthcheck", help="exit 0 when GET /healthz on this host answers 200")
    health.add_argument("--port", type=int, default=None, help="default: $PORT or 8000")
    health.set_defaults(func=cmd_healthcheck)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "serve":
        # prometheus_client picks its storage when first imported: point it at a directory every
        # worker shares before anything imports it.
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="booking-metrics-", dir="/tmp")
    from app.core.logging import configure_logging

    configure_logging(os.environ.get("LOG_LEVEL", "INFO"))
    code: int = args.func(args)
    return code
