"""Offline plan of a stack: resource tree, dev↔prod diff, monthly cost and guardrails, without AWS.

python -m stacks.plan --stack prod            # tree, costs, guardrails
python -m stacks.plan --stack prod --diff dev
python -m stacks.plan --stack dev --json
python -m stacks.plan --stack dev --mermaid
"""

from stacks.plan.model import Plan, build_plan, guardrails, plan_stack

__all__ = ["Plan", "build_plan", "guardrails", "plan_stack"]
