import pytest

from components.types import EmailSubscription
from stacks.settings import ConfigError
from stacks.settings.notifications import NotificationSettings, parse_notifications


def test_plain_addresses_mean_all_events_and_objects_choose() -> None:
    settings = parse_notifications(
        {
            "emails": ["ops@example.com", {"address": "oncall@example.com", "events": "failures"}],
            "logRetentionDays": 90,
        }
    )
    assert settings == NotificationSettings(
        subscriptions=(
            EmailSubscription("ops@example.com", "all"),
            EmailSubscription("oncall@example.com", "failures"),
        ),
        log_retention_days=90,
    )


def test_object_without_events_means_all_and_retention_defaults_to_30() -> None:
    settings = parse_notifications({"emails": [{"address": "ops@example.com"}]})
    assert settings.subscriptions == (EmailSubscription("ops@example.com", "all"),)
    assert settings.log_retention_days == 30


def test_no_section_means_no_subscribers_yet() -> None:
    assert parse_notifications(None) == NotificationSettings(subscriptions=(), log_retention_days=30)


def test_domain_is_normalised_to_lower_case() -> None:
    settings = parse_notifications({"emails": ["Ops@Example.COM"]})
    assert settings.subscriptions[0].address == "Ops@example.com"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({}, "booking:notifications.emails = None is invalid: is required"),
        (
            {"emails": []},
            "booking:notifications.emails = [] is invalid: must list at least one e-mail address",
        ),
        (
            {"emails": "ops@example.com"},
            "booking:notifications.emails = 'ops@example.com' is invalid: must be a list",
        ),
        (
            {"emails": ["ops@example.com", "bad"]},
            "booking:notifications.emails[1] = 'bad' is invalid: "
            "must be an e-mail address (An email address must have an @-sign.)",
        ),
        (
            {"emails": [{"address": "ops@localhost"}]},
            "booking:notifications.emails[0].address = 'ops@localhost' is invalid: must be an e-mail address "
            "(The part after the @-sign is not valid. It should have a period.)",
        ),
        (
            {"emails": [{"address": "ops@example.com", "events": "errors"}]},
            "booking:notifications.emails[0].events = 'errors' is invalid: must be one of all, failures",
        ),
        (
            {"emails": [{"address": "ops@example.com", "event": "all"}]},
            "booking:notifications.emails[0].event = 'all' is invalid: "
            "unknown key; allowed keys are address, events",
        ),
        (
            {"emails": [{"events": "all"}]},
            "booking:notifications.emails[0].address = None is invalid: is required",
        ),
        (
            {"emails": [42]},
            "booking:notifications.emails[0] = 42 is invalid: "
            "must be an e-mail address or an object {address, events}",
        ),
        (
            {"emails": ["ops@example.com", {"address": "OPS@EXAMPLE.com", "events": "failures"}]},
            "booking:notifications.emails[1] = 'OPS@example.com' is invalid: duplicate of emails[0]; "
            "list each address once",
        ),
        (
            {"emails": ["ops@example.com"], "logRetentionDays": 10},
            "booking:notifications.logRetentionDays = 10 is invalid: "
            "must be one of CloudWatch's retention periods "
            "1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, "
            "1827, 2192, 2557, 2922, 3288, 3653",
        ),
        (
            {"emails": ["ops@example.com"], "retention": 7},
            "booking:notifications.retention = 7 is invalid: "
            "unknown key; allowed keys are emails, logRetentionDays",
        ),
        (
            ["ops@example.com"],
            "booking:notifications = ['ops@example.com'] is invalid: "
            "must be an object with keys emails, logRetentionDays",
        ),
    ],
)
def test_bad_config_names_the_key_the_value_and_what_is_allowed(raw: object, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_notifications(raw)
    assert str(err.value) == message
