"""Mutations of upstream releases and quantization support (write scope)."""

from __future__ import annotations

from typing import Annotated

import strawberry

from budgraph import db
from budgraph.auth.permissions import needs
from budgraph.db.enums import ApiKeyScope
from budgraph.engines.types import EngineVersion
from budgraph.graphql.context import Info
from budgraph.graphql.deletion import Deletion
from budgraph.graphql.lookup import row_to_change
from budgraph.releases import service
from budgraph.releases.types import QuantizationSupport

VersionArgument = Annotated[
    strawberry.ID, strawberry.argument(description="Global id of the engine version.")
]


@strawberry.input(description="An operator's quantization row for an engine version.")
class QuantizationSupportInput:
    method: str = strawberry.field(description="The method, as the engine names it (e.g. `fp8`, `awq`).")
    min_compute_capability: str | None = strawberry.field(
        default=None, description="The lowest CUDA compute capability it runs on (`major.minor`, e.g. `8.9`)."
    )
    activation_dtypes: list[str] = strawberry.field(
        default_factory=list, description="The activation dtypes it supports (e.g. `bfloat16`)."
    )
    source: str | None = strawberry.field(default=None, description="Where the fact comes from.")
    source_url: str | None = strawberry.field(default=None, description="A URL of the source (http(s)).")


@strawberry.type
class ReleaseMutations:
    @strawberry.mutation(
        description="Make an engine version package a recorded upstream release: its compatibility edges,"
        " endpoints and quantization rows are derived from the release, keeping an operator's edits"
        " (architectures and methods an operator removed stay out, an operator's own edges and rows stay,"
        " edited endpoints stay). Applying it again changes nothing.",
        extensions=needs(ApiKeyScope.WRITE),
    )
    async def apply_upstream_release(
        self,
        info: Info,
        engine_version_id: VersionArgument,
        release_id: Annotated[strawberry.ID, strawberry.argument(description="Global id of the release.")],
    ) -> EngineVersion:
        version = await row_to_change(info, db.EngineVersion, engine_version_id, field="engineVersionId")
        release = await row_to_change(info, db.UpstreamRelease, release_id, field="releaseId")
        await service.apply_release(info.context.session, version, release)
        return EngineVersion.from_row(version)

    @strawberry.mutation(
        description="Declare (or change) that an engine version can run a quantization method on its device."
        " The row is the operator's: re-applying the version's upstream release never changes it.",
        extensions=needs(ApiKeyScope.WRITE),
    )
    async def set_quantization_support(
        self,
        info: Info,
        engine_version_id: VersionArgument,
        input: Annotated[QuantizationSupportInput, strawberry.argument(description="The row.")],
    ) -> QuantizationSupport:
        version = await row_to_change(info, db.EngineVersion, engine_version_id, field="engineVersionId")
        given = service.SupportInput(
            method=input.method,
            min_compute_capability=input.min_compute_capability,
            activation_dtypes=tuple(input.activation_dtypes),
            source=input.source,
            source_url=input.source_url,
        )
        return QuantizationSupport.from_row(await service.set_support(info.context.session, version, given))

    @strawberry.mutation(
        description="Delete a quantization row. When the version packages an upstream release the method is"
        " withdrawn (`withdrawnQuantization`), so re-applying the release does not bring it back. A tombstone"
        " in the change feed.",
        extensions=needs(ApiKeyScope.WRITE),
    )
    async def delete_quantization_support(
        self, info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="The row's id.")]
    ) -> Deletion:
        row = await row_to_change(info, db.QuantizationSupport, id)
        return Deletion.of(await service.delete_support(info.context.session, row))

    @strawberry.mutation(
        description="Delete a recorded upstream release with what it declares (each a tombstone in the change"
        " feed). Refused (CONFLICT, naming them) while engine versions package it.",
        extensions=needs(ApiKeyScope.WRITE),
    )
    async def delete_upstream_release(
        self, info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="The release's id.")]
    ) -> Deletion:
        row = await row_to_change(info, db.UpstreamRelease, id)
        return Deletion.of(await service.delete_release(info.context.session, row))
