"""Root query fields of models and licenses."""

from __future__ import annotations

from typing import Annotated

import strawberry

from budgraph.graphql.context import Info
from budgraph.graphql.lookup import one_by_id_or_key
from budgraph.kit.pagination import (
    After,
    Before,
    Connection,
    First,
    Last,
    paginate,
)
from budgraph.models import loaders, repository
from budgraph.models.types import (
    License,
    LicenseFilter,
    LicenseOrder,
    Model,
    ModelFilter,
    ModelOrder,
    model_query,
)


@strawberry.type
class ModelQueries:
    @strawberry.field(description="Models, by uri unless ordered otherwise.")
    async def models(
        self,
        info: Info,
        filter: Annotated[
            ModelFilter | None, strawberry.argument(description="Which models to list.")
        ] = None,
        order_by: Annotated[ModelOrder | None, strawberry.argument(description="How to sort.")] = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[Model]:
        query = model_query(filter, order_by)
        stmt = repository.models_statement(query)
        total = repository.models_count_statement(query)
        return await paginate(info.context.session, stmt, Model.from_row, first, after, last, before, total)

    @strawberry.field(description="One model, by global id or by uri (give exactly one).")
    async def model(
        self,
        info: Info,
        id: Annotated[strawberry.ID | None, strawberry.argument(description="Global id.")] = None,
        uri: Annotated[
            str | None, strawberry.argument(description="e.g. `Qwen/Qwen2.5-7B-Instruct`.")
        ] = None,
    ) -> Model | None:
        row = await one_by_id_or_key(
            info,
            loaders.ModelByIdLoader,
            id,
            "uri",
            uri,
            lambda key: repository.model_by_uri(info.context.session, key),
        )
        return Model.from_row(row) if row else None

    @strawberry.field(description="Licenses, by key.")
    async def licenses(
        self,
        info: Info,
        filter: Annotated[LicenseFilter | None, strawberry.argument(description="Which licenses.")] = None,
        order_by: Annotated[
            LicenseOrder | None, strawberry.argument(description="How to sort (default: key).")
        ] = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[License]:
        query = repository.LicenseQuery(
            search=filter.search if filter else None,
            kinds=tuple(k.value for k in filter.kinds) if filter and filter.kinds is not None else None,
            commercial_use=filter.commercial_use if filter else None,
            order=(order_by.field.value, order_by.direction.value) if order_by else None,
        )
        stmt = repository.licenses_statement(query)
        return await paginate(info.context.session, stmt, License.from_row, first, after, last, before)

    @strawberry.field(description="One license, by global id or by key (give exactly one).")
    async def license(
        self,
        info: Info,
        id: Annotated[strawberry.ID | None, strawberry.argument(description="Global id.")] = None,
        key: Annotated[str | None, strawberry.argument(description="e.g. `apache-2.0`.")] = None,
    ) -> License | None:
        row = await one_by_id_or_key(
            info,
            loaders.LicenseByIdLoader,
            id,
            "key",
            key,
            lambda key: repository.license_by_key(info.context.session, key),
        )
        return License.from_row(row) if row else None
