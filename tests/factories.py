"""Rows for tests, written through the ORM (seeds are tested separately)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from budgraph import db
from budgraph.db.base import Origin
from budgraph.kit.versions import version_key


async def engine(session: AsyncSession, slug: str = "vllm", name: str | None = None) -> db.Engine:
    row = db.Engine(slug=slug, name=name or slug, origin=Origin.SEED.value)
    session.add(row)
    await session.flush()
    return row


async def version(
    session: AsyncSession, engine: db.Engine, version: str, device: str = "CUDA", **values: Any
) -> db.EngineVersion:
    row = db.EngineVersion(
        engine_id=engine.id,
        version=version,
        version_key=version_key(version),
        device_architecture=device,
        container_image=values.pop("container_image", f"example/{engine.slug}-{device.lower()}:{version}"),
        **values,
    )
    session.add(row)
    await session.flush()
    return row


async def architecture(session: AsyncSession, class_name: str, **values: Any) -> db.ModelArchitecture:
    row = db.ModelArchitecture(class_name=class_name, **values)
    session.add(row)
    await session.flush()
    return row


async def edge(session: AsyncSession, version: db.EngineVersion, arch: db.ModelArchitecture) -> db.CompatibilityEdge:
    row = db.CompatibilityEdge(engine_version_id=version.id, architecture_id=arch.id)
    session.add(row)
    await session.flush()
    return row


async def model(session: AsyncSession, uri: str, **values: Any) -> db.Model:
    row = db.Model(uri=uri, source_kind=values.pop("source_kind", "huggingface"), **values)
    session.add(row)
    await session.flush()
    return row
