import pytest

from components.alarms import AlarmRule, AlarmSettings
from stacks.settings import ConfigError
from stacks.settings.alarms import ALARMS, FIELD_BY_KEY, parse_alarms


def test_absent_section_gives_every_default() -> None:
    settings = parse_alarms(None)
    assert settings == AlarmSettings()
    assert settings.target_5xx_rate == AlarmRule(5, 60, 5, 3, minimum_requests=20)
    assert settings.target_latency_p99.threshold == 1000
    assert settings.dead_letter_queue.period_seconds == 300
    assert settings.emails == ()


def test_every_alarm_key_maps_to_a_settings_field() -> None:
    assert set(FIELD_BY_KEY) == {spec.key for spec in ALARMS}
    defaults = AlarmSettings()
    for spec in ALARMS:
        assert getattr(defaults, FIELD_BY_KEY[spec.key]) == spec.default


def test_override_keeps_the_other_defaults() -> None:
    settings = parse_alarms(
        {
            "serviceCpu": {"threshold": 70, "evaluationPeriods": 10, "datapointsToAlarm": 8},
            "target5xxRate": {"threshold": "2.5", "minimumRequests": 50},
        }
    )
    assert settings.service_cpu == AlarmRule(70, 60, 10, 8)
    assert settings.target_5xx_rate == AlarmRule(2.5, 60, 5, 3, minimum_requests=50)
    assert settings.service_memory == AlarmSettings().service_memory


def test_fewer_evaluation_periods_shrink_the_default_datapoints() -> None:
    assert parse_alarms({"elb5xxRate": {"evaluationPeriods": 2}}).elb_5xx_rate.datapoints_to_alarm == 2


def test_unknown_alarm_is_an_error() -> None:
    with pytest.raises(ConfigError) as err:
        parse_alarms({"cpuHigh": {"threshold": 1}})
    assert str(err.value).startswith("booking:alarms.cpuHigh = {'threshold': 1} is invalid: unknown key;")


def test_unknown_key_inside_an_alarm_is_an_error() -> None:
    with pytest.raises(ConfigError) as err:
        parse_alarms({"serviceCpu": {"treshold": 90}})
    assert str(err.value) == (
        "booking:alarms.serviceCpu.treshold = 90 is invalid: unknown key; allowed keys are "
        "datapointsToAlarm, evaluationPeriods, periodSeconds, threshold"
    )


def test_derived_thresholds_cannot_be_set() -> None:
    with pytest.raises(
        ConfigError, match=r"booking:alarms.healthyHosts.threshold = 2 is invalid: unknown key"
    ):
        parse_alarms({"healthyHosts": {"threshold": 2}})
    with pytest.raises(ConfigError, match=r"booking:alarms.deadLetterQueue.threshold = 5 is invalid"):
        parse_alarms({"deadLetterQueue": {"threshold": 5}})
    with pytest.raises(ConfigError, match=r"booking:alarms.serviceCpu.minimumRequests = 5 is invalid"):
        parse_alarms({"serviceCpu": {"minimumRequests": 5}})


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (
            {"serviceCpu": {"threshold": 120}},
            "booking:alarms.serviceCpu.threshold = 120 is invalid: must be a number from 1 to 100 (%)",
        ),
        (
            {"targetLatencyP99": {"threshold": True}},
            "booking:alarms.targetLatencyP99.threshold = True is invalid: "
            "must be a number from 10 to 60000 (ms)",
        ),
        (
            {"elb5xxRate": {"threshold": "lots"}},
            "booking:alarms.elb5xxRate.threshold = 'lots' is invalid: "
            "must be a number from 0.1 to 100 (% of requests)",
        ),
        (
            {"databaseCpu": {"periodSeconds": 90}},
            "booking:alarms.databaseCpu.periodSeconds = 90 is invalid: must be a multiple of 60",
        ),
        (
            {"deadLetterQueue": {"periodSeconds": 60}},
            "booking:alarms.deadLetterQueue.periodSeconds = 60 is invalid: "
            "must be a whole number of at least 300",
        ),
        (
            {"databaseCpu": {"periodSeconds": 3600, "evaluationPeriods": 25}},
            "booking:alarms.databaseCpu.evaluationPeriods = 25 is invalid: "
            "must be a whole number from 1 to 24",
        ),
        (
            {"serviceMemory": {"evaluationPeriods": 3, "datapointsToAlarm": 4}},
            "booking:alarms.serviceMemory.datapointsToAlarm = 4 is invalid: "
            "must be a whole number from 1 to 3",
        ),
        (
            {"target5xxRate": {"minimumRequests": 0}},
            "booking:alarms.target5xxRate.minimumRequests = 0 is invalid: "
            "must be a whole number of at least 1",
        ),
        ({"serviceCpu": 80}, "booking:alarms.serviceCpu = 80 is invalid: must be an object with keys"),
        ("loud", "booking:alarms = 'loud' is invalid: must be an object with keys"),
    ],
)
def test_bad_values_name_the_key_and_what_is_allowed(raw: object, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_alarms(raw)
    assert str(err.value).startswith(message)


def test_emails_default_to_the_notification_addresses() -> None:
    settings = parse_alarms({})
    assert settings.recipients(["ops@example.com", "dev@example.com"]) == (
        "ops@example.com",
        "dev@example.com",
    )


def test_own_emails_replace_the_notification_addresses() -> None:
    settings = parse_alarms({"emails": ["oncall@example.com"]})
    assert settings.emails == ("oncall@example.com",)
    assert settings.recipients(["ops@example.com"]) == ("oncall@example.com",)


@pytest.mark.parametrize(
    ("emails", "message"),
    [
        ([], "booking:alarms.emails = [] is invalid: must list at least one e-mail address, or be left out"),
        (
            ["not-an-address"],
            "booking:alarms.emails[0] = 'not-an-address' is invalid: must be an e-mail address",
        ),
        (
            ["a@example.com", "A@example.com"],
            "booking:alarms.emails[1] = 'A@example.com' is invalid: duplicate of emails[0]",
        ),
        (
            [{"address": "a@example.com"}],
            "booking:alarms.emails[0] = {'address': 'a@example.com'} is invalid",
        ),
        ("a@example.com", "booking:alarms.emails = 'a@example.com' is invalid: must be a list"),
    ],
)
def test_bad_emails(emails: object, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_alarms({"emails": emails})
    assert str(err.value).startswith(message)
