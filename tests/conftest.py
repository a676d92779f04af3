"""Shared fixtures: a throwaway PostgreSQL server started from the local binaries.

`pg_server` (session scope) starts one server per test session on a free 127.0.0.1 port with a
temporary data directory and password (scram-sha-256) authentication, so tests can rotate passwords.
CI runs as root and initdb refuses root, so as root the server runs as the `postgres` OS user.
"""

from __future__ import annotations

import contextlib
import glob
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest
from psycopg import sql


def _find_bindir() -> Path | None:
    env = os.environ.get("PG_BINDIR")
    if env and (Path(env) / "initdb").exists():
        return Path(env)
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


# Administrative connections (create/drop databases and roles) wait this long for the server: on a
# heavily loaded 2-core machine a fresh connection (fork + SCRAM) can take well over 5 s.
ADMIN_CONNECT_TIMEOUT_SECONDS = int(os.environ.get("BOOKING_PG_ADMIN_CONNECT_TIMEOUT", "60"))


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class PgServer:
    """A running throwaway PostgreSQL server; `user`/`password` are its superuser."""

    host: str
    port: int
    user: str
    password: str
    bindir: Path
    datadir: Path
    _run_as: list[str] = field(default_factory=list, repr=False)

    def url(self, dbname: str = "postgres", user: str | None = None, password: str | None = None) -> str:
        """SQLAlchemy URL (psycopg 3 driver) for `dbname`, as the superuser unless told otherwise."""
        return (
            f"postgresql+psycopg://{user or self.user}:{password or self.password}"
            f"@{self.host}:{self.port}/{dbname}"
        )

    def connect(self, dbname: str = "postgres") -> psycopg.Connection:
        """A superuser psycopg connection in autocommit mode (close it, or use it in `with`)."""
        return psycopg.connect(
            host=self.host,
            port=self.port,
            user=self.user,
            password=self.password,
            dbname=dbname,
            autocommit=True,
            connect_timeout=ADMIN_CONNECT_TIMEOUT_SECONDS,
        )

    def create_database(self, name: str, owner: str | None = None, template: str | None = None) -> str:
        """Create a fresh database (dropping any old one of that name) and return its SQLAlchemy URL.

        `template` copies an existing database (which must have no open connections)."""
        stmt = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if owner:
            stmt += sql.SQL(" OWNER {}").format(sql.Identifier(owner))
        if template:
            stmt += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
        with self.connect() as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
            conn.execute(stmt)
        return self.url(name)

    def drop_database(self, name: str) -> None:
        with self.connect() as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))

    def create_role(self, name: str, password: str) -> None:
        """A login role (not superuser) with `password`; recreated if it exists."""
        with self.connect() as conn:
            conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(name)))
            stmt = sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}")
            conn.execute(stmt.format(sql.Identifier(name), sql.Literal(password)))

    def _pg_ctl(self, *args: str) -> None:
        subprocess.run(
            [*self._run_as, str(self.bindir / "pg_ctl"), "-D", str(self.datadir), *args],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            timeout=60,
        )

    def stop(self, mode: str = "fast") -> None:
        self._pg_ctl("stop", "-m", mode, "-w")

    def start(self) -> None:
        self._pg_ctl("start", "-w", "-l", str(self.datadir.parent / "server.log"))


def _write_self_signed_cert(directory: Path, cert_name: str, key_name: str) -> None:
    """A throwaway self-signed certificate for 127.0.0.1 (sslmode=require does not verify it)."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=2))
        .sign(key, hashes.SHA256())
    )
    (directory / cert_name).write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path = directory / key_name
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    # PostgreSQL refuses a key file that others can read.
    key_path.chmod(0o600)


def start_pg_server() -> tuple[PgServer, Path]:
    bindir = _find_bindir()
    if bindir is None:
        pytest.skip("PostgreSQL server binaries not found (apt-get install postgresql)")
    # Under /tmp even when TMPDIR points elsewhere: the postgres user must be able to reach it.
    root = Path(tempfile.mkdtemp(prefix="booking-pg-", dir="/tmp"))
    datadir = root / "data"
    run_as: list[str] = []
    if os.geteuid() == 0:
        # initdb refuses to run as root: hand the temp dir to the postgres OS user.
        shutil.chown(root, user="postgres", group="postgres")
        run_as = ["runuser", "-u", "postgres", "--"]
    password = secrets.token_urlsafe(16)
    pwfile = root / "pw"
    pwfile.write_text(password)
    if run_as:
        shutil.chown(pwfile, user="postgres", group="postgres")
    subprocess.run(
        [
            *run_as,
            str(bindir / "initdb"),
            "-D",
            str(datadir),
            "-U",
            "postgres",
            "--auth=scram-sha-256",
            f"--pwfile={pwfile}",
            "--encoding=UTF8",
            "--locale=C",
            "--no-sync",
        ],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        timeout=120,
    )
    pwfile.unlink()
    port = free_port()
    # TLS on, like RDS: the task definition declares DB_SSLMODE=require, and the container check runs it.
    _write_self_signed_cert(datadir, "server.crt", "server.key")
    if run_as:
        for name in ("server.crt", "server.key"):
            shutil.chown(datadir / name, user="postgres", group="postgres")
    conf = (
        f"\nlisten_addresses = '127.0.0.1'\nport = {port}\nunix_socket_directories = '{root}'\n"
        "max_connections = 300\nfsync = off\nsynchronous_commit = off\nfull_page_writes = off\n"
        "shared_buffers = 32MB\nssl = on\nssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'\n"
    )
    with open(datadir / "postgresql.conf", "a") as f:
        f.write(conf)
    server = PgServer("127.0.0.1", port, "postgres", password, bindir, datadir, run_as)
    server.start()
    deadline = time.monotonic() + 120
    while True:
        try:
            server.connect().close()
            break
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
    return server, root


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """One throwaway PostgreSQL server for the test session (skips when the binaries are missing)."""
    server, root = start_pg_server()
    try:
        yield server
    finally:
        with contextlib.suppress(subprocess.SubprocessError, OSError):
            # A throwaway server: no shutdown checkpoint needed.
            server.stop("immediate")
        shutil.rmtree(root, ignore_errors=True)
