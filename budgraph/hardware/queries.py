"""Root query fields of hardware SKUs and their prices."""

from __future__ import annotations

from typing import Annotated

import strawberry

from budgraph.graphql.context import Info
from budgraph.graphql.lookup import one_by_id_or_key
from budgraph.hardware import loaders, repository
from budgraph.hardware.types import (
    Hardware,
    HardwareFilter,
    HardwareOrder,
    HardwarePrice,
    HardwarePriceFilter,
    HardwarePriceOrder,
    hardware_order_key,
    hardware_query,
    price_order_key,
    price_query,
)
from budgraph.kit.ids import expect_global_id
from budgraph.kit.pagination import (
    After,
    Before,
    Connection,
    First,
    Last,
    paginate,
)


@strawberry.type
class HardwareQueries:
    @strawberry.field(
        description="Hardware SKUs (accelerators and CPUs) with their specs, by name unless ordered"
        " otherwise."
    )
    async def hardware(
        self,
        info: Info,
        filter: Annotated[
            HardwareFilter | None, strawberry.argument(description="Which SKUs to list.")
        ] = None,
        order_by: Annotated[
            HardwareOrder | None, strawberry.argument(description="How to sort (default: NAME ASC).")
        ] = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[Hardware]:
        stmt = repository.hardware_statement(hardware_query(filter), hardware_order_key(order_by))
        return await paginate(info.context.session, stmt, Hardware.from_row, first, after, last, before)

    @strawberry.field(description="One hardware SKU, by global id or by SKU (give exactly one).")
    async def hardware_sku(
        self,
        info: Info,
        id: Annotated[strawberry.ID | None, strawberry.argument(description="The SKU's global id.")] = None,
        sku: Annotated[
            str | None, strawberry.argument(description="The SKU, e.g. `nvidia-h100-sxm-80gb`.")
        ] = None,
    ) -> Hardware | None:
        row = await one_by_id_or_key(
            info,
            loaders.HardwareByIdLoader,
            id,
            "sku",
            sku,
            lambda key: repository.hardware_by_sku(info.context.session, key),
        )
        return Hardware.from_row(row) if row else None

    @strawberry.field(
        description="Hardware prices across all SKUs and providers, cheapest on-demand price per device-hour"
        " first unless ordered otherwise. Every observed price is listed, older ones (`asOf`) included."
    )
    async def hardware_prices(
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
        stmt = repository.prices_statement(price_query(filter), price_order_key(order_by))
        return await paginate(info.context.session, stmt, HardwarePrice.from_row, first, after, last, before)

    @strawberry.field(description="One hardware price by global id.")
    async def hardware_price(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The price's global id.")],
    ) -> HardwarePrice | None:
        pk = expect_global_id(id, "HardwarePrice")
        row = await info.context.loaders.get(loaders.HardwarePriceByIdLoader).load(pk)
        return HardwarePrice.from_row(row) if row else None
