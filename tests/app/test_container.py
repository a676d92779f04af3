"""The container check: app/Dockerfile run only the way the declared ECS task definition says.

The local task runner (`stacks.run_task`, docs/run-task.md) runs the real stack program offline, takes
the API's container definition from the declared `aws.ecs.TaskDefinition` (dev and prod) and runs the
image with podman under Fargate's semantics: user, read-only root, task volume at /tmp (empty root:root
0755 unless the image declares a VOLUME there), init process, stopTimeout, environment exactly as
declared, secrets resolved from a local Secrets Manager, and the declared health check. Nothing here
passes podman flags or environment of its own; the only inputs are the stack name, a config override
for the port (so parallel runs do not collide) and the test PostgreSQL standing in for RDS.

Skips when podman is missing, unless BOOKING_REQUIRE_CONTAINER_TEST=1 (CI), where it fails instead.

Over 400 lines because the session-scoped image and task fixtures (one build, one task per stack)
serve every check here.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn

import httpx
import pytest

from stacks.run_task import image as image_mod
from stacks.run_task.declared import DbTarget
from stacks.run_task.runner import podman
from stacks.run_task.session import LocalTask, open_task
from tests.conftest import PgServer, free_port

pytestmark = [pytest.mark.container, pytest.mark.postgres, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
BASE_IMAGE = os.environ.get("BOOKING_CONTAINER_BASE_IMAGE", image_mod.DEFAULT_BASE_IMAGE)
FIX_BEGIN, FIX_END = "# fargate-tmp-volume:begin", "# fargate-tmp-volume:end"
HEALTHY_TIMEOUT_S = 240  # a busy 2-core machine; the verdict itself comes from the declared health check


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


def _build(request: pytest.FixtureRequest, tag: str, dockerfile: Path | None = None) -> str:
    if shutil.which("podman") is None or shutil.which("runc") is None:
        _unavailable("podman/runc are not installed (apt-get install podman runc catatonit debootstrap)")
    info = subprocess.run(["podman", "info"], capture_output=True, text=True, timeout=60)
    if info.returncode != 0:
        _unavailable(f"`podman info` fails: {info.stderr.strip()[-500:]}")
    if not image_mod.image_exists(BASE_IMAGE) and (
        not BASE_IMAGE.startswith("localhost/booking-base:") or shutil.which("debootstrap") is None
    ):
        _unavailable(f"base image {BASE_IMAGE} is missing and cannot be made here")
    started = time.monotonic()
    image_mod.build(tag, base=BASE_IMAGE, dockerfile=dockerfile)
    _report(request.config, f"podman build {tag} took {time.monotonic() - started:.1f}s")
    return tag


@pytest.fixture(scope="session")
def app_image(request: pytest.FixtureRequest) -> str:
    return _build(request, image_mod.default_tag())


@pytest.fixture(scope="session")
def unfixed_image(request: pytest.FixtureRequest, app_image: str) -> Iterator[str]:
    """Today's image before the fix: app/Dockerfile without its /tmp VOLUME block (layers are shared)."""
    text = (ROOT / "app" / "Dockerfile").read_text()
    assert FIX_BEGIN in text and FIX_END in text, "app/Dockerfile lost its fargate-tmp-volume markers"
    before, rest = text.split(FIX_BEGIN, 1)
    variant = before + rest.split(FIX_END, 1)[1]
    assert "VOLUME" not in variant
    with tempfile.TemporaryDirectory(prefix="booking-dockerfile-") as tmp:
        dockerfile = Path(tmp) / "Dockerfile"
        dockerfile.write_text(variant)
        yield _build(request, image_mod.default_tag("-unfixed"), dockerfile)


@contextlib.contextmanager
def _task(
    stack: str, image: str, pg_server: PgServer, request: pytest.FixtureRequest, events: list[str]
) -> Iterator[tuple[LocalTask, DbTarget]]:
    database = role = f"booking_task_{stack}"
    password = secrets.token_urlsafe(16)
    # Like the RDS master user: owns its database, is not a superuser.
    pg_server.create_role(role, password)
    pg_server.create_database(database, owner=role)
    db = DbTarget(pg_server.host, pg_server.port, database, role, password)
    port = free_port()
    try:
        with open_task(
            stack, image=image, db=db, overrides={"booking:service.containerPort": port}, echo=events.append
        ) as local:
            try:
                yield local, db
            finally:
                if request.session.testsfailed:
                    print(
                        f"--- runner events ({stack}) ---",
                        *events,
                        "--- podman logs ---",
                        local.run.logs(),
                        sep="\n",
                    )
    finally:
        pg_server.drop_database(database)


class RunningTask:
    def __init__(self, local: LocalTask, db: DbTarget, events: list[str]) -> None:
        self.local, self.run, self.plan, self.db, self.events = local, local.run, local.plan, db, events
        port = next(p for p, proto in self.plan.ports if proto == "tcp")
        self.base_url = f"http://127.0.0.1:{port}"

    def exec(self, *command: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return self.run.exec(*command, timeout=timeout)


@pytest.fixture(scope="module", params=["dev", "prod"])
def task(request: pytest.FixtureRequest, app_image: str, pg_server: PgServer) -> Iterator[RunningTask]:
    """The stack's API task, started by the runner and HEALTHY by its declared health check."""
    stack: str = request.param
    events: list[str] = []
    with _task(stack, app_image, pg_server, request, events) as (local, db):
        local.run.start()
        verdict = local.run.wait_for({"HEALTHY", "UNHEALTHY"}, HEALTHY_TIMEOUT_S)
        assert verdict == "HEALTHY", "\n".join([*events, local.run.logs()])
        _report(
            request.config,
            f"{stack}: HEALTHY {local.run.healthy_after:.1f}s after podman run "
            f"(health check interval {local.plan.health_check.interval}s)"
            if local.plan.health_check
            else f"{stack}: HEALTHY",
        )
        yield RunningTask(local, db, events)


def test_image_matches_the_task_definition(app_image: str) -> None:
    """The image's own metadata agrees with the declared container (USER, VOLUME, HEALTHCHECK)."""
    inspected = json.loads(podman("image", "inspect", app_image).stdout)[0]
    config = inspected["Config"]
    assert config["User"] == "10001:10001"
    assert "/tmp" in (config.get("Volumes") or {})
    assert inspected["Healthcheck"]["Test"] == ["CMD", "python", "-m", "app", "healthcheck"]
    assert config["StopSignal"] == "SIGTERM"


def test_healthy_via_the_declared_health_check(task: RunningTask) -> None:
    assert task.run.health is not None and task.run.health.status == "HEALTHY"
    assert any("healthStatus UNKNOWN -> HEALTHY" in e for e in task.events), task.events
    # The task volume came from the image's VOLUME, owned by the app user, as on Fargate.
    assert any(
        e.startswith("volume tmp at /tmp: the image's VOLUME") and "owner 10001:10001" in e
        for e in task.events
    ), task.events
    assert not any(e.startswith("WARNING") for e in task.events), task.events
    # What cannot be reproduced is said, not skipped silently.
    assert any("awslogs is not emulated" in e for e in task.events)
    assert any("runtimePlatform.cpuArchitecture ARM64" in e for e in task.events)


def test_environment_is_exactly_the_declared_one(task: RunningTask) -> None:
    # PID 1 (the init process) holds the environment the container was started with; python's own
    # os.environ would add LC_CTYPE (PEP 538 locale coercion).
    result = task.exec("cat", "/proc/1/environ")
    assert result.returncode == 0, result.stderr
    seen = dict(item.split("=", 1) for item in result.stdout.split("\0") if item)
    declared = dict(task.plan.environment)
    redirected = {"DB_HOST": task.db.host, "DB_PORT": str(task.db.port), "DB_NAME": task.db.name}
    for key, value in declared.items():
        assert seen.pop(key) == redirected.get(key, value), key
    # Secrets come from valueFrom, the RDS ones through the json-key form.
    assert seen.pop("DB_USERNAME") == task.db.username
    assert seen.pop("DB_PASSWORD") == task.db.password
    assert len(seen.pop("JWT_SECRET")) >= 64
    for key in ("AWS_ENDPOINT_URL_SECRETS_MANAGER", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        seen.pop(key)  # the stand-in for the task role and the AWS endpoint, announced as a note
    # What ECS sets in every Fargate task ("Amazon ECS environment variables").
    assert seen.pop("AWS_EXECUTION_ENV") == "AWS_ECS_FARGATE"
    assert seen.pop("AWS_DEFAULT_REGION") == declared["AWS_REGION"]
    image_env = json.loads(
        podman("image", "inspect", "--format", "{{json .Config.Env}}", task.plan.image).stdout
    )
    image_keys = {item.split("=", 1)[0] for item in image_env}
    # HOSTNAME is set by Docker (what ECS runs) and podman alike; nothing else, nothing hand-written.
    assert set(seen) - image_keys <= {"HOSTNAME"}, seen


def test_runs_as_the_declared_user_with_init(task: RunningTask) -> None:
    ps = task.exec(
        "python",
        "-c",
        (
            "import os\n"
            "for p in sorted(os.listdir('/proc')):\n"
            "    if p.isdigit():\n"
            "        st = open(f'/proc/{p}/status').read()\n"
            "        uid = next(l.split()[1] for l in st.splitlines() if l.startswith('Uid:'))\n"
            "        print(p, uid, open(f'/proc/{p}/comm').read().strip())\n"
        ),
    )
    assert ps.returncode == 0, ps.stderr
    rows = [line.split() for line in ps.stdout.splitlines()]
    assert {uid for _, uid, _ in rows} == {"10001"}
    # initProcessEnabled: PID 1 is the init that forwards signals, not the app.
    assert next(comm for pid, _, comm in rows if pid == "1") in {
        "catatonit",
        "podman-init",
        "tini",
        "docker-init",
    }


# Every directory outside the kernel filesystems that the app user can write, plus real write attempts.
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


def test_only_the_task_volume_is_writable(task: RunningTask) -> None:
    result = task.exec("python", "-c", _WRITABLE_PROBE, timeout=120)
    assert result.returncode == 0, result.stderr
    probe = json.loads(result.stdout)
    outside = [d for d in probe["writable"] if d != "/tmp" and not d.startswith("/tmp/")]
    assert outside == [], f"writable outside /tmp: {outside[:20]}"
    assert probe["attempts"].pop("/tmp") == "written"
    assert all(outcome != "written" for outcome in probe["attempts"].values()), probe["attempts"]


def test_readyz_and_one_booking(task: RunningTask, pg_server: PgServer) -> None:
    assert httpx.get(f"{task.base_url}/readyz", timeout=10).status_code == 200
    with pg_server.connect(task.db.name) as conn:
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        # The app connected over TLS, as DB_SSLMODE=require in the task definition demands.
        ssl = conn.execute(
            "SELECT bool_and(s.ssl) FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) "
            "WHERE a.usename = %s",
            (task.db.username,),
        ).fetchone()
    assert row is not None and row[0]
    assert ssl is not None and ssl[0] is True

    admin_email, admin_password = f"ops-{uuid.uuid4().hex[:6]}@example.com", secrets.token_urlsafe(12)
    # `--password=…`: a random password may start with "-", which argparse would read as an option.
    created = task.exec(
        "python", "-m", "app", "create-admin", "--email", admin_email, f"--password={admin_password}"
    )
    assert created.returncode == 0, created.stdout + created.stderr
    with httpx.Client(base_url=task.base_url, timeout=15) as client:
        admin = _login(client, admin_email, admin_password)
        flight = client.post(
            "/flights",
            headers={"Authorization": f"Bearer {admin}"},
            json={
                "number": "BK101",
                "origin": "LIS",
                "destination": "OPO",
                "departure_at": "2031-06-01T08:00:00Z",
                "arrival_at": "2031-06-01T09:00:00Z",
                "rows": 10,
                "seat_letters": "ABCDEF",
                "fare": "59.90",
            },
        )
        assert flight.status_code == 201, flight.text
        email, password = f"traveller-{uuid.uuid4().hex[:6]}@example.com", secrets.token_urlsafe(12)
        assert client.post("/auth/register", json={"email": email, "password": password}).status_code == 201
        token = _login(client, email, password)
        booking = client.post(
            "/bookings",
            headers={"Authorization": f"Bearer {token}", "Idempotency-Key": uuid.uuid4().hex},
            json={"flight_id": flight.json()["id"], "passengers": [{"seat": "3A", "name": "Ada Lovelace"}]},
        )
        assert booking.status_code == 201, booking.text
        seats = client.get(f"/flights/{flight.json()['id']}/seats").json()["seats"]
        assert {s["seat"]: s["available"] for s in seats}["3A"] is False


def test_serves_the_web_page(task: RunningTask) -> None:
    """The image ships the page's assets (app/web/static) and serves them with the page's headers."""
    with httpx.Client(base_url=task.base_url, timeout=10) as client:
        page = client.get("/")
        assert page.status_code == 200, page.text
        assert page.headers["content-type"].startswith("text/html")
        assert "script-src 'self'" in page.headers["content-security-policy"]
        for asset in re.findall(r'(?:src|href)="(/static/[^"]+)"', page.text):
            response = client.get(asset)
            assert response.status_code == 200, asset
            assert response.headers["x-content-type-options"] == "nosniff"
        module = client.get("/static/js/main.js")
        assert module.headers["content-type"].startswith("text/javascript")


def _login(client: httpx.Client, email: str, password: str) -> str:
    response = client.post("/auth/token", data={"username": email, "password": password})
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


def test_stops_cleanly_within_the_declared_stop_timeout(
    task: RunningTask, request: pytest.FixtureRequest
) -> None:
    """Last on purpose: it stops the module's task, as ECS does when it replaces one."""
    result = task.run.stop()
    _report(
        request.config, f"stop (SIGTERM, stopTimeout {task.plan.stop_timeout}s) took {result.seconds:.1f}s"
    )
    assert not result.killed
    assert result.exit_code == 0, task.run.logs()
    assert result.seconds < task.plan.stop_timeout


def test_image_without_the_fix_never_becomes_healthy(
    unfixed_image: str, pg_server: PgServer, request: pytest.FixtureRequest
) -> None:
    """The defect the runner exists for: no VOLUME at /tmp, so Fargate's root:root 0755 volume."""
    events: list[str] = []
    with _task("dev", unfixed_image, pg_server, request, events) as (local, _db):
        assert not any(v.copy_from_image for v in local.plan.volumes)
        local.run.start()
        verdict = local.run.wait_for({"HEALTHY", "UNHEALTHY"}, HEALTHY_TIMEOUT_S)
        assert verdict != "HEALTHY"
        warning = [
            e for e in events if e.startswith("WARNING: volume tmp at /tmp is not writable by user 10001")
        ]
        assert warning, events
        assert "owner 0:0 mode 0755" in warning[0]
        if verdict is None:
            assert any(e.startswith("STOPPED: Essential container in task exited") for e in events), events
            assert local.run.exit_code not in (None, 0)
        logs = local.run.logs()
        assert "PermissionError" in logs and "/tmp" in logs, logs


def test_scripts_run_task_until_healthy(
    app_image: str, pg_server: PgServer, request: pytest.FixtureRequest
) -> None:
    """The README's command, end to end: HEALTHY by the declared health check, clean stop, exit 0."""
    database = role = "booking_task_cli"
    password = secrets.token_urlsafe(16)
    pg_server.create_role(role, password)
    pg_server.create_database(database, owner=role)
    url = f"postgresql://{role}:{password}@{pg_server.host}:{pg_server.port}/{database}"
    try:
        started = time.monotonic()
        result = subprocess.run(
            [
                str(ROOT / "scripts" / "run-task"),
                "dev",
                "--db",
                url,
                "--image",
                app_image,
                "--until-healthy",
                "--set",
                f"booking:service.containerPort={free_port()}",
            ],
            capture_output=True,
            text=True,
            timeout=HEALTHY_TIMEOUT_S + 120,
            cwd=ROOT,
        )
        _report(
            request.config, f"scripts/run-task dev --until-healthy took {time.monotonic() - started:.1f}s"
        )
    finally:
        pg_server.drop_database(database)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
    out = result.stdout
    assert "healthStatus UNKNOWN -> HEALTHY" in out and "HEALTHY after" in out
    assert "STOPPED after" in out and "exit code 0" in out
    assert "note: logConfiguration awslogs is not emulated" in out
    assert password not in out  # the runner never prints secret values
