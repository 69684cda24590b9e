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
    slug = required_text(slug, "slug").lower()
    if await repository.engine_by_slug(session, slug) is not None:
        raise Conflict(f"an engine with slug {slug!r} already exists", field="slug")
    row = db.Engine(
        slug=slug, name=required_text(name, "name"), homepage_url=homepage_url, origin=Origin.API.value
    )
    session.add(row)
    await flush(session, f"engine {slug!r}")
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
    version = required_text(new.version, "version")
    key = checked_version_key(version)
    engine = await session.get(db.Engine, new.engine_id)
    if engine is None:
        raise NotFound("no engine with that id", field="engineId")
    if await repository.version_by_natural_key(session, engine.id, version, new.device_architecture):
        raise Conflict(
            f"{engine.slug} {version} for {new.device_architecture} already exists", field="version"
        )
    row = db.EngineVersion(
        engine_id=engine.id,
        version=version,
        version_key=key,
        device_architecture=new.device_architecture,
        container_image=required_text(new.container_image, "containerImage"),
        release_date=new.release_date,
        status=new.status,
        endpoints=sorted(set(new.endpoints)),
        features=sorted(set(new.features)),
        tool_call_parsers=sorted(set(new.tool_call_parsers)),
        reasoning_parsers=sorted(set(new.reasoning_parsers)),
        origin=Origin.API.value,
    )
    session.add(row)
    await flush(session, f"{engine.slug} {version} for {new.device_architecture}")
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
    """Delete an engine version with its compatibility edges."""
    await lock(session, version)
    edges = await repository.edges_of_version(session, version.id)
    return await delete_rows(session, edges, version, f"engine version {version.version}")
