"""The offline runner records a graph that is stable run to run (what `scripts/resource-graph` compares)."""

from __future__ import annotations

from stacks.offline import OfflineRun


def test_dependencies_are_recorded_from_the_registration(dev: OfflineRun) -> None:
    service = dev.one("aws:ecs/service:Service")
    task = dev.one("aws:ecs/taskDefinition:TaskDefinition")
    # The service's taskDefinition input comes from the task definition, so the engine records the edge.
    assert task.urn in service.dependencies
    assert task.urn in service.options["propertyDependencies"]["taskDefinition"]["urns"]


def test_recorded_options_carry_no_source_position(dev: OfflineRun) -> None:
    for resource in dev.resources:
        assert "sourcePosition" not in resource.options
        assert "stackTrace" not in resource.options


def test_assets_are_recorded_by_content_not_by_memory_address(dev: OfflineRun) -> None:
    (function,) = dev.of_type("aws:lambda/function:Function")
    assets = function.inputs["code"]["assets"]
    assert assets["handler.py"] == {"path": "lambda/deploy_notifier/handler.py"}
    # Every file by its path inside the repository, never a repr with a memory address.
    assert all(set(a) == {"path"} and not a["path"].startswith("/") for a in assets.values())
