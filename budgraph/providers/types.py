"""GraphQL types of providers and the cloud models they serve."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from budgraph import db
from budgraph.db.enums import ProviderKind, ProviderModelMode
from budgraph.graphql.common import OrderDirection, Tracked, tracked_fields
from budgraph.graphql.context import Info
from budgraph.graphql.node import Node, register_node
from budgraph.kit.clock import today
from budgraph.kit.db import AnyRow
from budgraph.kit.decimals import ordered_range, plain
from budgraph.kit.ids import to_global_id
from budgraph.kit.loaders import nested_connection
from budgraph.kit.pagination import After, Before, Connection, First, Last
from budgraph.providers import loaders, repository, service
from budgraph.providers.tiers import PriceTier

if TYPE_CHECKING:
    from budgraph.hardware.types import HardwarePrice, HardwarePriceFilter, HardwarePriceOrder


@strawberry.enum(description="What to sort providers by.")
class ProviderOrderField(Enum):
    SLUG = "slug"
    NAME = "name"
    CREATED_AT = "created_at"


@strawberry.input(description="How to sort providers.")
class ProviderOrder:
    field: ProviderOrderField = strawberry.field(description="The field to sort by.")
    direction: OrderDirection = strawberry.field(default=OrderDirection.ASC, description="Sort direction.")


@strawberry.input(description="Which providers to list; all given conditions must hold.")
class ProviderFilter:
    search: str | None = strawberry.field(
        default=None, description="Case-insensitive substring of the provider's name or slug."
    )
    kinds: list[ProviderKind] | None = strawberry.field(
        default=None, description="Only providers of these kinds."
    )


@strawberry.enum(description="What to sort provider models by.")
class ProviderModelOrderField(Enum):
    MODEL_ID = "model_id"
    INPUT_PRICE = "input_price"
    OUTPUT_PRICE = "output_price"
    CONTEXT = "context"


@strawberry.input(description="How to sort provider models; models without the value sort last either way.")
class ProviderModelOrder:
    field: ProviderModelOrderField = strawberry.field(
        description="MODEL_ID, INPUT_PRICE / OUTPUT_PRICE (per million tokens), or CONTEXT (max input"
        " tokens)."
    )
    direction: OrderDirection = strawberry.field(default=OrderDirection.ASC, description="Sort direction.")


@strawberry.input(description="Which provider models to list; all given conditions must hold.")
class ProviderModelFilter:
    search: str | None = strawberry.field(
        default=None, description="Case-insensitive substring of the model id."
    )
    provider_slugs: list[str] | None = strawberry.field(
        default=None, description="Only models of these providers (by slug)."
    )
    modes: list[ProviderModelMode] | None = strawberry.field(
        default=None, description="Only models served on these APIs."
    )
    min_input_per_million: Decimal | None = strawberry.field(
        default=None,
        description="Only models whose input price per million tokens is known and at least this.",
    )
    max_input_per_million: Decimal | None = strawberry.field(
        default=None,
        description="Only models whose input price per million tokens is known and at most this.",
    )
    min_output_per_million: Decimal | None = strawberry.field(
        default=None,
        description="Only models whose output price per million tokens is known and at least this.",
    )
    max_output_per_million: Decimal | None = strawberry.field(
        default=None,
        description="Only models whose output price per million tokens is known and at most this.",
    )
    min_context: int | None = strawberry.field(
        default=None, description="Only models known to accept at least this many input tokens."
    )
    supports_function_calling: bool | None = strawberry.field(
        default=None, description="Only models with (or without) function calling."
    )
    supports_vision: bool | None = strawberry.field(
        default=None, description="Only models with (or without) image input."
    )
    supports_reasoning: bool | None = strawberry.field(
        default=None, description="Only models with (or without) a reasoning mode."
    )
    include_deprecated: bool = strawberry.field(
        default=True, description="Whether to include models whose deprecation date is today or earlier."
    )


def model_query(filter: ProviderModelFilter | None) -> repository.ProviderModelQuery:
    if filter is None:
        return repository.ProviderModelQuery()
    ordered_range(
        filter.min_input_per_million, filter.max_input_per_million, "minInputPerMillion", "maxInputPerMillion"
    )
    ordered_range(
        filter.min_output_per_million,
        filter.max_output_per_million,
        "minOutputPerMillion",
        "maxOutputPerMillion",
    )
    return repository.ProviderModelQuery(
        search=filter.search,
        provider_slugs=tuple(filter.provider_slugs) if filter.provider_slugs is not None else None,
        modes=tuple(mode.value for mode in filter.modes) if filter.modes is not None else None,
        min_input_per_million=filter.min_input_per_million,
        max_input_per_million=filter.max_input_per_million,
        min_output_per_million=filter.min_output_per_million,
        max_output_per_million=filter.max_output_per_million,
        min_context=filter.min_context,
        supports_function_calling=filter.supports_function_calling,
        supports_vision=filter.supports_vision,
        supports_reasoning=filter.supports_reasoning,
        deprecated_by=None if filter.include_deprecated else today(),
    )


def model_order_key(order: ProviderModelOrder | None) -> tuple[str, str]:
    if order is None:
        return ("model_id", "asc")
    return (order.field.value, order.direction.value)


@strawberry.type(description="A provider: a model API, a gateway in front of model APIs, or a compute cloud.")
class Provider(Node, Tracked):
    pk: strawberry.Private[int]
    slug: str = strawberry.field(description="Stable short name, unique (e.g. `anthropic`, `aws`).")
    name: str = strawberry.field(description="Display name.")
    kind: ProviderKind = strawberry.field(description="What the provider offers.")
    homepage_url: str | None = strawberry.field(description="The provider's web site.")

    @classmethod
    def from_row(cls, row: db.Provider | AnyRow) -> Provider:
        return cls(
            id=strawberry.ID(to_global_id("Provider", row.id)),
            pk=row.id,
            slug=row.slug,
            name=row.name,
            kind=ProviderKind(row.kind),
            homepage_url=row.homepage_url,
            **tracked_fields(row),
        )

    @strawberry.field(description="The models this provider serves, by model id unless ordered otherwise.")
    async def models(
        self,
        info: Info,
        filter: Annotated[
            ProviderModelFilter | None, strawberry.argument(description="Which models to list.")
        ] = None,
        order_by: Annotated[
            ProviderModelOrder | None, strawberry.argument(description="How to sort (default: MODEL_ID ASC).")
        ] = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[ProviderModel]:
        return await nested_connection(
            info.context.loaders,
            loaders.ModelPagesByProviderLoader,
            (model_query(filter), model_order_key(order_by)),
            self.pk,
            ProviderModel.from_row,
            first,
            after,
            last,
            before,
        )

    @strawberry.field(
        description="What hardware costs at this provider, cheapest on-demand price first by default."
    )
    async def hardware_prices(
        self,
        info: Info,
        filter: Annotated[
            Annotated[HardwarePriceFilter, strawberry.lazy("budgraph.hardware.types")] | None,
            strawberry.argument(description="Which prices to list."),
        ] = None,
        order_by: Annotated[
            Annotated[HardwarePriceOrder, strawberry.lazy("budgraph.hardware.types")] | None,
            strawberry.argument(description="How to sort (default: ON_DEMAND ASC)."),
        ] = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[Annotated[HardwarePrice, strawberry.lazy("budgraph.hardware.types")]]:
        from budgraph.hardware.loaders import PricePagesByProviderLoader
        from budgraph.hardware.types import HardwarePrice, price_order_key, price_query

        return await nested_connection(
            info.context.loaders,
            PricePagesByProviderLoader,
            (price_query(filter), price_order_key(order_by)),
            self.pk,
            HardwarePrice.from_row,
            first,
            after,
            last,
            before,
        )


@strawberry.type(
    description="Prices for long prompts: they apply instead of the base prices when the prompt has more"
    " than `aboveInputTokens` input tokens. Per million tokens, in US dollars; null where not priced."
)
class ProviderModelPriceTier:
    above_input_tokens: int = strawberry.field(
        description="The tier applies to prompts longer than this many input tokens (e.g. 128000)."
    )
    input_per_million: Decimal | None = strawberry.field(description="Price of one million input tokens.")
    output_per_million: Decimal | None = strawberry.field(description="Price of one million output tokens.")
    cache_read_per_million: Decimal | None = strawberry.field(
        description="Price of one million input tokens read from the prompt cache."
    )
    cache_write_per_million: Decimal | None = strawberry.field(
        description="Price of one million input tokens written to the prompt cache."
    )

    @classmethod
    def from_stored(cls, value: dict[str, Any]) -> ProviderModelPriceTier:
        tier = PriceTier.from_stored(value)
        return cls(
            above_input_tokens=tier.above_input_tokens,
            input_per_million=plain(tier.input_per_million),
            output_per_million=plain(tier.output_per_million),
            cache_read_per_million=plain(tier.cache_read_per_million),
            cache_write_per_million=plain(tier.cache_write_per_million),
        )


@strawberry.type(
    description="A model served by a provider's API, with its prices per million tokens (in US dollars),"
    " its token limits and what it supports."
)
class ProviderModel(Node, Tracked):
    provider_pk: strawberry.Private[int]
    model_id: str = strawberry.field(description="The id the provider's API knows the model by.")
    mode: ProviderModelMode = strawberry.field(description="The API the model is served on.")
    input_per_million: Decimal | None = strawberry.field(
        description="Price of one million input tokens, in US dollars (exact decimal)."
    )
    output_per_million: Decimal | None = strawberry.field(
        description="Price of one million output tokens, in US dollars (exact decimal)."
    )
    cache_read_per_million: Decimal | None = strawberry.field(
        description="Price of one million input tokens read from the prompt cache, in US dollars."
    )
    cache_write_per_million: Decimal | None = strawberry.field(
        description="Price of one million input tokens written to the prompt cache, in US dollars."
    )
    price_per_query: Decimal | None = strawberry.field(
        description="Price of one query (request), in US dollars: how rerank models are priced."
    )
    price_tiers: list[ProviderModelPriceTier] = strawberry.field(
        description="Prices for long prompts (e.g. above 128K or 200K input tokens), by threshold."
    )
    max_input_tokens: int | None = strawberry.field(description="The most input (context) tokens it accepts.")
    max_output_tokens: int | None = strawberry.field(
        description="The most tokens it generates in one response."
    )
    supports_function_calling: bool = strawberry.field(description="Whether it can call tools / functions.")
    supports_vision: bool = strawberry.field(description="Whether it accepts images as input.")
    supports_reasoning: bool = strawberry.field(description="Whether it has a reasoning (thinking) mode.")
    supports_prompt_caching: bool = strawberry.field(
        description="Whether the provider caches prompts for it."
    )
    supports_response_schema: bool = strawberry.field(
        description="Whether its output can be constrained to a JSON schema."
    )
    deprecation_date: date | None = strawberry.field(
        description="The day the provider retires (or retired) the model, when announced."
    )
    deprecated: bool = strawberry.field(
        description="Whether the deprecation date is today (UTC) or earlier: the model is, or may soon be,"
        " gone."
    )

    @classmethod
    def from_row(cls, row: db.ProviderModel | AnyRow) -> ProviderModel:
        return cls(
            id=strawberry.ID(to_global_id("ProviderModel", row.id)),
            provider_pk=row.provider_id,
            model_id=row.model_id,
            mode=ProviderModelMode(row.mode),
            input_per_million=plain(row.input_per_million),
            output_per_million=plain(row.output_per_million),
            cache_read_per_million=plain(row.cache_read_per_million),
            cache_write_per_million=plain(row.cache_write_per_million),
            price_per_query=plain(row.price_per_query),
            price_tiers=[ProviderModelPriceTier.from_stored(tier) for tier in row.price_tiers],
            max_input_tokens=row.max_input_tokens,
            max_output_tokens=row.max_output_tokens,
            supports_function_calling=row.supports_function_calling,
            supports_vision=row.supports_vision,
            supports_reasoning=row.supports_reasoning,
            supports_prompt_caching=row.supports_prompt_caching,
            supports_response_schema=row.supports_response_schema,
            deprecation_date=row.deprecation_date,
            deprecated=service.is_deprecated(row.deprecation_date, today()),
            **tracked_fields(row),
        )

    @strawberry.field(description="The provider that serves this model.")
    async def provider(self, info: Info) -> Provider:
        row = await info.context.loaders.get(loaders.ProviderByIdLoader).load(self.provider_pk)
        assert row is not None
        return Provider.from_row(row)


register_node("Provider", loaders.ProviderByIdLoader, Provider.from_row)
register_node("ProviderModel", loaders.ProviderModelByIdLoader, ProviderModel.from_row)
