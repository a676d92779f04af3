"""`python -m stacks.plan --stack prod [--diff dev] [--json] [--mermaid] [--write-docs]`.

Exit status: 0 when the program ran and no mandatory guardrail is violated; 1 when the program failed
or a mandatory guardrail (production stacks) is violated; 2 for bad command-line usage. Advisory
violations (other stacks) are printed as warnings and do not change the status.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

import yaml

from stacks.plan.model import Plan, plan_stack
from stacks.plan.render import as_json, diff, mermaid, replace_diagram_block, text
from stacks.plan.runtimes import compare as compare_runtimes
from stacks.plan.runtimes import render as runtimes_text

ARCHITECTURE_DOC = Path(__file__).resolve().parent.parent.parent / "docs" / "architecture.md"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m stacks.plan",
        description="Plan a stack offline (Pulumi mocks): resources by component, monthly cost, guardrails.",
    )
    parser.add_argument(
        "--stack", required=True, help="stack to plan, e.g. dev or prod (Pulumi.<stack>.yaml)"
    )
    parser.add_argument(
        "--diff", metavar="OTHER", help="also plan OTHER and print the differences OTHER → STACK"
    )
    parser.add_argument(
        "--set",
        metavar="KEY=VALUE",
        action="append",
        default=[],
        type=config_override,
        help="override one config value for this plan, e.g. booking:service.desiredCount=4 (YAML value)",
    )
    parser.add_argument(
        "--config-from",
        metavar="STACK",
        help="read Pulumi.<STACK>.yaml instead of the stack's own file (plan a stack before creating it)",
    )
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument(
        "--no-runtimes",
        action="store_true",
        help="skip the Fargate/Lambda comparison (idle and busy month; runs the program once more)",
    )
    parser.add_argument("--mermaid", action="store_true", help="print the component diagram (Mermaid)")
    parser.add_argument(
        "--write-docs",
        action="store_true",
        help="with --mermaid: replace the diagram embedded in docs/architecture.md",
    )
    return parser.parse_args(argv)


def config_override(text: str) -> tuple[str, object]:
    key, sep, raw = text.partition("=")
    if not sep or ":" not in key:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not KEY=VALUE with a namespaced key like booking:service.cpu"
        )
    return key, yaml.safe_load(raw)


def _status(*plans: Plan) -> int:
    return 1 if any(p.failed for p in plans) else 0


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    plan = plan_stack(args.stack, dict(args.set), config_stack=args.config_from)
    other = plan_stack(args.diff) if args.diff else None
    if args.mermaid:
        if plan.error is not None:
            print(plan.error, file=sys.stderr)
            return 1
        diagram = mermaid(plan)
        if args.write_docs:
            ARCHITECTURE_DOC.write_text(replace_diagram_block(ARCHITECTURE_DOC.read_text(), diagram))
        print(diagram, end="")
        return 0
    if args.json:
        document = as_json(plan)
        if other is not None:
            document = {"stack": as_json(plan), "other": as_json(other), "diff": diff(other, plan)[1:]}
        print(json.dumps(document, indent=2, default=str))
    else:
        print(text(plan), end="")
        if not args.no_runtimes and plan.error is None:
            rows = compare_runtimes(args.stack, dict(args.set), config_stack=args.config_from, known=plan.run)
            print()
            print("\n".join(runtimes_text(args.stack, rows)))
        if other is not None:
            if other.error is not None:
                print(f"\n{other.stack}: the program FAILED:\n{other.error}")
            else:
                print()
                print("\n".join(diff(other, plan)))
    return _status(plan, *([other] if other is not None else []))


if __name__ == "__main__":
    sys.exit(main())
