"""Rules for writing architectures, compatibility edges and parser rules."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from budgraph import db
from budgraph.compatibility import repository
from budgraph.compatibility.parsers import validate_pattern
from budgraph.kit.creates import create_once, lock_natural_key
from budgraph.kit.deletes import delete_rows, lock, refuse_if_referenced
from budgraph.kit.edits import apply_operator_edit
from budgraph.kit.errors import BudgraphError, NotFound
from budgraph.kit.writes import flush
from budgraph.releases.service import restore_architectures, withdraw_architectures


async def _architectures(session: AsyncSession, class_names: Sequence[str]) -> list[db.ModelArchitecture]:
    wanted = sorted(set(class_names))
    rows = await repository.architectures_by_class_names(session, wanted)
    missing = sorted(set(wanted) - {row.class_name for row in rows})
    if missing:
        raise NotFound(f"unknown model architectures: {', '.join(missing)}", field="architectures")
    return rows


def _mark_edited(version: db.EngineVersion) -> None:
    """An operator now owns this version's compatibility: re-seeding leaves its edges alone."""
    if "architectures" not in version.edited_fields:
        version.edited_fields = sorted({*version.edited_fields, "architectures"})


async def class_names_of(session: AsyncSession, version_id: int) -> list[str]:
    """The architectures an engine version serves, sorted."""
    return await repository.class_names_of_version(session, version_id)


async def add_architectures(
    session: AsyncSession, version: db.EngineVersion, class_names: Sequence[str]
) -> int:
    """Declare that a version serves these architectures; returns how many edges were new.

    Concurrent declarations about one version are serialized (a lock on the version's edges), so
    identical repeats all succeed and add each edge once.
    """
    rows = await _architectures(session, class_names)
    await lock_natural_key(session, db.CompatibilityEdge.__tablename__, [version.id])
    added = await repository.add_edges(session, version.id, [row.id for row in rows])
    restore_architectures(version, [row.class_name for row in rows])
    _mark_edited(version)
    await session.flush()
    return len(added)


async def remove_architectures(
    session: AsyncSession, version: db.EngineVersion, class_names: Sequence[str]
) -> int:
    rows = await _architectures(session, class_names)
    await lock_natural_key(session, db.CompatibilityEdge.__tablename__, [version.id])
    edges = await repository.edges_for(session, version.id, [row.id for row in rows])
    for edge in edges:
        await session.delete(edge)
    # Removed although the version's upstream release declares them: re-applying it keeps them out.
    by_id = {row.id: row.class_name for row in rows}
    withdraw_architectures(version, [by_id[edge.architecture_id] for edge in edges])
    _mark_edited(version)
    await session.flush()
    return len(edges)


async def create_architecture(session: AsyncSession, values: dict[str, Any]) -> db.ModelArchitecture:
    """A new architecture; an identical repeat answers the existing one."""
    class_name = str(values.pop("class_name", "")).strip()
    if not class_name:
        raise BudgraphError("`className` must not be empty", field="className")
    row, _ = await create_once(
        session,
        db.ModelArchitecture,
        {"class_name": class_name},
        values,
        f"model architecture {class_name!r}",
        lambda: repository.architecture_by_class_name(session, class_name),
    )
    return row


async def update_architecture(
    session: AsyncSession, row: db.ModelArchitecture, changes: dict[str, Any]
) -> db.ModelArchitecture:
    apply_operator_edit(row, changes)
    await flush(session, f"model architecture {row.class_name!r}")
    return row


def _check_rule(match_type: str, pattern: str, parser: str) -> None:
    problem = validate_pattern(match_type, pattern)
    if problem:
        raise BudgraphError(problem, field="pattern")
    if not parser.strip():
        raise BudgraphError("`parser` must not be empty", field="parser")


RULE_KEY = ("engine_id", "rule_type", "match_type", "pattern")


async def create_rule(session: AsyncSession, values: dict[str, Any]) -> db.ParserRule:
    """A new parser rule; an identical repeat answers the existing one."""
    _check_rule(values["match_type"], values["pattern"], values["parser"])
    if await session.get(db.Engine, values["engine_id"]) is None:
        raise NotFound("no engine with that id", field="engineId")
    key = {name: values.pop(name) for name in RULE_KEY}
    row, _ = await create_once(
        session,
        db.ParserRule,
        key,
        values,
        f"the {key['rule_type']} rule {key['match_type']} {key['pattern']!r} of this engine",
        lambda: repository.rule_by_natural_key(session, **key),
    )
    return row


async def update_rule(session: AsyncSession, row: db.ParserRule, changes: dict[str, Any]) -> db.ParserRule:
    _check_rule(
        changes.get("match_type", row.match_type),
        changes.get("pattern", row.pattern),
        changes.get("parser", row.parser),
    )
    apply_operator_edit(row, changes)
    await flush(session, f"parser rule {row.pattern!r}")
    return row


async def delete_architecture(session: AsyncSession, row: db.ModelArchitecture) -> list[Any]:
    """Delete a model architecture; refused while engine versions serve it or models have it."""
    what = f"model architecture {row.class_name!r}"
    await lock(session, row)
    advice = "remove its compatibility (`removeCompatibility`) first"
    refuse_if_referenced(
        what, await repository.versions_serving(session, row.id), "engine versions serving it", advice
    )
    refuse_if_referenced(
        what,
        await repository.models_of_architecture(session, row.class_name),
        "models of this architecture",
        "delete those models first",
    )
    return await delete_rows(session, [], row, what)


async def delete_rule(session: AsyncSession, row: db.ParserRule) -> list[Any]:
    """Delete a parser rule (nothing refers to one)."""
    await lock(session, row)
    return await delete_rows(session, [], row, f"parser rule {row.match_type} {row.pattern!r}")
