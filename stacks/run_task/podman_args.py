"""RunPlan -> podman: the `podman run` arguments, ulimits and volume checks (pure, no subprocesses)."""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping, Sequence

from stacks.run_task.plan import RunPlan

# ECS API reference, Ulimit: "Amazon ECS tasks hosted on Fargate use the default resource limit values
# set by the operating system with the exception of the nofile resource limit parameter which Fargate
# overrides ... The default nofile soft limit is 65535 and the default hard limit is 65535."
FARGATE_NOFILE = (65535, 65535)


def volume_writable(owner: tuple[int, int], mode: int, user: str) -> bool | None:
    """Whether `user` (`uid`, `uid:gid`) can create files in a directory with this owner and mode.

    None when the user is a name that only the image's /etc/passwd can resolve. Root may write anything.
    """
    uid_text, _, gid_text = user.partition(":")
    if not uid_text.isdigit() or (gid_text and not gid_text.isdigit()):
        return None
    uid = int(uid_text)
    gid = int(gid_text) if gid_text else None
    if uid == 0:
        return True
    if uid == owner[0]:
        return bool(mode & 0o300 == 0o300)
    if gid is not None and gid == owner[1]:
        return bool(mode & 0o030 == 0o030)
    return bool(mode & 0o003 == 0o003)


def effective_ulimits(
    plan: RunPlan, host_hard_limits: Mapping[str, int]
) -> tuple[list[tuple[str, int, int]], list[str]]:
    """The ulimits to pass to podman, and notes for those this host cannot grant.

    Fargate overrides only `nofile` (65535/65535) unless the task declares others. This sandbox forbids
    raising a hard limit (see .ci/run), so a limit above the host's current hard limit is left out with a
    note rather than failing the container start.
    """
    wanted = {"nofile": FARGATE_NOFILE}
    wanted.update({name: (soft, hard) for name, soft, hard in plan.ulimits})
    flags, notes = [], []
    for name, (soft, hard) in sorted(wanted.items()):
        host_hard = host_hard_limits.get(name)
        if host_hard is not None and host_hard >= 0 and hard > host_hard:
            notes.append(
                f"ulimit {name}={soft}:{hard} (Fargate) not applied: this host's hard limit is {host_hard} "
                "and raising it is not allowed here"
            )
            continue
        flags.append((name, soft, hard))
    return flags, notes


def podman_run_args(
    plan: RunPlan,
    *,
    name: str,
    environment: Mapping[str, str],
    volume_dirs: Mapping[str, str],
    ulimits: Sequence[tuple[str, int, int]],
    apply_resource_limits: bool = True,
) -> list[str]:
    """`podman run` arguments (after `podman run`) reproducing the plan's Fargate semantics.

    `environment` is the full environment (declared + resolved secrets + runner stand-ins);
    `volume_dirs` maps each volume name to the host directory prepared for it.
    """
    args = [
        "--detach",
        "--name",
        name,
        "--pull",
        "never",
        # awsvpc: the task gets its own network interface and containers bind their containerPort on it
        # (hostPort must equal containerPort). The host network namespace is the local stand-in.
        "--network",
        "host",
        # "Determine task health using container health checks": ECS only monitors the task
        # definition's healthCheck, never the image's HEALTHCHECK; the runner probes it itself.
        "--no-healthcheck",
        # "docker stop" semantics: the image's STOPSIGNAL (SIGTERM by default), SIGKILL after stopTimeout.
        "--stop-timeout",
        str(plan.stop_timeout),
        # podman adds TERM=xterm and container=podman to every container; Docker, which runs ECS
        # containers, sets neither without a tty. Only HOSTNAME remains, which both set.
        "--unsetenv",
        "TERM",
        "--unsetenv",
        "container",
    ]
    if plan.read_only_root:
        # readonlyRootFilesystem: "the container is given read-only access to its root file system".
        # podman would add writable tmpfs at /run, /tmp, /var/tmp; ECS adds none.
        args += ["--read-only", "--read-only-tmpfs=false"]
    if plan.user:
        args += ["--user", plan.user]
    if plan.working_directory:
        args += ["--workdir", plan.working_directory]
    if plan.init_process:
        # linuxParameters.initProcessEnabled: "Run an init process inside the container that forwards
        # signals and reaps processes" (docker run --init).
        args.append("--init")
    for volume in plan.volumes:
        mount = f"type=bind,source={volume_dirs[volume.name]},destination={volume.container_path}"
        args += ["--mount", mount + (",ro=true" if volume.read_only else "")]
    for path, options in plan.tmpfs:
        args += ["--tmpfs", f"{path}:{options}"]
    for ulimit_name, soft, hard in ulimits:
        args += ["--ulimit", f"{ulimit_name}={soft}:{hard}"]
    if apply_resource_limits and plan.memory_mib:
        # Task size: `memory` (MiB) is a hard limit for the task on Fargate ...
        args += ["--memory", f"{plan.memory_mib}m"]
    if apply_resource_limits and plan.cpu_units:
        # ... and `cpu` is in CPU units, 1024 per vCPU (ECS API reference, TaskDefinition.cpu).
        args += ["--cpus", f"{plan.cpu_units / 1024:g}"]
    for key, value in sorted(environment.items()):
        args += ["--env", f"{key}={value}"]
    if plan.entry_point is not None:
        args += ["--entrypoint", json.dumps(list(plan.entry_point))]
    args.append(plan.image)
    if plan.command is not None:
        args += list(plan.command)
    return args


def describe(plan: RunPlan) -> str:
    """A short human summary of what will run (printed by the CLI before starting)."""
    lines = [
        f"container {plan.container_name}: image {plan.image}",
        f"  user={plan.user or '(image default)'} readonlyRootFilesystem={plan.read_only_root} "
        f"init={plan.init_process} stopTimeout={plan.stop_timeout}s essential={plan.essential}",
    ]
    for volume in plan.volumes:
        origin = "image VOLUME content" if volume.copy_from_image else "empty root:root 0755"
        lines.append(f"  volume {volume.name} at {volume.container_path}: {origin}")
    for path, options in plan.tmpfs:
        lines.append(f"  tmpfs {path} ({options})")
    if plan.health_check:
        hc = plan.health_check
        lines.append(
            f"  healthCheck {shlex.join(hc.command)} interval={hc.interval}s timeout={hc.timeout}s "
            f"retries={hc.retries} startPeriod={hc.start_period}s"
        )
    ports = ", ".join(f"{port}/{proto}" for port, proto in plan.ports)
    lines.append(f"  ports {ports or '-'}")
    return "\n".join(lines)
