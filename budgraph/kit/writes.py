"""Small rules every write shares: required text, http(s) URLs, and constraint-checked flushes."""

from __future__ import annotations

import re

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from budgraph.kit.errors import BudgraphError, from_integrity_error


def required_text(value: str, field: str) -> str:
    value = value.strip()
    if not value:
        raise BudgraphError(f"`{field}` must not be empty", field=field)
    return value


def checked_url(value: str | None, field: str) -> str | None:
    if value is None:
        return None
    value = value.strip()
    if not re.fullmatch(r"https?://\S+", value):
        raise BudgraphError(f"`{field}` must be an http(s) URL (got {value!r})", field=field)
    return value


async def flush(session: AsyncSession, what: str) -> None:
    """Flush, turning a constraint violation into a typed error about ``what``."""
    try:
        await session.flush()
    except IntegrityError as error:
        raise from_integrity_error(error, what) from None
