"""Root query fields of upstream releases and quantization support."""

from __future__ import annotations

from typing import Annotated

import strawberry

from budgraph.graphql.common import DeviceArchitecture
from budgraph.graphql.context import Info
from budgraph.kit.pagination import After, Before, Connection, First, Last, paginate
from budgraph.releases import repository, service
from budgraph.releases.types import QuantizationSupport, UpstreamRelease

EngineArgument = Annotated[str, strawberry.argument(description="The engine's slug, e.g. `vllm`.")]


@strawberry.type
class ReleaseQueries:
    @strawberry.field(description="Recorded upstream releases, by engine, highest version first.")
    async def upstream_releases(
        self,
        info: Info,
        engine: Annotated[str | None, strawberry.argument(description="Only this engine's (slug).")] = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[UpstreamRelease]:
        stmt = repository.releases_statement(engine)
        return await paginate(
            info.context.session, stmt, UpstreamRelease.from_row, first, after, last, before
        )

    @strawberry.field(description="One recorded upstream release of an engine; null if it is not recorded.")
    async def upstream_release(
        self,
        info: Info,
        engine: EngineArgument,
        version: Annotated[
            str, strawberry.argument(description="The upstream version (by version order: `0.8` is `0.8.0`).")
        ],
    ) -> UpstreamRelease | None:
        row = await service.release_of(info.context.session, engine, version)
        return UpstreamRelease.from_row(row) if row is not None else None

    @strawberry.field(
        description="Can this engine version run this quantization on this device? The quantization rows"
        " that match every argument given: with `computeCapability`, only rows whose minimum capability it"
        " reaches (`8.0` cannot run a method that needs `8.9`). By engine version, then method."
    )
    async def quantization_support(
        self,
        info: Info,
        engine: Annotated[str | None, strawberry.argument(description="Only this engine (slug).")] = None,
        version: Annotated[
            str | None,
            strawberry.argument(
                description="Only this version of the engine (by version order; needs `engine`)."
            ),
        ] = None,
        device_architecture: Annotated[
            DeviceArchitecture | None, strawberry.argument(description="Only builds for this device.")
        ] = None,
        method: Annotated[
            str | None,
            strawberry.argument(description="Only this method (e.g. `fp8`, `awq`; case-insensitive)."),
        ] = None,
        compute_capability: Annotated[
            str | None,
            strawberry.argument(
                description="The device's CUDA compute capability (`major.minor`, e.g. `8.9`): only rows it"
                " reaches (rows without a minimum always match)."
            ),
        ] = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[QuantizationSupport]:
        query = await service.support_query(
            info.context.session,
            engine,
            version,
            device_architecture.value if device_architecture else None,
            method,
            compute_capability,
        )
        stmt = repository.support_statement(query)
        return await paginate(
            info.context.session, stmt, QuantizationSupport.from_row, first, after, last, before
        )
