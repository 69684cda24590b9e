"""What a valid API key name, expiry and budget are."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from budgraph.kit.errors import BudgraphError

MAX_RATE_LIMIT = 2**31 - 1
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,99}")
# Actors the registry writes as itself; a key of that name would make the change log ambiguous.
RESERVED_NAMES = frozenset({"anonymous", "seed", "cli", "health", "worker", "reconciler", "system"})


def when(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def checked_name(name: str, field: str = "name") -> str:
    if not _NAME.fullmatch(name):
        raise BudgraphError(
            "an API key name is 1-100 letters, digits, `.`, `_`, `@` or `-`, starting with a letter or a"
            f" digit (got {name[:120]!r})",
            field=field,
        )
    if name.lower() in RESERVED_NAMES:
        raise BudgraphError(f"{name!r} is a name the registry uses for itself; choose another", field=field)
    return name


def checked_rate_limit(rate_limit: int | None, field: str = "rateLimit") -> int | None:
    if rate_limit is not None and not 1 <= rate_limit <= MAX_RATE_LIMIT:
        raise BudgraphError(
            f"a rate limit is a query-cost budget per window from 1 to {MAX_RATE_LIMIT} (got {rate_limit})",
            field=field,
        )
    return rate_limit


def checked_expiry(expires_at: datetime | None, now: datetime, field: str = "expiresAt") -> datetime | None:
    if expires_at is None:
        return None
    if expires_at.tzinfo is None or expires_at.utcoffset() is None:
        raise BudgraphError("an expiry needs a time zone (e.g. `2030-01-01T00:00:00Z`)", field=field)
    if expires_at <= now:
        raise BudgraphError(f"the expiry {when(expires_at)} is not in the future", field=field)
    return expires_at


def lookable_name(name: str) -> bool:
    """Whether a key could have this name (keys from before the naming rule may break it, so only
    what no row can hold is ruled out, before it reaches SQL)."""
    return 0 < len(name) <= 1000 and "\x00" not in name
