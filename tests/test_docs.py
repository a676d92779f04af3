"""The README stays a front page, and every relative link in it and in docs/ leads somewhere real."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\]\(([^)\s]+)\)")


def github_anchor(heading: str) -> str:
    """The fragment GitHub gives a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(document: Path) -> set[str]:
    text = re.sub(r"```.*?```", "", document.read_text(), flags=re.S)
    return {github_anchor(h) for h in re.findall(r"^#+ (.+)$", text, flags=re.M)}


def test_github_anchor() -> None:
    assert github_anchor("Runbook: what to do when it fires") == "runbook-what-to-do-when-it-fires"
    assert github_anchor("`booking:alarms`") == "bookingalarms"
    assert github_anchor("Migrations: expand → migrate") == "migrations-expand--migrate"


def test_readme_is_a_front_page() -> None:
    text = (ROOT / "README.md").read_text()
    assert len(text.splitlines()) <= 250
    assert "../" not in text, "the README must not send readers outside the repository"
    for doc in ("architecture", "api", "config", "operations", "plan"):
        assert f"(docs/{doc}.md" in text, doc


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_resolve(document: Path) -> None:
    broken = []
    for target in LINK.findall(document.read_text()):
        if re.match(r"^[a-z]+:", target):
            continue
        path, _, fragment = target.partition("#")
        linked = (document.parent / path).resolve() if path else document
        missing = not linked.is_relative_to(ROOT) or not linked.exists()
        if missing or (fragment and linked.suffix == ".md" and fragment not in anchors(linked)):
            broken.append(target)
    assert broken == []


def settings_keys() -> set[str]:
    """Every `<section>.<key>` the settings parsers accept (their `Section(name, raw, [keys])` calls)."""
    keys: set[str] = set()
    for path in (ROOT / "stacks" / "settings").glob("*.py"):
        calls = re.findall(r'Section\(\s*"([\w.]+)"\s*,\s*\w+\s*,\s*\[([^\]]*)\]', path.read_text())
        for name, allowed in calls:
            keys |= {f"{name}.{key}" for key in re.findall(r'"(\w+)"', allowed)}
    return keys


def test_config_reference_names_every_key() -> None:
    keys = settings_keys()
    assert "service.cpu" in keys and len(keys) > 30  # the scan itself still finds the sections
    reference = (ROOT / "docs" / "config.md").read_text()
    assert sorted(k for k in keys if k.rsplit(".", 1)[1] not in reference) == []


def test_config_reference_names_every_output() -> None:
    """Each `pulumi.export` of the stack program, whatever the runtime, has a row under Outputs."""
    exported = set(re.findall(r'pulumi\.export\("(\w+)"', (ROOT / "stacks" / "__main__.py").read_text()))
    assert {"url", "functionName", "clusterName"} <= exported  # the scan still finds both runtimes'
    outputs = (ROOT / "docs" / "config.md").read_text().split("## Outputs", 1)[1].split("\n## ", 1)[0]
    assert sorted(name for name in exported if f"`{name}`" not in outputs) == []
