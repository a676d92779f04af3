"""One JSON log line per request, with a request id that follows the request through the ALB."""

from __future__ import annotations

import logging
import os
import re
import sys
import time
from datetime import UTC, datetime
from typing import Any

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core import emf
from app.core.draining import is_draining
from app.core.metrics import HTTP_LATENCY, HTTP_REQUESTS

access_log = logging.getLogger("booking.access")
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")
_STANDARD_ATTRS = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update({k: v for k, v in record.__dict__.items() if k not in _STANDARD_ATTRS})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        # orjson: the access log line is written for every request, json.dumps cost ~10% of a seat map.
        return orjson.dumps(entry, default=str).decode()


def configure_logging(level: str = "INFO") -> None:
    """JSON lines on stdout for the app's loggers (CloudWatch keeps one event per line)."""
    # Python's Logging HOWTO, "Optimization": records need not collect the caller's frame
    # (logging._srcfile = None), thread or multiprocessing names; no format here prints them (the
    # JSON line has its own fields, gunicorn's formats use the time, pid, level and message), and
    # they were ~10% of a seat map's CPU.
    logging._srcfile = None
    logging.logThreads = False
    logging.logMultiprocessing = False
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter())
    for name in ("booking",):
        logger = logging.getLogger(name)
        logger.handlers = [handler]
        logger.setLevel(level.upper())
        logger.propagate = False


class RequestLogMiddleware:
    """Pure ASGI middleware: request id, access log line and request metrics for every request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        incoming = _header(scope, b"x-request-id")
        request_id = incoming if incoming and _SAFE_REQUEST_ID.match(incoming) else os.urandom(16).hex()
        scope.setdefault("state", {})["request_id"] = request_id
        status_code = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status_code
            if message["type"] == "http.response.start":
                status_code = message["status"]
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode()))
                if is_draining():
                    # Closing after this response makes the client (the ALB) open a new connection
                    # for its next request, which goes to a target that is not stopping.
                    headers.append((b"connection", b"close"))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            latency = time.perf_counter() - start
            route = getattr(scope.get("route"), "path", None) or "<unmatched>"
            method = scope.get("method", "")
            _metrics(method, route, status_code, latency)
            emf.observe_request(method, route, status_code, latency)
            if access_log.isEnabledFor(logging.INFO):
                access_log.info(
                    "request",
                    extra={
                        "request_id": request_id,
                        "method": method,
                        "route": route,
                        "path": scope.get("path", ""),
                        "status": status_code,
                        "latency_ms": round(latency * 1000, 2),
                        "client": (scope.get("client") or ("", 0))[0],
                    },
                )


_CHILDREN: dict[tuple[str, str, int], tuple[Any, Any]] = {}


def _metrics(method: str, route: str, status_code: int, latency: float) -> None:
    """The request counter and histogram, with the labelled children looked up once per key."""
    key = (method, route, status_code)
    children = _CHILDREN.get(key)
    if children is None:
        children = _CHILDREN[key] = (
            HTTP_REQUESTS.labels(method=method, route=route, status=str(status_code)),
            HTTP_LATENCY.labels(method=method, route=route),
        )
    children[0].inc()
    children[1].observe(latency)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return str(value.decode("latin-1"))
    return None
