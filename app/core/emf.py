"""Business and per-route metrics to CloudWatch as Embedded Metric Format (EMF) records on stdout.

No sidecar and no network call: each process aggregates in memory and, once a minute, writes a few JSON
lines to stdout; the awslogs driver ships them to the API's log group and CloudWatch Logs extracts the
metrics ("Specification: Embedded metric format"; "Embedding metrics within logs": log events in EMF
sent by the awslogs driver are turned into metrics). Under gunicorn every worker aggregates and flushes
its own counts; CloudWatch sums them. A worker flushes once more when it stops (FastAPI lifespan
shutdown, after the drain in app/core/draining.py and gunicorn's graceful stop), so the last minute of
a replaced task is not lost.

What the spec makes us do:
- `_aws.Timestamp` in epoch milliseconds; records are stamped with the *start* of the minute they
  measure, so a late flush still lands in the right minute.
- at most 100 MetricDefinitions per directive and at most 100 values in a numeric array target: the
  latency samples of a route are written as ≤100-value arrays, several records if needed.
- dimension targets are strings on the root node; the metric names come from app/core/metric_catalogue.py.

Percentiles: the spec has numeric values or arrays of values only (no Values/Counts pairs), and
CloudWatch computes p50/p99 from the values it receives. Latencies are rounded to two significant
digits (≤5% error) and at most `max_latency_samples` per route and flush are written: above that the
histogram is scaled down proportionally (every non-empty bucket keeps at least one sample, so the tail
is slightly over-weighted: p99 errs high, never low). Request counts come from `Requests`, not from the
Latency sample count.
"""

from __future__ import annotations

import json
import math
import os
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from app.core import metric_catalogue as mc

MAX_VALUES_PER_ARRAY = 100  # "Numeric array metric targets MUST NOT have more than 100 members"
MAX_METRICS_PER_DIRECTIVE = 100  # "This array MUST NOT contain more than 100 MetricDefinition objects"
DEFAULT_MAX_LATENCY_SAMPLES = 1000

Writer = Callable[[str], None]


def quantize_ms(ms: float) -> float:
    """Two significant digits: bounded distinct values, short JSON, ≤5% relative error."""
    if ms <= 0:
        return 0.0
    digits = 1 - math.floor(math.log10(ms))
    return round(ms, digits) if digits > 0 else float(round(ms, digits))


def _stdout(line: str) -> None:
    # One write of a whole line (< 4 KiB): the same stream the JSON log lines use, never split.
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


class Aggregator:
    """One process's counts for the current minute; `flush` turns them into EMF records."""

    def __init__(
        self,
        namespace: str,
        write: Writer = _stdout,
        *,
        clock: Callable[[], float] = time.time,
        max_latency_samples: int = DEFAULT_MAX_LATENCY_SAMPLES,
    ) -> None:
        self.namespace = namespace
        self.write = write
        self.clock = clock
        self.max_latency_samples = max_latency_samples
        self._lock = threading.Lock()
        self._reset()

    def _reset(self) -> None:
        self._window_start = self.clock()
        self._counters: dict[str, int] = dict.fromkeys((spec.name for spec in mc.BUSINESS), 0)
        self._requests: dict[tuple[str, str], int] = {}
        self._latency: dict[str, dict[float, int]] = {}

    # --- the request path: a lock and a few dict updates -------------------------------------------
    def count(self, spec: mc.MetricSpec, n: int = 1) -> None:
        with self._lock:
            self._counters[spec.name] += n

    def request(self, route: str, status: int, seconds: float) -> None:
        if route in mc.UNMEASURED_ROUTES:
            return
        key = (route, mc.status_class(status))
        bucket = quantize_ms(seconds * 1000)
        with self._lock:
            self._requests[key] = self._requests.get(key, 0) + 1
            histogram = self._latency.get(route)
            if histogram is None:
                histogram = self._latency[route] = {}
            histogram[bucket] = histogram.get(bucket, 0) + 1

    # --- once a minute ---------------------------------------------------------------------------------
    def flush(self) -> list[dict[str, Any]]:
        """Write (and return) the records for everything counted since the last flush."""
        with self._lock:
            start, counters, requests, latency = (
                self._window_start,
                self._counters,
                self._requests,
                self._latency,
            )
            self._reset()
        records = self.records(int(start * 1000), counters, requests, latency)
        for record in records:
            self.write(json.dumps(record, separators=(",", ":")))
        return records

    def records(
        self,
        timestamp_ms: int,
        counters: dict[str, int],
        requests: dict[tuple[str, str], int],
        latency: dict[str, dict[float, int]],
    ) -> list[dict[str, Any]]:
        records = [
            self._record(
                timestamp_ms,
                (),
                [spec for spec in mc.BUSINESS],
                {s.name: counters[s.name] for s in mc.BUSINESS},
            )
        ]
        for (route, klass), n in sorted(requests.items()):
            records.append(
                self._record(
                    timestamp_ms,
                    mc.REQUESTS.dimensions,
                    [mc.REQUESTS],
                    {mc.ROUTE: route, mc.STATUS_CLASS: klass, mc.REQUESTS.name: n},
                )
            )
        for route, histogram in sorted(latency.items()):
            samples = self.samples(histogram)
            for i in range(0, len(samples), MAX_VALUES_PER_ARRAY):
                chunk = samples[i : i + MAX_VALUES_PER_ARRAY]
                records.append(
                    self._record(
                        timestamp_ms,
                        mc.LATENCY.dimensions,
                        [mc.LATENCY],
                        {mc.ROUTE: route, mc.LATENCY.name: chunk},
                    )
                )
        return records

    def samples(self, histogram: dict[float, int]) -> list[float]:
        """The latency values to write: every sample, or a proportional scale-down to the cap."""
        total = sum(histogram.values())
        scale = min(1.0, self.max_latency_samples / total) if total else 1.0
        values: list[float] = []
        for value, count in sorted(histogram.items()):
            values.extend([value] * (count if scale == 1.0 else max(1, round(count * scale))))
        return values

    def _record(
        self,
        timestamp_ms: int,
        dimensions: tuple[str, ...],
        metrics: list[mc.MetricSpec],
        members: dict[str, Any],
    ) -> dict[str, Any]:
        assert len(metrics) <= MAX_METRICS_PER_DIRECTIVE
        return {
            "_aws": {
                "Timestamp": timestamp_ms,
                "CloudWatchMetrics": [
                    {
                        "Namespace": self.namespace,
                        "Dimensions": [list(dimensions)],
                        "Metrics": [{"Name": spec.name, "Unit": spec.unit} for spec in metrics],
                    }
                ],
            },
            **members,
        }


class Flusher:
    """A daemon thread that flushes at every wall-clock minute boundary (per process)."""

    def __init__(self, aggregator: Aggregator, interval_seconds: float = 60.0) -> None:
        self.aggregator = aggregator
        self.interval = interval_seconds
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="emf-flusher", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval - (time.time() % self.interval)):
            try:
                self.aggregator.flush()
            except Exception as exc:
                print(f"emf: flush failed: {exc!r}", file=sys.stderr)

    def stop(self) -> None:
        """Stop the thread and flush what is left (shutdown)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        self.aggregator.flush()


# --- the process-wide instance the app uses ----------------------------------------------------------
_active: Aggregator | None = None
_flusher: Flusher | None = None


def configure(namespace: str | None, interval_seconds: float = 60.0, write: Writer = _stdout) -> None:
    """Turn emission on (a namespace) or off (None). The flusher starts on `start()`."""
    global _active, _flusher
    shutdown(flush=False)
    _active = Aggregator(namespace, write) if namespace else None
    _flusher = Flusher(_active, interval_seconds) if _active is not None else None


def start() -> None:
    if _flusher is not None:
        _flusher.start()


def shutdown(flush: bool = True) -> None:
    global _flusher
    if _flusher is not None:
        if flush:
            _flusher.stop()
        else:
            _flusher._stop.set()
        _flusher = None


def flush() -> None:
    """Write what this process counted so far (Lambda: at the end of each invocation)."""
    if _active is not None:
        _active.flush()


def count(spec: mc.MetricSpec, n: int = 1) -> None:
    aggregator = _active
    if aggregator is not None:
        aggregator.count(spec, n)


def observe_request(method: str, route: str, status: int, seconds: float) -> None:
    aggregator = _active
    if aggregator is not None:
        aggregator.request(mc.route_label(method, route), status, seconds)


def _after_fork_in_child() -> None:
    # A forked child inherits the parent's counts (already reported by the parent) but not its thread.
    global _active, _flusher
    if _active is not None:
        _active = Aggregator(_active.namespace, _active.write)
        interval = _flusher.interval if _flusher is not None else 60.0
        _flusher = Flusher(_active, interval)


os.register_at_fork(after_in_child=_after_fork_in_child)
