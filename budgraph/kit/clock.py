"""The current time, in UTC so every replica agrees (one place to read it, and to control in tests)."""

from datetime import UTC, date, datetime


def now() -> datetime:
    return datetime.now(UTC)


def today() -> date:
    return now().date()
