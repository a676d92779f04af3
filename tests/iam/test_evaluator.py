"""The evaluator against AWS's documented evaluation rules (IAM User Guide pages named in each test)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.iam.evaluator import (
    ALLOWED,
    EXPLICIT_DENY,
    IMPLICIT_DENY,
    Request,
    arn_match,
    condition_holds,
    evaluate,
)


def doc(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


ALLOW_S3_READ = {"Effect": "Allow", "Action": "s3:Get*", "Resource": "arn:aws:s3:::bucket/*"}


def test_nothing_allowed_is_an_implicit_deny() -> None:
    assert evaluate([], Request("s3:GetObject", "arn:aws:s3:::bucket/key")) == IMPLICIT_DENY


def test_an_allow_allows_and_actions_match_case_insensitively() -> None:
    assert evaluate([doc(ALLOW_S3_READ)], Request("S3:getobject", "arn:aws:s3:::bucket/key")) == ALLOWED


def test_resources_match_case_sensitively() -> None:
    assert evaluate([doc(ALLOW_S3_READ)], Request("s3:GetObject", "arn:aws:s3:::Bucket/key")) == IMPLICIT_DENY


def test_an_explicit_deny_wins_over_any_allow() -> None:
    deny = {"Effect": "Deny", "Action": "s3:GetObject", "Resource": "*"}
    assert evaluate([doc(ALLOW_S3_READ), doc(deny)], Request("s3:GetObject", "arn:aws:s3:::bucket/k")) == (
        EXPLICIT_DENY
    )


def test_a_boundary_limits_but_never_grants() -> None:
    # "Permissions boundaries for IAM entities": effective permissions are the intersection.
    boundary = doc({"Effect": "Allow", "Action": ["s3:GetObject", "sqs:SendMessage"], "Resource": "*"})
    admin = doc({"Effect": "Allow", "Action": "*", "Resource": "*"})
    assert evaluate([admin], Request("iam:CreateUser", "arn:aws:iam::1:user/x"), boundary) == IMPLICIT_DENY
    assert evaluate([admin], Request("s3:GetObject", "arn:aws:s3:::b/k"), boundary) == ALLOWED
    assert evaluate([], Request("sqs:SendMessage", "arn:aws:sqs:r:1:q"), boundary) == IMPLICIT_DENY


def test_not_action_and_not_resource() -> None:
    allow_all_but_iam = {"Effect": "Allow", "NotAction": "iam:*", "NotResource": "arn:aws:s3:::secret/*"}
    assert evaluate([doc(allow_all_but_iam)], Request("s3:GetObject", "arn:aws:s3:::b/k")) == ALLOWED
    assert evaluate([doc(allow_all_but_iam)], Request("iam:GetRole", "*")) == IMPLICIT_DENY
    assert (
        evaluate([doc(allow_all_but_iam)], Request("s3:GetObject", "arn:aws:s3:::secret/k")) == IMPLICIT_DENY
    )


def test_arns_match_segment_by_segment() -> None:
    assert arn_match(
        "arn:aws:ecs:us-east-1:1:service/booking-prod/*", "arn:aws:ecs:us-east-1:1:service/booking-prod/api"
    )
    # A wildcard in the resource part does not let another region or account through.
    assert not arn_match("arn:aws:ecs:us-east-1:1:*", "arn:aws:ecs:us-west-2:1:cluster/x")
    assert not arn_match(
        "arn:aws:ecs:*:1:cluster/booking-prod", "arn:aws:ecs:us-east-1:2:cluster/booking-prod"
    )


@pytest.mark.parametrize(
    ("operator", "wanted", "context", "holds"),
    [
        # Multiple values for one key are ORed.
        ("StringEquals", ["a", "b"], {"k": "b"}, True),
        ("StringEquals", "a", {"k": "A"}, False),
        ("StringEqualsIgnoreCase", "a", {"k": "A"}, True),
        ("StringLike", "booking-*", {"k": "booking-prod"}, True),
        # A missing key: positive operators fail, negated ones and IfExists hold.
        ("StringEquals", "a", {}, False),
        ("StringNotEquals", "a", {}, True),
        ("StringEqualsIfExists", "a", {}, True),
        ("StringEqualsIfExists", "a", {"k": "b"}, False),
        ("Null", "true", {}, True),
        ("Null", "false", {}, False),
        ("Null", "false", {"k": "x"}, True),
        ("Bool", "false", {"k": False}, True),
        ("NumericLessThan", "10", {"k": "3"}, True),
        # "Single-valued vs. multivalued context keys": ForAllValues holds on an empty set.
        ("ForAllValues:StringEquals", ["a", "b"], {"k": ["a", "b"]}, True),
        ("ForAllValues:StringEquals", ["a"], {"k": ["a", "c"]}, False),
        ("ForAllValues:StringEquals", ["a"], {}, True),
        ("ForAllValues:StringNotEquals", ["Environment"], {"k": ["Project"]}, True),
        ("ForAllValues:StringNotEquals", ["Environment"], {"k": ["Project", "Environment"]}, False),
        ("ForAnyValue:StringEquals", ["a"], {"k": ["c", "a"]}, True),
        ("ForAnyValue:StringEquals", ["a"], {}, False),
        (
            "ArnLike",
            "arn:aws:iam::aws:policy/service-role/*",
            {"k": "arn:aws:iam::aws:policy/AdministratorAccess"},
            False,
        ),
    ],
)
def test_condition_operators(operator: str, wanted: object, context: dict[str, Any], holds: bool) -> None:
    assert condition_holds(operator, "k", wanted, context) is holds


def test_condition_keys_are_case_insensitive() -> None:
    assert condition_holds(
        "StringEquals", "aws:RequestedRegion", "us-east-1", {"AWS:requestedregion": "us-east-1"}
    )


def test_a_failing_condition_on_an_allow_leaves_the_request_implicitly_denied() -> None:
    conditional = {
        "Effect": "Allow",
        "Action": "ec2:CreateVpc",
        "Resource": "*",
        "Condition": {
            "StringEquals": {"aws:RequestTag/Environment": "prod", "aws:RequestedRegion": "us-east-1"}
        },
    }
    tagged = {"aws:RequestTag/Environment": "prod", "aws:RequestedRegion": "us-east-1"}
    assert (
        evaluate([doc(conditional)], Request("ec2:CreateVpc", "arn:aws:ec2:us-east-1:1:vpc/*", tagged))
        == ALLOWED
    )
    # Keys within one operator are ANDed: the right tag in the wrong region is refused.
    elsewhere = {**tagged, "aws:RequestedRegion": "eu-west-1"}
    assert evaluate([doc(conditional)], Request("ec2:CreateVpc", "*", elsewhere)) == IMPLICIT_DENY


def test_a_multivalued_key_without_a_set_qualifier_is_a_test_error() -> None:
    with pytest.raises(ValueError, match="multivalued"):
        condition_holds("StringEquals", "aws:TagKeys", "a", {"aws:TagKeys": ["a", "b"]})
