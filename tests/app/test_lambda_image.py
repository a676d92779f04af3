"""The Fargate image started the way the Lambda function's image config starts it.

Lambda runs a container-image function with the image's file system read-only except /tmp, as a
least-privileged user it picks rather than the image's USER (Lambda Developer Guide, "Create a Lambda
function using a container image", requirements), and the runtime interface client talks to the
Runtime API at $AWS_LAMBDA_RUNTIME_API (same guide, "Using the Lambda runtime API for custom
runtimes": GET /2018-06-01/runtime/invocation/next, POST .../invocation/{id}/response,
POST /2018-06-01/runtime/init/error). A stub of that API on 127.0.0.1 hands the container three ALB
events: the target group's health check, /readyz and a seat map against the test PostgreSQL.

/tmp is an empty directory writable by all, standing in for Lambda's ephemeral storage; it must still be
empty afterwards (the Lambda path writes nothing). It must be searchable by the Lambda user: with
HOME=/tmp, libpq looks for a client certificate in /tmp/.postgresql under sslmode=require, and the
image's own /tmp (0700, uid 10001) fails the connection with "Permission denied".
"""

from __future__ import annotations

import json
import queue
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from stacks.run_task.runner import podman
from tests.app.test_container import app_image  # noqa: F401 - the container check's image fixture
from tests.conftest import PgServer

pytestmark = [pytest.mark.container, pytest.mark.postgres, pytest.mark.slow]

# docs/lambda-runtime.md: what the stack puts in the function's ImageConfig.
IMAGE_CONFIG_ENTRYPOINT = ["/opt/venv/bin/python", "-m", "awslambdaric"]
IMAGE_CONFIG_COMMAND = ["app.lambda_handler.handler"]
LAMBDA_UID = "993:990"  # any uid but the image's 10001: Lambda picks the user (sbx_user…)
TARGET_GROUP = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/booking-api/6d0ecf831eec9f09"
FUNCTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:booking-api:live"


def _alb_event(path: str, headers: dict[str, str]) -> dict[str, Any]:
    return {
        "requestContext": {"elb": {"targetGroupArn": TARGET_GROUP}},
        "httpMethod": "GET",
        "path": path,
        "queryStringParameters": {},
        "headers": headers,
        "body": "",
        "isBase64Encoded": False,
    }


class RuntimeApi:
    """Hands out queued events on /invocation/next and records what the runtime client posts back."""

    def __init__(self, events: list[dict[str, Any]]) -> None:
        self.pending: queue.Queue[tuple[str, dict[str, Any]]] = queue.Queue()
        for event in events:
            self.pending.put((str(uuid.uuid4()), event))
        self.order: list[str] = [item[0] for item in list(self.pending.queue)]
        self.posted: queue.Queue[tuple[str, str, Any]] = queue.Queue()
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                if self.path != "/2018-06-01/runtime/invocation/next":
                    self.send_error(404)
                    return
                request_id, event = api.pending.get()  # blocks like the real API between invocations
                body = json.dumps(event).encode()
                self.send_response(200)
                self.send_header("Lambda-Runtime-Aws-Request-Id", request_id)
                self.send_header("Lambda-Runtime-Deadline-Ms", "9999999999999")
                self.send_header("Lambda-Runtime-Invoked-Function-Arn", FUNCTION_ARN)
                self.send_header("Lambda-Runtime-Trace-Id", "Root=1-5bdb40ca-556d8b0c50dc66f0511bf520")
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                payload = self.rfile.read(length).decode()
                parts = self.path.strip("/").split("/")
                kind = parts[-1]  # response | error (invocation) or init/error
                request_id = parts[-2] if parts[-3:-2] == ["invocation"] else "init"
                api.posted.put((request_id, kind, json.loads(payload) if payload else None))
                self.send_response(202)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.server.server_port}"

    def __enter__(self) -> RuntimeApi:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def lambda_db(pg_server: PgServer, pg_template: str) -> Iterator[str]:
    name = f"li_{uuid.uuid4().hex[:12]}"
    yield pg_server.create_database(name, template=pg_template)
    pg_server.drop_database(name)


def test_image_runs_as_a_lambda_function(app_image: str, lambda_db: str, tmp_path: Path) -> None:  # noqa: F811
    lambda_tmp = tmp_path / "lambda-tmp"
    lambda_tmp.mkdir()
    lambda_tmp.chmod(0o1777)
    events = [
        _alb_event("/healthz", {"user-agent": "ELB-HealthChecker/2.0"}),
        _alb_event(
            "/readyz", {"user-agent": "test", "x-forwarded-for": "203.0.113.7", "x-forwarded-proto": "https"}
        ),
        # The hot path's own pool (asyncpg, TLS): no such flight, so a 404 from the database, not a 503.
        _alb_event("/flights/999999/seats", {"user-agent": "test"}),
    ]
    name = f"booking-lambda-{uuid.uuid4().hex[:8]}"
    with RuntimeApi(events) as api:
        podman(
            "run",
            "--detach",
            "--name",
            name,
            "--network",
            "host",
            "--read-only",
            # Lambda's own writable /tmp over the image's (Lambda guide: "writable /tmp directory"),
            # empty, not a copy of the image's 0700 directory that only uid 10001 may enter.
            # (podman keeps the image VOLUME's 0700 mode on a --tmpfs there, so a host directory it is.)
            "--volume",
            f"{lambda_tmp}:/tmp",
            "--user",
            LAMBDA_UID,
            "--entrypoint",
            json.dumps(IMAGE_CONFIG_ENTRYPOINT),
            "--env",
            f"AWS_LAMBDA_RUNTIME_API={api.address}",
            "--env",
            f"DATABASE_URL={lambda_db}",
            "--env",
            "DB_SSLMODE=require",
            "--env",
            "JWT_SECRET=test-jwt-secret-of-sufficient-length",
            app_image,
            *IMAGE_CONFIG_COMMAND,
            timeout=180,
        )
        try:
            answers: dict[str, tuple[str, Any]] = {}
            while len(answers) < len(events):
                try:
                    request_id, kind, payload = api.posted.get(timeout=180)
                except queue.Empty:
                    logs = podman("logs", name, check=False)
                    pytest.fail(
                        f"no answer from the function; logs:\n{logs.stdout[-3000:]}{logs.stderr[-3000:]}"
                    )
                assert request_id != "init", f"init error: {payload}"
                answers[request_id] = (kind, payload)
            health, ready, seats = (answers[i] for i in api.order)
            assert seats[0] == "response" and seats[1]["statusCode"] == 404, seats
            assert health[0] == "response", health
            assert health[1]["statusCode"] == 200 and health[1]["statusDescription"] == "200 OK"
            assert ready[0] == "response", ready
            assert ready[1]["statusCode"] == 200, ready
            assert json.loads(ready[1]["body"])["status"] == "ready"
            # The process really is a Lambda-chosen user, not the image's USER.
            who = podman("exec", name, "id", "-u", check=False)
            assert who.stdout.strip() == LAMBDA_UID.split(":")[0], who
            # Nothing on disk: /tmp (the only writable path) is still empty after the invocations.
            assert list(lambda_tmp.iterdir()) == []
        finally:
            podman("rm", "--force", "--time", "0", name, check=False, timeout=120)
