"""Mutations of engines and engine versions (write scope)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import strawberry
from strawberry.types.unset import UNSET

from budgraph import db
from budgraph.auth.permissions import needs
from budgraph.db.enums import ApiKeyScope
from budgraph.db.enums import EngineVersionStatus as StatusValue
from budgraph.engines import service
from budgraph.engines.types import Engine, EngineVersion
from budgraph.graphql.common import DeviceArchitecture, Endpoint, EngineVersionStatus
from budgraph.graphql.context import Info
from budgraph.graphql.deletion import Deletion
from budgraph.graphql.inputs import changes_of, stored
from budgraph.graphql.lookup import row_to_change
from budgraph.kit.ids import expect_global_id


@strawberry.input(description="A new inference engine.")
class CreateEngineInput:
    slug: str = strawberry.field(description="Stable short name, lower case (e.g. `sglang`).")
    name: str = strawberry.field(description="Display name.")
    homepage_url: str | None = strawberry.field(default=None, description="The engine's project page.")


@strawberry.input(description="Fields of an engine to change; omitted fields stay as they are.")
class UpdateEngineInput:
    name: str | None = strawberry.field(default=UNSET, description="Display name.")
    homepage_url: str | None = strawberry.field(default=UNSET, description="The engine's project page.")


@strawberry.input(description="A new engine version: one build of an engine for a device.")
class CreateEngineVersionInput:
    engine_id: strawberry.ID = strawberry.field(description="Global id of the engine.")
    version: str = strawberry.field(description="PEP 440 or semver version string.")
    device_architecture: DeviceArchitecture = strawberry.field(description="The device this build targets.")
    container_image: str = strawberry.field(description="The container image that runs this build.")
    release_date: date | None = strawberry.field(default=None, description="Release date.")
    status: EngineVersionStatus = strawberry.field(
        default=EngineVersionStatus.ACTIVE,
        description="Lifecycle state.",
    )
    endpoints: list[Endpoint] = strawberry.field(default_factory=list, description="Inference APIs served.")
    features: list[str] = strawberry.field(default_factory=list, description="Optional features supported.")
    tool_call_parsers: list[str] = strawberry.field(
        default_factory=list, description="Tool-call parsers shipped."
    )
    reasoning_parsers: list[str] = strawberry.field(
        default_factory=list, description="Reasoning parsers shipped."
    )
    architectures: list[str] = strawberry.field(
        default_factory=list, description="Hugging Face architecture class names this version supports."
    )


@strawberry.input(description="Fields of an engine version to change; omitted fields stay as they are.")
class UpdateEngineVersionInput:
    container_image: str | None = strawberry.field(default=UNSET, description="Container image.")
    release_date: date | None = strawberry.field(default=UNSET, description="Release date.")
    status: EngineVersionStatus | None = strawberry.field(default=UNSET, description="Lifecycle state.")
    endpoints: list[Endpoint] | None = strawberry.field(default=UNSET, description="Inference APIs served.")
    features: list[str] | None = strawberry.field(default=UNSET, description="Optional features supported.")
    tool_call_parsers: list[str] | None = strawberry.field(default=UNSET, description="Tool-call parsers.")
    reasoning_parsers: list[str] | None = strawberry.field(default=UNSET, description="Reasoning parsers.")


IdArgument = Annotated[strawberry.ID, strawberry.argument(description="Global id of the object to change.")]


@strawberry.type
class EngineMutations:
    @strawberry.mutation(description="Register a new inference engine.", extensions=needs(ApiKeyScope.WRITE))
    async def create_engine(
        self, info: Info, input: Annotated[CreateEngineInput, strawberry.argument(description="The engine.")]
    ) -> Engine:
        row = await service.create_engine(info.context.session, input.slug, input.name, input.homepage_url)
        return Engine.from_row(row)

    @strawberry.mutation(
        description="Change an engine's fields; edited fields survive re-seeding.",
        extensions=needs(ApiKeyScope.WRITE),
    )
    async def update_engine(
        self,
        info: Info,
        id: IdArgument,
        input: Annotated[UpdateEngineInput, strawberry.argument(description="The fields to change.")],
    ) -> Engine:
        row = await row_to_change(info, db.Engine, id)
        changes = changes_of(input, {"name": "name", "homepage_url": "homepage_url"}, frozenset({"name"}))
        return Engine.from_row(await service.update_engine(info.context.session, row, changes))

    @strawberry.mutation(
        description="Add a version (one build for one device) to an engine.",
        extensions=needs(ApiKeyScope.WRITE),
    )
    async def create_engine_version(
        self,
        info: Info,
        input: Annotated[CreateEngineVersionInput, strawberry.argument(description="The version.")],
    ) -> EngineVersion:
        new = service.NewEngineVersion(
            engine_id=expect_global_id(input.engine_id, "Engine"),
            version=input.version,
            device_architecture=stored(input.device_architecture),
            container_image=input.container_image,
            release_date=input.release_date,
            status=stored(input.status),
            endpoints=stored(input.endpoints),
            features=input.features,
            tool_call_parsers=input.tool_call_parsers,
            reasoning_parsers=input.reasoning_parsers,
            architectures=input.architectures,
        )
        return EngineVersion.from_row(await service.create_version(info.context.session, new))

    @strawberry.mutation(
        description="Change an engine version's fields; edited fields survive re-seeding.",
        extensions=needs(ApiKeyScope.WRITE),
    )
    async def update_engine_version(
        self,
        info: Info,
        id: IdArgument,
        input: Annotated[UpdateEngineVersionInput, strawberry.argument(description="The fields to change.")],
    ) -> EngineVersion:
        row = await row_to_change(info, db.EngineVersion, id)
        names = [
            "container_image",
            "release_date",
            "status",
            "endpoints",
            "features",
            "tool_call_parsers",
            "reasoning_parsers",
        ]
        changes = changes_of(
            input,
            {name: name for name in names},
            frozenset(names) - {"release_date"},
        )
        return EngineVersion.from_row(await service.update_version(info.context.session, row, changes))

    @strawberry.mutation(
        description="Mark an engine version deprecated: still listed, no longer the latest.",
        extensions=needs(ApiKeyScope.WRITE),
    )
    async def deprecate_engine_version(self, info: Info, id: IdArgument) -> EngineVersion:
        row = await row_to_change(info, db.EngineVersion, id)
        changes = {"status": StatusValue.DEPRECATED.value}
        return EngineVersion.from_row(await service.update_version(info.context.session, row, changes))

    @strawberry.mutation(
        description="Delete an engine, and its parser rules with it. Refused (CONFLICT, naming them) while"
        " the engine has versions: delete those first. Each deleted object is a tombstone in the change"
        " feed.",
        extensions=needs(ApiKeyScope.WRITE),
    )
    async def delete_engine(
        self, info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="The engine's id.")]
    ) -> Deletion:
        row = await row_to_change(info, db.Engine, id)
        return Deletion.of(await service.delete_engine(info.context.session, row))

    @strawberry.mutation(
        description="Delete an engine version, and its compatibility edges with it (the architectures it"
        " served are kept). To keep a version listed but out of `latest`, deprecate it instead. Each"
        " deleted object is a tombstone in the change feed.",
        extensions=needs(ApiKeyScope.WRITE),
    )
    async def delete_engine_version(
        self, info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="The version's id.")]
    ) -> Deletion:
        row = await row_to_change(info, db.EngineVersion, id)
        return Deletion.of(await service.delete_version(info.context.session, row))
