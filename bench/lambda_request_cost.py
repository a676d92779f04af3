"""What one warm Lambda invocation of the API costs in the units AWS bills: duration, bytes, log lines.

    .venv/bin/python bench/lambda_request_cost.py [--requests 300]

Starts a throwaway PostgreSQL (TLS, as RDS), migrates it and adds the demo flights, then imports
`app.lambda_handler` in this process with EMF on (METRICS_NAMESPACE) and INFO logs, and sends a
read-mostly mix of ALB events: flight searches, one flight, seat maps. It prints the mean warm
duration, the mean response size and the bytes written to stdout per invocation (what Lambda ships
to CloudWatch Logs: the access log line and the invocation's EMF records; Lambda's own START/END/
REPORT lines come on top). stacks/prices.json's `api_traffic` assumptions come from this run.
Durations are this machine's (2 shared x86 CPUs); a 1024 MB arm64 function gets a comparable share of
a vCPU, so treat them as an order of magnitude.
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import os
import secrets
import shutil
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

HEADERS = {
    "host": "booking.example.com",
    "user-agent": "bench",
    "x-forwarded-for": "203.0.113.7",
    "x-forwarded-port": "443",
    "x-forwarded-proto": "https",
}


def alb_event(path: str, query: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "requestContext": {
            "elb": {"targetGroupArn": "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/b/1"}
        },
        "httpMethod": "GET",
        "path": path,
        "queryStringParameters": query or {},
        "headers": HEADERS,
        "isBase64Encoded": False,
        "body": "",
    }


class CountingStdout(io.TextIOBase):
    def __init__(self) -> None:
        self.bytes = 0

    def write(self, text: str) -> int:
        self.bytes += len(text.encode())
        return len(text)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()

    from sqlalchemy.pool import NullPool

    from app.core.config import Settings
    from app.core.db import make_engine
    from app.core.migrations import upgrade
    from tests.conftest import start_pg_server

    server, root = start_pg_server()
    try:
        url = server.create_database("bench_request_cost")
        engine = make_engine(Settings(DATABASE_URL=url), poolclass=NullPool)
        upgrade(engine)
        engine.dispose()
        os.environ.update(
            {
                "DATABASE_URL": url,
                "DB_SSLMODE": "require",
                "JWT_SECRET": secrets.token_urlsafe(32),
                "LOG_LEVEL": "INFO",
                "METRICS_NAMESPACE": "Booking/bench",
            }
        )
        from app.cli import main as cli

        cli(["seed-demo"])
        from app import lambda_handler

        handler = lambda_handler.handler
        page = json.loads(handler(alb_event("/flights", {"limit": "50"}), None)["body"])
        items = page.get("items") or page.get("flights") or []
        ids = [str(f["id"]) for f in items] or ["1"]
        origins = sorted({f["origin"] for f in items}) or ["LHR"]
        mix = [alb_event("/flights", {"origin": o}) for o in origins]
        mix += [alb_event(f"/flights/{i}") for i in ids]
        mix += [alb_event(f"/flights/{i}/seats") for i in ids]
        for event in mix:  # warm: every route once
            handler(event, None)

        durations, sizes = [], []
        counter = CountingStdout()
        real_stdout, sys.stdout = sys.stdout, counter
        # The JSON log handlers hold the stream they were built with; count what they write too.
        handlers = [
            h
            for logger in [logging.getLogger(), *logging.Logger.manager.loggerDict.values()]
            if isinstance(logger, logging.Logger)
            for h in logger.handlers
            if isinstance(h, logging.StreamHandler) and h.stream is real_stdout
        ]
        for h in handlers:
            h.setStream(counter)
        try:
            for n in range(args.requests):
                started = time.perf_counter()
                response = handler(mix[n % len(mix)], None)
                durations.append(time.perf_counter() - started)
                sizes.append(len(response.get("body") or ""))
                assert response["statusCode"] == 200, response
        finally:
            sys.stdout = real_stdout
            for h in handlers:
                h.setStream(real_stdout)
    finally:
        server.stop("immediate")
        shutil.rmtree(root or "", ignore_errors=True)

    n = args.requests
    print(
        f"{n} warm invocations over {len(mix)} events (searches, flights, seat maps); "
        f"load {os.getloadavg()[0]:.1f}"
    )
    print(
        f"  duration   mean {statistics.mean(durations) * 1000:.1f} ms, "
        f"median {statistics.median(durations) * 1000:.1f} ms"
    )
    print(f"  response   mean {statistics.mean(sizes):.0f} bytes")
    print(f"  stdout     {counter.bytes / n:.0f} bytes per invocation (access log + EMF records)")
    print(f"  log lines  {len(handlers)} handler(s) on stdout counted")
    return 0


if __name__ == "__main__":
    sys.exit(main())
