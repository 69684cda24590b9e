"""Linking leaderboard entries to registry models: by uri, by operator aliases, by normalised name.

Whatever changes what a name matches (a model registered, an alias added or removed, a snapshot
stored) re-links under one PostgreSQL advisory lock held to the end of its transaction, so two such
transactions never decide on data the other has not committed yet: the second waits, then reads
what the first wrote.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Table, bindparam, func, select, update
from sqlalchemy.exc import IntegrityError

from budgraph import db
from budgraph.kit.db import RequestSession
from budgraph.kit.errors import BudgraphError, Conflict, NotFound
from budgraph.leaderboards.matching import MatchResult, ModelMatcher, name_key

# pg_advisory_xact_lock key of "who links leaderboard names" (any fixed 64-bit number of our own).
LINKING_LOCK = 0x6275_6467_6C6E_6B73  # "budglnks"
MAX_ALIAS_LENGTH = 200


async def lock_linking(session: RequestSession) -> None:
    """Wait for any other transaction that links names, and keep them waiting until this one ends."""
    await session.execute(select(func.pg_advisory_xact_lock(LINKING_LOCK)))


async def load_matcher(session: RequestSession) -> ModelMatcher:
    models = (await session.execute(select(db.Model.id, db.Model.uri))).all()
    aliases = (await session.execute(select(db.ModelAlias.key, db.ModelAlias.model_id))).all()
    return ModelMatcher([(row.id, row.uri) for row in models], {row.key: row.model_id for row in aliases})


@dataclass(frozen=True)
class Relinked:
    """What a relink found: entries whose model changed, and every raw name's match and entry count."""

    changed: int
    names: dict[str, tuple[MatchResult, int]] = field(default_factory=dict)

    def linked_by_alias(self, key: str) -> int:
        """How many entries the alias with this key links (current and history)."""
        return sum(
            count
            for name, (result, count) in self.names.items()
            if result.method == "alias" and name_key(name) == key
        )


async def relink(session: RequestSession) -> Relinked:
    """Match every distinct raw name again; report how many entries changed their model.

    One grouped read, then one batched UPDATE (executemany) for the names whose model changed, in
    name order (so concurrent relinks, if any, lock rows in the same order).
    """
    await lock_linking(session)
    matcher = await load_matcher(session)
    entry = db.LeaderboardEntry
    groups = (
        await session.execute(
            select(entry.raw_model_name, entry.model_id, func.count()).group_by(
                entry.raw_model_name, entry.model_id
            )
        )
    ).all()
    results: dict[str, MatchResult] = {}
    totals: dict[str, int] = {}
    changed, updates = 0, {}
    for name, model_id, count in groups:
        result = results.setdefault(name, matcher.match(name))
        totals[name] = totals.get(name, 0) + count
        if result.model_id != model_id:
            changed += count
            updates[name] = {"name": name, "model": result.model_id, "method": result.method}
    if updates:
        table = db.LeaderboardEntry.__table__
        assert isinstance(table, Table)
        await session.execute(
            update(table)
            .where(table.c.raw_model_name == bindparam("name"))
            .values(model_id=bindparam("model"), match_method=bindparam("method")),
            [updates[name] for name in sorted(updates)],
        )
    return Relinked(changed, {name: (result, totals[name]) for name, result in results.items()})


def checked_alias(alias: str) -> tuple[str, str]:
    """The alias as typed (trimmed) and its key; an empty or overlong alias is refused."""
    typed = alias.strip()
    if len(typed) > MAX_ALIAS_LENGTH:
        raise BudgraphError(f"the alias is longer than {MAX_ALIAS_LENGTH} characters", field="alias")
    key = name_key(typed)
    if not key:
        raise BudgraphError("the alias has no letters or digits", field="alias")
    return typed, key


async def _alias_by_key(session: RequestSession, key: str) -> db.ModelAlias | None:
    row: db.ModelAlias | None = await session.scalar(
        select(db.ModelAlias).where(db.ModelAlias.key == key).execution_options(populate_existing=True)
    )
    return row


async def _refuse_conflicts(
    session: RequestSession, alias: str, existing: db.ModelAlias | None, model_id: int
) -> None:
    if existing is not None and existing.model_id != model_id:
        other = await session.get(db.Model, existing.model_id)
        owner = f"model {other.uri}" if other is not None else "another model"
        raise Conflict(
            f"the alias {alias!r} is already taken: {existing.alias!r} names {owner}", field="alias"
        )
    named: str | None = await session.scalar(
        select(db.Model.uri)
        .where(func.lower(db.Model.uri) == alias.lower(), db.Model.id != model_id)
        .limit(1)
    )
    if named is not None:
        raise Conflict(f"the alias {alias!r} is the uri of another model ({named})", field="alias")


@dataclass(frozen=True)
class AliasLink:
    alias: db.ModelAlias
    linked_entries: int  # entries the alias links to its model now (current and history)
    relinked_entries: int  # entries whose model changed in this transaction


async def add_alias(session: RequestSession, alias: str, model_id: int, actor: str) -> AliasLink:
    """Record that leaderboards call ``model_id`` ``alias`` (exactly as typed), and re-link entries.

    Adding an alias the model already has (in any casing or punctuation) changes nothing and
    answers the same; an alias of another model, or another model's uri, is a CONFLICT.
    """
    typed, key = checked_alias(alias)
    if await session.get(db.Model, model_id) is None:
        raise NotFound("no such model", field="modelId")
    existing = await _alias_by_key(session, key)
    await _refuse_conflicts(session, typed, existing, model_id)
    if existing is None:
        row = db.ModelAlias(alias=typed, key=key, model_id=model_id, created_by=actor)
        try:
            async with session.begin_nested():
                session.add(row)
                await session.flush()
        except IntegrityError:
            # A concurrent transaction recorded the same key first (the unique index decided).
            existing = await _alias_by_key(session, key)
            if existing is None:
                raise
            await _refuse_conflicts(session, typed, existing, model_id)
    row = existing or row
    relinked = await relink(session)
    return AliasLink(row, relinked.linked_by_alias(key), relinked.changed)


async def remove_alias(session: RequestSession, alias: str) -> AliasLink:
    """Delete the alias with the key of ``alias`` and re-link what it linked (elsewhere, or nowhere)."""
    _, key = checked_alias(alias)
    row = await _alias_by_key(session, key)
    if row is None:
        raise NotFound(f"no alias {alias.strip()!r} is recorded", field="alias")
    linked = (await relink(session)).linked_by_alias(key)
    await session.delete(row)
    await session.flush()
    return AliasLink(row, linked, (await relink(session)).changed)
