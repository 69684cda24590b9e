"""Rows for tests, written through the ORM (seeds are tested separately)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
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


async def edge(
    session: AsyncSession, version: db.EngineVersion, arch: db.ModelArchitecture
) -> db.CompatibilityEdge:
    row = db.CompatibilityEdge(engine_version_id=version.id, architecture_id=arch.id)
    session.add(row)
    await session.flush()
    return row


async def model(session: AsyncSession, uri: str, **values: Any) -> db.Model:
    row = db.Model(uri=uri, source_kind=values.pop("source_kind", "huggingface"), **values)
    session.add(row)
    await session.flush()
    return row


async def provider(
    session: AsyncSession, slug: str = "openai", kind: str = "model_api", **values: Any
) -> db.Provider:
    row = db.Provider(slug=slug, name=values.pop("name", slug), kind=kind, origin=Origin.SEED.value, **values)
    session.add(row)
    await session.flush()
    return row


async def provider_model(
    session: AsyncSession, provider: db.Provider, model_id: str, mode: str = "chat", **values: Any
) -> db.ProviderModel:
    row = db.ProviderModel(
        provider_id=provider.id, model_id=model_id, mode=mode, origin=Origin.SEED.value, **values
    )
    session.add(row)
    await session.flush()
    return row


async def hardware(
    session: AsyncSession, sku: str, device: str = "CUDA", vendor: str = "nvidia", **values: Any
) -> db.Hardware:
    row = db.Hardware(
        sku=sku,
        name=values.pop("name", sku),
        vendor=vendor,
        device_architecture=device,
        origin=Origin.SEED.value,
        **values,
    )
    session.add(row)
    await session.flush()
    return row


async def hardware_price(
    session: AsyncSession,
    hardware: db.Hardware,
    provider: db.Provider,
    on_demand_per_hour: str,
    region: str = "us-east-1",
    instance_type: str = "gpu.1x",
    as_of: str = "2025-01-01",
    **values: Any,
) -> db.HardwarePrice:
    row = db.HardwarePrice(
        hardware_id=hardware.id,
        provider_id=provider.id,
        on_demand_per_hour=Decimal(on_demand_per_hour),
        region=region,
        instance_type=instance_type,
        as_of=date.fromisoformat(as_of),
        origin=Origin.SEED.value,
        **values,
    )
    session.add(row)
    await session.flush()
    return row
