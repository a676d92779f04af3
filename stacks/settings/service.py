"""`booking:service`: the runtime (Fargate or Lambda); the Fargate task size, task count and scaling."""

from __future__ import annotations

from dataclasses import dataclass

from components.types import ARCHITECTURES, RUNTIMES, Architecture, Runtime
from stacks.settings._base import Section
from stacks.settings.retention import retention_days


def _gib(first: int, last: int, step: int) -> tuple[int, ...]:
    return tuple(range(first * 1024, last * 1024 + 1, step * 1024))


# Valid Fargate (Linux) task sizes, CPU units → memory MiB:
# https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-tasks-services.html#fargate-tasks-size
FARGATE_MEMORY_BY_CPU: dict[int, tuple[int, ...]] = {
    256: (512, 1024, 2048),
    512: _gib(1, 4, 1),
    1024: _gib(2, 8, 1),
    2048: _gib(4, 16, 1),
    4096: _gib(8, 30, 1),
    8192: _gib(16, 60, 4),
    16384: _gib(32, 120, 8),
}

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


def fargate_sizes_text() -> str:
    """`cpu 256: memory 512, 1024, 2048; cpu 512: memory 1024-4096 in steps of 1024; ...`"""

    def memory_text(memory: tuple[int, ...]) -> str:
        if len(memory) <= 3:
            return ", ".join(map(str, memory))
        return f"{memory[0]}-{memory[-1]} in steps of {memory[1] - memory[0]}"

    return "; ".join(f"cpu {cpu}: memory {memory_text(m)}" for cpu, m in FARGATE_MEMORY_BY_CPU.items())


@dataclass(frozen=True)
class ServiceSettings:
    cpu: int
    memory: int
    desired_count: int
    min_count: int
    max_count: int
    architecture: Architecture
    spot: bool
    on_demand_base: int
    container_port: int
    health_check_grace_period_seconds: int
    stop_timeout_seconds: int
    """0 until stacks/settings/stack.py derives it from the drain period and the graceful shutdown."""
    graceful_shutdown_seconds: int
    log_retention_days: int
    log_level: str
    cpu_target_percent: int
    requests_per_target: int
    wait_for_steady_state: bool
    fail_on_rollback: bool
    runtime: Runtime = "fargate"
    """fargate or lambda; with lambda the Fargate keys above are ignored and `booking:lambda` applies."""


def parse_service(raw: object) -> ServiceSettings:
    s = Section(
        "service",
        raw,
        [
            "cpu",
            "memory",
            "desiredCount",
            "minCount",
            "maxCount",
            "architecture",
            "spot",
            "onDemandBase",
            "containerPort",
            "healthCheckGracePeriodSeconds",
            "stopTimeoutSeconds",
            "gracefulShutdownSeconds",
            "logRetentionDays",
            "logLevel",
            "cpuTargetPercent",
            "requestsPerTarget",
            "waitForSteadyState",
            "failOnRollback",
            "runtime",
        ],
    )
    cpu = s.integer("cpu", 256)
    if cpu not in FARGATE_MEMORY_BY_CPU:
        raise s.error("cpu", cpu, f"must be one of {', '.join(map(str, FARGATE_MEMORY_BY_CPU))}")
    memory = s.integer("memory", 512)
    if memory not in FARGATE_MEMORY_BY_CPU[cpu]:
        raise s.error(
            "memory",
            memory,
            f"with cpu {cpu} must be one of {', '.join(map(str, FARGATE_MEMORY_BY_CPU[cpu]))} "
            f"(valid Fargate sizes: {fargate_sizes_text()})",
        )
    min_count = s.integer("minCount", 1, minimum=1, maximum=100)
    max_count = s.integer("maxCount", max(min_count, 2), minimum=1, maximum=100)
    if max_count < min_count:
        raise s.error("maxCount", max_count, f"must be at least minCount ({min_count})")
    desired_count = s.integer("desiredCount", min_count, minimum=1, maximum=100)
    if not min_count <= desired_count <= max_count:
        raise s.error(
            "desiredCount", desired_count, f"must be from minCount ({min_count}) to maxCount ({max_count})"
        )
    wait = s.boolean("waitForSteadyState", True)
    fail_on_rollback = s.boolean("failOnRollback", True)
    if fail_on_rollback and not wait:
        raise s.error(
            "failOnRollback", fail_on_rollback, "needs waitForSteadyState: true (the check runs after it)"
        )
    spot = s.boolean("spot", False)
    on_demand_base = s.integer("onDemandBase", 0, minimum=0, maximum=100)
    if on_demand_base and not spot:
        raise s.error(
            "onDemandBase",
            on_demand_base,
            "applies only with spot: true (without Spot every task is on-demand)",
        )
    return ServiceSettings(
        cpu=cpu,
        memory=memory,
        desired_count=desired_count,
        min_count=min_count,
        max_count=max_count,
        architecture=s.choice("architecture", ARCHITECTURES, "arm64"),
        spot=spot,
        on_demand_base=on_demand_base,
        container_port=s.integer("containerPort", 8000, minimum=1024, maximum=65535),
        health_check_grace_period_seconds=s.integer(
            "healthCheckGracePeriodSeconds", 60, minimum=0, maximum=600
        ),
        # ECS accepts 2 to 120 s on Fargate; whether it covers drain + shutdown is checked with the
        # load balancer's health check (stacks/settings/stack.py).
        stop_timeout_seconds=(
            s.integer("stopTimeoutSeconds", 0, minimum=2, maximum=120) if "stopTimeoutSeconds" in s.raw else 0
        ),
        graceful_shutdown_seconds=s.integer("gracefulShutdownSeconds", 20, minimum=1, maximum=110),
        log_retention_days=retention_days(s, "logRetentionDays", 14),
        log_level=s.choice("logLevel", LOG_LEVELS, "INFO"),
        cpu_target_percent=s.integer("cpuTargetPercent", 60, minimum=10, maximum=90),
        requests_per_target=s.integer("requestsPerTarget", 500, minimum=1, maximum=100000),
        wait_for_steady_state=wait,
        fail_on_rollback=fail_on_rollback,
        runtime=s.choice("runtime", RUNTIMES, "fargate"),
    )
