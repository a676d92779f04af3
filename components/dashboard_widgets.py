"""Dashboard widget builders shared by the dashboard modules (DashboardBody JSON structure, pure)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

WIDTH = 8
HEIGHT = 6


def metric(namespace: str, name: str, dimensions: Mapping[str, str], **options: Any) -> list[Any]:
    entry: list[Any] = [namespace, name]
    for key, value in dimensions.items():
        entry += [key, value]
    if options:
        entry.append(options)
    return entry


def graph(
    title: str, metrics: list[list[Any]], region: str, width: int | None = None, **properties: Any
) -> dict[str, Any]:
    """A time-series graph; `width` overrides the row layout's default for this widget."""
    widget: dict[str, Any] = {"type": "metric"}
    if width is not None:
        widget["width"] = width
    widget["properties"] = {
        "title": title,
        "region": region,
        "view": "timeSeries",
        "stacked": False,
        "period": 60,
        "metrics": metrics,
        **properties,
    }
    return widget
