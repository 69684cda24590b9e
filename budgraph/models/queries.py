"""Root query fields of models and licenses."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from sqlalchemy import ColumnElement

from budgraph import db
from budgraph.graphql.context import Info
from budgraph.graphql.lookup import one_by_id_or_key
from budgraph.kit.errors import BudgraphError
from budgraph.kit.ordering import order_terms
from budgraph.kit.pagination import (
    After,
    Before,
    Connection,
    First,
    Last,
    PageRequest,
    build_connection,
    paginate,
)
from budgraph.models import loaders, repository
from budgraph.models.types import License, LicenseFilter, LicenseOrder, Model, ModelFilter, ModelOrder

LICENSE_ORDER_COLUMNS = {"key": db.License.key, "name": db.License.name, "kind": db.License.kind}


def model_query(filter: ModelFilter | None) -> repository.ModelQuery:
    if filter is None:
        return repository.ModelQuery()
    if (
        filter.min_parameters is not None
        and filter.max_parameters is not None
        and filter.min_parameters > filter.max_parameters
    ):
        raise BudgraphError("`minParameters` is larger than `maxParameters`", field="minParameters")

    def values(items: list[Any] | None) -> tuple[str, ...] | None:
        return tuple(getattr(item, "value", item) for item in items) if items is not None else None

    return repository.ModelQuery(
        search=filter.search,
        source_kinds=values(filter.source_kinds),
        architectures=values(filter.architectures),
        families=values(filter.families),
        modalities=values(filter.modalities),
        statuses=values(filter.statuses),
        license_keys=values(filter.license_keys),
        license_kinds=values(filter.license_kinds),
        commercial_use=filter.commercial_use,
        min_parameters=filter.min_parameters,
        max_parameters=filter.max_parameters,
        min_context_length=filter.min_context_length,
    )


def model_order(order: ModelOrder | None) -> list[ColumnElement[Any]]:
    return loaders.model_order((order.field.value, order.direction.value) if order else None)


async def models_served_by_version(
    info: Info,
    version_pk: int,
    filter: ModelFilter | None,
    order_by: ModelOrder | None,
    first: int | None,
    after: str | None,
    last: int | None,
    before: str | None,
) -> Connection[Model]:
    page = PageRequest.parse(first, after, last, before)
    order = (order_by.field.value, order_by.direction.value) if order_by else None
    loader = info.context.loaders.get(
        loaders.ModelPagesByEngineVersionLoader, page, model_query(filter), order
    )
    result = await loader.load(version_pk)
    return build_connection(result, Model.from_row)


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
        stmt = repository.models_statement(model_query(filter)).order_by(*model_order(order_by))
        return await paginate(info.context.session, stmt, Model.from_row, first, after, last, before)

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
        )
        field, direction = (order_by.field.value, order_by.direction.value) if order_by else ("key", "asc")
        order = order_terms(LICENSE_ORDER_COLUMNS, field, direction, db.License.id)
        stmt = repository.licenses_statement(query).order_by(*order)
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
