"""Run one component under the shared AWS mocks (`stacks/mocks.py`) and resolve the values it returns."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pulumi

from stacks.mocks import AwsMocks


def run_component(
    build: Callable[[], Mapping[str, Any]],
    *,
    preview: bool = False,
    mocks: AwsMocks | None = None,
) -> tuple[AwsMocks, dict[str, Any]]:
    """Run `build` (which declares a component) under fresh mocks; return the mocks and the resolved
    values of the mapping `build` returns (Outputs, awaitables or plain values)."""
    mocks = mocks if mocks is not None else AwsMocks()
    pulumi.runtime.set_mocks(mocks, project="booking", stack="test", preview=preview)
    resolved: dict[str, Any] = {}

    @pulumi.runtime.test
    def body() -> pulumi.Output[None]:
        values = build()
        keys = list(values)
        return pulumi.Output.all(*(pulumi.Output.from_input(values[k]) for k in keys)).apply(
            lambda got: resolved.update(zip(keys, got, strict=True))
        )

    body()
    return mocks, resolved
