"""The access log's direct write (app.core.logging.log_access) against what logging itself writes."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from app.core import logging as applog

FIELDS: dict[str, Any] = {
    "request_id": "0123abcd",
    "method": "POST",
    "route": "/bookings",
    "path": "/bookings",
    "status": 201,
    "latency_ms": 3.21,
    "client": "10.0.1.7",
    "note": "Zoë \u2028 \x7f",  # non-ASCII and separators come out as logging's line writes them
}


@pytest.fixture
def stdout() -> Iterator[io.StringIO]:
    """configure_logging's setup, writing to a buffer; the loggers' previous state comes back after."""
    booking, access = logging.getLogger("booking"), applog.access_log
    handlers, level, propagate = booking.handlers[:], booking.level, booking.propagate
    handler, access_handlers = applog._stdout, access.handlers[:]
    applog.configure_logging("INFO")
    assert applog._stdout is not None
    buffer = io.StringIO()
    applog._stdout.setStream(buffer)
    yield buffer
    booking.handlers, booking.propagate, access.handlers = handlers, propagate, access_handlers
    booking.setLevel(level)
    applog._stdout = handler


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def stock() -> None:
    """Only configure_logging's handler on "booking": pytest (>= 8) attaches its own capturing handler
    to every non-propagating logger for each test phase, and that handler must see a LogRecord."""
    assert applog._stdout is not None
    logging.getLogger("booking").handlers = [applog._stdout]


def lines(buffer: io.StringIO) -> list[dict[str, Any]]:
    # "\n" only: str.splitlines() would also split at the U+2028 that JSON leaves unescaped.
    return [json.loads(line) for line in buffer.getvalue().split("\n")[:-1]]


def test_the_direct_line_is_the_line_logging_writes(stdout: io.StringIO) -> None:
    stock()
    applog.log_access(FIELDS)  # direct
    records = Records()
    applog.access_log.addHandler(records)  # another handler: the record goes through logging
    applog.log_access(FIELDS)
    applog.access_log.removeHandler(records)
    direct, through_logging, end = stdout.getvalue().split("\n")
    assert end == ""
    assert len(records.records) == 1
    assert direct.split('"level"', 1)[1] == through_logging.split('"level"', 1)[1]  # all but the time
    first = json.loads(direct)
    assert list(first) == ["time", "level", "logger", "message", *FIELDS]
    assert first["time"].endswith("+00:00") and first["logger"] == "booking.access"


def test_another_handler_still_gets_the_record(stdout: io.StringIO) -> None:
    """e.g. pytest's: the direct write is only for the stock setup."""
    records = Records()
    logging.getLogger("booking").addHandler(records)
    applog.log_access(FIELDS)
    logging.getLogger("booking").removeHandler(records)
    assert [r.getMessage() for r in records.records] == ["request"] and len(lines(stdout)) == 1


def test_the_stock_setup_makes_no_log_record(stdout: io.StringIO, monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[str] = []
    original = logging.Logger.makeRecord

    def counting(self: logging.Logger, *args: Any, **kwargs: Any) -> logging.LogRecord:
        made.append(self.name)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(logging.Logger, "makeRecord", counting)
    stock()
    applog.log_access(FIELDS)
    assert made == [] and len(lines(stdout)) == 1


@pytest.mark.parametrize(("where", "consulted"), [("handler", True), ("access", True), ("booking", False)])
def test_filters_decide_as_logging_decides(stdout: io.StringIO, where: str, consulted: bool) -> None:
    """A filter on the handler or on booking.access drops the line; one on "booking" is not asked
    (logging applies a logger's filters only to records logged on that logger, not to its children's)."""
    target: logging.Filterer = {
        "handler": applog._stdout,
        "booking": logging.getLogger("booking"),
        "access": applog.access_log,
    }[where]  # type: ignore[assignment]
    rejected: list[str] = []

    def drop(record: logging.LogRecord) -> bool:
        rejected.append(record.getMessage())
        return False

    stock()
    target.addFilter(drop)
    try:
        applog.log_access(FIELDS)
    finally:
        target.removeFilter(drop)
    if consulted:
        assert rejected == ["request"] and stdout.getvalue() == ""
    else:
        assert rejected == [] and len(lines(stdout)) == 1


def test_a_quieter_level_writes_nothing(stdout: io.StringIO) -> None:
    stock()
    logging.getLogger("booking").setLevel("WARNING")
    applog.log_access(FIELDS)
    assert stdout.getvalue() == ""


def test_a_failing_stdout_is_for_logging(stdout: io.StringIO, monkeypatch: pytest.MonkeyPatch) -> None:
    """A write error goes to logging (Handler.handleError), as it did before: the request is unaffected."""
    handled: list[logging.LogRecord] = []
    stdout.close()
    assert applog._stdout is not None
    monkeypatch.setattr(applog._stdout, "handleError", handled.append)
    stock()
    applog.log_access(FIELDS)
    assert [r.getMessage() for r in handled] == ["request"]
