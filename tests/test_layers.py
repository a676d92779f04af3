"""The direction of dependency: components are the lower layer and never know the program that uses them."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def imported_modules(source: str) -> set[str]:
    """Every module a Python source imports (absolute names; `from . import x` counts as the package)."""
    modules: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules.add(node.module)
    return modules


def test_imported_modules_sees_every_import_form() -> None:
    source = "import stacks\nimport os, stacks.settings as s\nfrom stacks.settings.alarms import X\n"
    source += "def f():\n    from stacks import offline\n"
    assert imported_modules(source) == {"stacks", "os", "stacks.settings", "stacks.settings.alarms"}


def test_no_component_imports_the_stack_program() -> None:
    offenders = {
        str(path.relative_to(ROOT)): sorted(
            m for m in imported_modules(path.read_text()) if m.split(".")[0] == "stacks"
        )
        for path in sorted((ROOT / "components").rglob("*.py"))
    }
    assert {path: mods for path, mods in offenders.items() if mods} == {}


def test_one_mocks_implementation() -> None:
    """What AWS would answer lives in stacks/mocks.py only; the offline runner and every test use it."""
    implementations = []
    for path in sorted(ROOT.glob("**/*.py")):
        if ".venv" in path.parts or "node_modules" in path.parts:
            continue
        # By text, not by AST: a test may build a program in a string (tests/test_bootstrap.py did).
        for name in re.findall(r"^\s*class (\w+)\([\w.]*Mocks\)", path.read_text(), re.MULTILINE):
            implementations.append(f"{path.relative_to(ROOT)}:{name}")
    assert implementations == ["stacks/mocks.py:AwsMocks"]
