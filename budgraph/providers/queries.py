"""Root query fields of providers and their models."""

from __future__ import annotations

from typing import Annotated

import strawberry

from budgraph.graphql.context import Info
from budgraph.graphql.lookup import one_by_id_or_key
from budgraph.kit.ids import expect_global_id
from budgraph.kit.pagination import (
    After,
    Before,
    Connection,
    First,
    Last,
    paginate,
)
from budgraph.providers import loaders, repository
from budgraph.providers.types import (
    Provider,
    ProviderFilter,
    ProviderModel,
    ProviderModelFilter,
    ProviderModelOrder,
    ProviderOrder,
    model_order_key,
    model_query,
)


@strawberry.type
class ProviderQueries:
    @strawberry.field(
        description="Providers of model APIs, gateways and compute, by slug unless ordered otherwise."
    )
    async def providers(
        self,
        info: Info,
        filter: Annotated[
            ProviderFilter | None, strawberry.argument(description="Which providers to list.")
        ] = None,
        order_by: Annotated[
            ProviderOrder | None, strawberry.argument(description="How to sort (default: SLUG ASC).")
        ] = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[Provider]:
        query = repository.ProviderQuery(
            search=filter.search if filter else None,
            kinds=tuple(kind.value for kind in filter.kinds) if filter and filter.kinds is not None else None,
        )
        order = (order_by.field.value, order_by.direction.value) if order_by else ("slug", "asc")
        stmt = repository.providers_statement(query, order)
        return await paginate(info.context.session, stmt, Provider.from_row, first, after, last, before)

    @strawberry.field(description="One provider, by global id or by slug (give exactly one).")
    async def provider(
        self,
        info: Info,
        id: Annotated[
            strawberry.ID | None, strawberry.argument(description="The provider's global id.")
        ] = None,
        slug: Annotated[
            str | None, strawberry.argument(description="The provider's slug, e.g. `openai`.")
        ] = None,
    ) -> Provider | None:
        row = await one_by_id_or_key(
            info,
            loaders.ProviderByIdLoader,
            id,
            "slug",
            slug,
            lambda key: repository.provider_by_slug(info.context.session, key),
        )
        return Provider.from_row(row) if row else None

    @strawberry.field(
        description="Models served by providers' APIs, across all providers, by model id unless ordered"
        " otherwise."
    )
    async def provider_models(
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
        stmt = repository.provider_models_statement(model_query(filter), model_order_key(order_by))
        return await paginate(info.context.session, stmt, ProviderModel.from_row, first, after, last, before)

    @strawberry.field(description="One provider model by global id.")
    async def provider_model(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The provider model's global id.")],
    ) -> ProviderModel | None:
        pk = expect_global_id(id, "ProviderModel")
        row = await info.context.loaders.get(loaders.ProviderModelByIdLoader).load(pk)
        return ProviderModel.from_row(row) if row else None
