"""The venv caches bytecode on first import even where PYTHONDONTWRITEBYTECODE is set (scripts/bootstrap).

bootstrap no longer compiles all of site-packages at install (~41 s CPU, most of it pulumi_aws services
nothing imports); a .pth line it writes makes the venv's interpreters cache what they import under
.venv/pycache instead. Without it, every short-lived interpreter the tests, the app and Pulumi start on
such a machine would recompile everything it imports. docs/dependencies.md has the measurements.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PTH = Path(next(p for p in sys.path if p.endswith("site-packages"))) / "_booking_bytecode.pth"


def import_in_child(tmp_path: Path, **env: str) -> None:
    (tmp_path / "probe_module.py").write_text("VALUE = 1\n")
    unset = ("PYTHONDONTWRITEBYTECODE", "PYTHONPYCACHEPREFIX")
    child_env = {k: v for k, v in os.environ.items() if k not in unset}
    child_env |= {"PYTHONPATH": str(tmp_path), **env}
    subprocess.run([sys.executable, "-c", "import probe_module"], env=child_env, check=True, timeout=120)


@pytest.fixture
def venv() -> Path:
    if sys.prefix == sys.base_prefix:
        pytest.fail("run the tests with the project's venv (.venv/bin/pytest, scripts/test)")
    return Path(sys.prefix)


def test_bootstrap_installed_the_current_pth_line(venv: Path) -> None:
    match = re.search(r"^BYTECODE_PTH='(.*)'$", (ROOT / "scripts/bootstrap").read_text(), re.MULTILINE)
    assert match, "scripts/bootstrap defines BYTECODE_PTH"
    assert PTH.read_text().strip() == match.group(1), "stale .pth: run scripts/bootstrap"


def test_with_dont_write_bytecode_the_venv_caches_under_its_own_prefix(venv: Path, tmp_path: Path) -> None:
    import_in_child(tmp_path, PYTHONDONTWRITEBYTECODE="1")
    cached = venv / "pycache" / str(tmp_path).lstrip("/") / f"probe_module.{sys.implementation.cache_tag}.pyc"
    assert cached.is_file()
    assert not (tmp_path / "__pycache__").exists(), "nothing is written beside the sources"


def test_without_it_python_keeps_its_usual_pycache(venv: Path, tmp_path: Path) -> None:
    import_in_child(tmp_path)
    assert list((tmp_path / "__pycache__").glob("probe_module.*.pyc"))


def test_an_explicit_prefix_is_kept(venv: Path, tmp_path: Path) -> None:
    prefix = tmp_path / "elsewhere"
    import_in_child(tmp_path, PYTHONDONTWRITEBYTECODE="1", PYTHONPYCACHEPREFIX=str(prefix))
    assert list(prefix.rglob("probe_module.*.pyc"))
