"""Rules for writing engines and engine versions."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from budgraph import db
from budgraph.compatibility import service as compatibility
from budgraph.db.base import Origin
from budgraph.db.enums import EngineVersionStatus
from budgraph.engines import repository
from budgraph.kit.creates import create_once, first_difference, lock_natural_key, refuse_difference
from budgraph.kit.deletes import delete_rows, lock, refuse_if_referenced
from budgraph.kit.edits import apply_operator_edit
from budgraph.kit.errors import BudgraphError, Conflict, NotFound
from budgraph.kit.versions import InvalidVersionString, version_key
from budgraph.kit.writes import flush, required_text


@dataclass(frozen=True)
class NewEngineVersion:
    engine_id: int
    version: str
    device_architecture: str
    container_image: str
    release_date: date | None = None
    status: str = EngineVersionStatus.ACTIVE.value
    endpoints: list[str] = field(default_factory=list)
    features: list[str] = field(default_factory=list)
    tool_call_parsers: list[str] = field(default_factory=list)
    reasoning_parsers: list[str] = field(default_factory=list)
    architectures: list[str] = field(default_factory=list)


async def create_engine(session: AsyncSession, slug: str, name: str, homepage_url: str | None) -> db.Engine:
    """A new engine; an identical repeat answers the existing one."""
    slug = required_text(slug, "slug").lower()
    values = {"name": required_text(name, "name"), "homepage_url": homepage_url}
    row, _ = await create_once(
        session,
        db.Engine,
        {"slug": slug},
        values,
        f"an engine with slug {slug!r}",
        lambda: repository.engine_by_slug(session, slug),
    )
    return row


async def update_engine(session: AsyncSession, row: db.Engine, changes: dict[str, Any]) -> db.Engine:
    if "name" in changes:
        changes["name"] = required_text(changes["name"], "name")
    apply_operator_edit(row, changes)
    await flush(session, f"engine {row.slug!r}")
    return row


def checked_version_key(version: str) -> str:
    try:
        return version_key(version)
    except InvalidVersionString as error:
        raise BudgraphError(str(error), field="version") from None


async def create_version(session: AsyncSession, new: NewEngineVersion) -> db.EngineVersion:
    """A new version; an identical repeat answers the existing one. A version equal to an existing
    one by version order (``0.10`` and ``0.10.0``) is the same version: a CONFLICT."""
    version = required_text(new.version, "version")
    key = checked_version_key(version)
    engine = await session.get(db.Engine, new.engine_id)
    if engine is None:
        raise NotFound("no engine with that id", field="engineId")
    device = new.device_architecture
    what = f"{engine.slug} {version} for {device}"
    await lock_natural_key(session, db.EngineVersion.__tablename__, [engine.id, key, device])
    values = {
        "version": version,
        "container_image": required_text(new.container_image, "containerImage"),
        "release_date": new.release_date,
        "status": new.status,
        "endpoints": sorted(set(new.endpoints)),
        "features": sorted(set(new.features)),
        "tool_call_parsers": sorted(set(new.tool_call_parsers)),
        "reasoning_parsers": sorted(set(new.reasoning_parsers)),
    }
    existing = await repository.version_by_key(session, engine.id, key, device)
    if existing is not None:
        if existing.version != version:
            raise Conflict(
                f"{what} is the same version as the existing {existing.version!r}", field="version"
            )
        different = first_difference(existing, values)
        if different is None and set(new.architectures) != set(
            await compatibility.class_names_of(session, existing.id)
        ):
            different = "architectures"
        if different is not None:
            raise refuse_difference(what, different)
        return existing
    row = db.EngineVersion(
        engine_id=engine.id,
        version_key=key,
        device_architecture=device,
        **values,
        origin=Origin.API.value,
    )
    session.add(row)
    await flush(session, what)
    if new.architectures:
        await compatibility.add_architectures(session, row, new.architectures)
    return row


async def update_version(
    session: AsyncSession, row: db.EngineVersion, changes: dict[str, Any]
) -> db.EngineVersion:
    if "container_image" in changes:
        changes["container_image"] = required_text(changes["container_image"], "containerImage")
    for name in ("endpoints", "features", "tool_call_parsers", "reasoning_parsers"):
        if name in changes:
            changes[name] = sorted(set(changes[name]))
    apply_operator_edit(row, changes)
    await flush(session, f"engine version {row.version}")
    return row


async def delete_engine(session: AsyncSession, engine: db.Engine) -> list[Any]:
    """Delete an engine with its parser rules; refused while it has versions."""
    what = f"engine {engine.slug!r}"
    await lock(session, engine)
    versions = await repository.versions_of_engine(session, engine.id)
    refuse_if_referenced(
        what,
        [f"{v.version} ({v.device_architecture})" for v in versions],
        "engine versions",
        "delete those versions first",
    )
    rules = await repository.rules_of_engine(session, engine.id)
    return await delete_rows(session, rules, engine, what)


async def delete_version(session: AsyncSession, version: db.EngineVersion) -> list[Any]:
    """Delete an engine version with its compatibility edges and quantization rows."""
    await lock(session, version)
    edges = await repository.edges_of_version(session, version.id)
    support = await repository.quantization_of_version(session, version.id)
    return await delete_rows(session, [*edges, *support], version, f"engine version {version.version}")
