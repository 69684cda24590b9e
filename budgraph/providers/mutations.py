"""Mutations of providers and their models (write scope)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any

import strawberry
from strawberry.types.unset import UNSET

from budgraph import db
from budgraph.auth.permissions import needs
from budgraph.db.enums import ApiKeyScope, ProviderKind, ProviderModelMode
from budgraph.graphql.context import Info
from budgraph.graphql.inputs import changes_of, stored
from budgraph.graphql.lookup import row_to_change
from budgraph.kit.ids import expect_global_id
from budgraph.providers import service
from budgraph.providers.tiers import PriceTier
from budgraph.providers.types import Provider, ProviderModel

PRICE_HELP = (
    'US dollars per million tokens, exact; give it as a string (e.g. `"0.15"`) to avoid float rounding.'
)


@strawberry.input(
    description="Prices that apply instead of the base prices to prompts longer than `aboveInputTokens`."
)
class ProviderModelPriceTierInput:
    above_input_tokens: int = strawberry.field(description="The threshold, in input tokens (> 0).")
    input_per_million: Decimal | None = strawberry.field(
        default=None, description=f"Input price: {PRICE_HELP}"
    )
    output_per_million: Decimal | None = strawberry.field(
        default=None, description=f"Output price: {PRICE_HELP}"
    )
    cache_read_per_million: Decimal | None = strawberry.field(
        default=None, description=f"Cached-input read price: {PRICE_HELP}"
    )
    cache_write_per_million: Decimal | None = strawberry.field(
        default=None, description=f"Cached-input write price: {PRICE_HELP}"
    )

    def tier(self) -> PriceTier:
        return PriceTier(
            above_input_tokens=self.above_input_tokens,
            input_per_million=self.input_per_million,
            output_per_million=self.output_per_million,
            cache_read_per_million=self.cache_read_per_million,
            cache_write_per_million=self.cache_write_per_million,
        )


QUERY_PRICE_HELP = "US dollars per query (request), exact; how rerank models are priced."


@strawberry.input(description="A new provider.")
class CreateProviderInput:
    slug: str = strawberry.field(description="Stable short name: lower-case letters, digits, `_`, `.`, `-`.")
    name: str = strawberry.field(description="Display name.")
    kind: ProviderKind = strawberry.field(description="What the provider offers.")
    homepage_url: str | None = strawberry.field(
        default=None, description="The provider's web site (http or https)."
    )


@strawberry.input(description="Fields of a provider to change; omitted fields stay as they are.")
class UpdateProviderInput:
    name: str | None = strawberry.field(default=UNSET, description="Display name.")
    kind: ProviderKind | None = strawberry.field(default=UNSET, description="What the provider offers.")
    homepage_url: str | None = strawberry.field(default=UNSET, description="The provider's web site.")


@strawberry.input(description="A new model served by a provider.")
class CreateProviderModelInput:
    provider_id: strawberry.ID = strawberry.field(description="Global id of the provider.")
    model_id: str = strawberry.field(
        description="The id the provider's API knows the model by; unique per provider."
    )
    mode: ProviderModelMode = strawberry.field(description="The API the model is served on.")
    input_per_million: Decimal | None = strawberry.field(
        default=None, description=f"Input price: {PRICE_HELP}"
    )
    output_per_million: Decimal | None = strawberry.field(
        default=None, description=f"Output price: {PRICE_HELP}"
    )
    cache_read_per_million: Decimal | None = strawberry.field(
        default=None, description=f"Cached-input read price: {PRICE_HELP}"
    )
    cache_write_per_million: Decimal | None = strawberry.field(
        default=None, description=f"Cached-input write price: {PRICE_HELP}"
    )
    price_per_query: Decimal | None = strawberry.field(default=None, description=QUERY_PRICE_HELP)
    price_tiers: list[ProviderModelPriceTierInput] = strawberry.field(
        default_factory=list, description="Prices for long prompts, one per threshold."
    )
    max_input_tokens: int | None = strawberry.field(
        default=None, description="Most input tokens accepted (> 0)."
    )
    max_output_tokens: int | None = strawberry.field(default=None, description="Most output tokens (> 0).")
    supports_function_calling: bool = strawberry.field(default=False, description="Tool / function calling.")
    supports_vision: bool = strawberry.field(default=False, description="Image input.")
    supports_reasoning: bool = strawberry.field(default=False, description="A reasoning (thinking) mode.")
    supports_prompt_caching: bool = strawberry.field(default=False, description="Prompt caching.")
    supports_response_schema: bool = strawberry.field(
        default=False, description="JSON-schema constrained output."
    )
    deprecation_date: date | None = strawberry.field(default=None, description="When the model is retired.")


@strawberry.input(description="Fields of a provider model to change; omitted fields stay as they are.")
class UpdateProviderModelInput:
    mode: ProviderModelMode | None = strawberry.field(
        default=UNSET, description="The API the model is served on."
    )
    input_per_million: Decimal | None = strawberry.field(
        default=UNSET, description=f"Input price: {PRICE_HELP}"
    )
    output_per_million: Decimal | None = strawberry.field(
        default=UNSET, description=f"Output price: {PRICE_HELP}"
    )
    cache_read_per_million: Decimal | None = strawberry.field(
        default=UNSET, description=f"Cached-input read price: {PRICE_HELP}"
    )
    cache_write_per_million: Decimal | None = strawberry.field(
        default=UNSET, description=f"Cached-input write price: {PRICE_HELP}"
    )
    price_per_query: Decimal | None = strawberry.field(default=UNSET, description=QUERY_PRICE_HELP)
    price_tiers: list[ProviderModelPriceTierInput] | None = strawberry.field(
        default=UNSET, description="Prices for long prompts, one per threshold (`[]` removes them all)."
    )
    max_input_tokens: int | None = strawberry.field(
        default=UNSET, description="Most input tokens accepted (> 0)."
    )
    max_output_tokens: int | None = strawberry.field(default=UNSET, description="Most output tokens (> 0).")
    supports_function_calling: bool | None = strawberry.field(
        default=UNSET, description="Tool / function calling."
    )
    supports_vision: bool | None = strawberry.field(default=UNSET, description="Image input.")
    supports_reasoning: bool | None = strawberry.field(
        default=UNSET, description="A reasoning (thinking) mode."
    )
    supports_prompt_caching: bool | None = strawberry.field(default=UNSET, description="Prompt caching.")
    supports_response_schema: bool | None = strawberry.field(
        default=UNSET, description="JSON-schema constrained output."
    )
    deprecation_date: date | None = strawberry.field(default=UNSET, description="When the model is retired.")


MODEL_FIELDS = [
    "mode",
    "input_per_million",
    "output_per_million",
    "cache_read_per_million",
    "cache_write_per_million",
    "price_per_query",
    "price_tiers",
    "max_input_tokens",
    "max_output_tokens",
    "supports_function_calling",
    "supports_vision",
    "supports_reasoning",
    "supports_prompt_caching",
    "supports_response_schema",
    "deprecation_date",
]
NOT_NULL_MODEL_FIELDS = frozenset(
    {"mode", "price_tiers"} | {name for name in MODEL_FIELDS if name.startswith("supports_")}
)


def _with_tiers(values: dict[str, Any]) -> dict[str, Any]:
    if values.get("price_tiers") is not None:
        values["price_tiers"] = [tier.tier() for tier in values["price_tiers"]]
    return values


IdArgument = Annotated[strawberry.ID, strawberry.argument(description="Global id of the object to change.")]


@strawberry.type
class ProviderMutations:
    @strawberry.mutation(description="Register a provider.", extensions=needs(ApiKeyScope.WRITE))
    async def create_provider(
        self,
        info: Info,
        input: Annotated[CreateProviderInput, strawberry.argument(description="The provider.")],
    ) -> Provider:
        row = await service.create_provider(
            info.context.session, input.slug, input.name, stored(input.kind), input.homepage_url
        )
        return Provider.from_row(row)

    @strawberry.mutation(
        description="Change a provider's fields; edited fields survive re-seeding.",
        extensions=needs(ApiKeyScope.WRITE),
    )
    async def update_provider(
        self,
        info: Info,
        id: IdArgument,
        input: Annotated[UpdateProviderInput, strawberry.argument(description="The fields to change.")],
    ) -> Provider:
        row = await row_to_change(info, db.Provider, id)
        changes = changes_of(
            input,
            {"name": "name", "kind": "kind", "homepage_url": "homepage_url"},
            frozenset({"name", "kind"}),
        )
        return Provider.from_row(await service.update_provider(info.context.session, row, changes))

    @strawberry.mutation(description="Add a model to a provider.", extensions=needs(ApiKeyScope.WRITE))
    async def create_provider_model(
        self,
        info: Info,
        input: Annotated[CreateProviderModelInput, strawberry.argument(description="The model.")],
    ) -> ProviderModel:
        values = _with_tiers(changes_of(input, {name: name for name in ["model_id", *MODEL_FIELDS]}))
        new = service.NewProviderModel(provider_id=expect_global_id(input.provider_id, "Provider"), **values)
        return ProviderModel.from_row(await service.create_model(info.context.session, new))

    @strawberry.mutation(
        description="Change a provider model's fields; edited fields survive re-seeding.",
        extensions=needs(ApiKeyScope.WRITE),
    )
    async def update_provider_model(
        self,
        info: Info,
        id: IdArgument,
        input: Annotated[UpdateProviderModelInput, strawberry.argument(description="The fields to change.")],
    ) -> ProviderModel:
        row = await row_to_change(info, db.ProviderModel, id)
        changes = _with_tiers(changes_of(input, {name: name for name in MODEL_FIELDS}, NOT_NULL_MODEL_FIELDS))
        return ProviderModel.from_row(await service.update_model(info.context.session, row, changes))
