"""SQL of deployment plans: the engine versions that could serve a model on a device, their
quantization rows, the current offers of a SKU, and the models worth planning on a SKU."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, Text, and_, any_, func, literal, select
from sqlalchemy.dialects.postgresql import ARRAY, distinct_on
from sqlalchemy.ext.asyncio import AsyncSession

from budgraph import db
from budgraph.compatibility.repository import CompatibleQuery, compatible_versions_statement
from budgraph.db.enums import EngineVersionStatus
from budgraph.hardware.repository import OFFER
from budgraph.kit.db import AnyRow, plain_rows
from budgraph.models.repository import named_statement


async def serving_versions(session: AsyncSession, class_names: Sequence[str]) -> Sequence[AnyRow]:
    """Active engine versions serving the architectures, on every device (the runtime slice's rows:
    version columns, ``engine__*`` and ``architecture__*``), by engine, highest version first."""
    query = CompatibleQuery(
        architecture=any_(literal(list(class_names), ARRAY(Text))),
        statuses=[EngineVersionStatus.ACTIVE.value],
    )
    return await plain_rows(session, compatible_versions_statement(query))


async def current_offers(
    session: AsyncSession, hardware_ids: Sequence[int], currency: str
) -> Sequence[AnyRow]:
    """The SKUs' current offers in ``currency`` (each offer's latest price), cheapest first."""
    price = db.HardwarePrice
    latest = (
        select(price.id)
        .where(price.hardware_id.in_(hardware_ids), price.currency == currency)
        .ext(distinct_on(*OFFER))
        .order_by(*OFFER, price.as_of.desc(), price.id.desc())
    )
    stmt = (
        select(price, db.Provider.slug.label("provider_slug"))
        .join(db.Provider, db.Provider.id == price.provider_id)
        .where(price.id.in_(latest))
        .order_by(price.on_demand_per_hour, price.id)
    )
    return await plain_rows(session, stmt)


def models_worth_planning_statement(
    device_architecture: str, weight_budget: int, after_uri: str | None, limit: int
) -> Select[Any]:
    """Models, by uri, whose weights could fit ``weight_budget`` bytes at all (their stored bytes,
    or a quarter of them for a 4-bit variant of a 16-bit model) and whose architecture some active
    engine version serves on the device."""
    model, edge, version, arch = db.Model, db.CompatibilityEdge, db.EngineVersion, db.ModelArchitecture
    served = (
        select(edge.id)
        .join(version, version.id == edge.engine_version_id)
        .join(arch, arch.id == edge.architecture_id)
        .where(
            arch.class_name == model.architecture,
            version.device_architecture == device_architecture,
            version.status == EngineVersionStatus.ACTIVE.value,
        )
        .exists()
    )
    smallest = func.coalesce(model.weight_bytes, model.parameter_count * 2) / 4
    stmt = (
        select(model)
        .where(model.architecture.is_not(None), smallest <= literal(weight_budget), served)
        .order_by(model.uri, model.id)
        .limit(limit)
    )
    if after_uri is not None:
        stmt = stmt.where(model.uri > after_uri)
    return stmt


async def models_worth_planning(
    session: AsyncSession, device_architecture: str, weight_budget: int, after_uri: str | None, limit: int
) -> Sequence[AnyRow]:
    return await plain_rows(
        session, models_worth_planning_statement(device_architecture, weight_budget, after_uri, limit)
    )


async def priced_hardware(session: AsyncSession, currency: str) -> Sequence[AnyRow]:
    """The SKUs with at least one price in ``currency``, by SKU."""
    hardware, price = db.Hardware, db.HardwarePrice
    priced = (
        select(price.id).where(and_(price.hardware_id == hardware.id, price.currency == currency)).exists()
    )
    return await plain_rows(session, select(hardware).where(priced).order_by(hardware.sku))


async def hardware_by_sku(session: AsyncSession, sku: str) -> AnyRow | None:
    rows = await plain_rows(session, select(db.Hardware).where(db.Hardware.sku == sku))
    return rows[0] if rows else None


async def model_row(session: AsyncSession, uri: str) -> AnyRow | None:
    """A registered model by uri (Hub ids case-insensitively), as plain columns."""
    rows = await plain_rows(session, named_statement(uri).limit(1))
    return rows[0] if rows else None
