"""SQL for engines and engine versions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, select
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.ext.asyncio import AsyncSession

from budgraph import db
from budgraph.db.enums import EngineVersionStatus
from budgraph.kit.db import AnyRow, plain_rows
from budgraph.kit.ordering import ListOrder, direction_of, order_terms
from budgraph.kit.search import escape_like
from budgraph.kit.versions import is_final_key


@dataclass(frozen=True)
class EngineQuery:
    search: str | None = None
    slugs: tuple[str, ...] | None = None
    order: ListOrder = None


@dataclass(frozen=True)
class VersionQuery:
    engine_ids: tuple[int, ...] | None = None
    engine_slugs: tuple[str, ...] | None = None
    device_architectures: tuple[str, ...] | None = None
    statuses: tuple[str, ...] | None = None
    endpoints: tuple[str, ...] | None = None
    architecture: str | None = None
    version_prefix: str | None = None
    # Equal by version order (`0.10` finds `0.10.0`): see kit/versions.py.
    version_key: str | None = None
    order: ListOrder = None


ENGINE_ORDER_COLUMNS = {"name": db.Engine.name, "slug": db.Engine.slug, "created_at": db.Engine.created_at}
VERSION_ORDER_COLUMNS = {
    "version": db.EngineVersion.version_key,
    "release_date": db.EngineVersion.release_date,
    "created_at": db.EngineVersion.created_at,
}


def version_order(field: str, direction: str) -> list[ColumnElement[Any]]:
    """A version order: the field, then the device, then id in the field's direction."""
    tie = db.EngineVersion.id.desc() if direction == "desc" else db.EngineVersion.id.asc()
    return [
        direction_of(VERSION_ORDER_COLUMNS[field], direction),
        db.EngineVersion.device_architecture.asc(),
        tie,
    ]


def _by_engine_then_highest() -> list[ColumnElement[Any]]:
    return [db.EngineVersion.engine_id.asc(), *version_order("version", "desc")]


def engines_statement(query: EngineQuery) -> Select[Any]:
    """Engines, filtered, by slug unless ordered otherwise."""
    stmt = select(db.Engine)
    if query.search:
        pattern = f"%{escape_like(query.search)}%"
        stmt = stmt.where(db.Engine.name.ilike(pattern) | db.Engine.slug.ilike(pattern))
    if query.slugs is not None:
        stmt = stmt.where(db.Engine.slug.in_(query.slugs))
    order: list[ColumnElement[Any]]
    if query.order is None:
        order = [db.Engine.slug.asc()]
    else:
        field, direction = query.order
        order = order_terms(ENGINE_ORDER_COLUMNS, field, direction, db.Engine.id)
    return stmt.order_by(*order, db.Engine.id)


def versions_statement(query: VersionQuery) -> Select[Any]:
    """Engine versions across engines: by engine, highest version first, unless ordered otherwise."""
    order = version_order(*query.order) if query.order else _by_engine_then_highest()
    return _versions(query).order_by(*order)


def versions_of_engines_statement(query: VersionQuery) -> Select[Any]:
    """The versions of each engine (parent: ``engine_id``), highest version first by default."""
    return _versions(query).order_by(*version_order(*(query.order or ("version", "desc"))))


def versions_of_architectures_statement(query: VersionQuery) -> Select[Any]:
    """The versions that serve each architecture (parent: ``CompatibilityEdge.architecture_id``), by
    engine then highest version unless ordered otherwise."""
    order = version_order(*query.order) if query.order else _by_engine_then_highest()
    joined = _versions(query).join(
        db.CompatibilityEdge, db.CompatibilityEdge.engine_version_id == db.EngineVersion.id
    )
    return joined.order_by(*order)


def _versions(query: VersionQuery) -> Select[Any]:
    stmt = select(db.EngineVersion)
    version = db.EngineVersion
    if query.engine_ids is not None:
        stmt = stmt.where(version.engine_id.in_(query.engine_ids))
    if query.engine_slugs is not None:
        stmt = stmt.where(
            version.engine_id.in_(select(db.Engine.id).where(db.Engine.slug.in_(query.engine_slugs)))
        )
    if query.device_architectures is not None:
        stmt = stmt.where(version.device_architecture.in_(query.device_architectures))
    if query.statuses is not None:
        stmt = stmt.where(version.status.in_(query.statuses))
    if query.endpoints:
        stmt = stmt.where(version.endpoints.contains(list(query.endpoints)))
    if query.version_key is not None:
        stmt = stmt.where(version.version_key == query.version_key)
    if query.version_prefix:
        stmt = stmt.where(version.version.startswith(query.version_prefix, autoescape=True))
    if query.architecture is not None:
        stmt = stmt.where(
            version.id.in_(
                select(db.CompatibilityEdge.engine_version_id)
                .join(db.ModelArchitecture, db.ModelArchitecture.id == db.CompatibilityEdge.architecture_id)
                .where(db.ModelArchitecture.class_name == query.architecture)
            )
        )
    return stmt


async def engine_by_slug(session: AsyncSession, slug: str) -> db.Engine | None:
    result: db.Engine | None = await session.scalar(select(db.Engine).where(db.Engine.slug == slug))
    return result


async def version_by_key(
    session: AsyncSession, engine_id: int, version_key: str, device_architecture: str
) -> db.EngineVersion | None:
    """The version of an engine for a device that equals ``version_key`` by version order."""
    result: db.EngineVersion | None = await session.scalar(
        select(db.EngineVersion).where(
            db.EngineVersion.engine_id == engine_id,
            db.EngineVersion.version_key == version_key,
            db.EngineVersion.device_architecture == device_architecture,
        )
    )
    return result


async def latest_versions(
    session: AsyncSession,
    engine_ids: Sequence[int],
    device_architecture: str | None,
    include_prereleases: bool = False,
) -> dict[int, AnyRow]:
    """The latest active version of each engine (optionally on one device), as pip chooses: the
    highest final release, or the highest pre-release when there is no final one; with
    ``include_prereleases``, the highest version of all."""
    version = db.EngineVersion
    order: list[ColumnElement[Any]] = [version.engine_id.expression]
    if not include_prereleases:
        order.append(is_final_key(version.version_key).desc())
    stmt = (
        select(version)
        .where(version.engine_id.in_(engine_ids), version.status == EngineVersionStatus.ACTIVE.value)
        .ext(distinct_on(version.engine_id))
        .order_by(*order, version.version_key.desc(), version.id.desc())
    )
    if device_architecture is not None:
        stmt = stmt.where(db.EngineVersion.device_architecture == device_architecture)
    return {row.engine_id: row for row in await plain_rows(session, stmt)}


async def versions_of_engine(session: AsyncSession, engine_id: int) -> list[db.EngineVersion]:
    rows = await session.scalars(
        select(db.EngineVersion)
        .where(db.EngineVersion.engine_id == engine_id)
        .order_by(db.EngineVersion.version_key.desc(), db.EngineVersion.device_architecture)
    )
    return list(rows.all())


async def rules_of_engine(session: AsyncSession, engine_id: int) -> list[db.ParserRule]:
    rows = await session.scalars(
        select(db.ParserRule).where(db.ParserRule.engine_id == engine_id).order_by(db.ParserRule.id)
    )
    return list(rows.all())


async def edges_of_version(session: AsyncSession, version_id: int) -> list[db.CompatibilityEdge]:
    rows = await session.scalars(
        select(db.CompatibilityEdge)
        .where(db.CompatibilityEdge.engine_version_id == version_id)
        .order_by(db.CompatibilityEdge.id)
    )
    return list(rows.all())


def latest_of_slug_statement(
    slug: Any, device_architecture: Any | None, include_prereleases: bool
) -> Select[Any]:
    """The latest active version of the engine ``slug`` (as ``latest_versions`` chooses it): one row
    of the version table, or none."""
    version, engine = db.EngineVersion.__table__, db.Engine.__table__
    order: list[ColumnElement[Any]] = []
    if not include_prereleases:
        order.append(is_final_key(version.c.version_key).desc())
    latest = (
        select(version)
        .join(engine, engine.c.id == version.c.engine_id)
        .where(engine.c.slug == slug, version.c.status == EngineVersionStatus.ACTIVE.value)
        .order_by(*order, version.c.version_key.desc(), version.c.id.desc())
        .limit(1)
    )
    if device_architecture is not None:
        latest = latest.where(version.c.device_architecture == device_architecture)
    return latest


async def quantization_of_version(session: AsyncSession, version_id: int) -> list[db.QuantizationSupport]:
    rows = await session.scalars(
        select(db.QuantizationSupport).where(db.QuantizationSupport.engine_version_id == version_id)
    )
    return list(rows.all())
