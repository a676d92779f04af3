"""Build app/Dockerfile with podman on a local base image (no registry can be pulled here)."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

from stacks.run_task.runner import podman

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_BASE_IMAGE = "localhost/booking-base:bookworm"
HOST_CA_CERTS = Path("/etc/ssl/certs")


def default_tag(suffix: str = "") -> str:
    """One tag per checkout: several worktrees on one machine may build at once (layers are shared)."""
    return f"localhost/booking-api:task-{hashlib.sha256(str(REPO_ROOT).encode()).hexdigest()[:10]}{suffix}"


def image_exists(name: str) -> bool:
    return podman("image", "exists", name, check=False).returncode == 0


def ensure_base_image(base: str = DEFAULT_BASE_IMAGE) -> None:
    """Make the Debian stand-in for python:3.13-slim with debootstrap, once per machine."""
    if image_exists(base):
        return
    if not base.startswith("localhost/booking-base:"):
        raise RuntimeError(f"base image {base} is not in podman's storage")
    subprocess.run([str(REPO_ROOT / "scripts" / "container-base-image"), base], check=True, timeout=1200)  # noqa: S603


def build(
    tag: str,
    *,
    base: str = DEFAULT_BASE_IMAGE,
    dockerfile: Path | None = None,
    context: Path | None = None,
    timeout: float = 1200,
) -> str:
    """`podman build` of the API image (docker format, so HEALTHCHECK and VOLUME metadata are kept)."""
    ensure_base_image(base)
    previous = podman("image", "inspect", "--format", "{{.Id}}", tag, check=False).stdout.strip()
    args = [
        "build",
        "--format",
        "docker",
        "--network",
        "host",
        "--build-arg",
        f"PYTHON_IMAGE={base}",
        "--tag",
        tag,
        "--file",
        str(dockerfile or REPO_ROOT / "app" / "Dockerfile"),
        str(context or REPO_ROOT / "app"),
    ]
    if HOST_CA_CERTS.is_dir():
        # pip inside the build reaches PyPI through whatever TLS interception the host trusts.
        args[1:1] = ["--volume", f"{HOST_CA_CERTS}:{HOST_CA_CERTS}:ro"]
    podman(*args, timeout=timeout)
    current = podman("image", "inspect", "--format", "{{.Id}}", tag).stdout.strip()
    if previous and previous != current:
        # The superseded build is untagged now; drop it so rebuilds don't pile up images.
        podman("rmi", previous, check=False)
    return tag
