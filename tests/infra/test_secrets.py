from __future__ import annotations

import json
from typing import Any

import pulumi
import pytest

from components.secrets import AppSecrets, AppSecretsArgs, valid_recovery_window
from stacks.mocks import AwsMocks
from tests.infra.mocks import run_component


def _key_value(mocks: AwsMocks) -> str:
    """The password the mocks generated (64 characters, like random's RandomPassword)."""
    value: str = mocks.one("random:index/randomPassword:RandomPassword").outputs["result"]
    return value


def _run(args: AppSecretsArgs) -> tuple[AwsMocks, dict[str, Any], AppSecrets]:
    holder: list[AppSecrets] = []

    def build() -> dict[str, Any]:
        secrets = AppSecrets("secrets", args)
        holder.append(secrets)
        public = {k: v for k, v in vars(secrets).items() if isinstance(v, pulumi.Output) and k != "urn"}
        return {
            "jwt_secret_arn": secrets.jwt_secret_arn,
            "jwt_secret_arn_is_secret": secrets.jwt_secret_arn.is_secret(),
            "value_is_secret": secrets.jwt_secret_version.secret_string.is_secret(),
            "public_outputs": pulumi.Output.all(**public),
        }

    mocks, values = run_component(build)
    return mocks, values, holder[0]


@pytest.mark.parametrize(
    ("days", "ok"), [(0, True), (7, True), (30, True), (1, False), (6, False), (31, False)]
)
def test_recovery_window_values_secrets_manager_accepts(days: int, ok: bool) -> None:
    assert valid_recovery_window(days) is ok


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"recovery_window_days": 3}, "recovery_window_days = 3 is invalid: must be 0 or between 7 and 30"),
        ({"jwt_key_length": 32}, "jwt_key_length = 32 is invalid: must be between 64 and 4096"),
        ({"name_prefix": "booking dev"}, "name_prefix = 'booking dev' is invalid"),
    ],
)
def test_args_reject_bad_values(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        AppSecretsArgs(**{"name_prefix": "booking-dev", **overrides})


def test_jwt_key_is_long_random_and_free_of_special_characters() -> None:
    mocks, _, _ = _run(AppSecretsArgs(name_prefix="booking-dev", recovery_window_days=0))
    key = mocks.one("random:index/randomPassword:RandomPassword").inputs
    assert key["length"] == 64
    assert key["special"] is False
    assert key["minLower"] >= 1 and key["minUpper"] >= 1 and key["minNumeric"] >= 1


def test_key_is_stored_as_a_secret_string_of_a_secrets_manager_secret() -> None:
    mocks, values, _ = _run(AppSecretsArgs(name_prefix="booking-prod", recovery_window_days=30))
    secret = mocks.one("aws:secretsmanager/secret:Secret")
    assert secret.inputs["namePrefix"] == "booking-prod/jwt-signing-key-"
    assert secret.inputs["recoveryWindowInDays"] == 30

    version = mocks.one("aws:secretsmanager/secretVersion:SecretVersion")
    assert version.inputs["secretId"] == secret.resource_id
    assert version.inputs["secretString"] == _key_value(mocks)
    assert version.secrets == ["secretString"]
    assert values["value_is_secret"] is True


def test_dev_secret_is_deleted_at_once_so_the_stack_can_be_recreated() -> None:
    mocks, _, _ = _run(AppSecretsArgs(name_prefix="booking-dev", recovery_window_days=0))
    assert mocks.one("aws:secretsmanager/secret:Secret").inputs["recoveryWindowInDays"] == 0


def test_only_the_arn_leaves_the_component_and_never_the_value() -> None:
    mocks, values, _ = _run(AppSecretsArgs(name_prefix="booking-dev", recovery_window_days=0))
    secret = mocks.one("aws:secretsmanager/secret:Secret")
    assert values["jwt_secret_arn"] == secret.outputs["arn"]
    assert values["jwt_secret_arn"].startswith(
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:booking-dev/jwt-signing-key-"
    )
    assert values["jwt_secret_arn_is_secret"] is False
    assert set(values["public_outputs"]) == {"jwt_secret_arn"}
    key_value = _key_value(mocks)
    assert key_value not in json.dumps(values["public_outputs"])
    # No resource other than the secret version receives the value.
    holders = [r.type for r in mocks.resources if key_value in json.dumps(r.inputs)]
    assert holders == ["aws:secretsmanager/secretVersion:SecretVersion"]
