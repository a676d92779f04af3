"""Validation primitives shared by every config section.

Every section of `Pulumi.<stack>.yaml` is read through `Section`, so every bad value produces the same
kind of message: the full key, the value given and what is allowed. Unknown keys are errors: a typo such
as `desiredCoutn` must not silently fall back to a default.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any, TypeVar

T = TypeVar("T")

NAMESPACE = "booking"


class ConfigError(ValueError):
    """A stack config value that the program refuses to deploy."""

    def __init__(self, key: str, value: object, allowed: str) -> None:
        self.key = key
        self.value = value
        self.allowed = allowed
        super().__init__(f"{key} = {value!r} is invalid: {allowed}")


_MISSING: Any = object()


class Section:
    """One `booking:<name>` object from the stack config, read field by field."""

    def __init__(self, name: str, raw: object, allowed_keys: Collection[str]) -> None:
        self.name = name
        self.key = f"{NAMESPACE}:{name}"
        if raw is None:
            raw = {}
        if not isinstance(raw, Mapping):
            raise ConfigError(self.key, raw, f"must be an object with keys {_join(sorted(allowed_keys))}")
        unknown = sorted(set(raw) - set(allowed_keys))
        if unknown:
            raise ConfigError(
                f"{self.key}.{unknown[0]}",
                raw[unknown[0]],
                f"unknown key; allowed keys are {_join(sorted(allowed_keys))}",
            )
        self.raw: Mapping[str, Any] = raw

    def field_key(self, field: str) -> str:
        return f"{self.key}.{field}"

    def error(self, field: str, value: object, allowed: str) -> ConfigError:
        return ConfigError(self.field_key(field), value, allowed)

    def _get(self, field: str, default: object) -> object:
        value = self.raw.get(field, _MISSING)
        if value is _MISSING or value is None:
            if default is _MISSING:
                raise self.error(field, None, "is required")
            return default
        return value

    def integer(
        self, field: str, default: int = _MISSING, *, minimum: int | None = None, maximum: int | None = None
    ) -> int:
        value = self._get(field, default)
        allowed = _range_text(minimum, maximum)
        # YAML may hand us "2" from `pulumi config set`; bool is an int subclass and never meant here.
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            value_int = int(value)
        elif isinstance(value, int) and not isinstance(value, bool):
            value_int = value
        else:
            raise self.error(field, value, f"must be a whole number{allowed}")
        if (minimum is not None and value_int < minimum) or (maximum is not None and value_int > maximum):
            raise self.error(field, value, f"must be a whole number{allowed}")
        return value_int

    def boolean(self, field: str, default: bool = _MISSING) -> bool:
        value = self._get(field, default)
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise self.error(field, value, "must be true or false")

    def string(self, field: str, default: str = _MISSING) -> str:
        value = self._get(field, default)
        if not isinstance(value, str):
            raise self.error(field, value, "must be a string")
        return value

    def choice(self, field: str, allowed: Sequence[T], default: T = _MISSING) -> T:
        value = self._get(field, default)
        if value not in allowed:
            raise self.error(field, value, f"must be one of {_join([str(a) for a in allowed])}")
        return value  # type: ignore[return-value]

    def items(self, field: str, default: Sequence[object] = _MISSING) -> list[object]:
        value = self._get(field, default)
        if isinstance(value, str) or not isinstance(value, Sequence):
            raise self.error(field, value, "must be a list")
        return list(value)

    def section(self, field: str, allowed_keys: Collection[str]) -> Section:
        """A nested object, e.g. `booking:alarms.cpu`."""
        return Section(f"{self.name}.{field}", self.raw.get(field), allowed_keys)


def _join(items: Sequence[str]) -> str:
    return ", ".join(items)


def _range_text(minimum: int | None, maximum: int | None) -> str:
    if minimum is not None and maximum is not None:
        return f" from {minimum} to {maximum}"
    if minimum is not None:
        return f" of at least {minimum}"
    if maximum is not None:
        return f" of at most {maximum}"
    return ""
