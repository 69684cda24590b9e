"""SQL of upstream releases and quantization support."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Integer, Select, Text, and_, func, literal, or_, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from budgraph import db
from budgraph.kit.db import AnyRow, plain_rows
from budgraph.models.repository import named, named_first


def capability_at_least(have: Any, needed: Any) -> ColumnElement[bool]:
    """SQL: a compute capability ``have`` ("8.9") reaches ``needed`` (major, then minor, as numbers);
    a row without a minimum applies to any capability."""
    if isinstance(have, str):
        have = literal(have, Text)
    return or_(
        needed.is_(None),
        and_(
            have.is_not(None),
            func.string_to_array(needed, ".").cast(ARRAY(Integer))
            <= func.string_to_array(have, ".").cast(ARRAY(Integer)),
        ),
    )


# Reads (GraphQL): plain rows, lists ordered as the API lists them.


def releases_statement(engine_slug: str | None) -> Select[Any]:
    """Upstream releases, by engine, highest version first."""
    release = db.UpstreamRelease
    stmt = select(release)
    if engine_slug is not None:
        stmt = stmt.where(release.engine_id.in_(select(db.Engine.id).where(db.Engine.slug == engine_slug)))
    return stmt.order_by(release.engine_id, release.version_key.desc(), release.id)


def architectures_of_releases_statement() -> Select[Any]:
    """The architectures of releases by class name; the parent key is ``release_id``."""
    upstream = db.UpstreamArchitecture
    return (
        select(upstream)
        .join(db.ModelArchitecture, db.ModelArchitecture.id == upstream.architecture_id)
        .order_by(db.ModelArchitecture.class_name, upstream.id)
    )


async def dropped_of_releases(session: AsyncSession, release_ids: Sequence[int]) -> Sequence[AnyRow]:
    dropped = db.UpstreamDroppedArchitecture
    return await plain_rows(
        session,
        select(dropped).where(dropped.release_id.in_(release_ids)).order_by(dropped.class_name),
    )


async def quantization_of_releases(session: AsyncSession, release_ids: Sequence[int]) -> Sequence[AnyRow]:
    declared = db.UpstreamQuantization
    return await plain_rows(
        session,
        select(declared)
        .where(declared.release_id.in_(release_ids))
        .order_by(declared.method, declared.device_architecture),
    )


async def support_of_versions(session: AsyncSession, version_ids: Sequence[int]) -> Sequence[AnyRow]:
    support = db.QuantizationSupport
    return await plain_rows(
        session,
        select(support).where(support.engine_version_id.in_(version_ids)).order_by(support.method),
    )


@dataclass(frozen=True)
class SupportQuery:
    """Which quantization rows to list (all given conditions hold)."""

    engine_slug: str | None = None
    version_key: str | None = None
    device_architecture: str | None = None
    method: str | None = None
    compute_capability: str | None = None  # rows this capability reaches


def _support_order() -> list[Any]:
    support = db.QuantizationSupport
    return [support.engine_version_id, support.method, support.id]


def support_statement(query: SupportQuery) -> Select[Any]:
    """Quantization rows, by engine version then method."""
    support, version = db.QuantizationSupport, db.EngineVersion
    stmt = select(support)
    if query.engine_slug is not None or query.version_key is not None:
        versions = select(version.id)
        if query.engine_slug is not None:
            versions = versions.where(
                version.engine_id.in_(select(db.Engine.id).where(db.Engine.slug == query.engine_slug))
            )
        if query.version_key is not None:
            versions = versions.where(version.version_key == query.version_key)
        stmt = stmt.where(support.engine_version_id.in_(versions))
    if query.device_architecture is not None:
        stmt = stmt.where(support.device_architecture == query.device_architecture)
    if query.method is not None:
        stmt = stmt.where(support.method == query.method)
    if query.compute_capability is not None:
        stmt = stmt.where(capability_at_least(query.compute_capability, support.min_compute_capability))
    return stmt.order_by(*_support_order())


def support_of_hardware_statement() -> Select[Any]:
    """Quantization rows a hardware SKU can run (its device, and a capability that reaches the
    row's minimum); the parent key is ``Hardware.id``."""
    support, hardware = db.QuantizationSupport, db.Hardware
    return (
        select(support)
        .join(
            hardware,
            and_(
                hardware.device_architecture == support.device_architecture,
                capability_at_least(hardware.compute_capability, support.min_compute_capability),
            ),
        )
        .order_by(*_support_order())
    )


def supports_method(version_id: Any, method: Any, compute_capability: Any = None) -> ColumnElement[bool]:
    """SQL: the engine version ``version_id`` (a column of the surrounding query) can run ``method``
    (on a device of this capability, when one is given)."""
    support = db.QuantizationSupport
    condition = and_(support.engine_version_id == version_id, support.method == method)
    if compute_capability is not None:
        condition = and_(condition, capability_at_least(compute_capability, support.min_compute_capability))
    return select(support.id).where(condition).exists()


# Writes (the recorder): ORM rows, so the change recorder sees every one.


async def engine_by_slug(session: AsyncSession, slug: str) -> db.Engine | None:
    found: db.Engine | None = await session.scalar(select(db.Engine).where(db.Engine.slug == slug))
    return found


async def release_by_key(
    session: AsyncSession, engine_id: int, version_key: str
) -> db.UpstreamRelease | None:
    release = db.UpstreamRelease
    found: db.UpstreamRelease | None = await session.scalar(
        select(release).where(release.engine_id == engine_id, release.version_key == version_key)
    )
    return found


async def release_before(
    session: AsyncSession, engine_id: int, version_key: str
) -> db.UpstreamRelease | None:
    """The engine's highest recorded release below ``version_key``."""
    release = db.UpstreamRelease
    found: db.UpstreamRelease | None = await session.scalar(
        select(release)
        .where(release.engine_id == engine_id, release.version_key < version_key)
        .order_by(release.version_key.desc())
        .limit(1)
    )
    return found


async def architectures_by_class_names(
    session: AsyncSession, names: Sequence[str]
) -> list[db.ModelArchitecture]:
    rows = await session.scalars(
        select(db.ModelArchitecture).where(db.ModelArchitecture.class_name.in_(names))
    )
    return list(rows.all())


async def declared_architectures(session: AsyncSession, release_id: int) -> list[db.UpstreamArchitecture]:
    rows = await session.scalars(
        select(db.UpstreamArchitecture).where(db.UpstreamArchitecture.release_id == release_id)
    )
    return list(rows.all())


async def declared_class_names(session: AsyncSession, release_id: int) -> dict[int, str]:
    """Architecture id -> class name of every architecture a release serves."""
    rows = await session.execute(
        select(db.ModelArchitecture.id, db.ModelArchitecture.class_name)
        .join(db.UpstreamArchitecture, db.UpstreamArchitecture.architecture_id == db.ModelArchitecture.id)
        .where(db.UpstreamArchitecture.release_id == release_id)
    )
    return {arch_id: name for arch_id, name in rows.all()}


async def dropped_architectures(
    session: AsyncSession, release_id: int
) -> list[db.UpstreamDroppedArchitecture]:
    rows = await session.scalars(
        select(db.UpstreamDroppedArchitecture).where(db.UpstreamDroppedArchitecture.release_id == release_id)
    )
    return list(rows.all())


async def declared_quantization(session: AsyncSession, release_id: int) -> list[db.UpstreamQuantization]:
    rows = await session.scalars(
        select(db.UpstreamQuantization).where(db.UpstreamQuantization.release_id == release_id)
    )
    return list(rows.all())


async def edges_of_version(session: AsyncSession, version_id: int) -> list[tuple[db.CompatibilityEdge, str]]:
    """A version's edges, each with its architecture's class name."""
    rows = await session.execute(
        select(db.CompatibilityEdge, db.ModelArchitecture.class_name)
        .join(db.ModelArchitecture, db.ModelArchitecture.id == db.CompatibilityEdge.architecture_id)
        .where(db.CompatibilityEdge.engine_version_id == version_id)
    )
    return [(edge, name) for edge, name in rows.all()]


async def support_rows_of_version(session: AsyncSession, version_id: int) -> list[db.QuantizationSupport]:
    rows = await session.scalars(
        select(db.QuantizationSupport).where(db.QuantizationSupport.engine_version_id == version_id)
    )
    return list(rows.all())


async def support_row(session: AsyncSession, version_id: int, method: str) -> db.QuantizationSupport | None:
    support = db.QuantizationSupport
    found: db.QuantizationSupport | None = await session.scalar(
        select(support).where(support.engine_version_id == version_id, support.method == method)
    )
    return found


async def versions_naming(session: AsyncSession, release_id: int) -> list[str]:
    """``version (device)`` of each engine version that packages a release."""
    rows = await session.execute(
        select(db.EngineVersion.version, db.EngineVersion.device_architecture)
        .where(db.EngineVersion.upstream_release_id == release_id)
        .order_by(db.EngineVersion.version_key, db.EngineVersion.device_architecture)
    )
    return [f"{version} ({device})" for version, device in rows.all()]


async def versions_of_releases(session: AsyncSession, release_ids: Sequence[int]) -> Sequence[AnyRow]:
    version = db.EngineVersion
    return await plain_rows(
        session,
        select(version)
        .where(version.upstream_release_id.in_(release_ids))
        .order_by(version.version_key.desc(), version.device_architecture, version.id),
    )


async def engine_exists(session: AsyncSession, slug: str) -> bool:
    return bool(await session.scalar(select(select(db.Engine.id).where(db.Engine.slug == slug).exists())))


async def version_exists(session: AsyncSession, slug: str, key: str) -> bool:
    version = db.EngineVersion
    found = (
        select(version.id)
        .join(db.Engine, db.Engine.id == version.engine_id)
        .where(db.Engine.slug == slug, version.version_key == key)
        .exists()
    )
    return bool(await session.scalar(select(found)))


async def release_row(session: AsyncSession, slug: str, key: str) -> AnyRow | None:
    release = db.UpstreamRelease
    rows = await plain_rows(
        session,
        select(release)
        .join(db.Engine, db.Engine.id == release.engine_id)
        .where(db.Engine.slug == slug, release.version_key == key),
    )
    return rows[0] if rows else None


async def quantization_method_of_model(session: AsyncSession, uri: str) -> str | None:
    """The quantization method of the registered model ``uri`` (None: unknown or unquantized)."""
    model = db.Model
    found: str | None = await session.scalar(
        select(model.quantization_method).where(named(model, uri)).order_by(named_first(model, uri)).limit(1)
    )
    return found


async def builds_of(session: AsyncSession, engine_id: int, version_key: str) -> list[db.EngineVersion]:
    """Every build (one per device) of an engine's version."""
    version = db.EngineVersion
    rows = await session.scalars(
        select(version)
        .where(version.engine_id == engine_id, version.version_key == version_key)
        .order_by(version.device_architecture)
    )
    return list(rows.all())


DERIVED_ORIGINS = ("seed", "release")


async def unsourced_rows(session: AsyncSession) -> list[str]:
    """Seeded or derived edges and quantization rows without a source or source URL."""
    found = []
    for table, what in (
        (db.CompatibilityEdge, "compatibility edge"),
        (db.QuantizationSupport, "quantization row"),
    ):
        rows = await session.execute(
            select(
                db.Engine.slug, db.EngineVersion.version, db.EngineVersion.device_architecture, func.count()
            )
            .select_from(table)
            .join(db.EngineVersion, db.EngineVersion.id == table.engine_version_id)
            .join(db.Engine, db.Engine.id == db.EngineVersion.engine_id)
            .where(table.origin.in_(DERIVED_ORIGINS), or_(table.source.is_(None), table.source_url.is_(None)))
            .group_by(db.Engine.slug, db.EngineVersion.version, db.EngineVersion.device_architecture)
            .order_by(db.Engine.slug, db.EngineVersion.version, db.EngineVersion.device_architecture)
        )
        found += [
            f"{count} {what}s of {slug} {version} ({device}) have no source"
            for slug, version, device, count in rows.all()
        ]
    return found


async def claims_beyond_release(session: AsyncSession) -> list[str]:
    """Seeded or derived edges of versions that package a release, to architectures the release
    does not declare."""
    edge, version, arch = db.CompatibilityEdge, db.EngineVersion, db.ModelArchitecture
    declared = (
        select(db.UpstreamArchitecture.id)
        .where(
            db.UpstreamArchitecture.release_id == version.upstream_release_id,
            db.UpstreamArchitecture.architecture_id == edge.architecture_id,
        )
        .exists()
    )
    rows = await session.execute(
        select(
            db.Engine.slug,
            version.version,
            version.device_architecture,
            arch.class_name,
            db.UpstreamRelease.version,
        )
        .select_from(edge)
        .join(version, version.id == edge.engine_version_id)
        .join(db.Engine, db.Engine.id == version.engine_id)
        .join(arch, arch.id == edge.architecture_id)
        .join(db.UpstreamRelease, db.UpstreamRelease.id == version.upstream_release_id)
        .where(edge.origin.in_(DERIVED_ORIGINS), ~declared)
        .order_by(db.Engine.slug, version.version_key, version.device_architecture, arch.class_name)
    )
    return [
        f"{slug} {number} ({device}) claims {name}, which its upstream release {release} does not declare"
        for slug, number, device, name, release in rows.all()
    ]
