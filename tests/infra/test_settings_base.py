import pytest

from stacks.settings import ConfigError, Section


def test_unknown_key_names_the_key_and_the_allowed_ones() -> None:
    with pytest.raises(ConfigError) as err:
        Section("service", {"cpu": 256, "desiredCoutn": 2}, ["cpu", "desiredCount"])
    assert str(err.value) == (
        "booking:service.desiredCoutn = 2 is invalid: unknown key; allowed keys are cpu, desiredCount"
    )


def test_section_must_be_an_object() -> None:
    with pytest.raises(ConfigError, match=r"booking:network = 'x' is invalid: must be an object"):
        Section("network", "x", ["cidrBlock"])


def test_integer_range_and_strings_from_the_cli() -> None:
    section = Section("service", {"desiredCount": "3", "maxCount": 0}, ["desiredCount", "maxCount", "x"])
    assert section.integer("desiredCount", minimum=1) == 3
    assert section.integer("x", default=7) == 7
    with pytest.raises(ConfigError) as err:
        section.integer("maxCount", minimum=1, maximum=10)
    assert str(err.value) == "booking:service.maxCount = 0 is invalid: must be a whole number from 1 to 10"


def test_boolean_refuses_truthy_strings() -> None:
    section = Section("service", {"spot": "yes"}, ["spot"])
    with pytest.raises(ConfigError, match="must be true or false"):
        section.boolean("spot")


def test_choice_lists_what_is_allowed() -> None:
    section = Section("network", {"natGateways": "double"}, ["natGateways"])
    with pytest.raises(ConfigError) as err:
        section.choice("natGateways", ["none", "single", "perAz"])
    assert str(err.value) == (
        "booking:network.natGateways = 'double' is invalid: must be one of none, single, perAz"
    )


def test_required_field() -> None:
    with pytest.raises(ConfigError, match=r"booking:image.tag = None is invalid: is required"):
        Section("image", {}, ["tag"]).string("tag")
