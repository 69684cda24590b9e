"""Key lifetimes as an operator types them: ``90d``, ``12h``, ``2w``, ``30m``."""

from __future__ import annotations

import re
from datetime import timedelta

from budgraph.kit.errors import BudgraphError

_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_LIFETIME = re.compile(r"([1-9][0-9]{0,5})([mhdw])")
# Far enough for any key, near enough that every expiry is a valid timestamp.
MAX_LIFETIME = timedelta(days=3660)


def parse_lifetime(text: str, field: str = "expiresIn") -> timedelta:
    """A lifetime such as ``90d`` (minutes, hours, days or weeks), at most ten years."""
    match = _LIFETIME.fullmatch(text.strip())
    if not match:
        raise BudgraphError(
            f"a lifetime is a whole number and a unit: m, h, d or w, e.g. `90d` (got {text[:40]!r})",
            field=field,
        )
    lifetime = timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
    if lifetime > MAX_LIFETIME:
        raise BudgraphError(f"a lifetime is at most ten years (got {text!r})", field=field)
    return lifetime
