"""Engine and sessions: URL selection, timeouts, and credentials from Secrets Manager.

On ECS the password comes from the RDS-managed secret, which RDS rotates while tasks run. New
connections take the cached credentials; when PostgreSQL rejects them, the secret is read again and
the connection retried once, so a rotation costs one failed attempt rather than an outage.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import time
import weakref
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session, sessionmaker

from app.core.config import DEFAULT_SQLITE_URL, Settings

log = logging.getLogger("booking.db")


class DatabaseUnavailable(Exception):
    """The database (or the secret holding its credentials) cannot be reached right now."""


class SecretCredentials:
    """Username/password from a Secrets Manager secret (JSON keys `username`, `password`), cached."""

    def __init__(
        self, secret_arn: str, region: str | None = None, client_factory: Callable[[], Any] | None = None
    ) -> None:
        self.secret_arn = secret_arn
        self.region = region
        self._client_factory = client_factory
        self._client: Any = None
        self._lock = threading.Lock()
        self._cached: tuple[str, str] | None = None
        self.fetches = 0

    def _get_client(self) -> Any:
        if self._client is None:
            if self._client_factory is not None:
                self._client = self._client_factory()
            else:
                import boto3
                from botocore.config import Config

                self._client = boto3.client(
                    "secretsmanager",
                    region_name=self.region,
                    config=Config(connect_timeout=3, read_timeout=5, retries={"max_attempts": 2}),
                )
        return self._client

    def get(self, refresh: bool = False) -> tuple[str, str]:
        with self._lock:
            if self._cached is None or refresh:
                self._cached = self._fetch()
            return self._cached

    def refreshed(self, rejected: tuple[str, str]) -> tuple[str, str]:
        """New credentials after `rejected` failed: read the secret again, unless a concurrent
        connection already did (the async pool opens several at once; one read is enough)."""
        with self._lock:
            if self._cached is None or self._cached == rejected:
                self._cached = self._fetch()
            return self._cached

    def _fetch(self) -> tuple[str, str]:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            response = self._get_client().get_secret_value(SecretId=self.secret_arn)
        except (BotoCoreError, ClientError) as exc:
            raise DatabaseUnavailable(f"cannot read database secret: {exc}") from exc
        self.fetches += 1
        try:
            data = json.loads(response["SecretString"])
            return str(data["username"]), str(data["password"])
        except (KeyError, TypeError, ValueError) as exc:
            raise DatabaseUnavailable("database secret must be JSON with 'username' and 'password'") from exc


def database_url(settings: Settings) -> sa.URL:
    """DATABASE_URL if set, else a PostgreSQL URL from DB_* (password filled in per connection)."""
    if settings.DATABASE_URL:
        url = make_url(settings.DATABASE_URL)
        if url.drivername in ("postgresql", "postgres"):
            url = url.set(drivername="postgresql+psycopg")
        return url
    if settings.DB_HOST:
        return sa.URL.create(
            "postgresql+psycopg",
            username=settings.DB_USERNAME,
            password=settings.DB_PASSWORD.get_secret_value() if settings.DB_PASSWORD else None,
            host=settings.DB_HOST,
            port=settings.DB_PORT,
            database=settings.DB_NAME,
        )
    return make_url(DEFAULT_SQLITE_URL)


def describe_database(settings: Settings) -> str:
    """The database the settings point at, for messages: the URL without its password."""
    return database_url(settings).render_as_string(hide_password=True)


def _is_auth_failure(exc: BaseException) -> bool:
    sqlstate = getattr(exc, "sqlstate", None)
    if sqlstate in ("28P01", "28000"):
        return True
    return "password authentication failed" in str(exc)


def session_settings(settings: Settings) -> dict[str, str]:
    """Server settings of every PostgreSQL session, the sync engine's and the async pool's.
    Bounded statements and lock waits: a stuck query becomes a 503, not a hung request."""
    return {
        "statement_timeout": str(settings.DB_STATEMENT_TIMEOUT_MS),
        "lock_timeout": str(settings.DB_STATEMENT_TIMEOUT_MS),
    }


APPLICATION_NAME = "booking-api"
# TCP keepalives of every PostgreSQL connection, in seconds: probes after this much idleness, this
# often, this many times, before the kernel gives the connection up.
KEEPALIVE_IDLE, KEEPALIVE_INTERVAL, KEEPALIVE_COUNT = 30, 10, 3


def unanswered_limit_ms(settings: Settings) -> int:
    """How long a connection may leave a statement unanswered before the client gives up: longer
    than the server's own statement timeout, so it only fires when the server cannot answer at all."""
    return settings.DB_STATEMENT_TIMEOUT_MS + 5000


def startup_options(values: Mapping[str, str]) -> str:
    """Server settings as libpq's `options` connection parameter (and PGOPTIONS): `-c name=value`."""
    return " ".join(f"-c {name}={value}" for name, value in values.items())


def libpq_options(settings: Settings) -> dict[str, Any]:
    """libpq parameters of the sync engine's connections (the async pool's: app/core/asyncdb.py)."""
    return {
        "connect_timeout": settings.DB_CONNECT_TIMEOUT_SECONDS,
        "options": startup_options(session_settings(settings)),
        "application_name": APPLICATION_NAME,
        # A database that vanishes mid-query (failover, black-holed network) errors out instead of
        # leaving the request waiting on a socket forever.
        "keepalives": 1,
        "keepalives_idle": KEEPALIVE_IDLE,
        "keepalives_interval": KEEPALIVE_INTERVAL,
        "keepalives_count": KEEPALIVE_COUNT,
        "tcp_user_timeout": unanswered_limit_ms(settings),
    }


def make_engine(settings: Settings, *, poolclass: type[sa.pool.Pool] | None = None) -> Engine:
    url = database_url(settings)
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(url)
    connect_args = libpq_options(settings)
    if "sslmode" not in url.query:
        connect_args["sslmode"] = settings.DB_SSLMODE
    kwargs: dict[str, Any] = {"pool_pre_ping": True, "connect_args": connect_args}
    if poolclass is not None:
        kwargs["poolclass"] = poolclass
    else:
        kwargs.update(
            pool_size=settings.DB_POOL_SIZE,
            max_overflow=settings.DB_MAX_OVERFLOW,
            pool_timeout=settings.DB_POOL_TIMEOUT_SECONDS,
            pool_recycle=1800,
        )
    engine = sa.create_engine(url, **kwargs)
    if settings.DB_SECRET_ARN:
        credentials = SecretCredentials(settings.DB_SECRET_ARN, settings.AWS_REGION)
        _CREDENTIALS[engine] = credentials
        _use_secret_credentials(engine, credentials)
    return engine


_CREDENTIALS: weakref.WeakKeyDictionary[Engine, SecretCredentials] = weakref.WeakKeyDictionary()


def secret_credentials(engine: Engine) -> SecretCredentials | None:
    """The credential provider behind `engine` when DB_SECRET_ARN is set."""
    return _CREDENTIALS.get(engine)


def _use_secret_credentials(engine: Engine, credentials: SecretCredentials) -> None:
    @event.listens_for(engine, "do_connect")
    def connect_with_secret(dialect: Any, conn_rec: Any, cargs: Any, cparams: dict[str, Any]) -> Any:
        used = credentials.get()
        cparams["user"], cparams["password"] = used
        try:
            return dialect.connect(*cargs, **cparams)
        except psycopg.OperationalError as exc:
            if not _is_auth_failure(exc):
                raise
            log.warning("database rejected cached credentials; re-reading the secret")
            cparams["user"], cparams["password"] = credentials.refreshed(used)
            return dialect.connect(*cargs, **cparams)


def _sqlite_engine(url: sa.URL) -> Engine:
    if url.database and url.database != ":memory:" and not url.database.startswith("file:"):
        # The default file lives in a directory (.local/) that may not exist yet; if it cannot be
        # made, connecting fails with an error that names the database.
        with contextlib.suppress(OSError):
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    # SQLite has a single writer and its busy handler is a sleep loop, not a queue: competing
    # connections starve each other into "database is locked". One connection per process makes
    # requests queue fairly on the pool instead (and `serve` runs one worker on SQLite).
    engine = sa.create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": 10},
        poolclass=sa.pool.QueuePool,
        pool_size=1,
        max_overflow=0,
        pool_timeout=30,
    )

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_conn: Any, _rec: Any) -> None:
        # Let SQLAlchemy, not the sqlite3 module, decide when transactions start (see below).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=10000")
        if url.database and url.database != ":memory:":
            cur.execute("PRAGMA journal_mode=WAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def on_begin(conn: sa.Connection) -> None:
        # Take the write lock up front: two deferred transactions that both read and then write
        # would otherwise deadlock and one fail at once with "database is locked".
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    with factory() as session, session.begin():
        yield session


def wait_for_database(engine: Engine, timeout: float) -> None:
    """Block until a connection succeeds or `timeout` seconds pass (then re-raise the last error)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with engine.connect() as conn:
                conn.execute(sa.text("SELECT 1"))
            return
        except (sa.exc.OperationalError, DatabaseUnavailable):
            if time.monotonic() >= deadline:
                raise
            time.sleep(1)
