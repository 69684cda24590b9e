"""SQL for hardware SKUs and their prices."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Integer, Select, cast, func, select
from sqlalchemy.dialects.postgresql import ARRAY, array, distinct_on
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from budgraph import db
from budgraph.kit.search import escape_like


@dataclass(frozen=True)
class HardwareQuery:
    search: str | None = None
    vendors: tuple[str, ...] | None = None
    device_architectures: tuple[str, ...] | None = None
    min_memory_gb: Decimal | None = None
    max_memory_gb: Decimal | None = None
    # (major, minor): compared as numbers, so 8.9 < 10.0.
    min_compute_capability: tuple[int, int] | None = None
    min_bf16_tflops: Decimal | None = None


@dataclass(frozen=True)
class PriceQuery:
    skus: tuple[str, ...] | None = None
    provider_slugs: tuple[str, ...] | None = None
    regions: tuple[str, ...] | None = None
    device_architectures: tuple[str, ...] | None = None
    min_on_demand_per_hour: Decimal | None = None
    max_on_demand_per_hour: Decimal | None = None
    # Per offer, only its price in effect on this date (its latest dated on or before it).
    in_effect_on: date | None = None
    # Per offer, only its current (latest) price.
    current_only: bool = False


HARDWARE_ORDER_COLUMNS = {
    "name": db.Hardware.name,
    "memory": db.Hardware.memory_gb,
    "bandwidth": db.Hardware.memory_bandwidth_gbps,
    "bf16_tflops": db.Hardware.peak_bf16_tflops,
    "release_year": db.Hardware.release_year,
}

PRICE_ORDER_COLUMNS = {
    "on_demand": db.HardwarePrice.on_demand_per_hour,
    "spot": db.HardwarePrice.spot_per_hour,
    "as_of": db.HardwarePrice.as_of,
}


def hardware_order(field: str, direction: str) -> list[ColumnElement[Any]]:
    """Unknown specs sort last either way; ties by name."""
    column = HARDWARE_ORDER_COLUMNS[field]
    primary = column.desc().nulls_last() if direction == "desc" else column.asc().nulls_last()
    return [primary, db.Hardware.name.asc(), db.Hardware.id.asc()]


def price_order(field: str, direction: str) -> list[ColumnElement[Any]]:
    """Prices without the value (no spot price) sort last either way; ties by on-demand price."""
    column = PRICE_ORDER_COLUMNS[field]
    primary = column.desc().nulls_last() if direction == "desc" else column.asc().nulls_last()
    return [primary, db.HardwarePrice.on_demand_per_hour.asc(), db.HardwarePrice.id.asc()]


def compute_capability_of(column: Any) -> ColumnElement[Any]:
    """A `major.minor` text column as an integer array, which PostgreSQL compares number by number."""
    return cast(func.string_to_array(column, "."), ARRAY(Integer))


def hardware_statement(query: HardwareQuery, order: tuple[str, str]) -> Select[Any]:
    """Hardware SKUs, filtered and in ``order`` (field, direction)."""
    return _hardware(query).order_by(*hardware_order(*order))


def _hardware(query: HardwareQuery) -> Select[Any]:
    hardware = db.Hardware
    stmt = select(hardware)
    if query.search:
        pattern = f"%{escape_like(query.search)}%"
        stmt = stmt.where(
            hardware.name.ilike(pattern) | hardware.sku.ilike(pattern) | hardware.vendor.ilike(pattern)
        )
    if query.vendors is not None:
        stmt = stmt.where(func.lower(hardware.vendor).in_([vendor.lower() for vendor in query.vendors]))
    if query.device_architectures is not None:
        stmt = stmt.where(hardware.device_architecture.in_(query.device_architectures))
    if query.min_memory_gb is not None:
        stmt = stmt.where(hardware.memory_gb >= query.min_memory_gb)
    if query.max_memory_gb is not None:
        stmt = stmt.where(hardware.memory_gb <= query.max_memory_gb)
    if query.min_compute_capability is not None:
        stmt = stmt.where(
            compute_capability_of(hardware.compute_capability) >= array(query.min_compute_capability)
        )
    if query.min_bf16_tflops is not None:
        stmt = stmt.where(hardware.peak_bf16_tflops >= query.min_bf16_tflops)
    return stmt


def prices_statement(query: PriceQuery, order: tuple[str, str]) -> Select[Any]:
    """Hardware prices, filtered and in ``order`` (field, direction)."""
    return _prices(query).order_by(*price_order(*order))


def _prices(query: PriceQuery) -> Select[Any]:
    price = db.HardwarePrice
    stmt = select(price)
    hardware_conditions = []
    if query.skus is not None:
        hardware_conditions.append(db.Hardware.sku.in_(query.skus))
    if query.device_architectures is not None:
        hardware_conditions.append(db.Hardware.device_architecture.in_(query.device_architectures))
    if hardware_conditions:
        stmt = stmt.where(price.hardware_id.in_(select(db.Hardware.id).where(*hardware_conditions)))
    if query.provider_slugs is not None:
        stmt = stmt.where(
            price.provider_id.in_(select(db.Provider.id).where(db.Provider.slug.in_(query.provider_slugs)))
        )
    if query.regions is not None:
        stmt = stmt.where(price.region.in_(query.regions))
    if query.min_on_demand_per_hour is not None:
        stmt = stmt.where(price.on_demand_per_hour >= query.min_on_demand_per_hour)
    if query.max_on_demand_per_hour is not None:
        stmt = stmt.where(price.on_demand_per_hour <= query.max_on_demand_per_hour)
    if query.current_only or query.in_effect_on is not None:
        stmt = stmt.where(price.id.in_(_prices_in_effect(query.in_effect_on)))
    return stmt


OFFER = (
    db.HardwarePrice.hardware_id,
    db.HardwarePrice.provider_id,
    db.HardwarePrice.region,
    db.HardwarePrice.instance_type,
)


def _prices_in_effect(on: date | None) -> Select[Any]:
    """Ids of each offer's latest price (dated on or before ``on``, when given).

    An offer is a SKU at a provider, region and instance type; its prices are dated observations.
    """
    price = db.HardwarePrice
    stmt = select(price.id).ext(distinct_on(*OFFER)).order_by(*OFFER, price.as_of.desc(), price.id.desc())
    if on is not None:
        stmt = stmt.where(price.as_of <= on)
    return stmt


async def hardware_by_sku(session: AsyncSession, sku: str) -> db.Hardware | None:
    result: db.Hardware | None = await session.scalar(select(db.Hardware).where(db.Hardware.sku == sku))
    return result


async def price_by_natural_key(
    session: AsyncSession, hardware_id: int, provider_id: int, region: str, instance_type: str, as_of: date
) -> db.HardwarePrice | None:
    price = db.HardwarePrice
    result: db.HardwarePrice | None = await session.scalar(
        select(price).where(
            price.hardware_id == hardware_id,
            price.provider_id == provider_id,
            price.region == region,
            price.instance_type == instance_type,
            price.as_of == as_of,
        )
    )
    return result


async def cheapest_prices(
    session: AsyncSession, hardware_ids: Sequence[int], region: str | None, currency: str
) -> dict[int, db.HardwarePrice]:
    """Per SKU, the lowest on-demand price per device among current offers.

    An offer is a (provider, region, instance type); its current price is the one with the latest
    ``as_of``, so an old, since-raised price never counts as the cheapest.
    """
    price = db.HardwarePrice
    current = (
        select(price)
        .where(price.hardware_id.in_(hardware_ids), price.currency == currency)
        .ext(distinct_on(price.hardware_id, price.provider_id, price.region, price.instance_type))
        .order_by(price.hardware_id, price.provider_id, price.region, price.instance_type, price.as_of.desc())
    )
    if region is not None:
        current = current.where(price.region == region)
    offer = aliased(db.HardwarePrice, current.subquery())
    stmt = (
        select(offer)
        .ext(distinct_on(offer.hardware_id))
        .order_by(offer.hardware_id, offer.on_demand_per_hour.asc(), offer.as_of.desc(), offer.id.asc())
    )
    return {row.hardware_id: row for row in (await session.scalars(stmt)).all()}


async def prices_of_hardware(session: AsyncSession, hardware_id: int) -> list[db.HardwarePrice]:
    rows = await session.scalars(
        select(db.HardwarePrice)
        .where(db.HardwarePrice.hardware_id == hardware_id)
        .order_by(db.HardwarePrice.id)
    )
    return list(rows.all())
