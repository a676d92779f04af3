"""Offline runs of the real program are slow (a fresh Pulumi runtime each); run each config once."""

from __future__ import annotations

import functools
import json

from stacks.offline import OfflineRun, run_stack


@functools.cache
def _run(stack: str, overrides: str, config_stack: str | None) -> OfflineRun:
    return run_stack(stack, json.loads(overrides), config_stack=config_stack)


def offline(
    stack: str, overrides: dict[str, object] | None = None, config_stack: str | None = None
) -> OfflineRun:
    """`run_stack`, cached for the test session."""
    return _run(stack, json.dumps(overrides or {}, sort_keys=True), config_stack)
