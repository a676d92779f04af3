"""Static checks of app/Dockerfile and its runtime requirements (no podman needed).

The container check (test_container.py) builds and runs the image; these keep the contract with the
ECS task definition honest on machines without podman. The pins themselves: tests/test_dependencies.py.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "app" / "Dockerfile"


def _instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs with continuation lines joined and comments dropped."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    result = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, args = line.partition(" ")
            result.append((keyword.upper(), args.strip()))
    return result


def _final_stage() -> list[tuple[str, str]]:
    steps = _instructions()
    last_from = max(i for i, (keyword, _) in enumerate(steps) if keyword == "FROM")
    return steps[last_from:]


def test_image_installs_the_exported_lock_without_resolving() -> None:
    """The builder installs app/requirements.txt (the lock's api group, tests/test_dependencies.py) as is."""
    runs = [args for keyword, args in _instructions() if keyword == "RUN" and "pip install" in args]
    assert len(runs) == 1, runs
    words = runs[0].split()
    for flag in ("--require-hashes", "--no-deps", "--only-binary=:all:"):
        assert flag in words, f"{flag} missing from the image's pip install: {runs[0]}"
    assert ("COPY", "requirements.txt /tmp/requirements.txt") in _instructions()


def test_base_image_is_a_build_argument_used_by_every_stage() -> None:
    steps = _instructions()
    assert steps[0][0] == "ARG"
    assert re.fullmatch(r"PYTHON_IMAGE=python:3\.1[1-9]-slim", steps[0][1]), steps[0]
    froms = [args.split()[0] for keyword, args in steps if keyword == "FROM"]
    assert len(froms) >= 2, "multi-stage: a builder stage and a runtime stage"
    assert set(froms) == {"${PYTHON_IMAGE}"}


def test_runtime_stage_matches_the_task_definition_contract() -> None:
    final = _final_stage()
    last = {keyword: args for keyword, args in final}
    assert last["USER"] == "10001:10001"
    assert last["EXPOSE"] == "8000"
    assert last["STOPSIGNAL"] == "SIGTERM"
    assert json.loads(last["CMD"]) == ["python", "-m", "app", "serve"]
    healthcheck = last["HEALTHCHECK"]
    assert json.loads(healthcheck[healthcheck.index("CMD ") + 4 :]) == ["python", "-m", "app", "healthcheck"]
    env = " ".join(args for keyword, args in final if keyword == "ENV")
    assert "PYTHONDONTWRITEBYTECODE=1" in env.split()
    # Nothing may need a writable path outside /tmp at run time.
    for assignment in env.split():
        name, _, value = assignment.partition("=")
        if name in {"HOME", "TMPDIR", "PROMETHEUS_MULTIPROC_DIR"}:
            assert value == "/tmp" or value.startswith("/tmp/"), assignment


def test_build_steps_are_architecture_neutral() -> None:
    runs = " ".join(args for keyword, args in _instructions() if keyword in {"RUN", "FROM", "COPY"})
    for word in ("amd64", "x86_64", "arm64", "aarch64", "--platform"):
        assert word not in runs, f"{word!r} in a build step: the image must build for amd64 and arm64 alike"
