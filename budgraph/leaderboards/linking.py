"""Linking leaderboard entries to registry models: by uri, by operator aliases, by normalised name."""

from __future__ import annotations

from sqlalchemy import Table, bindparam, func, select, update

from budgraph import db
from budgraph.kit.db import RequestSession
from budgraph.kit.errors import BudgraphError, Conflict, NotFound
from budgraph.leaderboards.matching import MatchResult, ModelMatcher, normalise


async def load_matcher(session: RequestSession) -> ModelMatcher:
    models = (await session.execute(select(db.Model.id, db.Model.uri))).all()
    aliases = (await session.execute(select(db.ModelAlias.alias, db.ModelAlias.model_id))).all()
    return ModelMatcher([(row.id, row.uri) for row in models], {row.alias: row.model_id for row in aliases})


async def relink(session: RequestSession, matcher: ModelMatcher | None = None) -> int:
    """Match every distinct raw name again; returns how many entries changed their model.

    One grouped read, then one batched UPDATE (executemany) for the names whose model changed.
    """
    matcher = matcher or await load_matcher(session)
    entry = db.LeaderboardEntry
    groups = (
        await session.execute(
            select(entry.raw_model_name, entry.model_id, func.count()).group_by(
                entry.raw_model_name, entry.model_id
            )
        )
    ).all()
    results: dict[str, MatchResult] = {}
    changed, updates = 0, {}
    for name, model_id, count in groups:
        result = results.setdefault(name, matcher.match(name))
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
            list(updates.values()),
        )
    return changed


async def add_alias(
    session: RequestSession, alias: str, model_id: int, actor: str
) -> tuple[db.ModelAlias, int]:
    """Record that leaderboards call ``model_id`` ``alias``, and re-link existing entries.

    Returns the alias and how many entries now point to a different model.
    """
    normalised = normalise(alias)
    if not normalised:
        raise BudgraphError("the alias is empty once normalised", field="alias")
    if await session.get(db.Model, model_id) is None:
        raise NotFound("no such model", field="modelId")
    existing: db.ModelAlias | None = await session.scalar(
        select(db.ModelAlias).where(db.ModelAlias.alias == normalised)
    )
    if existing is not None and existing.model_id != model_id:
        raise Conflict(f"the alias {alias!r} already names another model", field="alias")
    row = existing or db.ModelAlias(alias=normalised, model_id=model_id, created_by=actor)
    session.add(row)
    await session.flush()
    return row, await relink(session)
