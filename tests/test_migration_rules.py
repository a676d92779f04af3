"""Migrations keep the previous release working (expand → migrate → contract): tests/migration_rules.py."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.migration_rules import check_directory, main

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "migrations"
APP_VERSIONS = ROOT / "app" / "migrations" / "versions"


def versions(tmp_path: Path, *names: str) -> Path:
    """A versions folder holding the good base migration plus the named fixture files."""
    folder = tmp_path / "versions"
    folder.mkdir()
    for name in ("good_0001_base", *names):
        shutil.copy(FIXTURES / f"{name}.py", folder / f"{name}.py")
    return folder


def test_the_apps_migrations_follow_the_rule() -> None:
    files = list(APP_VERSIONS.glob("*.py"))
    assert files, "app/migrations/versions holds the app's migrations"
    assert [str(v) for v in check_directory(APP_VERSIONS)] == []


def test_expand_then_marked_contract_is_allowed(tmp_path: Path) -> None:
    folder = versions(tmp_path, "good_0002_expand", "good_0003_contract")
    assert [str(v) for v in check_directory(folder)] == []


@pytest.mark.parametrize(
    ("fixture", "operation", "words"),
    [
        ("bad_drop_column", "drop_column", "drops a column"),
        ("bad_drop_table", "drop_table", "drops a table"),
        ("bad_rename_column", "alter_column", "renames a column"),
        ("bad_rename_table", "rename_table", "renames a table"),
        ("bad_not_null", "alter_column", "NOT NULL without a server default"),
        ("bad_type_change", "alter_column", "changes a column's type"),
        ("bad_add_required_column", "add_column", "NOT NULL column without a server default"),
        ("bad_raw_sql", "execute", "raw SQL"),
    ],
)
def test_each_breaking_change_is_caught_unless_marked_contract(
    tmp_path: Path, fixture: str, operation: str, words: str
) -> None:
    (violation,) = check_directory(versions(tmp_path, fixture))
    assert violation.operation == operation
    assert words in violation.reason and "contract step" in violation.reason
    assert violation.path.endswith(f"{fixture}.py") and violation.line > 1


def test_a_contract_must_name_an_earlier_expand_revision(tmp_path: Path) -> None:
    (violation,) = check_directory(versions(tmp_path, "bad_contract_without_expand"))
    assert violation.operation == "contract_of" and "'9999' is not an earlier revision" in violation.reason


def test_a_contract_cannot_point_at_itself_or_a_later_revision(tmp_path: Path) -> None:
    folder = versions(tmp_path, "good_0002_expand", "good_0003_contract")
    contract = folder / "good_0003_contract.py"
    contract.write_text(
        contract.read_text().replace('contract_of: str = "0002"', 'contract_of: str = "0003"')
    )
    (violation,) = check_directory(folder)
    assert violation.operation == "contract_of"


def test_a_contract_marker_on_a_pure_expand_is_refused(tmp_path: Path) -> None:
    (violation,) = check_directory(versions(tmp_path, "bad_contract_marker_on_expand"))
    assert "removes nothing" in violation.reason


def test_the_command_line_fails_on_a_bad_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["migration_rules", str(versions(tmp_path, "bad_drop_table"))]) == 1
    assert "drop_table" in capsys.readouterr().out
    assert main(["migration_rules", str(APP_VERSIONS)]) == 0
