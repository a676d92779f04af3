"""The Embedded Metric Format as a JSON Schema, written from AWS's "Specification: Embedded metric format".

Structure and limits from the spec: `_aws` with an integer `Timestamp` (epoch ms) and `CloudWatchMetrics`
(MetricDirectives: `Namespace`, `Dimensions` = DimensionSets, `Metrics` = at most 100 MetricDefinitions
with `Name`, optional `Unit` from the CloudWatch units and optional `StorageResolution` 1 or 60); a
DimensionSet has at most 30 dimension keys (the current spec; older versions said 9) and MAY be empty.
What a schema cannot say — every referenced dimension is a string member of the root node and every
metric a number or an array of at most 100 numbers — `target_member_errors` checks.
"""

from __future__ import annotations

from typing import Any

import jsonschema

UNITS = (
    "Seconds",
    "Microseconds",
    "Milliseconds",
    "Bytes",
    "Kilobytes",
    "Megabytes",
    "Gigabytes",
    "Terabytes",
    "Bits",
    "Kilobits",
    "Megabits",
    "Gigabits",
    "Terabits",
    "Percent",
    "Count",
    "Bytes/Second",
    "Kilobytes/Second",
    "Megabytes/Second",
    "Gigabytes/Second",
    "Terabytes/Second",
    "Bits/Second",
    "Kilobits/Second",
    "Megabits/Second",
    "Gigabits/Second",
    "Terabits/Second",
    "Count/Second",
    "None",
)

_NAME = {"type": "string", "minLength": 1, "maxLength": 255}

EMF_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["_aws"],
    "properties": {
        "_aws": {
            "type": "object",
            "required": ["Timestamp", "CloudWatchMetrics"],
            "properties": {
                "Timestamp": {"type": "integer", "minimum": 0},
                "CloudWatchMetrics": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["Namespace", "Dimensions", "Metrics"],
                        "additionalProperties": False,
                        "properties": {
                            "Namespace": _NAME,
                            "Dimensions": {
                                "type": "array",
                                "minItems": 1,
                                "items": {"type": "array", "minItems": 0, "maxItems": 30, "items": _NAME},
                            },
                            "Metrics": {
                                "type": "array",
                                "maxItems": 100,
                                "items": {
                                    "type": "object",
                                    "required": ["Name"],
                                    "additionalProperties": False,
                                    "properties": {
                                        "Name": _NAME,
                                        "Unit": {"enum": list(UNITS)},
                                        "StorageResolution": {"enum": [1, 60]},
                                    },
                                },
                            },
                        },
                    },
                },
            },
        }
    },
}

jsonschema.Draft202012Validator.check_schema(EMF_SCHEMA)
VALIDATOR = jsonschema.Draft202012Validator(EMF_SCHEMA)


def target_member_errors(record: dict[str, Any]) -> list[str]:
    """The spec's "Target members" rules, which reference root members by name."""
    errors = []
    for directive in record["_aws"]["CloudWatchMetrics"]:
        for dimension_set in directive["Dimensions"]:
            for key in dimension_set:
                if not isinstance(record.get(key), str):
                    errors.append(f"dimension {key!r} is not a string member of the root node")
        for metric in directive["Metrics"]:
            value = record.get(metric["Name"])
            numbers = value if isinstance(value, list) else [value]
            if isinstance(value, list) and len(value) > 100:
                errors.append(f"metric {metric['Name']!r} has {len(value)} values (at most 100)")
            if not numbers or not all(
                isinstance(v, int | float) and not isinstance(v, bool) for v in numbers
            ):
                errors.append(f"metric {metric['Name']!r} is not a number or an array of numbers")
    return errors


def validate(record: dict[str, Any]) -> None:
    VALIDATOR.validate(record)
    problems = target_member_errors(record)
    assert not problems, problems
