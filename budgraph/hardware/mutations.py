"""Mutations of hardware SKUs and their prices (write scope)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated

import strawberry
from strawberry.types.unset import UNSET

from budgraph import db
from budgraph.auth.permissions import needs
from budgraph.db.enums import ApiKeyScope, DeviceArchitecture
from budgraph.graphql.context import Info
from budgraph.graphql.inputs import changes_of
from budgraph.graphql.lookup import row_to_change
from budgraph.hardware import service
from budgraph.hardware.types import DEVICES_HELP, MEMORY_HELP, Hardware, HardwarePrice

PRICE_HELP = 'per device-hour, exact; give it as a string (e.g. `"2.49"`) to avoid float rounding.'


@strawberry.input(description="A new hardware SKU.")
class CreateHardwareInput:
    sku: str = strawberry.field(description="Stable short name: lower-case letters, digits, `.`, `-`.")
    name: str = strawberry.field(description="Display name.")
    vendor: str = strawberry.field(description="Who makes it (stored lower case).")
    device_architecture: DeviceArchitecture = strawberry.field(
        description="The device family engines build for."
    )
    memory_gb: Decimal | None = strawberry.field(default=None, description=f"{MEMORY_HELP} (>= 0).")
    memory_bandwidth_gbps: Decimal | None = strawberry.field(
        default=None, description="Bandwidth, GB/s (>= 0)."
    )
    peak_bf16_tflops: Decimal | None = strawberry.field(
        default=None, description="Peak dense BF16 TFLOPS (>= 0)."
    )
    peak_fp8_tflops: Decimal | None = strawberry.field(
        default=None, description="Peak dense FP8 TFLOPS (>= 0)."
    )
    compute_capability: str | None = strawberry.field(
        default=None, description="CUDA compute capability, `major.minor` (e.g. `8.9`)."
    )
    devices_per_package: int = strawberry.field(default=1, description=f"{DEVICES_HELP} (> 0).")
    tdp_watts: int | None = strawberry.field(default=None, description="Thermal design power, watts (> 0).")
    release_year: int | None = strawberry.field(default=None, description="Release year.")


@strawberry.input(description="Fields of a hardware SKU to change; omitted fields stay as they are.")
class UpdateHardwareInput:
    name: str | None = strawberry.field(default=UNSET, description="Display name.")
    vendor: str | None = strawberry.field(default=UNSET, description="Who makes it (stored lower case).")
    device_architecture: DeviceArchitecture | None = strawberry.field(
        default=UNSET, description="Device family."
    )
    memory_gb: Decimal | None = strawberry.field(default=UNSET, description=f"{MEMORY_HELP} (>= 0).")
    memory_bandwidth_gbps: Decimal | None = strawberry.field(
        default=UNSET, description="Bandwidth, GB/s (>= 0)."
    )
    peak_bf16_tflops: Decimal | None = strawberry.field(
        default=UNSET, description="Peak dense BF16 TFLOPS (>= 0)."
    )
    peak_fp8_tflops: Decimal | None = strawberry.field(
        default=UNSET, description="Peak dense FP8 TFLOPS (>= 0)."
    )
    compute_capability: str | None = strawberry.field(
        default=UNSET, description="CUDA compute capability, `major.minor` (e.g. `8.9`)."
    )
    devices_per_package: int | None = strawberry.field(default=UNSET, description=f"{DEVICES_HELP} (> 0).")
    tdp_watts: int | None = strawberry.field(default=UNSET, description="Thermal design power, watts (> 0).")
    release_year: int | None = strawberry.field(default=UNSET, description="Release year.")


@strawberry.input(
    description="The price of one device of a SKU at a provider, in a region, for an instance type, on a"
    " date. If that price exists it is changed (an operator edit), otherwise it is created."
)
class SetHardwarePriceInput:
    sku: str = strawberry.field(description="The hardware SKU, e.g. `nvidia-h100-sxm-80gb`.")
    provider_slug: str = strawberry.field(description="The provider's slug, e.g. `aws`.")
    region: str = strawberry.field(description="The provider's region, e.g. `us-east-1`.")
    instance_type: str = strawberry.field(description="The provider's instance type, e.g. `p5.48xlarge`.")
    on_demand_per_hour: Decimal = strawberry.field(description=f"On-demand price {PRICE_HELP}")
    spot_per_hour: Decimal | None = strawberry.field(default=None, description=f"Spot price {PRICE_HELP}")
    devices_per_instance: int = strawberry.field(
        default=1, description="Devices of the SKU per instance (> 0)."
    )
    currency: str = strawberry.field(default="USD", description="ISO 4217 code of three letters.")
    as_of: date | None = strawberry.field(
        default=None, description="The date of the price (default: today, UTC)."
    )


@strawberry.input(description="Fields of a hardware price to change; omitted fields stay as they are.")
class UpdateHardwarePriceInput:
    on_demand_per_hour: Decimal | None = strawberry.field(
        default=UNSET, description=f"On-demand price {PRICE_HELP}"
    )
    spot_per_hour: Decimal | None = strawberry.field(default=UNSET, description=f"Spot price {PRICE_HELP}")
    devices_per_instance: int | None = strawberry.field(
        default=UNSET, description="Devices per instance (> 0)."
    )
    currency: str | None = strawberry.field(default=UNSET, description="ISO 4217 code of three letters.")


HARDWARE_FIELDS = [
    "name",
    "vendor",
    "device_architecture",
    "memory_gb",
    "memory_bandwidth_gbps",
    "peak_bf16_tflops",
    "peak_fp8_tflops",
    "compute_capability",
    "devices_per_package",
    "tdp_watts",
    "release_year",
]
PRICE_FIELDS = ["on_demand_per_hour", "spot_per_hour", "devices_per_instance", "currency"]

IdArgument = Annotated[strawberry.ID, strawberry.argument(description="Global id of the object to change.")]


@strawberry.type
class HardwareMutations:
    @strawberry.mutation(description="Register a hardware SKU.", extensions=needs(ApiKeyScope.WRITE))
    async def create_hardware(
        self, info: Info, input: Annotated[CreateHardwareInput, strawberry.argument(description="The SKU.")]
    ) -> Hardware:
        new = service.NewHardware(**changes_of(input, {name: name for name in ["sku", *HARDWARE_FIELDS]}))
        return Hardware.from_row(await service.create_hardware(info.context.session, new))

    @strawberry.mutation(
        description="Change a hardware SKU's specs; edited fields survive re-seeding.",
        extensions=needs(ApiKeyScope.WRITE),
    )
    async def update_hardware(
        self,
        info: Info,
        id: IdArgument,
        input: Annotated[UpdateHardwareInput, strawberry.argument(description="The fields to change.")],
    ) -> Hardware:
        row = await row_to_change(info, db.Hardware, id)
        changes = changes_of(
            input,
            {name: name for name in HARDWARE_FIELDS},
            frozenset({"name", "vendor", "device_architecture", "devices_per_package"}),
        )
        return Hardware.from_row(await service.update_hardware(info.context.session, row, changes))

    @strawberry.mutation(
        description="Create or change the price of a SKU at a provider, region, instance type and date."
        " A changed price is an operator edit: re-seeding keeps it.",
        extensions=needs(ApiKeyScope.WRITE),
    )
    async def set_hardware_price(
        self,
        info: Info,
        input: Annotated[SetHardwarePriceInput, strawberry.argument(description="The price.")],
    ) -> HardwarePrice:
        names = ["sku", "provider_slug", "region", "instance_type", "as_of", *PRICE_FIELDS]
        new = service.NewHardwarePrice(**changes_of(input, {name: name for name in names}))
        return HardwarePrice.from_row(await service.set_price(info.context.session, new))

    @strawberry.mutation(
        description="Change a hardware price; edited fields survive re-seeding.",
        extensions=needs(ApiKeyScope.WRITE),
    )
    async def update_hardware_price(
        self,
        info: Info,
        id: IdArgument,
        input: Annotated[UpdateHardwarePriceInput, strawberry.argument(description="The fields to change.")],
    ) -> HardwarePrice:
        row = await row_to_change(info, db.HardwarePrice, id)
        changes = changes_of(
            input,
            {name: name for name in PRICE_FIELDS},
            frozenset({"on_demand_per_hour", "devices_per_instance", "currency"}),
        )
        return HardwarePrice.from_row(await service.update_price(info.context.session, row, changes))
