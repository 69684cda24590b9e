"""Records every change to a registry entity, and bumps the registry version once per transaction.

A flush listener notes what changed; ``record_changes`` (called just before commit) takes the
registry version row lock, bumps the version and writes one change-log row per changed entity.
Holding that lock until commit makes versions visible in commit order, so a runtime that has
synced up to version N never misses a change numbered N or lower.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event, insert, inspect, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, UOWTransaction

from budgraph.db import ChangeLogEntry, RegistryState
from budgraph.db.base import ProvenanceMixin
from budgraph.db.enums import ChangeOperation

_INFO_KEY = "registry_changes"
_BOOKKEEPING = {"updated_at", "created_at", "edited_fields"}


@dataclass
class PendingChange:
    operation: ChangeOperation
    fields: set[str] = field(default_factory=set)


def _pending(session: Session) -> dict[tuple[str, int], PendingChange]:
    pending: dict[tuple[str, int], PendingChange] = session.info.setdefault(_INFO_KEY, {})
    return pending


@event.listens_for(Session, "after_flush")
def _note_changes(session: Session, _flush: UOWTransaction) -> None:
    pending = _pending(session)
    for obj in session.new:
        if isinstance(obj, ProvenanceMixin):
            columns = {attr.key for attr in inspect(obj).mapper.column_attrs} - _BOOKKEEPING
            pending[(type(obj).__name__, obj.id)] = PendingChange(ChangeOperation.CREATE, columns)  # type: ignore[attr-defined]
    for obj in session.dirty:
        if not isinstance(obj, ProvenanceMixin):
            continue
        state = inspect(obj)
        changed = {
            attr.key for attr in state.mapper.column_attrs if state.attrs[attr.key].history.has_changes()
        } - _BOOKKEEPING
        if changed:
            key = (type(obj).__name__, obj.id)  # type: ignore[attr-defined]
            pending.setdefault(key, PendingChange(ChangeOperation.UPDATE)).fields.update(changed)
    for obj in session.deleted:
        if isinstance(obj, ProvenanceMixin):
            pending[(type(obj).__name__, obj.id)] = PendingChange(ChangeOperation.DELETE)  # type: ignore[attr-defined]


@event.listens_for(Session, "after_rollback")
def _forget_changes(session: Session) -> None:
    session.info.pop(_INFO_KEY, None)


async def record_changes(session: AsyncSession, actor: str) -> int | None:
    """Bump the registry version and log the flushed changes; returns the new version, if any."""
    await session.flush()
    pending = _pending(session.sync_session)
    if not pending:
        return None
    version: int = (
        await session.execute(
            update(RegistryState).values(version=RegistryState.version + 1).returning(RegistryState.version)
        )
    ).scalar_one()
    rows: list[dict[str, Any]] = [
        {
            "registry_version": version,
            "entity_kind": kind,
            "entity_id": entity_id,
            "operation": change.operation.value,
            "changed_fields": sorted(change.fields),
            "actor": actor,
        }
        for (kind, entity_id), change in sorted(pending.items())
    ]
    await session.execute(insert(ChangeLogEntry), rows)
    pending.clear()
    return version
