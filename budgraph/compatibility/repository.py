"""SQL for model architectures, compatibility edges and parser rules."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ARRAY, BindParameter, ColumnElement, Select, Text, any_, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from budgraph import db
from budgraph.db.base import Origin
from budgraph.kit.db import AnyRow, plain_rows
from budgraph.kit.ordering import ListOrder, order_terms
from budgraph.kit.search import escape_like
from budgraph.models.repository import named, named_first
from budgraph.releases.repository import supports_method


@dataclass(frozen=True)
class CompatibleQuery:
    """Which engine versions to list as serving an architecture. Each value is a Python value or a
    bind parameter (for a statement compiled once, as the direct answer compiles it)."""

    architecture: Any  # a class name; None: the architecture of the registered model ``model``
    statuses: Any  # a sequence of EngineVersionStatus values
    model: Any = None
    engine_slug: Any = None
    device_architecture: Any = None
    endpoints: Any = None  # a sequence of Endpoint values, all served
    version_key: Any = None
    quantization: Any = None  # only versions that can run this method
    compute_capability: Any = None  # ... on a device of this capability


def _text_array(value: Any) -> Any:
    return value if isinstance(value, BindParameter) else literal(list(value), ARRAY(Text))


def compatible_versions_statement(query: CompatibleQuery) -> Select[Any]:
    """The engine versions that serve the architecture, by engine, highest version first. A row is
    the version's columns, the engine's as ``engine__<column>``, the architecture's as
    ``architecture__<column>``."""
    version, engine = db.EngineVersion.__table__, db.Engine.__table__
    edge, arch, model = db.CompatibilityEdge.__table__, db.ModelArchitecture.__table__, db.Model.__table__
    class_name = query.architecture
    if class_name is None:
        class_name = (
            select(model.c.architecture)
            .where(named(model.c, query.model))
            .order_by(named_first(model.c, query.model))
            .limit(1)
            .scalar_subquery()
        )
    stmt = (
        select(
            version,
            *(column.label(f"engine__{column.name}") for column in engine.c),
            *(column.label(f"architecture__{column.name}") for column in arch.c),
        )
        .select_from(
            version.join(engine, engine.c.id == version.c.engine_id)
            .join(edge, edge.c.engine_version_id == version.c.id)
            .join(arch, arch.c.id == edge.c.architecture_id)
        )
        .where(arch.c.class_name == class_name, version.c.status == any_(_text_array(query.statuses)))
    )
    if query.engine_slug is not None:
        stmt = stmt.where(engine.c.slug == query.engine_slug)
    if query.device_architecture is not None:
        stmt = stmt.where(version.c.device_architecture == query.device_architecture)
    if query.endpoints is not None:
        stmt = stmt.where(version.c.endpoints.contains(_text_array(query.endpoints)))
    if query.version_key is not None:
        stmt = stmt.where(version.c.version_key == query.version_key)
    if query.quantization is not None:
        stmt = stmt.where(supports_method(version.c.id, query.quantization, query.compute_capability))
    return stmt.order_by(
        version.c.engine_id,
        version.c.version_key.desc(),
        version.c.device_architecture.asc(),
        version.c.id.desc(),
    )


@dataclass(frozen=True)
class ArchitectureQuery:
    search: str | None = None
    families: tuple[str, ...] | None = None
    supports_lora: bool | None = None
    supports_pipeline_parallelism: bool | None = None
    order: ListOrder = None


ARCHITECTURE_ORDER_COLUMNS = {
    "class_name": db.ModelArchitecture.class_name,
    "family": db.ModelArchitecture.family,
    "created_at": db.ModelArchitecture.created_at,
}
RULE_ORDER_COLUMNS = {
    "priority": db.ParserRule.priority,
    "pattern": db.ParserRule.pattern,
    "parser": db.ParserRule.parser,
    "created_at": db.ParserRule.created_at,
}


def _architecture_order(order: ListOrder) -> list[ColumnElement[Any]]:
    """The order of an architecture list; default: class name ascending."""
    field, direction = order or ("class_name", "asc")
    return order_terms(ARCHITECTURE_ORDER_COLUMNS, field, direction, db.ModelArchitecture.id)


def architectures_statement(query: ArchitectureQuery) -> Select[Any]:
    """Architectures, filtered and ordered."""
    return _architectures(query).order_by(*_architecture_order(query.order))


def _architectures(query: ArchitectureQuery) -> Select[Any]:
    arch = db.ModelArchitecture
    stmt = select(arch)
    if query.search:
        pattern = f"%{escape_like(query.search)}%"
        stmt = stmt.where(arch.class_name.ilike(pattern) | arch.family.ilike(pattern))
    if query.families is not None:
        stmt = stmt.where(arch.family.in_(query.families))
    if query.supports_lora is not None:
        stmt = stmt.where(arch.supports_lora.is_(query.supports_lora))
    if query.supports_pipeline_parallelism is not None:
        stmt = stmt.where(arch.supports_pipeline_parallelism.is_(query.supports_pipeline_parallelism))
    return stmt


def architectures_of_versions_statement(query: ArchitectureQuery) -> Select[Any]:
    """Architectures joined to their edges; the parent key is ``CompatibilityEdge.engine_version_id``."""
    joined = _architectures(query).join(
        db.CompatibilityEdge, db.CompatibilityEdge.architecture_id == db.ModelArchitecture.id
    )
    return joined.order_by(*_architecture_order(query.order))


async def architectures_by_class_names(
    session: AsyncSession, names: Sequence[str]
) -> list[db.ModelArchitecture]:
    rows = await session.scalars(
        select(db.ModelArchitecture).where(db.ModelArchitecture.class_name.in_(names))
    )
    return list(rows.all())


async def architecture_rows_by_class_names(session: AsyncSession, names: Sequence[str]) -> Sequence[AnyRow]:
    """The same as plain rows, for reads (no ORM objects)."""
    return await plain_rows(
        session, select(db.ModelArchitecture).where(db.ModelArchitecture.class_name.in_(names))
    )


async def architecture_by_class_name(session: AsyncSession, class_name: str) -> db.ModelArchitecture | None:
    result: db.ModelArchitecture | None = await session.scalar(
        select(db.ModelArchitecture).where(db.ModelArchitecture.class_name == class_name)
    )
    return result


async def class_names_of_version(session: AsyncSession, engine_version_id: int) -> list[str]:
    rows = await session.scalars(
        select(db.ModelArchitecture.class_name)
        .join(db.CompatibilityEdge, db.CompatibilityEdge.architecture_id == db.ModelArchitecture.id)
        .where(db.CompatibilityEdge.engine_version_id == engine_version_id)
        .order_by(db.ModelArchitecture.class_name)
    )
    return list(rows.all())


async def rule_by_natural_key(
    session: AsyncSession, engine_id: int, rule_type: str, match_type: str, pattern: str
) -> db.ParserRule | None:
    rule = db.ParserRule
    result: db.ParserRule | None = await session.scalar(
        select(rule).where(
            rule.engine_id == engine_id,
            rule.rule_type == rule_type,
            rule.match_type == match_type,
            rule.pattern == pattern,
        )
    )
    return result


async def add_edges(
    session: AsyncSession, engine_version_id: int, architecture_ids: Sequence[int]
) -> list[int]:
    """Insert missing edges (existing ones are kept); returns the ids of the inserted edges."""
    if not architecture_ids:
        return []
    existing = set(
        (
            await session.scalars(
                select(db.CompatibilityEdge.architecture_id).where(
                    db.CompatibilityEdge.engine_version_id == engine_version_id,
                    db.CompatibilityEdge.architecture_id.in_(architecture_ids),
                )
            )
        ).all()
    )
    new = [arch_id for arch_id in architecture_ids if arch_id not in existing]
    for arch_id in new:
        session.add(
            db.CompatibilityEdge(
                engine_version_id=engine_version_id, architecture_id=arch_id, origin=Origin.API.value
            )
        )
    await session.flush()
    return new


async def edges_for(
    session: AsyncSession, engine_version_id: int, architecture_ids: Sequence[int]
) -> list[db.CompatibilityEdge]:
    rows = await session.scalars(
        select(db.CompatibilityEdge).where(
            db.CompatibilityEdge.engine_version_id == engine_version_id,
            db.CompatibilityEdge.architecture_id.in_(architecture_ids),
        )
    )
    return list(rows.all())


RULE_COLUMNS = (
    "id",
    "engine_id",
    "rule_type",
    "match_type",
    "pattern",
    "parser",
    "chat_template",
    "priority",
)


def enabled_rules_statement() -> Select[Any]:
    """Every enabled rule of every engine (the columns a rule book keeps)."""
    rule = db.ParserRule.__table__
    return (
        select(*(rule.c[name] for name in RULE_COLUMNS)).where(rule.c.enabled.is_(True)).order_by(rule.c.id)
    )


@dataclass(frozen=True)
class RuleQuery:
    engine_slugs: tuple[str, ...] | None = None
    rule_type: str | None = None
    parser: str | None = None
    enabled: bool | None = None
    search: str | None = None
    order: ListOrder = None


def rules_statement(query: RuleQuery) -> Select[Any]:
    """Parser rules, filtered; by engine, highest priority first, unless ordered otherwise."""
    rule = db.ParserRule
    stmt = select(rule)
    if query.engine_slugs is not None:
        stmt = stmt.where(
            rule.engine_id.in_(select(db.Engine.id).where(db.Engine.slug.in_(query.engine_slugs)))
        )
    if query.rule_type is not None:
        stmt = stmt.where(rule.rule_type == query.rule_type)
    if query.parser is not None:
        stmt = stmt.where(rule.parser == query.parser)
    if query.enabled is not None:
        stmt = stmt.where(rule.enabled.is_(query.enabled))
    if query.search:
        stmt = stmt.where(rule.pattern.ilike(f"%{escape_like(query.search)}%"))
    if query.order is None:
        return stmt.order_by(rule.engine_id.asc(), rule.priority.desc(), rule.id.asc())
    field, direction = query.order
    return stmt.order_by(*order_terms(RULE_ORDER_COLUMNS, field, direction, rule.id))


async def versions_serving(session: AsyncSession, architecture_id: int) -> list[str]:
    """``engine version (device)`` of each engine version that serves an architecture."""
    rows = await session.execute(
        select(db.Engine.slug, db.EngineVersion.version, db.EngineVersion.device_architecture)
        .join(db.EngineVersion, db.EngineVersion.engine_id == db.Engine.id)
        .join(db.CompatibilityEdge, db.CompatibilityEdge.engine_version_id == db.EngineVersion.id)
        .where(db.CompatibilityEdge.architecture_id == architecture_id)
        .order_by(db.Engine.slug, db.EngineVersion.version_key.desc(), db.EngineVersion.device_architecture)
    )
    return [f"{slug} {version} ({device})" for slug, version, device in rows.all()]


async def models_of_architecture(session: AsyncSession, class_name: str) -> list[str]:
    rows = await session.scalars(
        select(db.Model.uri).where(db.Model.architecture == class_name).order_by(db.Model.uri)
    )
    return list(rows.all())
