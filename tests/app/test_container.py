"""The container check: build app/Dockerfile with podman and run it the way the ECS task definition will.

Read-only root filesystem with only /tmp writable, uid 10001, `DB_*` environment, the image's own
health-check command, against the test PostgreSQL. There are no registry pulls here, so the base is a
local Debian image (scripts/container-base-image, made once per machine) passed as PYTHON_IMAGE.

Skips when podman is missing, unless BOOKING_REQUIRE_CONTAINER_TEST=1 (CI), where it fails instead.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import httpx
import pytest

from tests.app.server import NotReady, wait_until_ready
from tests.conftest import PgServer, free_port

pytestmark = [pytest.mark.container, pytest.mark.postgres, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
PODMAN = ["podman", "--runtime", "runc", "--cgroup-manager", "cgroupfs"]
# Override to build on another local base, e.g. a python:3.13-slim you have loaded into podman.
BASE_IMAGE = os.environ.get("BOOKING_CONTAINER_BASE_IMAGE", "localhost/booking-base:bookworm")
# One tag per checkout: several worktrees on one machine may build at once (layers are shared anyway).
IMAGE = f"localhost/booking-api:test-{hashlib.sha256(str(ROOT).encode()).hexdigest()[:10]}"
HOST_CA_CERTS = Path("/etc/ssl/certs")
STOP_TIMEOUT_S = 10


def _unavailable(reason: str) -> NoReturn:
    if os.environ.get("BOOKING_REQUIRE_CONTAINER_TEST") == "1":
        pytest.fail(f"container check required (BOOKING_REQUIRE_CONTAINER_TEST=1) but {reason}")
    pytest.skip(f"container check skipped: {reason}")


def _report(config: pytest.Config, line: str) -> None:
    """Timings go straight to the terminal so they show up in every run, captured or not."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    capture = config.pluginmanager.get_plugin("capturemanager")
    if reporter is None:
        return
    with capture.global_and_fixture_disabled() if capture else contextlib.nullcontext():
        reporter.write_line(f"[container] {line}")


def podman(*args: str, check: bool = True, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([*PODMAN, *args], capture_output=True, text=True, timeout=timeout)
    if check and result.returncode != 0:
        raise AssertionError(f"podman {' '.join(args)} exited {result.returncode}:\n{result.stderr[-3000:]}")
    return result


def _image_id(name: str) -> str | None:
    result = podman("image", "inspect", "--format", "{{.Id}}", name, check=False)
    return result.stdout.strip() if result.returncode == 0 else None


@pytest.fixture(scope="session")
def app_image(request: pytest.FixtureRequest) -> str:
    """The app image, built from app/Dockerfile on the local base image (cached layers make reruns fast)."""
    if shutil.which("podman") is None or shutil.which("runc") is None:
        _unavailable("podman/runc are not installed (apt-get install podman runc debootstrap)")
    info = subprocess.run([*PODMAN, "info"], capture_output=True, text=True, timeout=60)
    if info.returncode != 0:
        _unavailable(f"`podman info` fails: {info.stderr.strip()[-500:]}")

    started = time.monotonic()
    if _image_id(BASE_IMAGE) is None:
        if not BASE_IMAGE.startswith("localhost/booking-base:"):
            _unavailable(f"base image {BASE_IMAGE} is not in podman's storage")
        if shutil.which("debootstrap") is None:
            _unavailable(f"{BASE_IMAGE} is missing and debootstrap is not installed")
        subprocess.run([str(ROOT / "scripts" / "container-base-image"), BASE_IMAGE], check=True, timeout=900)
        took = time.monotonic() - started
        _report(request.config, f"base image {BASE_IMAGE} made with debootstrap in {took:.1f}s")

    previous = _image_id(IMAGE)
    started = time.monotonic()
    build = [
        "build", "--format", "docker",  # the OCI format would drop HEALTHCHECK
        "--network", "host", "--build-arg", f"PYTHON_IMAGE={BASE_IMAGE}",
        "--tag", IMAGE, "--file", str(ROOT / "app" / "Dockerfile"), str(ROOT / "app"),
    ]
    if HOST_CA_CERTS.is_dir():
        # pip inside the build reaches PyPI through whatever TLS interception the host trusts.
        build[1:1] = ["--volume", f"{HOST_CA_CERTS}:{HOST_CA_CERTS}:ro"]
    podman(*build, timeout=900)
    image_id = _image_id(IMAGE)
    assert image_id
    _report(request.config, f"podman build {IMAGE} took {time.monotonic() - started:.1f}s")
    if previous and previous != image_id:
        # The superseded build is untagged now; drop it so reruns don't pile up images.
        podman("rmi", previous, check=False)
    return IMAGE


@dataclass
class RunningApi:
    name: str
    base_url: str
    database: str
    started_s: float

    def exec(
        self, *cmd: str, env: dict[str, str] | None = None, timeout: float = 60
    ) -> subprocess.CompletedProcess[str]:
        flags = [item for key, value in (env or {}).items() for item in ("--env", f"{key}={value}")]
        return podman("exec", *flags, self.name, *cmd, check=False, timeout=timeout)


def _container_state(name: str) -> dict[str, Any]:
    state: dict[str, Any] = json.loads(podman("inspect", "--format", "{{json .State}}", name).stdout)
    return state


@pytest.fixture(scope="module")
def api(app_image: str, pg_server: PgServer, request: pytest.FixtureRequest) -> Iterator[RunningApi]:
    """The image running like the ECS task: read-only root, tmpfs /tmp, uid 10001, DB_* environment."""
    database = role = "booking_container"
    password = secrets.token_urlsafe(16)
    # Like the RDS master user: owns its database, is not a superuser.
    pg_server.create_role(role, password)
    pg_server.create_database(database, owner=role)
    port = free_port()
    name = f"booking-api-test-{uuid.uuid4().hex[:8]}"
    env = {
        "DB_HOST": pg_server.host,
        "DB_PORT": str(pg_server.port),
        "DB_NAME": database,
        "DB_USERNAME": role,
        "DB_PASSWORD": password,
        "DB_SSLMODE": "disable",
        "JWT_SECRET": secrets.token_urlsafe(32),
        "PORT": str(port),
        "LOG_LEVEL": "info",
    }
    started = time.monotonic()
    podman(
        "run", "--detach", "--name", name, "--network", "host",
        # ECS has no writable /run or /var/tmp, so turn off podman's extra tmpfs mounts.
        "--read-only", "--read-only-tmpfs=false", "--tmpfs", "/tmp", "--user", "10001",
        *[item for key, value in env.items() for item in ("--env", f"{key}={value}")],
        app_image,
    )
    base_url = f"http://127.0.0.1:{port}"

    def exited() -> str | None:
        state = _container_state(name)
        return None if state.get("Running") else f"container exited ({state.get('ExitCode')})"

    try:
        try:
            wait_until_ready(f"{base_url}/readyz", exited, 90, interval=0.3, request_timeout=2)
        except NotReady as exc:
            raise AssertionError(f"{exc}:\n{_logs(name)}") from None
        ready_s = time.monotonic() - started
        _report(request.config, f"container ready (migrated, /readyz 200) {ready_s:.1f}s after podman run")
        yield RunningApi(name, base_url, database, ready_s)
    finally:
        if request.session.testsfailed:
            sys.stderr.write(f"--- podman logs {name} ---\n{_logs(name)}\n")
        podman("rm", "--force", "--time", "0", name, check=False)
        pg_server.drop_database(database)


def _logs(name: str) -> str:
    result = podman("logs", "--tail", "80", name, check=False)
    return (result.stdout + result.stderr)[-6000:]


def test_image_metadata_matches_the_task_definition(app_image: str) -> None:
    inspected = json.loads(podman("image", "inspect", app_image).stdout)[0]
    config = inspected["Config"]
    assert config["User"] == "10001:10001"
    assert config["Cmd"] == ["python", "-m", "app", "serve"]
    # podman reports the Docker-format health check beside the OCI config, not inside it.
    assert inspected["Healthcheck"]["Test"] == ["CMD", "python", "-m", "app", "healthcheck"]
    assert inspected["Healthcheck"]["Timeout"] <= 5 * 10**9
    assert "8000/tcp" in config["ExposedPorts"]
    assert config["StopSignal"] == "SIGTERM"
    assert "PYTHONDONTWRITEBYTECODE=1" in config["Env"]


def test_runs_as_uid_and_gid_10001(api: RunningApi) -> None:
    result = api.exec("python", "-c", "import os; print(os.getuid(), os.getgid(), os.getgroups())")
    assert result.returncode == 0, result.stderr
    uid, gid, groups = result.stdout.split(maxsplit=2)
    assert (uid, gid) == ("10001", "10001")
    assert "0" not in groups.strip("[]").replace(",", " ").split()
    # The server processes themselves (not just exec'd commands) run unprivileged.
    ps = api.exec("python", "-c", (
        "import os\n"
        "for p in os.listdir('/proc'):\n"
        "    if p.isdigit():\n"
        "        st = open(f'/proc/{p}/status').read()\n"
        "        print(next(l.split()[1] for l in st.splitlines() if l.startswith('Uid:')))\n"
    ))
    assert ps.returncode == 0, ps.stderr
    assert set(ps.stdout.split()) == {"10001"}


# Walks every directory outside the kernel filesystems and reports the ones it can write to, then
# proves the verdict by creating a file in /tmp and failing to in the code and venv directories.
_WRITABLE_PROBE = r"""
import json, os
writable = []
for top in sorted(os.listdir('/')):
    if top in ('proc', 'sys', 'dev'):
        continue
    for dirpath, dirnames, _ in os.walk('/' + top):
        if os.access(dirpath, os.W_OK):
            writable.append(dirpath)
attempts = {}
for d in ('/tmp', '/', '/srv/app', '/opt/venv', '/etc', '/var/tmp', '/run'):
    try:
        with open(os.path.join(d, '.probe'), 'w') as f:
            f.write('x')
        attempts[d] = 'written'
    except OSError as e:
        attempts[d] = e.__class__.__name__
print(json.dumps({'writable': writable, 'attempts': attempts}))
"""


def test_nothing_outside_tmp_is_writable(api: RunningApi) -> None:
    result = api.exec("python", "-c", _WRITABLE_PROBE, timeout=120)
    assert result.returncode == 0, result.stderr
    probe = json.loads(result.stdout)
    outside = [d for d in probe["writable"] if d != "/tmp" and not d.startswith("/tmp/")]
    assert outside == [], f"writable outside /tmp: {outside[:20]}"
    assert probe["attempts"].pop("/tmp") == "written"
    assert all(outcome != "written" for outcome in probe["attempts"].values()), probe["attempts"]


def test_health_check_command(api: RunningApi) -> None:
    started = time.monotonic()
    result = api.exec("python", "-m", "app", "healthcheck")
    took = time.monotonic() - started
    assert result.returncode == 0, result.stdout + result.stderr
    # ECS kills a health check after its timeout (5 s in the Dockerfile): it must answer well within it.
    assert took < 5, f"health check took {took:.1f}s"
    # The same command reports failure when nothing answers on the port.
    dead = api.exec("python", "-m", "app", "healthcheck", env={"PORT": str(free_port())})
    assert dead.returncode == 1, dead.stdout + dead.stderr


def test_healthz_and_readyz_after_migrations_at_start(api: RunningApi, pg_server: PgServer) -> None:
    assert httpx.get(f"{api.base_url}/healthz", timeout=5).status_code == 200
    assert httpx.get(f"{api.base_url}/readyz", timeout=5).status_code == 200
    # The schema exists only because `serve` migrated before binding.
    with pg_server.connect(api.database) as conn:
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    assert row is not None and row[0]


def test_register_login_flight_and_booking(api: RunningApi) -> None:
    admin_email, admin_password = "ops@example.com", secrets.token_urlsafe(12)
    created = api.exec(
        "python", "-m", "app", "create-admin", "--email", admin_email, "--password", admin_password
    )
    assert created.returncode == 0, created.stdout + created.stderr

    with httpx.Client(base_url=api.base_url, timeout=10) as client:
        admin_token = _login(client, admin_email, admin_password)
        flight = client.post(
            "/flights",
            headers={"Authorization": f"Bearer {admin_token}"},
            json={
                "number": "BK101", "origin": "LIS", "destination": "OPO",
                "departure_at": "2031-06-01T08:00:00Z", "arrival_at": "2031-06-01T09:00:00Z",
                "rows": 10, "seat_letters": "ABCDEF", "fare": "59.90",
            },
        )
        assert flight.status_code == 201, flight.text
        flight_id = flight.json()["id"]

        email, password = f"traveller-{uuid.uuid4().hex[:6]}@example.com", secrets.token_urlsafe(12)
        registered = client.post("/auth/register", json={"email": email, "password": password})
        assert registered.status_code == 201, registered.text
        token = _login(client, email, password)

        booking = client.post(
            "/bookings",
            headers={"Authorization": f"Bearer {token}", "Idempotency-Key": uuid.uuid4().hex},
            json={"flight_id": flight_id, "passengers": [{"seat": "3A", "name": "Ada Lovelace"}]},
        )
        assert booking.status_code == 201, booking.text
        seats = client.get(f"/flights/{flight_id}/seats")
        assert seats.status_code == 200, seats.text
        availability = {seat["seat"]: seat["available"] for seat in seats.json()["seats"]}
        assert availability["3A"] is False and availability["3B"] is True


def _login(client: httpx.Client, email: str, password: str) -> str:
    response = client.post("/auth/token", data={"username": email, "password": password})
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


def test_sigterm_stops_cleanly_within_10_seconds(api: RunningApi, request: pytest.FixtureRequest) -> None:
    """Last on purpose: it stops the module's container, as ECS does when it replaces a task."""
    started = time.monotonic()
    stop = podman("stop", "--time", str(STOP_TIMEOUT_S), api.name, check=False, timeout=STOP_TIMEOUT_S + 30)
    took = time.monotonic() - started
    _report(request.config, f"podman stop (SIGTERM) took {took:.1f}s")
    assert stop.returncode == 0, stop.stderr
    state = _container_state(api.name)
    assert not state["Running"]
    # 137 would mean podman gave up waiting and sent SIGKILL.
    assert state["ExitCode"] == 0, f"exit code {state['ExitCode']}:\n{_logs(api.name)}"
    assert took < STOP_TIMEOUT_S, f"stopping took {took:.1f}s"
