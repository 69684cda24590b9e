"""Rules for writing hardware SKUs and their prices."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.utils.str_converters import to_camel_case

from budgraph import db
from budgraph.db.base import Origin
from budgraph.hardware import repository
from budgraph.kit.clock import today
from budgraph.kit.creates import create_once, lock_natural_key
from budgraph.kit.decimals import checked_amount
from budgraph.kit.edits import apply_operator_edit
from budgraph.kit.errors import BudgraphError, NotFound
from budgraph.kit.writes import flush, required_text
from budgraph.providers.repository import provider_by_slug

SKU = re.compile(r"[a-z0-9][a-z0-9.-]*")
COMPUTE_CAPABILITY = re.compile(r"([0-9]+)\.([0-9]+)")
CURRENCY = re.compile(r"[A-Z]{3}")
SPEC_COLUMNS = ("memory_gb", "memory_bandwidth_gbps", "peak_bf16_tflops", "peak_fp8_tflops")
EARLIEST_RELEASE_YEAR, LATEST_RELEASE_YEAR = 1970, 2100


@dataclass(frozen=True)
class NewHardware:
    sku: str
    name: str
    vendor: str
    device_architecture: str
    memory_gb: Decimal | None = None
    memory_bandwidth_gbps: Decimal | None = None
    peak_bf16_tflops: Decimal | None = None
    peak_fp8_tflops: Decimal | None = None
    compute_capability: str | None = None
    devices_per_package: int = 1
    tdp_watts: int | None = None
    release_year: int | None = None


@dataclass(frozen=True)
class NewHardwarePrice:
    """A price to set; (sku, provider, region, instance type, as of) says which."""

    sku: str
    provider_slug: str
    region: str
    instance_type: str
    on_demand_per_hour: Decimal
    spot_per_hour: Decimal | None = None
    devices_per_instance: int = 1
    currency: str = "USD"
    as_of: date | None = None


def parse_compute_capability(value: str, field: str) -> tuple[int, int]:
    """``(major, minor)`` of a CUDA compute capability such as ``8.9``."""
    match = COMPUTE_CAPABILITY.fullmatch(value.strip())
    if match is None:
        raise BudgraphError(
            f"`{field}` must read `major.minor`, e.g. `8.9` or `10.0` (got {value!r})", field=field
        )
    return int(match[1]), int(match[2])


def _checked_hardware_values(values: dict[str, Any]) -> dict[str, Any]:
    for name in ("name", "vendor"):
        if name in values:
            values[name] = required_text(values[name], name)
    if "vendor" in values:
        values["vendor"] = values["vendor"].lower()
    for name in SPEC_COLUMNS:
        if name in values:
            values[name] = checked_amount(values[name], getattr(db.Hardware, name), to_camel_case(name))
    if values.get("compute_capability") is not None:
        major, minor = parse_compute_capability(values["compute_capability"], "computeCapability")
        values["compute_capability"] = f"{major}.{minor}"
    if "devices_per_package" in values and values["devices_per_package"] <= 0:
        raise BudgraphError(
            f"`devicesPerPackage` must be positive (got {values['devices_per_package']})",
            field="devicesPerPackage",
        )
    if values.get("tdp_watts") is not None and values["tdp_watts"] <= 0:
        raise BudgraphError(f"`tdpWatts` must be positive (got {values['tdp_watts']})", field="tdpWatts")
    year = values.get("release_year")
    if year is not None and not EARLIEST_RELEASE_YEAR <= year <= LATEST_RELEASE_YEAR:
        raise BudgraphError(
            f"`releaseYear` must be between {EARLIEST_RELEASE_YEAR} and {LATEST_RELEASE_YEAR} (got {year})",
            field="releaseYear",
        )
    return values


def _checked_price_values(values: dict[str, Any]) -> dict[str, Any]:
    if "on_demand_per_hour" in values:
        values["on_demand_per_hour"] = checked_amount(
            values["on_demand_per_hour"], db.HardwarePrice.on_demand_per_hour, "onDemandPerHour"
        )
    if "spot_per_hour" in values:
        values["spot_per_hour"] = checked_amount(
            values["spot_per_hour"], db.HardwarePrice.spot_per_hour, "spotPerHour"
        )
    if "devices_per_instance" in values and values["devices_per_instance"] <= 0:
        raise BudgraphError(
            f"`devicesPerInstance` must be positive (got {values['devices_per_instance']})",
            field="devicesPerInstance",
        )
    if "currency" in values:
        currency = values["currency"].strip().upper()
        if not CURRENCY.fullmatch(currency):
            raise BudgraphError(
                f"`currency` must be an ISO 4217 code of three letters, e.g. `USD`"
                f" (got {values['currency']!r})",
                field="currency",
            )
        values["currency"] = currency
    return values


async def create_hardware(session: AsyncSession, new: NewHardware) -> db.Hardware:
    sku = new.sku.strip().lower()
    if not SKU.fullmatch(sku):
        raise BudgraphError(
            f"`sku` must be lower-case letters, digits, `.` or `-`, starting with a letter or digit"
            f" (got {sku!r})",
            field="sku",
        )
    values = _checked_hardware_values({**asdict(new), "sku": sku})
    del values["sku"]
    row, _ = await create_once(
        session,
        db.Hardware,
        {"sku": sku},
        values,
        f"a hardware SKU {sku!r}",
        lambda: repository.hardware_by_sku(session, sku),
    )
    return row


async def update_hardware(session: AsyncSession, row: db.Hardware, changes: dict[str, Any]) -> db.Hardware:
    apply_operator_edit(row, _checked_hardware_values(changes))
    await flush(session, f"hardware {row.sku!r}")
    return row


async def set_price(session: AsyncSession, new: NewHardwarePrice) -> db.HardwarePrice:
    """Create the price of an offer on a date, or change it (an operator edit) if it exists."""
    region, instance_type = (
        required_text(new.region, "region"),
        required_text(new.instance_type, "instanceType"),
    )
    values = _checked_price_values(
        {
            "on_demand_per_hour": new.on_demand_per_hour,
            "spot_per_hour": new.spot_per_hour,
            "devices_per_instance": new.devices_per_instance,
            "currency": new.currency,
        }
    )
    hardware = await repository.hardware_by_sku(session, new.sku.strip().lower())
    if hardware is None:
        raise NotFound(f"no hardware SKU {new.sku!r}", field="sku")
    provider = await provider_by_slug(session, new.provider_slug.strip().lower())
    if provider is None:
        raise NotFound(f"no provider with slug {new.provider_slug!r}", field="providerSlug")
    as_of = new.as_of or today()
    # Serialize setters of this price, so identical concurrent calls all answer the same row.
    key = [hardware.id, provider.id, region, instance_type, as_of.isoformat()]
    await lock_natural_key(session, db.HardwarePrice.__tablename__, key)
    row = await repository.price_by_natural_key(
        session, hardware.id, provider.id, region, instance_type, as_of
    )
    if row is None:
        row = db.HardwarePrice(
            hardware_id=hardware.id,
            provider_id=provider.id,
            region=region,
            instance_type=instance_type,
            as_of=as_of,
            **values,
            origin=Origin.API.value,
        )
        session.add(row)
    else:
        apply_operator_edit(row, values)
    await flush(session, f"price of {hardware.sku} at {provider.slug} {region} {instance_type} on {as_of}")
    return row


async def update_price(
    session: AsyncSession, row: db.HardwarePrice, changes: dict[str, Any]
) -> db.HardwarePrice:
    apply_operator_edit(row, _checked_price_values(changes))
    await flush(session, f"price {row.id}")
    return row
