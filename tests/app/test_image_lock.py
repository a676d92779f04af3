"""The image installs exactly the locked API runtime group: `pip freeze` in the built image equals the
`api` group of uv.lock, evaluated for the image's own interpreter and platform.

Builds app/Dockerfile with podman like the container check (same base image, flags and skip rules:
marker `container`; skips without podman unless BOOKING_REQUIRE_CONTAINER_TEST=1). Kept apart from
test_container.py so each can change on its own; podman's layer cache makes the second build cheap.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import NoReturn

import pytest
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

pytestmark = [pytest.mark.container, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
PODMAN = ["podman", "--runtime", "runc", "--cgroup-manager", "cgroupfs"]
BASE_IMAGE = os.environ.get("BOOKING_CONTAINER_BASE_IMAGE", "localhost/booking-base:bookworm")
IMAGE = f"localhost/booking-api:lock-{hashlib.sha256(str(ROOT).encode()).hexdigest()[:10]}"
HOST_CA_CERTS = Path("/etc/ssl/certs")
UV = Path(sys.executable).parent / "uv"  # the dev group's uv, the version scripts/uv pins


def _unavailable(reason: str) -> NoReturn:
    if os.environ.get("BOOKING_REQUIRE_CONTAINER_TEST") == "1":
        pytest.fail(f"image check required (BOOKING_REQUIRE_CONTAINER_TEST=1) but {reason}")
    pytest.skip(f"image check skipped: {reason}")


def _podman(*args: str, timeout: float = 120) -> str:
    result = subprocess.run([*PODMAN, *args], capture_output=True, text=True, timeout=timeout, check=False)
    assert result.returncode == 0, (
        f"podman {' '.join(args)} exited {result.returncode}:\n{result.stderr[-3000:]}"
    )
    return result.stdout


@pytest.fixture(scope="module")
def image() -> str:
    if shutil.which("podman") is None or shutil.which("runc") is None:
        _unavailable("podman/runc are not installed (apt-get install podman runc debootstrap)")
    if subprocess.run([*PODMAN, "image", "exists", BASE_IMAGE], timeout=60, check=False).returncode != 0:
        if not BASE_IMAGE.startswith("localhost/booking-base:") or shutil.which("debootstrap") is None:
            _unavailable(f"base image {BASE_IMAGE} is missing and cannot be made here")
        subprocess.run([str(ROOT / "scripts" / "container-base-image"), BASE_IMAGE], check=True, timeout=900)
    build = [
        "build", "--format", "docker", "--network", "host", "--build-arg", f"PYTHON_IMAGE={BASE_IMAGE}",
        "--tag", IMAGE, "--file", str(ROOT / "app" / "Dockerfile"), str(ROOT / "app"),
    ]
    if HOST_CA_CERTS.is_dir():
        # pip inside the build reaches PyPI through whatever TLS interception the host trusts.
        build[1:1] = ["--volume", f"{HOST_CA_CERTS}:{HOST_CA_CERTS}:ro"]
    started = time.monotonic()
    _podman(*build, timeout=900)
    sys.stderr.write(f"[image-lock] podman build took {time.monotonic() - started:.1f}s\n")
    return IMAGE


def _in_image(image: str, *cmd: str) -> str:
    return _podman("run", "--rm", "--network", "none", image, *cmd)


def _locked_api_group() -> list[Requirement]:
    """The `api` group straight from uv.lock (not from the exported file the image was built with)."""
    exported = subprocess.run(
        [str(UV), "export", "--frozen", "--only-group", "api", "--no-emit-project", "--no-hashes",
         "--no-header", "--no-annotate", "--format", "requirements.txt"],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=True,
        env={**os.environ, "UV_OFFLINE": "1"},
    ).stdout
    return [Requirement(line) for line in exported.splitlines() if line.strip() and not line.startswith("#")]


def test_pip_freeze_in_the_image_is_the_locked_api_group(image: str) -> None:
    # The markers (uvloop not on Windows, tzdata only on Windows, …) decide per platform, so evaluate
    # them with the image's interpreter, through the packaging copy pip itself vendors.
    environment = json.loads(
        _in_image(image, "python", "-c", "import json; from pip._vendor.packaging.markers import "
                  "default_environment as d; print(json.dumps(d()))")
    )
    expected = {}
    for req in _locked_api_group():
        if req.marker is None or Marker(str(req.marker)).evaluate(environment):
            (version,) = [spec.version for spec in req.specifier if spec.operator == "=="]
            expected[canonicalize_name(req.name)] = version
    frozen = {}
    for line in _in_image(image, "python", "-m", "pip", "freeze").splitlines():
        name, _, version = line.partition("==")
        assert version, f"not a plain pinned install: {line!r}"
        frozen[canonicalize_name(name)] = version
    assert frozen == expected, (
        f"only in the image: {sorted(set(frozen.items()) - set(expected.items()))}; "
        f"only in the lock: {sorted(set(expected.items()) - set(frozen.items()))}"
    )
    assert "fastapi" in frozen and "pulumi" not in frozen
    # pip freeze hides the venv's own installers; nothing else may hide there either.
    everything = _in_image(image, "python", "-m", "pip", "freeze", "--all").splitlines()
    extra = {canonicalize_name(line.partition("==")[0]) for line in everything} - set(frozen)
    assert extra <= {"pip", "setuptools", "wheel"}, extra
