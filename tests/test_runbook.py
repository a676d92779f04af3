"""Every command in the delivery runbook (docs/operations.md) refers to something real.

Scripts exist and are executable; `--stack X` has a `Pulumi.X.yaml` (or one an earlier `cp` in the
runbook creates); `pulumi config set` keys (and literal values) pass the real settings parsers;
`pulumi stack output` names are exported by the program; `--replace` URNs are declared by the stack
when it runs offline; GitHub variables are the ones the workflows read; `python -m` commands exist.
"""

from __future__ import annotations

import copy
import importlib.util
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from stacks.bootstrap.settings import parse as parse_bootstrap
from stacks.settings import ConfigError
from stacks.settings.stack import parse_settings

ROOT = Path(__file__).resolve().parents[1]
RUNBOOK = ROOT / "docs" / "operations.md"
BOOTSTRAP = "stacks/bootstrap"
PROBE: dict[str, bool] = {"__probe__": True}  # a value no field accepts: tells known from unknown keys


DELIVERY_RUNBOOK = ROOT / "docs" / "delivery-runbook.md"


def runbook_text() -> str:
    text = RUNBOOK.read_text()
    start = text.index("<!-- section: delivery -->")
    end = text.find("<!-- section:", start + 1)
    # The first-run / stale-lock / promotion runbook is checked with the same rules.
    return text[start : end if end != -1 else len(text)] + "\n" + DELIVERY_RUNBOOK.read_text()


def bash_lines(text: str) -> list[str]:
    lines: list[str] = []
    for block in re.findall(r"```bash\n(.*?)```", text, flags=re.S):
        joined = block.replace("\\\n", " ")
        lines += [line.strip() for line in joined.splitlines() if line.strip() and not line.startswith("#")]
    return lines


def simple_commands(line: str) -> Iterator[list[str]]:
    """The simple commands of a shell line, `$(…)` substitutions included, as word lists."""
    substitutions = re.findall(r"\$\(([^()]*)\)", line)
    outer = re.sub(r"\$\(([^()]*)\)", "SUBSTITUTED", line)
    for inner in substitutions:
        yield from simple_commands(inner)
    for part in re.split(r"\s*(?:&&|\|\||;|\|)\s*", outer):
        words = _without_redirections(shlex.split(part.split(" #")[0]))
        # Variable assignments before the command are not the command.
        while words and re.match(r"^[A-Z_]+=", words[0]):
            words = words[1:]
        if words:
            yield words


def _without_redirections(words: list[str]) -> list[str]:
    kept: list[str] = []
    skip_next = False
    for word in words:
        if skip_next:
            skip_next = False
        elif re.fullmatch(r"\d?[<>]+", word):
            skip_next = True  # `> file`: the file is not an argument
        elif not re.match(r"^\d?[<>]", word):
            kept.append(word)
    return kept


@dataclass
class Pulumi:
    """One `pulumi …` command, its flags taken out."""

    args: list[str]
    stack: str | None = None
    cwd: str = "."
    path: bool = False
    replace: list[str] = field(default_factory=list)
    """URNs given to --replace or --target."""
    secrets_provider: str | None = None


_VALUE_FLAGS = {
    "--stack",
    "-s",
    "-C",
    "--cwd",
    "--replace",
    "--secrets-provider",
    "--page-size",
    "--body",
    "--env",
}


def parse_pulumi(words: list[str]) -> Pulumi:
    command = Pulumi(args=[])
    i = 1
    while i < len(words):
        word = words[i]
        if word in _VALUE_FLAGS:
            value = words[i + 1]
            if word in ("--stack", "-s"):
                command.stack = value
            elif word in ("-C", "--cwd"):
                command.cwd = value
            elif word in ("--replace", "--target"):
                command.replace.append(value)
            elif word == "--secrets-provider":
                command.secrets_provider = value
            i += 2
            continue
        if word == "--path":
            command.path = True
        elif not word.startswith("-"):
            command.args.append(word)
        i += 1
    if command.args[:2] == ["stack", "init"] and len(command.args) > 2:
        command.stack = command.args[2]
    return command


@cache
def exports(program_dir: str) -> frozenset[str]:
    main = ROOT / (program_dir if program_dir != "." else "stacks") / "__main__.py"
    return frozenset(re.findall(r"pulumi\.export\(\s*\"([^\"]+)\"", main.read_text()))


def stack_config(project_dir: str, stack: str) -> dict[str, Any]:
    path = ROOT / project_dir / f"Pulumi.{stack}.yaml"
    if not path.exists() and project_dir == BOOTSTRAP:
        path = ROOT / BOOTSTRAP / "Pulumi.example.yaml"  # what the runbook's `cp` starts from
    return dict(yaml.safe_load(path.read_text())["config"])


def pulumi_value(text: str) -> object:
    """How `pulumi config set --path` stores a value: true/false and integers are typed."""
    if text in ("true", "false"):
        return text == "true"
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    return text


def with_path_value(config: Mapping[str, Any], key: str, value: object) -> dict[str, Any]:
    if ":" not in key.split(".")[0]:
        key = f"booking:{key}"
    top, *path = key.split(".")
    updated = copy.deepcopy(dict(config))
    if not path:
        updated[top] = value
        return updated
    node = updated.setdefault(top, {})
    for part in path[:-1]:
        node = node.setdefault(part, {})
    node[path[-1]] = value
    return updated


def validate(project_dir: str, stack: str, config: Mapping[str, Any]) -> None:
    if project_dir == BOOTSTRAP:
        raw = {k.split(":", 1)[1]: v for k, v in config.items() if k.startswith("booking:")}
        parse_bootstrap(raw, config.get("aws:region"))
    else:
        parse_settings("booking", stack, config)


def check_config_key(project_dir: str, stack: str, key: str, value: str) -> None:
    config = stack_config(project_dir, stack)
    full_key = key if ":" in key.split(".")[0] else f"booking:{key}"
    # The key exists: a value no field accepts is refused for that key, not as an unknown key.
    with pytest.raises(ConfigError) as refused:
        validate(project_dir, stack, with_path_value(config, key, PROBE))
    assert refused.value.key == full_key and "unknown key" not in refused.value.allowed, str(refused.value)
    # A literal value must be accepted as shown; "$VAR" placeholders are the reader's to fill in.
    if "$" not in value and "SUBSTITUTED" not in value:
        validate(project_dir, stack, with_path_value(config, key, pulumi_value(value)))


@cache
def declared_urns(stack: str) -> frozenset[str]:
    from stacks.offline import run_stack

    run = run_stack(stack)
    assert run.error is None, run.error
    return frozenset(r.urn for r in run.resources)


def workflow_variables() -> set[str]:
    names: set[str] = set()
    for path in (ROOT / ".github" / "workflows").glob("*.yml"):
        text = path.read_text()
        names |= set(re.findall(r"vars\.([A-Z][A-Z0-9_]*)", text))
        names |= set(re.findall(r"role: (AWS_[A-Z_]+)", text))  # used as vars[matrix.role]
    return names


def deploy_environments() -> set[str]:
    deploy = yaml.safe_load((ROOT / ".github" / "workflows" / "deploy.yml").read_text())
    return {job["environment"] for job in deploy["jobs"].values() if "environment" in job}


# --- the checks -----------------------------------------------------------------------------------


def all_commands() -> list[list[str]]:
    return [words for line in bash_lines(runbook_text()) for words in simple_commands(line)]


def test_the_runbook_has_the_sections_the_issue_asks_for() -> None:
    text = runbook_text()
    for heading in (
        "State and secrets backend",
        "First deployment from nothing",
        "Everyday rollout",
        "Rollback",
        "Scaling",
        "Rotating the JWT signing key",
        "Restoring the database",
        "Destroying dev",
        "expand → migrate → contract",
    ):
        assert heading in text, heading
    assert len(all_commands()) > 40


def test_every_command_refers_to_something_real() -> None:
    created: set[Path] = set()
    login_bucket: str | None = None
    configured_bucket: str | None = None
    for words in all_commands():
        program = words[0]
        context = " ".join(words)
        if program.startswith("scripts/"):
            script = ROOT / program
            assert script.is_file() and script.stat().st_mode & 0o111, context
        elif program == "cp":
            assert (ROOT / words[1]).is_file(), context
            created.add(ROOT / words[2])
        elif program.endswith("python") and words[1:2] == ["-m"]:
            module = words[2]
            assert importlib.util.find_spec(module), context
            help_run = subprocess.run(
                [sys.executable, "-m", module, *words[3:4], "--help"],
                capture_output=True,
                text=True,
                cwd=ROOT,
                timeout=60,
            )
            if module == "stacks.delivery":
                assert help_run.returncode == 0, context + help_run.stderr
            else:
                assert (ROOT / words[3]).is_dir(), context
        elif program == "gh" and words[1:3] == ["workflow", "run"]:
            assert (ROOT / ".github" / "workflows" / words[3]).is_file(), context
            workflow = yaml.safe_load((ROOT / ".github" / "workflows" / words[3]).read_text())
            assert "workflow_dispatch" in workflow[True], f"{words[3]} cannot be run by hand: {context}"
        elif program == "gh" and words[1:3] == ["variable", "set"]:
            assert words[3] in workflow_variables(), f"no workflow reads vars.{words[3]}: {context}"
            if "--env" in words:
                assert words[words.index("--env") + 1] in deploy_environments(), context
        elif program == "pulumi":
            command = parse_pulumi(words)
            project = command.cwd
            if project != ".":
                assert project == BOOTSTRAP and (ROOT / project / "Pulumi.yaml").is_file(), context
            if command.args[:1] == ["login"]:
                match = re.match(r"s3://([^?]+)", command.args[1])
                if match:
                    login_bucket = match.group(1)
                continue
            assert command.stack, f"every stack command names its stack: {context}"
            stack_file = ROOT / project / f"Pulumi.{command.stack}.yaml"
            assert stack_file.is_file() or stack_file in created, context
            if command.args[:2] == ["stack", "output"] and len(command.args) > 2:
                assert command.args[2] in exports(project), f"{command.args[2]} is not exported: {context}"
            if command.args[:2] == ["config", "set"]:
                assert command.path, f"nested keys need --path: {context}"
                key, value = command.args[2], command.args[3]
                check_config_key(project, command.stack, key, value)
                if key == "booking:stateBucket.name":
                    configured_bucket = value
            for urn in command.replace:
                assert urn in declared_urns(command.stack), f"no such resource: {urn}"
            if command.secrets_provider and command.secrets_provider.startswith("awskms://"):
                alias = command.secrets_provider.split("://alias/")[1].split("?")[0]
                example = stack_config(BOOTSTRAP, "example")
                # One key per stack: the bootstrap alias plus the stack name (components/state_backend.py).
                assert f"{example['booking:secretsKey']['alias']}-{command.stack}" == alias, context
    # The backend the stacks log in to is the bucket the bootstrap was told to create.
    assert login_bucket is not None and login_bucket == configured_bucket


def test_outputs_the_delivery_scripts_and_workflows_read_are_exported() -> None:
    sources = [ROOT / "scripts" / "deploy-summary", *sorted((ROOT / ".github" / "workflows").glob("*.yml"))]
    used = {name for path in sources for name in re.findall(r"pulumi stack output (\w+)", path.read_text())}
    assert used >= {"ecrRepositoryUrl", "imageDigest", "notificationTopicArn"}
    missing = used - exports(".")
    assert not missing, f"read by the delivery path but not exported by stacks/__main__.py: {sorted(missing)}"


def test_the_runbook_sets_every_variable_the_workflows_read() -> None:
    documented = {words[3] for words in all_commands() if words[:3] == ["gh", "variable", "set"]}
    assert workflow_variables() <= documented


def test_the_checker_rejects_what_does_not_exist() -> None:
    # The same checks, fed wrong names, must fail: this test cannot pass vacuously.
    with pytest.raises(AssertionError):
        check_config_key(".", "prod", "service.desiredCoutn", "3")
    with pytest.raises(ConfigError):
        check_config_key(".", "prod", "service.cpu", "300")
    assert "noSuchOutput" not in exports(".")
    assert {"url", "imageDigest", "ecrRepositoryUrl", "clusterName", "serviceName"} <= exports(".")
    assert list(simple_commands('a "$(b c | d)" && e > f')) == [
        ["b", "c"],
        ["d"],
        ["a", "SUBSTITUTED"],
        ["e"],
    ]
