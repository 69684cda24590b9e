"""SQL of the outbox: the publication mark, and the change-log rows after it."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from budgraph import db
from budgraph.kit.db import AnyRow, plain_rows

# Readiness counts the unpublished changes up to this many (a backlog is said, not measured).
BACKLOG_COUNTED = 10_000


@dataclass(frozen=True)
class Backlog:
    published_change_id: int
    unpublished: int
    oldest_unpublished: datetime | None


@dataclass(frozen=True)
class Claim:
    """The publication mark, locked by this transaction: the last change published, and the
    registry's epoch (events name it, so a consumer tells a reset registry's changes apart)."""

    change_id: int
    epoch: uuid.UUID


async def claim(session: AsyncSession) -> Claim | None:
    """Lock the publication mark until commit; None while another publisher holds it."""
    mark, state = db.ChangePublication, db.RegistryState
    statement = (
        select(mark.change_id, state.epoch)
        .select_from(mark)
        .join(state, state.id == 1)
        .where(mark.id == 1)
        .with_for_update(of=mark, skip_locked=True)
    )
    row = (await session.execute(statement)).one_or_none()
    if row is None and await session.scalar(select(func.count()).select_from(mark)) == 0:
        # The mark is gone (a test emptied the tables): it starts again from the first change.
        await session.execute(insert(mark).values(id=1, change_id=0).on_conflict_do_nothing())
        row = (await session.execute(statement)).one_or_none()
    return Claim(row.change_id, row.epoch) if row is not None else None


async def unpublished(session: AsyncSession, after: int, limit: int) -> Sequence[AnyRow]:
    """The change-log rows after ``after``, in change-log (commit) order."""
    entry = db.ChangeLogEntry
    statement = (
        select(
            entry.id,
            entry.registry_version,
            entry.entity_kind,
            entry.entity_id,
            entry.operation,
            entry.changed_fields,
            entry.changed_at,
        )
        .where(entry.id > after)
        .order_by(entry.id)
        .limit(limit)
    )
    return await plain_rows(session, statement)


async def mark(session: AsyncSession, change_id: int) -> None:
    """Everything up to ``change_id`` is published."""
    await session.execute(
        update(db.ChangePublication)
        .where(db.ChangePublication.id == 1)
        .values(change_id=change_id, published_at=func.now())
    )


async def backlog(session: AsyncSession) -> Backlog:
    """How far the publisher got: its mark, and the changes after it (counted up to BACKLOG_COUNTED)."""
    entry = db.ChangeLogEntry
    published = select(db.ChangePublication.change_id).where(db.ChangePublication.id == 1).scalar_subquery()
    after = (
        select(entry.changed_at)
        .where(entry.id > func.coalesce(published, 0))
        .order_by(entry.id)
        .limit(BACKLOG_COUNTED)
        .subquery()
    )
    row = (
        await session.execute(select(func.coalesce(published, 0), func.count(), func.min(after.c.changed_at)))
    ).one()
    return Backlog(int(row[0]), int(row[1]), row[2])
