"""IAM policy documents as plain data, so tests can read every statement without AWS."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

Statement = dict[str, Any]


def statement(
    actions: Sequence[str],
    resources: Sequence[str],
    *,
    sid: str | None = None,
    condition: Mapping[str, Any] | None = None,
) -> Statement:
    result: Statement = {"Effect": "Allow", "Action": list(actions), "Resource": list(resources)}
    if sid:
        result = {"Sid": sid, **result}
    if condition:
        result["Condition"] = dict(condition)
    return result


def document(statements: Sequence[Statement]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def to_json(doc: Mapping[str, Any]) -> str:
    return json.dumps(doc, sort_keys=False)


def assume_role_policy(service: str, condition: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Trust policy letting one AWS service principal assume the role (optionally scoped by condition)."""
    trust: Statement = {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}
    if condition:
        trust["Condition"] = dict(condition)
    return document([trust])
