"""`booking:notifications`: who is e-mailed about deployments, and how long the notifier keeps logs.

```yaml
booking:notifications:
  emails:
    - ops@example.com                                  # every event
    - {address: oncall@example.com, events: failures}  # failed/rolled-back deployments and ERROR/WARN
  logRetentionDays: 30                                 # optional, default 30
```
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from email_validator import EmailNotValidError, validate_email

from components.types import EVENT_FILTERS, EmailSubscription
from stacks.settings._base import ConfigError, Section
from stacks.settings.retention import retention_days

DEFAULT_LOG_RETENTION_DAYS = 30


@dataclass(frozen=True)
class NotificationSettings:
    subscriptions: tuple[EmailSubscription, ...]
    log_retention_days: int = DEFAULT_LOG_RETENTION_DAYS


def parse_notifications(raw: object) -> NotificationSettings:
    """Validate the `booking:notifications` object; raise ConfigError naming the first bad value.

    Without the section the notifier still runs (topic, function, rule) with nobody subscribed, like every
    other section's defaults; `stacks/__main__.py` warns about it. A section that is present must name
    at least one address."""
    if raw is None:
        return NotificationSettings(subscriptions=())
    section = Section("notifications", raw, ["emails", "logRetentionDays"])
    entries = section.items("emails")
    if not entries:
        # Deployment e-mails are the point of the notifier: an empty list is a mistake, not a choice.
        raise section.error("emails", entries, "must list at least one e-mail address")
    subscriptions: list[EmailSubscription] = []
    seen: dict[str, int] = {}
    for index, entry in enumerate(entries):
        subscription = _parse_entry(section, index, entry)
        # SNS keys subscriptions by (topic, endpoint): a second one for the same address would be
        # the same subscription with a conflicting filter policy.
        identity = subscription.address.lower()
        if identity in seen:
            raise ConfigError(
                f"{section.field_key('emails')}[{index}]",
                subscription.address,
                f"duplicate of emails[{seen[identity]}]; list each address once",
            )
        seen[identity] = index
        subscriptions.append(subscription)
    retention = retention_days(section, "logRetentionDays", DEFAULT_LOG_RETENTION_DAYS)
    return NotificationSettings(subscriptions=tuple(subscriptions), log_retention_days=retention)


def _parse_entry(section: Section, index: int, entry: object) -> EmailSubscription:
    key = f"{section.field_key('emails')}[{index}]"
    if isinstance(entry, str):
        return EmailSubscription(address=email_address(key, entry))
    if isinstance(entry, Mapping):
        item = Section(f"{section.name}.emails[{index}]", entry, ["address", "events"])
        address = email_address(item.field_key("address"), item.string("address"))
        events = item.choice("events", EVENT_FILTERS, "all")
        return EmailSubscription(address=address, events=events)
    raise ConfigError(key, entry, "must be an e-mail address or an object {address, events}")


def email_address(key: str, value: str) -> str:
    """The normalised address, or a ConfigError for `key` (booking:alarms uses it too)."""
    try:
        # Syntax only: a deploy must not depend on DNS, and SNS asks the recipient to confirm anyway.
        return validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError as err:
        raise ConfigError(key, value, f"must be an e-mail address ({err})") from None
