"""A small IAM policy evaluator for identity-based policies and permissions boundaries, one account.

It follows the IAM User Guide's "Policy evaluation logic" for a request from a role in its own account
with no SCP, session or resource-based policy in play:

1. an explicit Deny in any identity policy or in the boundary → denied;
2. otherwise allowed only if some identity policy Allows it, and, when the role has a permissions
   boundary, the boundary Allows it too ("Permissions boundaries for IAM entities": the effective
   permissions are the intersection);
3. otherwise implicitly denied.

A statement applies when its Action (or NotAction) matches the action, its Resource (or NotResource)
matches the resource and every condition holds ("IAM JSON policy elements: Condition"): operators
are ANDed, keys within an operator ANDed, values for one key ORed. Supported operators: String*,
Arn*, Bool, Null, Numeric*, each with `IfExists`, and the `ForAllValues:`/`ForAnyValue:` set
qualifiers. Context keys are case-insensitive, values case-sensitive (except `StringEqualsIgnoreCase`).
A key absent from the request makes a condition false, except for the negated operators (true),
`...IfExists` (true), `Null` and `ForAllValues` (true on an empty or absent set).

Not modelled: policy variables (`${aws:username}`), `NotPrincipal`, resource-based policies.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

ContextValue = str | bool | int | Sequence[str]


@dataclass(frozen=True)
class Request:
    action: str
    resource: str
    context: Mapping[str, ContextValue] = field(default_factory=dict)


@cache
def _glob(pattern: str, *, ignore_case: bool) -> re.Pattern[str]:
    # `*` any run of characters, `?` exactly one; everything else literal (IAM has no [] classes).
    body = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(f"^{body}$", re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def glob_match(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    return _glob(pattern, ignore_case=ignore_case).match(value) is not None


def arn_match(pattern: str, arn: str) -> bool:
    """ARN matching as IAM does it: segment by segment (partition, service, region, account, resource)."""
    if pattern == "*":
        return True
    want, got = pattern.split(":", 5), arn.split(":", 5)
    if len(want) != 6 or len(got) != 6:
        return glob_match(pattern, arn)
    return all(glob_match(w, g) for w, g in zip(want, got, strict=True))


def _values(value: object) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def _as_str(value: object) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def _compare(base: str, want: str, got: object) -> bool:
    """One condition value against one context value, for the operator `base` (no set/IfExists parts)."""
    text = _as_str(got)
    if base in ("StringEquals", "StringNotEquals"):
        return want == text
    if base in ("StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase"):
        return want.lower() == text.lower()
    if base in ("StringLike", "StringNotLike"):
        return glob_match(want, text)
    if base in ("ArnEquals", "ArnLike", "ArnNotEquals", "ArnNotLike"):
        return arn_match(want, text)
    if base == "Bool":
        return want.lower() == text.lower()
    if base.startswith("Numeric"):
        a, b = float(text), float(want)
        return {
            "NumericEquals": a == b,
            "NumericNotEquals": a == b,
            "NumericLessThan": a < b,
            "NumericLessThanEquals": a <= b,
            "NumericGreaterThan": a > b,
            "NumericGreaterThanEquals": a >= b,
        }[base]
    raise ValueError(f"condition operator {base} is not supported by this evaluator")


NEGATED = {"StringNotEquals", "StringNotEqualsIgnoreCase", "StringNotLike", "ArnNotEquals", "ArnNotLike"}


def condition_holds(operator: str, key: str, wanted: object, context: Mapping[str, ContextValue]) -> bool:
    qualifier, _, base = operator.rpartition(":")
    if_exists = base.endswith("IfExists")
    base = base.removesuffix("IfExists")
    lowered = {k.lower(): v for k, v in context.items()}
    present = key.lower() in lowered
    got = _values(lowered.get(key.lower()))
    want = [_as_str(w) for w in _values(wanted)]
    negated = base in NEGATED or base == "NumericNotEquals"

    if base == "Null":
        is_null = not present or got == []
        return any((w.lower() == "true") == is_null for w in want)
    if qualifier == "ForAllValues":
        if not got:
            return True
        if negated:  # every value matches none of the listed values
            return all(not any(_compare(base, w, g) for w in want) for g in got)
        return all(any(_compare(base, w, g) for w in want) for g in got)
    if qualifier == "ForAnyValue":
        if not got:
            return False
        if negated:
            return any(not any(_compare(base, w, g) for w in want) for g in got)
        return any(any(_compare(base, w, g) for w in want) for g in got)
    if qualifier:
        raise ValueError(f"set qualifier {qualifier} is not supported")
    if not present:
        return if_exists or negated
    if len(got) != 1:
        raise ValueError(f"{key} is multivalued: use ForAllValues/ForAnyValue with {operator}")
    matched = any(_compare(base, w, got[0]) for w in want)
    return not matched if negated else matched


def _element_matches(statement: Mapping[str, Any], name: str, value: str, *, action: bool) -> bool | None:
    """True/False if the statement has element `name` (or Not`name`) and it matches; None if absent."""

    def hit(patterns: object) -> bool:
        if action:
            return any(glob_match(p, value, ignore_case=True) for p in _values(patterns))
        return any(arn_match(p, value) for p in _values(patterns))

    if name in statement:
        return hit(statement[name])
    if f"Not{name}" in statement:
        return not hit(statement[f"Not{name}"])
    return None


def statement_applies(statement: Mapping[str, Any], request: Request) -> bool:
    if not _element_matches(statement, "Action", request.action, action=True):
        return False
    if _element_matches(statement, "Resource", request.resource, action=False) is False:
        return False
    conditions: Mapping[str, Mapping[str, object]] = statement.get("Condition", {})
    return all(
        condition_holds(operator, key, wanted, request.context)
        for operator, pairs in conditions.items()
        for key, wanted in pairs.items()
    )


def _effects(documents: Sequence[Mapping[str, Any]], request: Request) -> set[str]:
    return {
        str(statement["Effect"])
        for document in documents
        for statement in _values(document.get("Statement"))
        if statement_applies(statement, request)
    }


ALLOWED, EXPLICIT_DENY, IMPLICIT_DENY = "allowed", "explicit deny", "implicit deny"


def evaluate(
    identity: Sequence[Mapping[str, Any]], request: Request, boundary: Mapping[str, Any] | None = None
) -> str:
    effects = _effects(identity, request)
    boundary_effects = _effects([boundary], request) if boundary is not None else {"Allow"}
    if "Deny" in effects or "Deny" in boundary_effects:
        return EXPLICIT_DENY
    if "Allow" in effects and "Allow" in boundary_effects:
        return ALLOWED
    return IMPLICIT_DENY
