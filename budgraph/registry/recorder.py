"""Records every change to a registry entity, and bumps the registry version once per transaction.

A flush listener notes what changed, with the values before and after; ``record_changes`` (called
by the unit of work just before commit) takes the registry version row lock, bumps the version and
writes one change-log row per changed entity: who, when, what, its natural key (a deletion's
tombstone), and the values before and after (the audit trail). Holding that lock until commit
makes versions visible in commit order, so a runtime that has synced up to version N never misses
a change numbered N or lower.

Writes within one transaction fold into one change per entity: a create then an update is a create
with the final values, an update then a delete is a delete of the values the transaction started
from, and a row created and deleted again changed nothing.
"""

from __future__ import annotations

import copy
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event, insert, inspect, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction, UOWTransaction

from budgraph import db
from budgraph.db.base import ProvenanceMixin
from budgraph.db.enums import ChangeOperation
from budgraph.kit import row_counts
from budgraph.kit.ids import to_global_id
from budgraph.registry.snapshots import (
    BOOKKEEPING,
    Snapshot,
    as_json_snapshot,
    natural_key_columns,
    snapshot,
)

_INFO_KEY = "registry_changes"
_SAVEPOINTS_KEY = "registry_changes_at_savepoints"
EntityKey = tuple[str, int]


@dataclass
class PendingChange:
    entity: type[Any]
    operation: ChangeOperation
    key: Snapshot
    before: Snapshot = field(default_factory=dict)
    after: Snapshot = field(default_factory=dict)
    fields: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class Membership:
    """Rows of ``member`` link a ``parent`` row to a target row: creating or deleting one changes the
    parent's ``field`` (the list of targets), so a client following the parent's kind sees it."""

    member: type[Any]
    parent: type[Any]
    parent_column: str
    target_kind: str
    target_column: str
    field: str


MEMBERSHIPS = (
    Membership(
        db.CompatibilityEdge,
        db.EngineVersion,
        "engine_version_id",
        "ModelArchitecture",
        "architecture_id",
        "architectures",
    ),
)


def _pending(session: Session) -> dict[EntityKey, PendingChange]:
    pending: dict[EntityKey, PendingChange] = session.info.setdefault(_INFO_KEY, {})
    return pending


def _identity(obj: Any) -> EntityKey:
    return (type(obj).__name__, obj.id)


def _key_of(obj: Any, values: Snapshot | None = None) -> Snapshot:
    names = natural_key_columns(type(obj))
    return {name: (values[name] if values and name in values else getattr(obj, name)) for name in names}


@event.listens_for(Session, "after_flush")
def _note_changes(session: Session, _flush: UOWTransaction) -> None:
    pending = _pending(session)
    for obj in session.new:
        if isinstance(obj, ProvenanceMixin):
            values = snapshot(obj)
            pending[_identity(obj)] = PendingChange(
                type(obj), ChangeOperation.CREATE, _key_of(obj), after=values, fields=set(values)
            )
    for obj in session.dirty:
        if isinstance(obj, ProvenanceMixin):
            _note_update(pending, obj)
    for obj in session.deleted:
        if isinstance(obj, ProvenanceMixin):
            _note_delete(pending, obj)


def _note_update(pending: dict[EntityKey, PendingChange], obj: Any) -> None:
    state = inspect(obj)
    before: Snapshot = {}
    after: Snapshot = {}
    for attr in state.mapper.column_attrs:
        history = state.attrs[attr.key].history
        if attr.key in BOOKKEEPING or not history.has_changes():
            continue
        before[attr.key] = history.deleted[0] if history.deleted else None
        after[attr.key] = getattr(obj, attr.key)
    if not after:
        return
    change = pending.setdefault(_identity(obj), PendingChange(type(obj), ChangeOperation.UPDATE, {}))
    if change.operation is ChangeOperation.UPDATE:
        for name, value in before.items():
            change.before.setdefault(name, value)
        change.fields.update(after)
    change.after.update(after)
    change.key = _key_of(obj)


def _note_delete(pending: dict[EntityKey, PendingChange], obj: Any) -> None:
    identity = _identity(obj)
    earlier = pending.get(identity)
    if earlier is not None and earlier.operation is ChangeOperation.CREATE:
        del pending[identity]  # created and deleted in one transaction: nobody saw it
        return
    values = snapshot(obj)
    if earlier is not None:
        values.update(earlier.before)  # the values the transaction started from
    pending[identity] = PendingChange(
        type(obj), ChangeOperation.DELETE, _key_of(obj, values), before=values, fields=set(values)
    )


@event.listens_for(Session, "after_transaction_create")
def _mark_savepoint(session: Session, transaction: SessionTransaction) -> None:
    """Remember what was pending when a savepoint began: rolling it back restores exactly that."""
    if transaction.nested:
        marks: dict[int, dict[EntityKey, PendingChange]] = session.info.setdefault(_SAVEPOINTS_KEY, {})
        marks[id(transaction)] = copy.deepcopy(_pending(session))


@event.listens_for(Session, "after_soft_rollback")
def _forget_changes(session: Session, previous_transaction: SessionTransaction) -> None:
    marks: dict[int, dict[EntityKey, PendingChange]] = session.info.get(_SAVEPOINTS_KEY, {})
    saved = marks.pop(id(previous_transaction), None)
    if previous_transaction.nested:
        # Only the savepoint's own changes are gone; the transaction's earlier ones stay.
        if saved is not None:
            session.info[_INFO_KEY] = saved
    elif previous_transaction.parent is None:
        session.info.pop(_INFO_KEY, None)
        session.info.pop(_SAVEPOINTS_KEY, None)


@event.listens_for(Session, "after_transaction_end")
def _drop_mark(session: Session, transaction: SessionTransaction) -> None:
    if transaction.nested:
        session.info.get(_SAVEPOINTS_KEY, {}).pop(id(transaction), None)


async def _note_memberships(session: AsyncSession, pending: dict[EntityKey, PendingChange]) -> None:
    """Log a parent's change for every created or deleted member (see ``Membership``)."""
    for rule in MEMBERSHIPS:
        await _note_membership(session, pending, rule)


async def _note_membership(
    session: AsyncSession, pending: dict[EntityKey, PendingChange], rule: Membership
) -> None:
    added: dict[int, set[str]] = defaultdict(set)
    removed: dict[int, set[str]] = defaultdict(set)
    for member in pending.values():
        if member.entity is not rule.member or member.operation is ChangeOperation.UPDATE:
            continue
        values = member.after or member.before
        target = to_global_id(rule.target_kind, values[rule.target_column])
        side = added if member.operation is ChangeOperation.CREATE else removed
        side[values[rule.parent_column]].add(target)
    parent_ids = [
        parent_id
        for parent_id in sorted(set(added) | set(removed))
        if _operation(pending, rule.parent, parent_id) is not ChangeOperation.DELETE
    ]
    if not parent_ids:
        return
    member_parent = getattr(rule.member, rule.parent_column)
    member_target = getattr(rule.member, rule.target_column)
    current: dict[int, set[str]] = defaultdict(set)
    for parent_id, target_id in await session.execute(
        select(member_parent, member_target).where(member_parent.in_(parent_ids))
    ):
        current[parent_id].add(to_global_id(rule.target_kind, target_id))
    parents = {
        row.id: row
        for row in await session.scalars(select(rule.parent).where(rule.parent.id.in_(parent_ids)))
    }
    for parent_id in parent_ids:
        now = current[parent_id]
        was = (now - added[parent_id]) | removed[parent_id]
        identity = (rule.parent.__name__, parent_id)
        change = pending.get(identity)
        if change is None:
            change = pending[identity] = PendingChange(
                rule.parent, ChangeOperation.UPDATE, _key_of(parents[parent_id])
            )
        if change.operation is ChangeOperation.UPDATE:
            change.before[rule.field] = sorted(was)
        change.after[rule.field] = sorted(now)
        change.fields.add(rule.field)


def _operation(pending: dict[EntityKey, PendingChange], entity: type[Any], pk: int) -> ChangeOperation | None:
    change = pending.get((entity.__name__, pk))
    return change.operation if change is not None else None


def _row(actor: str, identity: EntityKey, change: PendingChange) -> dict[str, Any] | None:
    """The change-log row of one change (without its version), or None if nothing really changed."""
    kind, entity_id = identity
    fields = set(change.fields)
    if change.operation is ChangeOperation.UPDATE:
        fields = {name for name in fields if change.before.get(name) != change.after.get(name)}
        if not fields:
            return None
    values = {name: value for name, value in change.after.items() if name in fields}
    earlier = {name: value for name, value in change.before.items() if name in fields}
    return {
        "entity_kind": kind,
        "entity_id": entity_id,
        "operation": change.operation.value,
        "changed_fields": sorted(fields),
        "actor": actor,
        "entity_key": as_json_snapshot(change.entity, change.key),
        "before": as_json_snapshot(change.entity, earlier)
        if change.operation is not ChangeOperation.CREATE
        else None,
        "after": as_json_snapshot(change.entity, values)
        if change.operation is not ChangeOperation.DELETE
        else None,
    }


async def record_changes(session: AsyncSession, actor: str) -> int | None:
    """Bump the registry version and log the flushed changes; returns the new version, if any."""
    await session.flush()
    pending = _pending(session.sync_session)
    if not pending:
        return None
    # The version row lock first: what is read from here on includes every earlier commit, so a
    # parent's list of members before and after this transaction is exact.
    await session.execute(select(db.RegistryState.version).with_for_update())
    await _note_memberships(session, pending)
    rows = [
        row
        for identity, change in sorted(pending.items(), key=lambda item: item[0])
        if (row := _row(actor, identity, change)) is not None
    ]
    pending.clear()
    if not rows:
        return None
    version: int = (
        await session.execute(
            update(db.RegistryState)
            .values(version=db.RegistryState.version + 1)
            .returning(db.RegistryState.version)
        )
    ).scalar_one()
    await session.execute(insert(db.ChangeLogEntry), [{**row, "registry_version": version} for row in rows])
    await row_counts.fold(session)  # under the version lock: folds never interleave
    return version
