"""Deleting registry rows so that each one leaves a tombstone in the change feed.

Rows are deleted through the session (never by a bulk DELETE or a database cascade), children
first, so the change recorder sees every row that disappears. The row being deleted is locked
first: a row that would refer to it, written meanwhile by another transaction, waits and then
fails, instead of being swept away by a cascade without a tombstone.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from budgraph.kit.errors import Conflict

SHOWN = 5


async def lock(session: AsyncSession, row: Any) -> None:
    """Lock ``row`` until commit (others can neither change it nor add rows that refer to it)."""
    table = type(row)
    await session.execute(select(table.id).where(table.id == row.id).with_for_update())


def refuse_if_referenced(what: str, referrers: Sequence[str], noun: str, advice: str) -> None:
    """A CONFLICT naming what still refers to ``what`` (``referrers``), if anything does."""
    if not referrers:
        return
    shown = ", ".join(referrers[:SHOWN])
    more = f" and {len(referrers) - SHOWN} more" if len(referrers) > SHOWN else ""
    raise Conflict(
        f"{what} is still referred to by {len(referrers)} {noun}: {shown}{more}; {advice}", field="id"
    )


async def delete_rows(session: AsyncSession, dependents: Sequence[Any], row: Any, what: str) -> list[Any]:
    """Delete ``dependents`` then ``row``; returns every deleted row, ``row`` first."""
    try:
        for dependent in dependents:
            await session.delete(dependent)
        await session.flush()
        await session.delete(row)
        await session.flush()
    except IntegrityError:
        raise Conflict(
            f"{what} cannot be deleted: other rows of the registry still refer to it", field="id"
        ) from None
    return [row, *dependents]
