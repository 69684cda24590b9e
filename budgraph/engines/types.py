"""GraphQL types of engines and engine versions."""

from __future__ import annotations

from datetime import date
from enum import Enum
from typing import TYPE_CHECKING, Annotated

import strawberry

from budgraph import db
from budgraph.db.enums import DeviceArchitecture as DeviceArchitectureValue
from budgraph.db.enums import Endpoint as EndpointValue
from budgraph.db.enums import EngineVersionStatus as EngineVersionStatusValue
from budgraph.engines import loaders, repository
from budgraph.graphql.common import (
    DeviceArchitecture,
    Endpoint,
    EngineVersionStatus,
    OrderDirection,
    Tracked,
    tracked_fields,
)
from budgraph.graphql.context import Info
from budgraph.graphql.node import Node, register_node
from budgraph.kit.db import AnyRow
from budgraph.kit.ids import to_global_id
from budgraph.kit.loaders import nested_connection
from budgraph.kit.pagination import After, Before, Connection, First, Last
from budgraph.releases.loaders import QuantizationSupportByEngineVersionLoader, UpstreamReleaseByIdLoader

if TYPE_CHECKING:
    from budgraph.compatibility.types import (
        ModelArchitecture,
        ModelArchitectureFilter,
        ModelArchitectureOrder,
    )
    from budgraph.models.types import Model, ModelFilter, ModelOrder
    from budgraph.releases.types import QuantizationSupport, UpstreamRelease


LATEST_RULE = (
    "the highest final release by version order (PEP 440 / semver, never by insertion order), as pip"
    " chooses: pre-releases (alpha, beta, rc, dev) count only when there is no final release, or when"
    " `includePrereleases` is true."
)
IncludePrereleases = Annotated[
    bool,
    strawberry.argument(
        description="Whether pre-releases may be the latest even when a final release exists."
    ),
]


@strawberry.enum(description="What to sort engines by.")
class EngineOrderField(Enum):
    NAME = "name"
    SLUG = "slug"
    CREATED_AT = "created_at"


@strawberry.input(description="How to sort engines.")
class EngineOrder:
    field: EngineOrderField = strawberry.field(description="The field to sort by.")
    direction: OrderDirection = strawberry.field(default=OrderDirection.ASC, description="Sort direction.")


@strawberry.input(description="Which engines to list; all given conditions must hold.")
class EngineFilter:
    search: str | None = strawberry.field(
        default=None, description="Case-insensitive substring of the engine's name or slug."
    )
    slugs: list[str] | None = strawberry.field(default=None, description="Only engines with these slugs.")


@strawberry.enum(description="What to sort engine versions by.")
class EngineVersionOrderField(Enum):
    VERSION = "version"
    RELEASE_DATE = "release_date"
    CREATED_AT = "created_at"


@strawberry.input(description="How to sort engine versions.")
class EngineVersionOrder:
    field: EngineVersionOrderField = strawberry.field(
        description="The field to sort by; VERSION sorts in PEP 440 / semver order, not as text."
    )
    direction: OrderDirection = strawberry.field(default=OrderDirection.DESC, description="Sort direction.")


@strawberry.input(description="Which engine versions to list; all given conditions must hold.")
class EngineVersionFilter:
    engine_slugs: list[str] | None = strawberry.field(
        default=None, description="Only versions of these engines (by slug)."
    )
    device_architectures: list[DeviceArchitecture] | None = strawberry.field(
        default=None, description="Only versions built for these devices."
    )
    statuses: list[EngineVersionStatus] | None = strawberry.field(
        default=None, description="Only versions in these states (default: all)."
    )
    endpoints: list[Endpoint] | None = strawberry.field(
        default=None, description="Only versions that serve all of these endpoints."
    )
    architecture: str | None = strawberry.field(
        default=None,
        description="Only versions that support this model architecture (a Hugging Face class name).",
    )
    version_prefix: str | None = strawberry.field(
        default=None, description="Only versions whose version string starts with this."
    )


@strawberry.type(description="An inference engine (vLLM, SGLang, llama.cpp, ...).")
class Engine(Node, Tracked):
    pk: strawberry.Private[int]
    slug: str = strawberry.field(description="Stable short name, unique (e.g. `vllm`).")
    name: str = strawberry.field(description="Display name.")
    homepage_url: str | None = strawberry.field(description="The engine's project page.")

    @classmethod
    def from_row(cls, row: db.Engine | AnyRow) -> Engine:
        return cls(
            id=strawberry.ID(to_global_id("Engine", row.id)),
            pk=row.id,
            slug=row.slug,
            name=row.name,
            homepage_url=row.homepage_url,
            **tracked_fields(row),
        )

    @strawberry.field(description="The engine's versions, highest version first unless ordered otherwise.")
    async def versions(
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
        return await nested_connection(
            info.context.loaders,
            loaders.VersionPagesByEngineLoader,
            version_query(filter, order_by),
            self.pk,
            EngineVersion.from_row,
            first,
            after,
            last,
            before,
        )

    @strawberry.field(description=f"The latest active version of this engine: {LATEST_RULE}")
    async def latest_version(
        self,
        info: Info,
        device_architecture: Annotated[
            DeviceArchitecture | None, strawberry.argument(description="Only versions built for this device.")
        ] = None,
        include_prereleases: IncludePrereleases = False,
    ) -> EngineVersion | None:
        device = DeviceArchitectureValue(device_architecture.value) if device_architecture else None
        loader = info.context.loaders.get(loaders.LatestVersionByEngineLoader, device, include_prereleases)
        row = await loader.load(self.pk)
        return EngineVersion.from_row(row) if row else None


def version_query(
    filter: EngineVersionFilter | None, order: EngineVersionOrder | None
) -> repository.VersionQuery:
    """The repository's query for a version list's arguments (the list's default order for None)."""
    key = (order.field.value, order.direction.value) if order else None
    if filter is None:
        return repository.VersionQuery(order=key)
    return repository.VersionQuery(
        engine_slugs=tuple(filter.engine_slugs) if filter.engine_slugs is not None else None,
        device_architectures=(
            tuple(d.value for d in filter.device_architectures)
            if filter.device_architectures is not None
            else None
        ),
        statuses=tuple(s.value for s in filter.statuses) if filter.statuses is not None else None,
        endpoints=tuple(e.value for e in filter.endpoints) if filter.endpoints else None,
        architecture=filter.architecture,
        version_prefix=filter.version_prefix,
        order=key,
    )


@strawberry.type(description="One build of an engine: a version for a device architecture, with its image.")
class EngineVersion(Node, Tracked):
    pk: strawberry.Private[int]
    engine_pk: strawberry.Private[int]
    version: str = strawberry.field(description="The version string (PEP 440 or semver).")
    device_architecture: DeviceArchitecture = strawberry.field(description="The device this build targets.")
    container_image: str = strawberry.field(description="The container image that runs this build.")
    release_date: date | None = strawberry.field(description="When this version was released.")
    status: EngineVersionStatus = strawberry.field(description="Lifecycle state.")
    endpoints: list[Endpoint] = strawberry.field(description="The inference APIs this version serves.")
    features: list[str] = strawberry.field(description="Optional features this version supports.")
    tool_call_parsers: list[str] = strawberry.field(description="Tool-call parsers this version ships.")
    reasoning_parsers: list[str] = strawberry.field(description="Reasoning parsers this version ships.")
    upstream_release_pk: strawberry.Private[int | None]
    withdrawn_architectures: list[str] = strawberry.field(
        description="Architectures its upstream release serves that an operator removed from this version;"
        " re-applying the release leaves them out."
    )
    withdrawn_quantization: list[str] = strawberry.field(
        description="Quantization methods its upstream release implements that an operator removed from"
        " this version; re-applying the release leaves them out."
    )

    @classmethod
    def from_row(cls, row: db.EngineVersion | AnyRow) -> EngineVersion:
        return cls(
            id=strawberry.ID(to_global_id("EngineVersion", row.id)),
            pk=row.id,
            engine_pk=row.engine_id,
            version=row.version,
            device_architecture=DeviceArchitectureValue(row.device_architecture),
            container_image=row.container_image,
            release_date=row.release_date,
            status=EngineVersionStatusValue(row.status),
            endpoints=[EndpointValue(e) for e in row.endpoints],
            features=list(row.features),
            tool_call_parsers=list(row.tool_call_parsers),
            reasoning_parsers=list(row.reasoning_parsers),
            upstream_release_pk=row.upstream_release_id,
            withdrawn_architectures=list(row.withdrawn_architectures),
            withdrawn_quantization=list(row.withdrawn_quantization),
            **tracked_fields(row),
        )

    @strawberry.field(
        description="The upstream release this build packages (e.g. the vLLM release a Bud image is built"
        " from): its architectures, endpoints and quantization support come from it, and an operator's edits"
        " win. Null when none is named."
    )
    async def upstream_release(
        self, info: Info
    ) -> Annotated[UpstreamRelease, strawberry.lazy("budgraph.releases.types")] | None:
        from budgraph.releases.types import UpstreamRelease

        if self.upstream_release_pk is None:
            return None
        row = await info.context.loaders.get(UpstreamReleaseByIdLoader).load(self.upstream_release_pk)
        return UpstreamRelease.from_row(row) if row is not None else None

    @strawberry.field(
        description="The quantization methods this version can run on its device, by method, each with its"
        " minimum compute capability and where the fact comes from."
    )
    async def quantization_support(
        self, info: Info
    ) -> list[Annotated[QuantizationSupport, strawberry.lazy("budgraph.releases.types")]]:
        from budgraph.releases.types import QuantizationSupport

        rows = await info.context.loaders.get(QuantizationSupportByEngineVersionLoader).load(self.pk)
        return [QuantizationSupport.from_row(row) for row in rows]

    @strawberry.field(description="The engine this is a version of.")
    async def engine(self, info: Info) -> Engine:
        row = await info.context.loaders.get(loaders.EngineByIdLoader).load(self.engine_pk)
        assert row is not None
        return Engine.from_row(row)

    @strawberry.field(description="The model architectures this version can serve.")
    async def architectures(
        self,
        info: Info,
        filter: Annotated[
            Annotated[ModelArchitectureFilter, strawberry.lazy("budgraph.compatibility.types")] | None,
            strawberry.argument(description="Which architectures to list."),
        ] = None,
        order_by: Annotated[
            Annotated[ModelArchitectureOrder, strawberry.lazy("budgraph.compatibility.types")] | None,
            strawberry.argument(description="How to sort (default: class name)."),
        ] = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[Annotated[ModelArchitecture, strawberry.lazy("budgraph.compatibility.types")]]:
        from budgraph.compatibility.loaders import ArchitecturePagesByEngineVersionLoader
        from budgraph.compatibility.types import ModelArchitecture, architecture_query

        return await nested_connection(
            info.context.loaders,
            ArchitecturePagesByEngineVersionLoader,
            architecture_query(filter, order_by),
            self.pk,
            ModelArchitecture.from_row,
            first,
            after,
            last,
            before,
        )

    @strawberry.field(description="Registered models whose architecture this version can serve.")
    async def models(
        self,
        info: Info,
        filter: Annotated[
            Annotated[ModelFilter, strawberry.lazy("budgraph.models.types")] | None,
            strawberry.argument(description="Which models to list."),
        ] = None,
        order_by: Annotated[
            Annotated[ModelOrder, strawberry.lazy("budgraph.models.types")] | None,
            strawberry.argument(description="How to sort (default: uri)."),
        ] = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[Annotated[Model, strawberry.lazy("budgraph.models.types")]]:
        from budgraph.models.loaders import ModelPagesByEngineVersionLoader
        from budgraph.models.types import Model, model_query

        return await nested_connection(
            info.context.loaders,
            ModelPagesByEngineVersionLoader,
            model_query(filter, order_by),
            self.pk,
            Model.from_row,
            first,
            after,
            last,
            before,
        )


register_node("Engine", loaders.EngineByIdLoader, Engine.from_row)
register_node("EngineVersion", loaders.EngineVersionByIdLoader, EngineVersion.from_row)
