"""Run a planned task with podman and watch it the way ECS does (the subprocess half of the runner).

`TaskRun` prepares the task volumes, starts the container, probes the declared health check in a
background thread and stops it with the declared stopTimeout. Everything it decides comes from a
`RunPlan` (stacks/run_task/plan.py); what it observes is kept in `events` and printed via `echo`.
"""

from __future__ import annotations

import os
import resource
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from stacks.run_task.health import HealthStatus, HealthTracker
from stacks.run_task.plan import BIND_MOUNT_DEFAULT_MODE, BIND_MOUNT_DEFAULT_OWNER, RunPlan
from stacks.run_task.podman_args import effective_ulimits, podman_run_args, volume_writable

PODMAN = ("podman", "--runtime", "runc", "--cgroup-manager", "cgroupfs")
_RLIMITS = {
    "nofile": resource.RLIMIT_NOFILE,
    "nproc": resource.RLIMIT_NPROC,
    "core": resource.RLIMIT_CORE,
    "stack": resource.RLIMIT_STACK,
    "memlock": resource.RLIMIT_MEMLOCK,
}


def podman(*args: str, timeout: float = 120, check: bool = True) -> subprocess.CompletedProcess[str]:
    # A session of its own: Ctrl-C reaches the runner, which stops the task with its stopTimeout, not
    # the podman clients (`podman wait` would otherwise look like the container exiting).
    result = subprocess.run(  # noqa: S603
        [*PODMAN, *args], capture_output=True, text=True, timeout=timeout, check=False, start_new_session=True
    )
    if check and result.returncode != 0:
        raise RuntimeError(
            f"podman {' '.join(args[:3])} … exited {result.returncode}: {result.stderr.strip()[-2000:]}"
        )
    return result


def host_hard_limits() -> dict[str, int]:
    return {name: resource.getrlimit(limit)[1] for name, limit in _RLIMITS.items()}


@dataclass
class StopResult:
    seconds: float
    exit_code: int | None
    killed: bool
    """True when the container outlived stopTimeout and got SIGKILL (exit code 137)."""


@dataclass
class TaskRun:
    plan: RunPlan
    environment: dict[str, str]
    """Full container environment: declared + resolved secrets + the runner's stand-in variables."""
    echo: Callable[[str], None] = print
    name: str = field(default_factory=lambda: f"booking-task-{uuid.uuid4().hex[:8]}")
    apply_resource_limits: bool = True
    events: list[str] = field(default_factory=list)
    health: HealthTracker | None = None
    started_at: float | None = None
    healthy_after: float | None = None
    exit_code: int | None = None
    stopped_reason: str | None = None
    _run_dir: Path | None = None
    _stop_requested: threading.Event = field(default_factory=threading.Event)
    _changed: threading.Condition = field(default_factory=threading.Condition)
    _threads: list[threading.Thread] = field(default_factory=list)

    # --- reporting -------------------------------------------------------------------------------
    def note(self, line: str) -> None:
        self.events.append(line)
        self.echo(line)

    # --- volumes ----------------------------------------------------------------------------------
    def prepare_volumes(self) -> dict[str, str]:
        """One host directory per task volume, initialised the way Fargate initialises bind mounts."""
        if os.geteuid() != 0:
            raise RuntimeError("the task runner needs rootful podman (run as root, as CI does)")
        self._run_dir = Path(tempfile.mkdtemp(prefix=f"{self.name}-", dir="/var/tmp"))
        dirs: dict[str, str] = {}
        user = self.plan.user or _image_user(self.plan.image)
        for volume in self.plan.volumes:
            if volume.name in dirs:
                continue
            path = self._run_dir / volume.name
            path.mkdir()
            if volume.copy_from_image:
                owner, mode = _copy_from_image(self.plan.image, volume.container_path, path)
                origin = "the image's VOLUME content and ownership"
            else:
                owner, mode = BIND_MOUNT_DEFAULT_OWNER, BIND_MOUNT_DEFAULT_MODE
                os.chown(path, *owner)
                os.chmod(path, mode)
                origin = "an empty directory (no VOLUME at this path in the image)"
            self.note(
                f"volume {volume.name} at {volume.container_path}: {origin}, "
                f"owner {owner[0]}:{owner[1]} mode {mode:04o}"
            )
            if not volume.read_only and user and volume_writable(owner, mode, user) is False:
                self.note(
                    f"WARNING: volume {volume.name} at {volume.container_path} is not writable by user "
                    f"{user} "
                    f"(owner {owner[0]}:{owner[1]} mode {mode:04o}); on Fargate the container cannot write "
                    f"{volume.container_path} either"
                )
            dirs[volume.name] = str(path)
        return dirs

    # --- lifecycle --------------------------------------------------------------------------------
    def start(self) -> None:
        for port, protocol in self.plan.ports:
            if protocol == "tcp" and not _port_free(port):
                raise RuntimeError(
                    f"port {port} is in use on this host: on Fargate each task has its own network "
                    "interface, here the container shares the host's; pick another with "
                    "--set booking:service.containerPort=PORT"
                )
        volume_dirs = self.prepare_volumes()
        ulimits, notes = effective_ulimits(self.plan, host_hard_limits())
        for line in notes:
            self.note(f"note: {line}")

        def run(with_ulimits: list[tuple[str, int, int]]) -> subprocess.CompletedProcess[str]:
            args = podman_run_args(
                self.plan,
                name=self.name,
                environment=self.environment,
                volume_dirs=volume_dirs,
                ulimits=with_ulimits,
                apply_resource_limits=self.apply_resource_limits,
            )
            return podman("run", *args, timeout=180, check=False)

        result = run(ulimits)
        if result.returncode != 0 and ulimits and "setting rlimit" in result.stderr:
            # Some sandboxes (this CI's among them) refuse setrlimit inside runc altogether.
            podman("rm", "--force", self.name, check=False)
            self.note(
                "note: ulimits not applied ("
                + ", ".join(f"{n}={s}:{h}" for n, s, h in ulimits)
                + "): this host refuses to set rlimits for containers"
            )
            result = run([])
        if result.returncode != 0:
            raise RuntimeError(f"podman run failed ({result.returncode}): {result.stderr.strip()[-2000:]}")
        self.started_at = time.monotonic()
        self.note(f"container {self.plan.container_name} started ({self.name}); healthStatus UNKNOWN")
        if self.plan.health_check is not None:
            self.health = HealthTracker(self.plan.health_check)
        for target in (self._wait_for_exit, self._probe_health):
            thread = threading.Thread(target=target, daemon=True)
            thread.start()
            self._threads.append(thread)

    def _wait_for_exit(self) -> None:
        result = podman("wait", self.name, timeout=24 * 3600, check=False)
        code = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""
        if not code.lstrip("-").isdigit():
            if not self._stop_requested.is_set():
                self.note(f"note: lost track of the container (podman wait: {result.stderr.strip()[-300:]})")
            return
        with self._changed:
            self.exit_code = int(code)
            if self.plan.essential:
                # What ECS reports when an essential container stops: the whole task stops.
                self.stopped_reason = "Essential container in task exited"
            else:
                self.stopped_reason = "container exited"
            self._changed.notify_all()
        if not self._stop_requested.is_set():
            self.note(f"STOPPED: {self.stopped_reason} (exit code {self.exit_code})")

    def _probe_health(self) -> None:
        if self.health is None or self.started_at is None:
            return
        spec, last = self.health.spec, None
        while not self._stop_requested.is_set() and self.exit_code is None:
            due = self.started_at + self.health.next_probe_at(last)
            if self._stop_requested.wait(max(0.0, due - time.monotonic())) or self.exit_code is not None:
                return
            probe_start = time.monotonic()
            last = probe_start - self.started_at
            try:
                result = podman("exec", self.name, *spec.command, timeout=spec.timeout, check=False)
                code: int | None = result.returncode
            except subprocess.TimeoutExpired:
                code = None
            duration = time.monotonic() - probe_start
            if self.exit_code is not None or self._stop_requested.is_set():
                return
            before = self.health.status
            with self._changed:
                after = self.health.record(last, code, duration)
                if after == "HEALTHY" and self.healthy_after is None:
                    self.healthy_after = time.monotonic() - self.started_at
                self._changed.notify_all()
            outcome = "timed out" if code is None else f"exit {code}"
            if after != before:
                self.note(
                    f"healthStatus {before} -> {after} after {time.monotonic() - self.started_at:.1f}s "
                    f"(probe {self.health.probes}: {outcome} in {duration:.1f}s)"
                )
            elif code != 0:
                self.note(f"health probe {self.health.probes} failed ({outcome}); healthStatus {after}")

    def wait_for(self, wanted: set[HealthStatus], timeout: float) -> HealthStatus | None:
        """Block until the health status is in `wanted` (returns it) or the container stops (None)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                status = self.health.status if self.health else "UNKNOWN"
                if status in wanted:
                    return status
                if self.exit_code is not None:
                    return None
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"health status still {status} after {timeout:.0f}s")
                self._changed.wait(min(remaining, 1.0))

    def stop(self) -> StopResult:
        """`docker stop` semantics: the image's STOPSIGNAL, then SIGKILL after the plan's stopTimeout."""
        self._stop_requested.set()
        started = time.monotonic()
        podman(
            "stop",
            "--time",
            str(self.plan.stop_timeout),
            self.name,
            timeout=self.plan.stop_timeout + 60,
            check=False,
        )
        took = time.monotonic() - started
        state = podman("inspect", "--format", "{{.State.ExitCode}}", self.name, check=False).stdout.strip()
        exit_code = int(state) if state.lstrip("-").isdigit() else None
        killed = exit_code == 137 and took >= self.plan.stop_timeout
        self.exit_code = exit_code
        self.note(
            f"STOPPED after {took:.1f}s (stopTimeout {self.plan.stop_timeout}s): exit code {exit_code}"
            + (" - SIGKILL after stopTimeout" if killed else "")
        )
        return StopResult(took, exit_code, killed)

    def logs(self, tail: int = 80) -> str:
        result = podman("logs", "--tail", str(tail), self.name, check=False)
        return (result.stdout + result.stderr)[-8000:]

    def exec(self, *command: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return podman("exec", self.name, *command, timeout=timeout, check=False)

    def close(self) -> None:
        self._stop_requested.set()
        podman("rm", "--force", "--time", "0", self.name, check=False)
        for thread in self._threads:
            thread.join(timeout=10)
        if self._run_dir is not None:
            shutil.rmtree(self._run_dir, ignore_errors=True)


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind(("0.0.0.0", port))  # noqa: S104 - probing what the container would bind
        except OSError:
            return False
    return True


def _image_user(image: str) -> str:
    return podman("image", "inspect", "--format", "{{.Config.User}}", image).stdout.strip()


def _copy_from_image(image: str, container_path: str, dest: Path) -> tuple[tuple[int, int], int]:
    """Copy the image's content at `container_path` into `dest` with its ownership and mode."""
    mounted = podman("image", "mount", image).stdout.strip()
    try:
        source = Path(mounted) / container_path.lstrip("/")
        stat = source.stat()
        subprocess.run(["cp", "-a", f"{source}/.", str(dest)], check=True, timeout=120)  # noqa: S603, S607
        os.chown(dest, stat.st_uid, stat.st_gid)
        os.chmod(dest, stat.st_mode & 0o7777)
        return (stat.st_uid, stat.st_gid), stat.st_mode & 0o7777
    finally:
        podman("image", "unmount", image, check=False)


def inspect_image(image: str) -> Mapping[str, object]:
    import json

    data = json.loads(podman("image", "inspect", image).stdout)
    if not data:
        raise RuntimeError(f"image {image} not found in podman's storage")
    first: Mapping[str, object] = data[0]
    return first
