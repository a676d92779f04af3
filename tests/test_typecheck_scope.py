"""mypy follows only the pulumi_aws services the code uses (pyproject.toml [[tool.mypy.overrides]]).

pulumi_aws declares every one of its ~240 services under `if TYPE_CHECKING:` in its `__init__`, so
mypy analyses ~3,100 modules (36 of its 62 CPU seconds on a cold cache) for the ~18 services this repo
touches. The overrides skip the others; a skipped module is `Any` to mypy, so a service the code starts
using must be added to the followed list or its calls go unchecked. These tests read the code and
ask mypy's own configuration parser what it does with each service.
"""

from __future__ import annotations

import ast
import io
from pathlib import Path

import pulumi_aws
from mypy.config_parser import parse_config_file
from mypy.options import Options

ROOT = Path(__file__).resolve().parents[1]
CODE_DIRS = ("app", "components", "stacks", "policies", "lambda", "tests", "bench")
SERVICES = {p.name for p in Path(pulumi_aws.__file__).parent.iterdir() if (p / "__init__.py").exists()}


def services_used(source: str) -> set[str]:
    """pulumi_aws services a module names: `aws.ec2.Vpc`, `from pulumi_aws import ec2`,
    `import pulumi_aws.ec2`, `from pulumi_aws.ec2 import Vpc`."""
    tree = ast.parse(source)
    aliases: set[str] = set()
    used: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for name in node.names:
                parts = name.name.split(".")
                if parts[0] == "pulumi_aws":
                    aliases.add(name.asname or "pulumi_aws")
                    used.update(parts[1:2])
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            parts = node.module.split(".")
            if parts[0] == "pulumi_aws":
                used.update(parts[1:2] or [name.name for name in node.names])
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in aliases:
            used.add(node.attr)
    return used & SERVICES


def mypy_options() -> Options:
    options = Options()
    parse_config_file(options, lambda: None, str(ROOT / "pyproject.toml"), io.StringIO(), io.StringIO())
    return options


def follows(options: Options, module: str) -> bool:
    return options.clone_for_module(module).follow_imports == "normal"


def test_scanner_sees_every_spelling() -> None:
    source = (
        "import pulumi_aws as aws\nimport pulumi_aws.sqs\nfrom pulumi_aws import kms\n"
        "from pulumi_aws.lb import TargetGroup\nvpc = aws.ec2.Vpc('v')\nbucket = aws.s3\n"
        "name = 'aws.sagemaker'  # a string, not code\n"
    )
    assert services_used(source) == {"sqs", "kms", "lb", "ec2", "s3"}


def test_every_service_the_code_uses_is_type_checked() -> None:
    used: dict[str, set[str]] = {}
    for directory in CODE_DIRS:
        for path in sorted((ROOT / directory).rglob("*.py")):
            for service in services_used(path.read_text()):
                used.setdefault(service, set()).add(str(path.relative_to(ROOT)))
    assert {"ec2", "ecs", "iam", "lb", "rds"} <= used.keys()  # the scan sees the platform
    options = mypy_options()
    skipped = {
        service: sorted(files)
        for service, files in used.items()
        if not (follows(options, f"pulumi_aws.{service}") and follows(options, f"pulumi_aws.{service}.x"))
    }
    assert not skipped, (
        "add these pulumi_aws services to the followed list in pyproject.toml [[tool.mypy.overrides]], "
        f"or mypy treats them as Any: {skipped}"
    )


def test_the_package_root_and_shared_modules_are_followed() -> None:
    options = mypy_options()
    for module in ("pulumi_aws", "pulumi_aws._utilities", "pulumi_aws._inputs", "pulumi_aws.outputs",
                   "pulumi_aws.provider", "pulumi_aws.get_caller_identity", "pulumi_aws.config.vars"):
        assert follows(options, module), module


def test_services_nothing_uses_are_skipped() -> None:
    options = mypy_options()
    for service in ("sagemaker", "quicksight", "bedrock", "lex", "medialive"):
        assert options.clone_for_module(f"pulumi_aws.{service}.x").follow_imports == "skip", service
