"""What the real Pulumi CLI does on a fresh clone with `toolchain: uv`, replayed without the CLI.

Read in pulumi/pulumi at commit 1b5949891b3c (2026-08-21): sdk/python/toolchain/toolchain.go
`ResolveToolchain`, toolchain/uv.go `newUv`, `InstallDependencies`, `Command`;
sdk/python/cmd/pulumi-language-python/main.go `parseOptions`, `InstallDependencies`, `Run`;
sdk/python/cmd/pulumi-language-python-exec:
- the venv is the `virtualenv` option joined to the project root (the directory of Pulumi.yaml);
- `pulumi install` runs `uv sync` with cwd = the program directory (`main: stacks/`) and
  `UV_PROJECT_ENVIRONMENT=<venv>`; no uv.lock/pyproject.toml is looked for in stacks/ itself, uv
  searches upwards and finds the repo's;
- before running the program it runs `uv sync --inexact` there again, then `<venv>/bin/python` with
  the venv activated (VIRTUAL_ENV, PATH, no PYTHONHOME) and cwd = the program directory;
- pulumi-language-python-exec runs the program with `runpy.run_path(<program dir>)`, so sys.path has
  stacks/ and not the repo root: `import components` works only if the repo is installed in the venv.

Here the same commands run on a copy of the checkout in a new venv, then the stack program runs
under the offline runner's AWS mocks in exactly that interpreter and sys.path. UV_OFFLINE=1 (an
environment variable the CLI passes through to uv unchanged) keeps it to uv's cache, which
scripts/bootstrap filled with a superset of these packages.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

from stacks.offline import _wire_config, stack_config

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent

# Runs in the fresh venv like pulumi-language-python-exec: mocks stand in for the engine, then the
# program directory is run with runpy.run_path, which puts that directory first on sys.path.
_DRIVER = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path

    program_dir, request, result = map(Path, sys.argv[1:4])
    assert str(program_dir.parent) not in sys.path, sys.path  # only the editable install finds the repo
    import stacks.offline as offline

    offline.PROGRAM = program_dir  # run_path(<directory>), as the CLI does, instead of the file
    offline._child(request, result)
    import fastapi  # noqa: F401  (must fail: the API group is not the program's)
    """
)


def _copy_checkout(dest: Path) -> None:
    """The files a fresh clone has: tracked and new-but-not-ignored ones (no .venv, caches, .git)."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, capture_output=True, check=True,
    ).stdout.decode().split("\0")
    for relative in filter(None, listed):
        source = ROOT / relative
        if source.is_file():
            (dest / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / relative)


def _activated(venv: Path, path_dirs: list[Path]) -> dict[str, str]:
    """toolchain.ActivateVirtualEnv: VIRTUAL_ENV set, its bin first on PATH, PYTHONHOME removed."""
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONHOME", "PYTHONPATH", "VIRTUAL_ENV"}}
    env["PATH"] = os.pathsep.join([str(venv / "bin"), *map(str, path_dirs), env.get("PATH", "")])
    env["VIRTUAL_ENV"] = str(venv)
    env["UV_OFFLINE"] = "1"
    return env


def test_pulumi_yaml_selects_the_uv_toolchain_and_the_repo_venv() -> None:
    for project_file, venv in [
        (ROOT / "Pulumi.yaml", ROOT / ".venv"),
        (ROOT / "stacks/bootstrap/Pulumi.yaml", ROOT / ".venv"),
        (ROOT / "policies/PulumiPolicy.yaml", ROOT / ".venv"),
    ]:
        options = yaml.safe_load(project_file.read_text())["runtime"]["options"]
        assert options["toolchain"] == "uv", project_file
        # newUv: a relative virtualenv is joined to the project root (the file's directory).
        assert (project_file.parent / options["virtualenv"]).resolve() == venv.resolve(), project_file
    assert yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["main"] == "stacks/"


def test_fresh_clone_install_and_run_the_way_the_cli_does(tmp_path: Path) -> None:
    uv = shutil.which("uv", path=str(BIN))
    assert uv, "uv is in the dev group (pyproject.toml); run scripts/bootstrap"
    clone = tmp_path / "clone"
    _copy_checkout(clone)
    program_dir = clone / "stacks"
    venv = clone / ".venv"  # Pulumi.yaml `virtualenv: .venv`, relative to the project root
    assert not venv.exists()
    tools = tmp_path / "tools"  # the CLI looks up `uv` on PATH (exec.LookPath)
    tools.mkdir()
    (tools / "uv").symlink_to(uv)
    uv_env = {**_activated(venv, [tools]), "UV_PROJECT_ENVIRONMENT": str(venv)}
    uv_env.pop("VIRTUAL_ENV")  # the CLI's uv commands run with the CLI's own environment, not the venv's

    def uv_run(*args: str) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            ["uv", *args], cwd=program_dir, env=uv_env, capture_output=True, text=True, timeout=600,
            check=False,
        )
        assert result.returncode == 0, f"uv {' '.join(args)}:\n{result.stderr[-3000:]}"
        return result

    uv_run("sync")  # InstallDependencies (`pulumi install`)
    assert (venv / "bin" / "python").exists(), "uv sync made the venv where Pulumi.yaml says"
    assert uv_run("sync", "--inexact").returncode == 0  # Command(), before every run

    # What landed in the venv: the locked infra group and the project, not the API or the dev tools.
    freeze = subprocess.run(
        ["uv", "pip", "freeze", "--python", str(venv / "bin" / "python")],
        env=uv_env, capture_output=True, text=True, check=True, timeout=120,
    ).stdout
    installed = {line.split("==")[0].lower() for line in freeze.splitlines() if "==" in line}
    assert {"pulumi", "pulumi-aws", "pulumi-docker", "pulumi-random", "pulumi-policy"} <= installed
    assert not {"pytest", "mypy", "fastapi", "moto"} & installed, sorted(installed)
    assert f"-e file://{clone}" in freeze.splitlines(), (
        f"the project itself is installed editable from the clone:\n{freeze}"
    )

    request, result = tmp_path / "request.json", tmp_path / "result.json"
    request.write_text(json.dumps({"stack": "dev", "config": _wire_config(stack_config("dev"))}))
    driver = tmp_path / "driver.py"
    driver.write_text(_DRIVER)
    run = subprocess.run(
        [str(venv / "bin" / "python"), "-u", str(driver), str(program_dir), str(request), str(result)],
        cwd=program_dir, env=_activated(venv, [tools]), capture_output=True, text=True, timeout=600,
        check=False,
    )
    assert result.exists(), f"the program did not run in the CLI's venv:\n{run.stderr[-4000:]}"
    declared = json.loads(result.read_text())
    assert declared["error"] is None, declared["error"]
    types = {r["type"] for r in declared["resources"]}
    assert {"aws:ecs/service:Service", "aws:rds/instance:Instance", "aws:lambda/function:Function"} <= types
    assert "ModuleNotFoundError: No module named 'fastapi'" in run.stderr, run.stderr[-2000:]

    # The policy pack (`python -m pulumi.policy … policies/`, cwd policies/) and the bootstrap program
    # use the same venv: their imports resolve in it from their own directories.
    others = [("policies", "policies.pack"), ("stacks/bootstrap", "stacks.bootstrap.settings")]
    for directory, module in others:
        check = subprocess.run(
            [str(venv / "bin" / "python"), "-c", f"import pulumi_policy, {module}; print({module}.__file__)"],
            cwd=clone / directory, env=_activated(venv, [tools]), capture_output=True, text=True, timeout=120,
            check=False,
        )
        assert check.returncode == 0, check.stderr[-2000:]
        assert check.stdout.strip().startswith(str(clone)), check.stdout
