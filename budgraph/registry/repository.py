"""SQL for the registry version and the change feed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from budgraph import db


@dataclass(frozen=True)
class RegistryPosition:
    version: int
    epoch: str


async def current_position(session: AsyncSession) -> RegistryPosition:
    state = db.RegistryState
    row = (await session.execute(select(state.version, state.epoch))).one()
    return RegistryPosition(version=int(row.version), epoch=str(row.epoch))


async def current_version(session: AsyncSession) -> int:
    return int(await session.scalar(select(db.RegistryState.version)) or 0)


async def changes_since(
    session: AsyncSession, since: int, after: tuple[int, int] | None, kinds: Sequence[str] | None, limit: int
) -> list[db.ChangeLogEntry]:
    """Changes after version ``since`` (and after the (version, id) position ``after``), oldest first."""
    entry = db.ChangeLogEntry
    stmt = select(entry).where(entry.registry_version > since)
    if after is not None:
        stmt = stmt.where(tuple_(entry.registry_version, entry.id) > tuple_(*after))
    if kinds is not None:
        stmt = stmt.where(entry.entity_kind.in_(kinds))
    stmt = stmt.order_by(entry.registry_version, entry.id).limit(limit)
    return list((await session.scalars(stmt)).all())
