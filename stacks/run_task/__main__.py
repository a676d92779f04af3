"""`python -m stacks.run_task --stack dev --db postgresql://USER:PASS@HOST:PORT/DB` (docs/run-task.md).

Exit status: 0 when the task became HEALTHY and stopped cleanly (exit code 0 within stopTimeout);
1 when it stopped, turned UNHEALTHY or did not stop cleanly; 2 for bad usage or a plan error.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import yaml

from stacks.run_task import image as image_mod
from stacks.run_task.declared import DbTarget, DeclarationError
from stacks.run_task.health import HealthStatus
from stacks.run_task.plan import PlanError
from stacks.run_task.podman_args import describe
from stacks.run_task.runner import TaskRun
from stacks.run_task.session import open_task


def _pairs(values: Sequence[str], flag: str) -> dict[str, str]:
    pairs = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise SystemExit(f"{flag} expects KEY=VALUE, got {item!r}")
        pairs[key] = value
    return pairs


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m stacks.run_task", description=__doc__.split("\n")[0])
    parser.add_argument("--stack", required=True, help="stack whose Pulumi.<stack>.yaml config to run")
    parser.add_argument("--db", required=True, help="postgresql://USER:PASS@HOST:PORT/DB standing in for RDS")
    parser.add_argument("--image", help="a local image to run (default: build app/Dockerfile)")
    parser.add_argument(
        "--base-image", default=image_mod.DEFAULT_BASE_IMAGE, help="PYTHON_IMAGE for the build"
    )
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=YAML",
        help="config override, e.g. booking:service.containerPort=8080",
    )
    parser.add_argument(
        "--secret",
        action="append",
        default=[],
        metavar="ARN=VALUE",
        help="SecretString for a secret the task references (wins over stand-in values)",
    )
    parser.add_argument(
        "--until-healthy",
        action="store_true",
        help="stop the task once it is HEALTHY (or failed) instead of running until Ctrl-C",
    )
    parser.add_argument("--timeout", type=float, default=300, help="seconds to wait for a health verdict")
    return parser.parse_args(argv)


def _wait_for_verdict(
    run: TaskRun, timeout: float, interrupted: threading.Event, echo: Callable[[str], None]
) -> HealthStatus | None:
    """HEALTHY/UNHEALTHY, or None when the container stopped, Ctrl-C came or `timeout` passed."""
    deadline = time.monotonic() + timeout
    while not interrupted.is_set():
        try:
            return run.wait_for({"HEALTHY", "UNHEALTHY"}, min(1.0, max(0.0, deadline - time.monotonic())))
        except TimeoutError as exc:
            if time.monotonic() >= deadline:
                echo(f"no health verdict: {exc}")
                return None
    return None


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        db = DbTarget.from_url(args.db)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    overrides: dict[str, Any] = {k: yaml.safe_load(v) for k, v in _pairs(args.set, "--set").items()}
    image = args.image or image_mod.build(image_mod.default_tag(), base=args.base_image)
    stop = threading.Event()
    lock = threading.Lock()

    def echo(line: str) -> None:
        # The health-probe thread reports too: one whole line at a time.
        with lock:
            sys.stdout.write(line + "\n")
            sys.stdout.flush()

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    try:
        with open_task(
            args.stack,
            image=image,
            db=db,
            overrides=overrides,
            secret_values=_pairs(args.secret, "--secret"),
            echo=echo,
        ) as local:
            echo(describe(local.plan))
            run = local.run
            run.start()
            verdict = _wait_for_verdict(run, args.timeout, stop, echo)
            if verdict == "HEALTHY":
                ports = ", ".join(f"http://127.0.0.1:{p}" for p, proto in local.plan.ports if proto == "tcp")
                echo(f"HEALTHY after {run.healthy_after:.1f}s - {ports}")
                if not args.until_healthy:
                    echo("Ctrl-C stops the task (SIGTERM, SIGKILL after stopTimeout)")
                    while not stop.wait(1) and run.exit_code is None:
                        pass
            elif verdict is None and run.exit_code is not None:
                echo(run.logs(40))
            if run.exit_code is not None:
                return 1  # it stopped on its own: the task failed
            result = run.stop()
            clean = result.exit_code == 0 and not result.killed
            return 0 if verdict == "HEALTHY" and clean else 1
    except (DeclarationError, PlanError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
