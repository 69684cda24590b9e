"""Root query fields of engines and engine versions."""

from __future__ import annotations

from typing import Annotated

import strawberry

from budgraph.db.enums import DeviceArchitecture as DeviceArchitectureValue
from budgraph.engines import loaders, repository
from budgraph.engines.types import (
    LATEST_RULE,
    Engine,
    EngineFilter,
    EngineOrder,
    EngineVersion,
    EngineVersionFilter,
    EngineVersionOrder,
    IncludePrereleases,
    version_query,
)
from budgraph.graphql.common import DeviceArchitecture
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


@strawberry.type
class EngineQueries:
    @strawberry.field(description="Inference engines, by slug unless ordered otherwise.")
    async def engines(
        self,
        info: Info,
        filter: Annotated[
            EngineFilter | None, strawberry.argument(description="Which engines to list.")
        ] = None,
        order_by: Annotated[
            EngineOrder | None, strawberry.argument(description="How to sort (default: slug ascending).")
        ] = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[Engine]:
        query = repository.EngineQuery(
            search=filter.search if filter else None,
            slugs=tuple(filter.slugs) if filter and filter.slugs is not None else None,
            order=(order_by.field.value, order_by.direction.value) if order_by else None,
        )
        stmt = repository.engines_statement(query)
        return await paginate(info.context.session, stmt, Engine.from_row, first, after, last, before)

    @strawberry.field(description="One engine, by global id or by slug (give exactly one).")
    async def engine(
        self,
        info: Info,
        id: Annotated[
            strawberry.ID | None, strawberry.argument(description="The engine's global id.")
        ] = None,
        slug: Annotated[
            str | None, strawberry.argument(description="The engine's slug, e.g. `vllm`.")
        ] = None,
    ) -> Engine | None:
        row = await one_by_id_or_key(
            info,
            loaders.EngineByIdLoader,
            id,
            "slug",
            slug,
            lambda key: repository.engine_by_slug(info.context.session, key),
        )
        return Engine.from_row(row) if row else None

    @strawberry.field(description="Engine versions across all engines, highest version first by default.")
    async def engine_versions(
        self,
        info: Info,
        filter: Annotated[
            EngineVersionFilter | None, strawberry.argument(description="Which versions to list.")
        ] = None,
        order_by: Annotated[
            EngineVersionOrder | None, strawberry.argument(description="How to sort (default: VERSION DESC).")
        ] = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[EngineVersion]:
        stmt = repository.versions_statement(version_query(filter, order_by))
        return await paginate(info.context.session, stmt, EngineVersion.from_row, first, after, last, before)

    @strawberry.field(description="One engine version by global id.")
    async def engine_version(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The version's global id.")],
    ) -> EngineVersion | None:
        pk = expect_global_id(id, "EngineVersion")
        row = await info.context.loaders.get(loaders.EngineVersionByIdLoader).load(pk)
        return EngineVersion.from_row(row) if row else None

    @strawberry.field(
        description=f"The latest active version of an engine, optionally for a device: {LATEST_RULE}"
    )
    async def latest_engine_version(
        self,
        info: Info,
        engine: Annotated[str, strawberry.argument(description="The engine's slug, e.g. `vllm`.")],
        device_architecture: Annotated[
            DeviceArchitecture | None, strawberry.argument(description="Only builds for this device.")
        ] = None,
        include_prereleases: IncludePrereleases = False,
    ) -> EngineVersion | None:
        row = await repository.engine_by_slug(info.context.session, engine)
        if row is None:
            return None
        device = DeviceArchitectureValue(device_architecture.value) if device_architecture else None
        loader = info.context.loaders.get(loaders.LatestVersionByEngineLoader, device, include_prereleases)
        latest = await loader.load(row.id)
        return EngineVersion.from_row(latest) if latest else None
