"""The rolling-deployment rule for Alembic migrations: expand → migrate → contract.

During an ECS rolling deployment the new tasks run `alembic upgrade head` while tasks of the previous
release still serve traffic against the same database, and a circuit-breaker rollback puts the previous
release back on the migrated schema. So every migration must keep the previous release working:

- expand (always allowed): new tables, new nullable columns, new columns with a server default, new
  indexes, data back-fills;
- contract (only as an explicitly marked step): anything the previous release would trip over —
  dropping or renaming a table or column, changing a column's type, making a column NOT NULL without
  a server default, adding a NOT NULL column without one, or raw SQL doing any of that.

A contract migration declares `contract_of = "<revision>"`: the expand revision whose release stopped
using what is being removed. That revision must be an ancestor in the chain; the contract ships in a
later release than it (after the expand release has run in prod). Only `upgrade()` is checked:
`downgrade()` is run by hand, never during a rollout.

    python -m tests.migration_rules app/migrations/versions      # what scripts/test checks too
"""

from __future__ import annotations

import ast
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

# Where expand → migrate → contract is explained.
MIGRATIONS_DOC = "see docs/operations.md"
CONTRACT_HINT = f"make it a contract step ({MIGRATIONS_DOC})"

# Operations the previous release cannot survive, and why.
DESTRUCTIVE = {
    "drop_table": "drops a table the previous release still queries",
    "drop_column": "drops a column the previous release still reads or writes",
    "rename_table": "renames a table the previous release still uses under its old name",
}
RAW_SQL_DESTRUCTIVE = re.compile(
    r"\b(DROP\s+(TABLE|COLUMN)|RENAME\s+(TO|COLUMN)|ALTER\s+COLUMN\s+\S+\s+(SET\s+NOT\s+NULL|TYPE)"
    r"|ALTER\s+TABLE\s+\S+\s+ALTER\s+\S+\s+TYPE)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Violation:
    path: str
    line: int
    operation: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.operation}: {self.reason}"


@dataclass(frozen=True)
class Migration:
    path: Path
    revision: str | None
    down_revisions: tuple[str, ...]
    contract_of: str | None
    tree: ast.Module


def _constant(node: ast.AST | None) -> object:
    return node.value if isinstance(node, ast.Constant) else None


def _module_value(tree: ast.Module, name: str) -> ast.expr | None:
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == name for t in node.targets
        ):
            return node.value
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.target.id == name:
            return node.value
    return None


def parse_migration(path: Path) -> Migration:
    tree = ast.parse(path.read_text(), filename=str(path))
    down = _module_value(tree, "down_revision")
    if isinstance(down, ast.Tuple | ast.List):
        downs = tuple(str(_constant(e)) for e in down.elts if _constant(e) is not None)
    else:
        value = _constant(down)
        downs = (str(value),) if value is not None else ()
    revision = _constant(_module_value(tree, "revision"))
    contract_of = _constant(_module_value(tree, "contract_of"))
    return Migration(
        path=path,
        revision=str(revision) if revision is not None else None,
        down_revisions=downs,
        contract_of=str(contract_of) if contract_of is not None else None,
        tree=tree,
    )


def _keyword(call: ast.Call, name: str) -> ast.expr | None:
    return next((k.value for k in call.keywords if k.arg == name), None)


def _is_false(node: ast.expr | None) -> bool:
    return isinstance(node, ast.Constant) and node.value is False


def _column_is_required_without_default(column: ast.expr) -> bool:
    """`sa.Column(..., nullable=False)` with no `server_default` (primary keys are new-table only)."""
    if not isinstance(column, ast.Call):
        return False
    return _is_false(_keyword(column, "nullable")) and _keyword(column, "server_default") is None


def _operation_receivers(function: ast.FunctionDef) -> set[str]:
    """`op`, plus every `with op.batch_alter_table(...) as batch_op` alias inside the function."""
    names = {"op"}
    for node in ast.walk(function):
        if isinstance(node, ast.With):
            for item in node.items:
                call = item.context_expr
                if (
                    isinstance(call, ast.Call)
                    and isinstance(call.func, ast.Attribute)
                    and call.func.attr == "batch_alter_table"
                    and isinstance(item.optional_vars, ast.Name)
                ):
                    names.add(item.optional_vars.id)
    return names


def breaking_operations(function: ast.FunctionDef, path: str) -> list[Violation]:
    receivers = _operation_receivers(function)
    found: list[Violation] = []
    for node in ast.walk(function):
        if not (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id in receivers
        ):
            continue
        name = node.func.attr

        def flag(reason: str, name: str = name, node: ast.Call = node) -> None:
            found.append(Violation(path, node.lineno, name, reason))

        if name in DESTRUCTIVE:
            flag(DESTRUCTIVE[name])
        elif name == "alter_column":
            if _keyword(node, "new_column_name") is not None:
                flag("renames a column the previous release still uses under its old name")
            if _keyword(node, "type_") is not None:
                flag("changes a column's type under the previous release")
            if _is_false(_keyword(node, "nullable")) and _keyword(node, "server_default") is None:
                flag("makes a column NOT NULL without a server default: the previous release's inserts fail")
        elif name == "add_column":
            columns = [a for a in node.args if isinstance(a, ast.Call)]
            if any(_column_is_required_without_default(c) for c in columns):
                flag("adds a NOT NULL column without a server default: the previous release's inserts fail")
        elif name == "execute":
            sql = node.args[0] if node.args else None
            text = _constant(sql)
            if isinstance(sql, ast.Call) and sql.args:  # sa.text("...")
                text = _constant(sql.args[0])
            if isinstance(text, str) and RAW_SQL_DESTRUCTIVE.search(text):
                flag(f"raw SQL that breaks the previous release: {text.strip()[:80]!r}")
    return found


def _upgrade(tree: ast.Module) -> ast.FunctionDef | None:
    return next((n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "upgrade"), None)


def _ancestors(revision: str, by_revision: dict[str, Migration]) -> set[str]:
    seen: set[str] = set()
    pending = list(by_revision[revision].down_revisions) if revision in by_revision else []
    while pending:
        current = pending.pop()
        if current in seen:
            continue
        seen.add(current)
        if current in by_revision:
            pending.extend(by_revision[current].down_revisions)
    return seen


def check_migrations(paths: Iterable[Path]) -> list[Violation]:
    migrations = [parse_migration(p) for p in sorted(paths)]
    by_revision = {m.revision: m for m in migrations if m.revision}
    violations: list[Violation] = []
    for migration in migrations:
        path = str(migration.path)
        upgrade = _upgrade(migration.tree)
        breaking = breaking_operations(upgrade, path) if upgrade else []
        if migration.contract_of is None:
            violations.extend(
                Violation(v.path, v.line, v.operation, f"{v.reason}; {CONTRACT_HINT}")
                for v in breaking
            )
            continue
        # A contract step: it must name the expand revision it completes, released before it.
        if migration.revision is None or migration.contract_of not in _ancestors(
            migration.revision, by_revision
        ):
            violations.append(
                Violation(
                    path,
                    1,
                    "contract_of",
                    f"{migration.contract_of!r} is not an earlier revision of this chain: a contract step "
                    "must follow the expand revision it completes, in a later release",
                )
            )
        elif not breaking:
            violations.append(
                Violation(
                    path, 1, "contract_of", "marked as a contract step but removes nothing: drop the marker"
                )
            )
    return violations


def check_directory(versions: Path) -> list[Violation]:
    return check_migrations(p for p in versions.glob("*.py") if not p.name.startswith("_"))


def main(argv: list[str]) -> int:
    directory = Path(argv[1]) if len(argv) > 1 else Path("app/migrations/versions")
    violations = check_directory(directory)
    for violation in violations:
        print(violation)
    return 1 if violations else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
