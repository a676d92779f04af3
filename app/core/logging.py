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


def json_line(created: float, level: str, logger: str, message: str, fields: dict[str, Any]) -> str:
    """One log line: time, level, logger and message, then the record's own fields in their order."""
    entry: dict[str, Any] = {
        "time": datetime.fromtimestamp(created, UTC).isoformat(timespec="milliseconds"),
        "level": level,
        "logger": logger,
        "message": message,
        **fields,
    }
    # orjson: the access log line is written for every request, json.dumps cost ~10% of a seat map.
    return orjson.dumps(entry, default=str).decode()


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        fields = {k: v for k, v in record.__dict__.items() if k not in _STANDARD_ATTRS}
        if record.exc_info:
            fields["exception"] = self.formatException(record.exc_info)
        return json_line(record.created, record.levelname, record.name, record.getMessage(), fields)


# The handler configure_logging installs on "booking": the access log writes to it directly (below).
_stdout: logging.StreamHandler[Any] | None = None
_booking = logging.getLogger("booking")


def configure_logging(level: str = "INFO") -> None:
    """JSON lines on stdout for the app's loggers (CloudWatch keeps one event per line)."""
    # Python's Logging HOWTO, "Optimization": records need not collect the caller's frame
    # (logging._srcfile = None), thread or multiprocessing names; no format here prints them (the
    # JSON line has its own fields, gunicorn's formats use the time, pid, level and message), and
    # they were ~10% of a seat map's CPU.
    logging._srcfile = None
    logging.logThreads = False
    logging.logMultiprocessing = False
    global _stdout
    _stdout = logging.StreamHandler(sys.stdout)
    _stdout.setFormatter(JsonFormatter())
    _booking.handlers = [_stdout]
    _booking.setLevel(level.upper())
    _booking.propagate = False


def _only_stdout_sees_access_lines() -> bool:
    """True while an access record would reach nothing but configure_logging's handler, unfiltered:
    what logging would write for it is then exactly `json_line` of its fields. (A filter on "booking"
    itself is not consulted: logging applies a logger's filters only to records logged on it.)"""
    handler = _stdout
    return (
        handler is not None
        and not access_log.handlers
        and not access_log.filters
        and access_log.propagate
        and len(_booking.handlers) == 1
        and _booking.handlers[0] is handler
        and not _booking.propagate
        and not handler.filters
        and handler.level <= logging.INFO
        and type(handler.formatter) is JsonFormatter
    )


def log_access(fields: dict[str, Any]) -> None:
    """The access log line: `access_log.info("request", extra=fields)`, written straight to stdout when
    only configure_logging's handler would see it. Through the logger (Logger.info, makeRecord,
    LogRecord.__init__, Handler.handle, the formatter's walk over the record's ~20 attributes) the line
    cost ~22 us of CPU per booking in-process, the direct write ~12 us (the same line:
    tests/app/test_access_log.py compares them)."""
    if not access_log.isEnabledFor(logging.INFO):
        return
    handler = _stdout
    if handler is None or not _only_stdout_sees_access_lines():
        access_log.info("request", extra=fields)
        return
    line = json_line(time.time(), "INFO", access_log.name, "request", fields) + handler.terminator
    try:
        # What StreamHandler.emit does with the formatted record, under the handler's lock.
        with handler.lock:  # type: ignore[union-attr]
            handler.stream.write(line)
            handler.flush()
    except Exception:  # e.g. a closed stdout: logging's own error handling decides
        access_log.info("request", extra=fields)


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
                log_access(
                    {
                        "request_id": request_id,
                        "method": method,
                        "route": route,
                        "path": scope.get("path", ""),
                        "status": status_code,
                        "latency_ms": round(latency * 1000, 2),
                        "client": (scope.get("client") or ("", 0))[0],
                    }
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
