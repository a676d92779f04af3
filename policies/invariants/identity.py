"""Identity invariants: IAM policies grant no wildcard action on a wildcard resource and attach no broad
managed policy."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from policies.invariants.core import (
    IAM_POLICY_TYPES,
    IAM_ROLE,
    IAM_ROLE_POLICY_ATTACHMENT,
    Inventory,
    ResourceRecord,
    Violation,
    as_list,
    invariant,
    is_unknown,
    parse_json,
    report,
)

# --- IAM -------------------------------------------------------------------------------------------------
# Actions AWS only authorises against Resource "*" (no resource-level permissions).
WILDCARD_RESOURCE_ACTIONS = frozenset(
    {
        "ecr:getauthorizationtoken",
        "ecs:describetaskdefinition",
        "ecs:listtaskdefinitions",
        "ecs:registertaskdefinition",
        "ecs:deregistertaskdefinition",
        "cloudwatch:putmetricdata",
        "cloudwatch:getmetricdata",
        "cloudwatch:listmetrics",
        "logs:describeloggroups",
        "xray:puttracesegments",
        "xray:puttelemetryrecords",
        "ec2:createnetworkinterface",
        "ec2:describenetworkinterfaces",
        # EC2 User Guide, "Example policies to control access to the Amazon EC2 API": the ec2:Describe*
        # actions "do not support resource-level permissions" (Resource must be "*"). Lambda's VPC
        # access needs this one (AWSLambdaVPCAccessExecutionRole).
        "ec2:describesubnets",
        "ec2:deletenetworkinterface",
        "ec2:assignprivateipaddresses",
        "ec2:unassignprivateipaddresses",
        "ssmmessages:createcontrolchannel",
        "ssmmessages:createdatachannel",
        "ssmmessages:openmessagechannel",
        "ssmmessages:opendatachannel",
        "sns:listtopics",
        "secretsmanager:getrandompassword",
        "secretsmanager:listsecrets",
        "sts:getcalleridentity",
    }
)
BROAD_MANAGED_POLICY = re.compile(
    r"arn:aws:iam::aws:policy/(AdministratorAccess|PowerUserAccess|\w*FullAccess)$"
)


def policy_statements(document: object) -> list[Mapping[str, Any]]:
    parsed = parse_json(document)
    if not isinstance(parsed, Mapping):
        return []
    statements = parsed.get("Statement")
    return [s for s in as_list(statements) if isinstance(s, Mapping)]


def _policy_documents(inv: Inventory) -> Iterator[tuple[ResourceRecord, str, object]]:
    for record in inv.records:
        prop = IAM_POLICY_TYPES.get(record.type)
        if prop is not None:
            yield record, "policy", record.props.get(prop)
        elif record.type == IAM_ROLE:
            for inline in as_list(record.props.get("inlinePolicies")):
                if isinstance(inline, Mapping):
                    yield record, f"inline policy {inline.get('name')!r}", inline.get("policy")


def statement_problems(statement: Mapping[str, Any]) -> list[str]:
    """Why an Allow statement is too broad (empty when it is fine)."""
    if statement.get("Effect") != "Allow":
        return []
    problems: list[str] = []
    actions = [str(a) for a in as_list(statement.get("Action"))]
    if statement.get("NotAction") is not None:
        problems.append("uses NotAction in an Allow statement")
    wild_actions = [a for a in actions if "*" in a]
    if wild_actions:
        problems.append(f"allows wildcard actions {', '.join(wild_actions)}")
    resources = [r for r in as_list(statement.get("Resource")) if isinstance(r, str)]
    if "*" in resources:
        unscoped = [a for a in actions if a.lower() not in WILDCARD_RESOURCE_ACTIONS]
        if unscoped:
            problems.append(
                f'grants {", ".join(unscoped)} on Resource "*" although AWS supports scoping them to ARNs'
            )
    if statement.get("NotResource") is not None:
        problems.append("uses NotResource in an Allow statement")
    return problems


@invariant(
    "iam-least-privilege",
    'IAM statements name their actions (no `*`) and use Resource "*" only for actions AWS cannot scope.',
    [IAM_ROLE, *IAM_POLICY_TYPES, IAM_ROLE_POLICY_ATTACHMENT],
)
def _iam(inv: Inventory) -> Iterator[Violation]:
    for record, where, document in _policy_documents(inv):
        if is_unknown(document):
            continue
        for index, statement in enumerate(policy_statements(document)):
            sid = statement.get("Sid") or f"#{index}"
            for problem in statement_problems(statement):
                yield report("iam-least-privilege", record, f"{where} statement {sid} {problem}")
    for attachment in inv.of_type(IAM_ROLE_POLICY_ATTACHMENT):
        arn = attachment.props.get("policyArn")
        if isinstance(arn, str) and BROAD_MANAGED_POLICY.match(arn):
            yield report("iam-least-privilege", attachment, f"attaches the broad managed policy {arn}")
