"""GraphQL types of hardware SKUs and their prices."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import Enum
from typing import TYPE_CHECKING, Annotated

import strawberry

from budgraph import db
from budgraph.db.enums import DeviceArchitecture
from budgraph.graphql.common import OrderDirection, Tracked, tracked_fields
from budgraph.graphql.context import Info
from budgraph.graphql.node import Node, register_node
from budgraph.hardware import loaders, repository, service
from budgraph.kit.db import AnyRow
from budgraph.kit.decimals import ordered_range, plain
from budgraph.kit.errors import BudgraphError
from budgraph.kit.ids import to_global_id
from budgraph.kit.loaders import nested_connection
from budgraph.kit.pagination import After, Before, Connection, First, Last
from budgraph.models.loaders import ModelByIdLoader
from budgraph.plans.arguments import (
    KvCacheDtype,
    PlanConcurrency,
    PlanDevices,
    PlanEngine,
    PlanKvCacheDtype,
    PlanQuantization,
)
from budgraph.providers.loaders import ProviderByIdLoader
from budgraph.providers.types import Provider
from budgraph.releases.loaders import QuantizationSupportPagesByHardwareLoader

if TYPE_CHECKING:
    from budgraph.plans.types import ModelsThatFit
    from budgraph.releases.types import QuantizationSupport

MEMORY_HELP = (
    "Memory of one device, in GB as the vendor's datasheet states it (a nominal figure: software sees a"
    " little less, e.g. 79.6 GiB on an 80 GB H100)"
)
DEVICES_HELP = (
    "How many devices software sees in one package (card or module): 2 for an MI250X (two 64 GB"
    " GCDs), 1 for most; memory, bandwidth and throughput are per device"
)


@strawberry.enum(description="What to sort hardware SKUs by.")
class HardwareOrderField(Enum):
    NAME = "name"
    MEMORY = "memory"
    BANDWIDTH = "bandwidth"
    BF16_TFLOPS = "bf16_tflops"
    RELEASE_YEAR = "release_year"


@strawberry.input(description="How to sort hardware SKUs; SKUs without the value sort last either way.")
class HardwareOrder:
    field: HardwareOrderField = strawberry.field(
        description="NAME, MEMORY (GB per device), BANDWIDTH (GB/s), BF16_TFLOPS (peak dense BF16) or"
        " RELEASE_YEAR."
    )
    direction: OrderDirection = strawberry.field(default=OrderDirection.ASC, description="Sort direction.")


@strawberry.input(description="Which hardware SKUs to list; all given conditions must hold.")
class HardwareFilter:
    search: str | None = strawberry.field(
        default=None, description="Case-insensitive substring of the name, SKU or vendor."
    )
    vendors: list[str] | None = strawberry.field(
        default=None, description="Only SKUs of these vendors (case-insensitive, e.g. `nvidia`)."
    )
    device_architectures: list[DeviceArchitecture] | None = strawberry.field(
        default=None, description="Only SKUs of these device families."
    )
    min_memory_gb: Decimal | None = strawberry.field(
        default=None, description="Only SKUs with at least this much memory per device, in GB (`memoryGb`)."
    )
    max_memory_gb: Decimal | None = strawberry.field(
        default=None, description="Only SKUs with at most this much memory per device, in GB (`memoryGb`)."
    )
    min_compute_capability: str | None = strawberry.field(
        default=None,
        description="Only CUDA SKUs with at least this compute capability (`major.minor`, compared as"
        " numbers: `8.9` < `10.0`).",
    )
    min_bf16_tflops: Decimal | None = strawberry.field(
        default=None, description="Only SKUs with at least this peak dense BF16 throughput, in TFLOPS."
    )


@strawberry.enum(description="What to sort hardware prices by.")
class HardwarePriceOrderField(Enum):
    ON_DEMAND = "on_demand"
    SPOT = "spot"
    AS_OF = "as_of"


@strawberry.input(description="How to sort hardware prices; prices without the value sort last either way.")
class HardwarePriceOrder:
    field: HardwarePriceOrderField = strawberry.field(
        description="ON_DEMAND or SPOT (price per device-hour), or AS_OF (the date of the price)."
    )
    direction: OrderDirection = strawberry.field(default=OrderDirection.ASC, description="Sort direction.")


@strawberry.input(description="Which hardware prices to list; all given conditions must hold.")
class HardwarePriceFilter:
    skus: list[str] | None = strawberry.field(default=None, description="Only prices of these hardware SKUs.")
    provider_slugs: list[str] | None = strawberry.field(
        default=None, description="Only prices at these providers (by slug)."
    )
    regions: list[str] | None = strawberry.field(
        default=None, description="Only prices in these regions (the provider's names, e.g. `us-east-1`)."
    )
    device_architectures: list[DeviceArchitecture] | None = strawberry.field(
        default=None, description="Only prices of SKUs of these device families."
    )
    min_on_demand_per_hour: Decimal | None = strawberry.field(
        default=None,
        description="Only prices of at least this much per device-hour (in the price's currency).",
    )
    max_on_demand_per_hour: Decimal | None = strawberry.field(
        default=None,
        description="Only prices of at most this much per device-hour (in the price's currency).",
    )
    as_of: date | None = strawberry.field(
        default=None,
        description="Only the prices in effect on this date: per offer (provider, region, instance type),"
        " its latest price dated on or before it. The other conditions apply to those prices.",
    )
    current_only: bool = strawberry.field(
        default=False,
        description="Only current prices: per offer, its latest. The other conditions apply to those prices.",
    )


def hardware_query(filter: HardwareFilter | None) -> repository.HardwareQuery:
    if filter is None:
        return repository.HardwareQuery()
    capability = filter.min_compute_capability
    ordered_range(filter.min_memory_gb, filter.max_memory_gb, "minMemoryGb", "maxMemoryGb")
    return repository.HardwareQuery(
        search=filter.search,
        vendors=tuple(filter.vendors) if filter.vendors is not None else None,
        device_architectures=(
            tuple(d.value for d in filter.device_architectures)
            if filter.device_architectures is not None
            else None
        ),
        min_memory_gb=filter.min_memory_gb,
        max_memory_gb=filter.max_memory_gb,
        min_compute_capability=(
            service.parse_compute_capability(capability, "minComputeCapability")
            if capability is not None
            else None
        ),
        min_bf16_tflops=filter.min_bf16_tflops,
    )


def price_query(filter: HardwarePriceFilter | None) -> repository.PriceQuery:
    if filter is None:
        return repository.PriceQuery()
    ordered_range(
        filter.min_on_demand_per_hour,
        filter.max_on_demand_per_hour,
        "minOnDemandPerHour",
        "maxOnDemandPerHour",
    )
    if filter.as_of is not None and filter.current_only:
        raise BudgraphError("give `asOf` or `currentOnly`, not both", field="currentOnly")
    return repository.PriceQuery(
        skus=tuple(filter.skus) if filter.skus is not None else None,
        provider_slugs=tuple(filter.provider_slugs) if filter.provider_slugs is not None else None,
        regions=tuple(filter.regions) if filter.regions is not None else None,
        device_architectures=(
            tuple(d.value for d in filter.device_architectures)
            if filter.device_architectures is not None
            else None
        ),
        min_on_demand_per_hour=filter.min_on_demand_per_hour,
        max_on_demand_per_hour=filter.max_on_demand_per_hour,
        in_effect_on=filter.as_of,
        current_only=filter.current_only,
    )


def hardware_order_key(order: HardwareOrder | None) -> tuple[str, str]:
    if order is None:
        return ("name", "asc")
    return (order.field.value, order.direction.value)


def price_order_key(order: HardwarePriceOrder | None) -> tuple[str, str]:
    if order is None:
        return ("on_demand", "asc")
    return (order.field.value, order.direction.value)


@strawberry.type(description="A hardware SKU: one accelerator or CPU model, with its specs.")
class Hardware(Node, Tracked):
    pk: strawberry.Private[int]
    sku: str = strawberry.field(description="Stable short name, unique (e.g. `nvidia-h100-sxm-80gb`).")
    name: str = strawberry.field(description="Display name.")
    vendor: str = strawberry.field(description="Who makes it, lower case (e.g. `nvidia`, `amd`).")
    device_architecture: DeviceArchitecture = strawberry.field(
        description="The device family engines build for."
    )
    memory_gb: Decimal | None = strawberry.field(description=f"{MEMORY_HELP}.")
    memory_bandwidth_gbps: Decimal | None = strawberry.field(description="Memory bandwidth, in GB/s.")
    peak_bf16_tflops: Decimal | None = strawberry.field(description="Peak dense BF16 throughput, in TFLOPS.")
    peak_fp8_tflops: Decimal | None = strawberry.field(description="Peak dense FP8 throughput, in TFLOPS.")
    compute_capability: str | None = strawberry.field(
        description="CUDA compute capability (`major.minor`, e.g. `9.0`); null for non-CUDA devices."
    )
    devices_per_package: int = strawberry.field(description=f"{DEVICES_HELP}.")
    tdp_watts: int | None = strawberry.field(
        description="Thermal design power of the whole package (card or module), in watts."
    )
    release_year: int | None = strawberry.field(description="The year it was released.")

    @classmethod
    def from_row(cls, row: db.Hardware | AnyRow) -> Hardware:
        return cls(
            id=strawberry.ID(to_global_id("Hardware", row.id)),
            pk=row.id,
            sku=row.sku,
            name=row.name,
            vendor=row.vendor,
            device_architecture=DeviceArchitecture(row.device_architecture),
            memory_gb=plain(row.memory_gb),
            memory_bandwidth_gbps=plain(row.memory_bandwidth_gbps),
            peak_bf16_tflops=plain(row.peak_bf16_tflops),
            peak_fp8_tflops=plain(row.peak_fp8_tflops),
            compute_capability=row.compute_capability,
            devices_per_package=row.devices_per_package,
            tdp_watts=row.tdp_watts,
            release_year=row.release_year,
            **tracked_fields(row),
        )

    @strawberry.field(
        description="The registered models that fit this SKU with `contextLength` tokens for `concurrency`"
        " sequences on at most `devices` devices, by uri, each with its cheapest plan (see"
        " `deploymentPlans`). A page plans at most 400 models."
    )
    async def models_that_fit(
        self,
        info: Info,
        context_length: Annotated[
            int, strawberry.argument(description="Tokens of context per sequence to hold in the KV cache.")
        ],
        concurrency: PlanConcurrency = 1,
        devices: PlanDevices = 8,
        engine: PlanEngine = None,
        quantization: PlanQuantization = None,
        kv_cache_dtype: PlanKvCacheDtype = KvCacheDtype.AUTO,
        first: Annotated[int, strawberry.argument(description="At most this many models (1 to 100).")] = 20,
        after: Annotated[
            str | None,
            strawberry.argument(description="Continue after this model uri (a page's `endCursor`)."),
        ] = None,
    ) -> Annotated[ModelsThatFit, strawberry.lazy("budgraph.plans.types")]:
        from budgraph.compatibility.loaders import RuleBookLoader
        from budgraph.models.types import Model
        from budgraph.plans import service as plans
        from budgraph.plans.types import DeploymentPlan, ModelFit, ModelsThatFit

        if not 1 <= first <= 100:
            raise BudgraphError("`first` must be 1 to 100", field="first")
        request = plans.checked_request(
            None,
            context_length=context_length,
            concurrency=concurrency,
            devices=devices,
            engine=engine,
            quantization=quantization,
            kv_cache_dtype=kv_cache_dtype.dtype,
        )
        session, reserve = info.context.session, info.context.settings.plan_runtime_reserve
        row = await info.context.loaders.get(loaders.HardwareByIdLoader).load(self.pk)
        assert row is not None
        page = await plans.models_that_fit(session, info.context.loaders, row, request, reserve, first, after)
        book = await info.context.loaders.get(RuleBookLoader, info.context.rule_books).load(0)
        models = await info.context.loaders.get(ModelByIdLoader).load_many(
            [fit.model_id for fit in page.fits]
        )
        return ModelsThatFit(
            nodes=[
                ModelFit(model=Model.from_row(model), plan=DeploymentPlan.of(fit.plan, book, fit.shape.uri))
                for fit, model in zip(page.fits, models, strict=True)
                if model is not None
            ],
            end_cursor=page.end_cursor,
            has_next_page=page.has_next_page,
            examined=page.examined,
        )

    @strawberry.field(
        description="What this SKU costs at providers, cheapest on-demand price first by default."
    )
    async def prices(
        self,
        info: Info,
        filter: Annotated[
            HardwarePriceFilter | None, strawberry.argument(description="Which prices to list.")
        ] = None,
        order_by: Annotated[
            HardwarePriceOrder | None,
            strawberry.argument(description="How to sort (default: ON_DEMAND ASC)."),
        ] = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[HardwarePrice]:
        return await nested_connection(
            info.context.loaders,
            loaders.PricePagesByHardwareLoader,
            (price_query(filter), price_order_key(order_by)),
            self.pk,
            HardwarePrice.from_row,
            first,
            after,
            last,
            before,
        )

    @strawberry.field(
        description="The quantization methods this SKU can run, on which engine versions: the rows of"
        " versions built for its device architecture whose minimum compute capability (if any) its own"
        " capability reaches. By engine version, then method."
    )
    async def quantization_support(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[Annotated[QuantizationSupport, strawberry.lazy("budgraph.releases.types")]]:
        from budgraph.releases.types import QuantizationSupport

        return await nested_connection(
            info.context.loaders,
            QuantizationSupportPagesByHardwareLoader,
            None,
            self.pk,
            QuantizationSupport.from_row,
            first,
            after,
            last,
            before,
        )

    @strawberry.field(
        description="The lowest on-demand price per device-hour among the current offers for this SKU (an"
        " offer is a provider, region and instance type; its current price is its latest). Null if there is"
        " none."
    )
    async def cheapest_price(
        self,
        info: Info,
        region: Annotated[str | None, strawberry.argument(description="Only offers in this region.")] = None,
        currency: Annotated[
            str,
            strawberry.argument(
                description="Only prices in this currency (prices in different currencies are not compared)."
            ),
        ] = "USD",
    ) -> HardwarePrice | None:
        loader = info.context.loaders.get(loaders.CheapestPriceByHardwareLoader, region, currency.upper())
        row = await loader.load(self.pk)
        return HardwarePrice.from_row(row) if row else None


@strawberry.type(
    description="What one device of a hardware SKU costs per hour at a provider, in a region, on a date."
)
class HardwarePrice(Node, Tracked):
    hardware_pk: strawberry.Private[int]
    provider_pk: strawberry.Private[int]
    instance_type: str = strawberry.field(
        description="The provider's instance (machine) type, e.g. `p5.48xlarge`."
    )
    devices_per_instance: int = strawberry.field(description="How many devices of the SKU one instance has.")
    region: str = strawberry.field(description="The provider's region, e.g. `us-east-1`.")
    on_demand_per_hour: Decimal = strawberry.field(description="On-demand price of one device for one hour.")
    spot_per_hour: Decimal | None = strawberry.field(
        description="Spot (preemptible) price of one device-hour."
    )
    currency: str = strawberry.field(description="ISO 4217 currency code of the prices, e.g. `USD`.")
    as_of: date = strawberry.field(description="The date the price was observed.")
    instance_on_demand_per_hour: Decimal = strawberry.field(
        description="On-demand price of the whole instance for one hour: the device price times the devices."
    )

    @classmethod
    def from_row(cls, row: db.HardwarePrice | AnyRow) -> HardwarePrice:
        return cls(
            id=strawberry.ID(to_global_id("HardwarePrice", row.id)),
            hardware_pk=row.hardware_id,
            provider_pk=row.provider_id,
            instance_type=row.instance_type,
            devices_per_instance=row.devices_per_instance,
            region=row.region,
            on_demand_per_hour=plain(row.on_demand_per_hour),
            spot_per_hour=plain(row.spot_per_hour),
            currency=row.currency,
            as_of=row.as_of,
            instance_on_demand_per_hour=plain(row.on_demand_per_hour * row.devices_per_instance),
            **tracked_fields(row),
        )

    @strawberry.field(description="The hardware SKU this is a price of.")
    async def hardware(self, info: Info) -> Hardware:
        row = await info.context.loaders.get(loaders.HardwareByIdLoader).load(self.hardware_pk)
        assert row is not None
        return Hardware.from_row(row)

    @strawberry.field(description="The provider that charges this price.")
    async def provider(self, info: Info) -> Provider:
        row = await info.context.loaders.get(ProviderByIdLoader).load(self.provider_pk)
        assert row is not None
        return Provider.from_row(row)


register_node("Hardware", loaders.HardwareByIdLoader, Hardware.from_row)
register_node("HardwarePrice", loaders.HardwarePriceByIdLoader, HardwarePrice.from_row)
