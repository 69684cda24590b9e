"""SQL for the registry version and the change feed."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ARRAY, BindParameter, Select, Text, any_, literal, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from budgraph import db
from budgraph.db.base import Origin
from budgraph.db.enums import ChangeOperation
from budgraph.registry.snapshots import as_json_snapshot, natural_key_columns


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


def changes_statement(
    since: Any, after: tuple[Any, Any] | None, kinds: Any | None, limit: Any
) -> Select[Any]:
    """Changes after version ``since`` (and after the (version, id) position ``after``), of the entity
    ``kinds`` (a sequence, or a bind parameter of one), oldest first: the change log's columns.
    Values may be bind parameters (for a statement compiled once)."""
    entry = db.ChangeLogEntry.__table__
    stmt = select(entry).where(entry.c.registry_version > since)
    if after is not None:
        stmt = stmt.where(tuple_(entry.c.registry_version, entry.c.id) > tuple_(*after))
    if kinds is not None:
        listed = kinds if isinstance(kinds, BindParameter) else literal(list(kinds), ARRAY(Text))
        stmt = stmt.where(entry.c.entity_kind == any_(listed))
    return stmt.order_by(entry.c.registry_version, entry.c.id).limit(limit)


async def changes_since(
    session: AsyncSession, since: int, after: tuple[int, int] | None, kinds: Sequence[str] | None, limit: int
) -> list[Any]:
    """Changes after version ``since`` (and after the (version, id) position ``after``), oldest first."""
    return list((await session.execute(changes_statement(since, after, kinds, limit))).all())


def natural_key_of(entity: type[Any], values: Mapping[str, Any]) -> str:
    """The natural key of an ``entity`` row with these (raw) values, as the change log writes it."""
    key = {name: values[name] for name in natural_key_columns(entity)}
    return json.dumps(as_json_snapshot(entity, key), sort_keys=True)


async def deleted_by_operators(session: AsyncSession, entity: type[Any]) -> set[str]:
    """The natural keys (as ``natural_key_of`` writes them) of ``entity`` rows someone other than
    the seed deleted: the seed must not bring them back."""
    entry = db.ChangeLogEntry
    keys = await session.scalars(
        select(entry.entity_key).where(
            entry.entity_kind == entity.__name__,
            entry.operation == ChangeOperation.DELETE.value,
            entry.actor != Origin.SEED.value,
        )
    )
    return {json.dumps(key, sort_keys=True) for key in keys.all()}
