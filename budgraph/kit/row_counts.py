"""Exact row counts of the large tables without counting their rows (migration 0011).

Triggers add a delta row for every statement that inserts or deletes rows of a counted table; the
count is the sum of the table's deltas, as of the reader's snapshot, so it is exact under MVCC
(an uncommitted insert's delta is as invisible as its rows). ``fold`` replaces the deltas a
transaction sees with their sum; the change recorder runs it under the registry's version lock,
so two folds never interleave, and the deltas stay a handful of rows.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from budgraph import db

COUNTED = frozenset({"model"})  # the tables migration 0011 counts


def count_statement(table_name: str) -> Select[Any]:
    """The number of rows of a counted table, as one value."""
    if table_name not in COUNTED:
        raise ValueError(f"{table_name} is not a counted table")
    delta = db.RowCountDelta
    return select(func.coalesce(func.sum(delta.delta), 0)).where(delta.table_name == table_name)


async def fold(session: AsyncSession) -> None:
    """Each counted table's deltas as one row (their sum)."""
    delta: Any = db.RowCountDelta.__table__
    several = select(delta.c.table_name).group_by(delta.c.table_name).having(func.count() > 1)
    gone = (
        delete(delta)
        .where(delta.c.table_name.in_(several))
        .returning(delta.c.table_name, delta.c.delta)
        .cte("gone")
    )
    summed = select(gone.c.table_name, func.sum(gone.c.delta)).group_by(gone.c.table_name)
    await session.execute(insert(delta).from_select(["table_name", "delta"], summed).add_cte(gone))
