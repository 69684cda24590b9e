"""GraphQL types of upstream releases and quantization support."""

from __future__ import annotations

from datetime import datetime

import strawberry

from budgraph import db
from budgraph.compatibility.loaders import ModelArchitectureByIdLoader
from budgraph.compatibility.types import ModelArchitecture
from budgraph.db.enums import ArchitectureTask as ArchitectureTaskValue
from budgraph.db.enums import DeviceArchitecture as DeviceArchitectureValue
from budgraph.db.enums import Endpoint as EndpointValue
from budgraph.engines.loaders import EngineByIdLoader, EngineVersionByIdLoader
from budgraph.engines.types import Engine, EngineVersion
from budgraph.graphql.common import DeviceArchitecture, Endpoint, Tracked, tracked_fields
from budgraph.graphql.context import Info
from budgraph.graphql.node import Node, register_node
from budgraph.kit.db import AnyRow
from budgraph.kit.ids import to_global_id
from budgraph.kit.loaders import nested_connection
from budgraph.kit.pagination import After, Before, Connection, First, Last
from budgraph.releases import loaders

strawberry.enum(
    ArchitectureTaskValue,
    description="What an upstream release serves an architecture for: GENERATE (text), MULTIMODAL,"
    " EMBEDDING (pooling), CROSS_ENCODER (scoring / rerank), TRANSCRIPTION, LATE_INTERACTION (multi-vector"
    " retrieval, ColBERT-style), CLASSIFICATION (sequence classification), REWARD (reward models) and"
    " TOKEN_CLASSIFICATION, as the engine's code classes it.",
)
FILE_HELP = "The file of the release that declares it (a path inside the release)."
SYMBOL_HELP = "The symbol in that file that declares it, e.g. `_TEXT_GENERATION_MODELS['LlamaForCausalLM']`."
CAPABILITY_HELP = (
    "The lowest CUDA compute capability the method runs on (`major.minor`, e.g. `8.9`); null when none"
    " applies (other devices, or no minimum declared)."
)


@strawberry.type(description="An architecture an upstream release serves, as the release's code declares it.")
class UpstreamArchitecture(Node, Tracked):
    architecture_pk: strawberry.Private[int]
    release_pk: strawberry.Private[int]
    task: ArchitectureTaskValue = strawberry.field(description="What the release serves it for.")
    endpoints: list[Endpoint] = strawberry.field(description="The inference APIs it is served on.")
    supports_pipeline_parallelism: bool | None = strawberry.field(
        description="Whether the release can split it into pipeline stages; null when it does not say."
    )
    supports_lora: bool | None = strawberry.field(
        description="Whether the release serves LoRA adapters on it; null when it does not say."
    )
    multimodal: bool = strawberry.field(description="Whether it takes images, audio or video as input.")
    gguf_architecture: str | None = strawberry.field(
        description="The GGUF architecture name it converts to (llama.cpp), e.g. `llama`."
    )
    source_file: str = strawberry.field(description=FILE_HELP)
    source_symbol: str = strawberry.field(description=SYMBOL_HELP)

    @classmethod
    def from_row(cls, row: db.UpstreamArchitecture | AnyRow) -> UpstreamArchitecture:
        return cls(
            id=strawberry.ID(to_global_id("UpstreamArchitecture", row.id)),
            architecture_pk=row.architecture_id,
            release_pk=row.release_id,
            task=ArchitectureTaskValue(row.task),
            endpoints=[EndpointValue(e) for e in row.endpoints],
            supports_pipeline_parallelism=row.supports_pipeline_parallelism,
            supports_lora=row.supports_lora,
            multimodal=row.multimodal,
            gguf_architecture=row.gguf_architecture,
            source_file=row.source_file,
            source_symbol=row.source_symbol,
            **tracked_fields(row),
        )

    @strawberry.field(description="The registry's architecture (created from the release if it lacked one).")
    async def architecture(self, info: Info) -> ModelArchitecture:
        row = await info.context.loaders.get(ModelArchitectureByIdLoader).load(self.architecture_pk)
        assert row is not None
        return ModelArchitecture.from_row(row)

    @strawberry.field(description="The release that declares it.")
    async def release(self, info: Info) -> UpstreamRelease:
        row = await info.context.loaders.get(loaders.UpstreamReleaseByIdLoader).load(self.release_pk)
        assert row is not None
        return UpstreamRelease.from_row(row)


@strawberry.type(
    description="An architecture an upstream release says it no longer serves (e.g. vLLM's"
    " `_PREVIOUSLY_SUPPORTED_MODELS`)."
)
class UpstreamDroppedArchitecture(Node, Tracked):
    class_name: str = strawberry.field(description="The Hugging Face class name.")
    source_file: str = strawberry.field(description=FILE_HELP)
    source_symbol: str = strawberry.field(description=SYMBOL_HELP)

    @classmethod
    def from_row(cls, row: db.UpstreamDroppedArchitecture | AnyRow) -> UpstreamDroppedArchitecture:
        return cls(
            id=strawberry.ID(to_global_id("UpstreamDroppedArchitecture", row.id)),
            class_name=row.class_name,
            source_file=row.source_file,
            source_symbol=row.source_symbol,
            **tracked_fields(row),
        )


@strawberry.type(description="A quantization method an upstream release implements for a device.")
class UpstreamQuantization(Node, Tracked):
    method: str = strawberry.field(description="The method, as the engine names it (e.g. `fp8`, `awq`).")
    device_architecture: DeviceArchitecture = strawberry.field(description="The device it runs on.")
    min_compute_capability: str | None = strawberry.field(description=CAPABILITY_HELP)
    activation_dtypes: list[str] = strawberry.field(
        description="The activation dtypes it supports (e.g. `bfloat16`, `float16`)."
    )
    source_file: str = strawberry.field(description=FILE_HELP)
    source_symbol: str = strawberry.field(description=SYMBOL_HELP)

    @classmethod
    def from_row(cls, row: db.UpstreamQuantization | AnyRow) -> UpstreamQuantization:
        return cls(
            id=strawberry.ID(to_global_id("UpstreamQuantization", row.id)),
            method=row.method,
            device_architecture=DeviceArchitectureValue(row.device_architecture),
            min_compute_capability=row.min_compute_capability,
            activation_dtypes=list(row.activation_dtypes),
            source_file=row.source_file,
            source_symbol=row.source_symbol,
            **tracked_fields(row),
        )


@strawberry.type(
    description="One published release of an engine (e.g. vLLM 0.8.0 on PyPI), with what its code declares:"
    " the architectures it serves, those it dropped, its quantization methods. Recorded by"
    " `budgraph engines import`; an engine version that packages it derives its compatibility from it."
)
class UpstreamRelease(Node, Tracked):
    pk: strawberry.Private[int]
    engine_pk: strawberry.Private[int]
    version: str = strawberry.field(description="The upstream version (PEP 440), e.g. `0.8.0`.")
    artifact: str = strawberry.field(
        description="The artifact it was read from (a wheel, an sdist or a source tree), e.g."
        " `vllm-0.8.0.tar.gz`."
    )
    artifact_sha256: str | None = strawberry.field(description="The artifact's SHA-256, when recorded.")
    imported_at: datetime = strawberry.field(description="When it was first recorded.")

    @classmethod
    def from_row(cls, row: db.UpstreamRelease | AnyRow) -> UpstreamRelease:
        return cls(
            id=strawberry.ID(to_global_id("UpstreamRelease", row.id)),
            pk=row.id,
            engine_pk=row.engine_id,
            version=row.version,
            artifact=row.artifact,
            artifact_sha256=row.artifact_sha256,
            imported_at=row.imported_at,
            **tracked_fields(row),
        )

    @strawberry.field(description="The engine it is a release of.")
    async def engine(self, info: Info) -> Engine:
        row = await info.context.loaders.get(EngineByIdLoader).load(self.engine_pk)
        assert row is not None
        return Engine.from_row(row)

    @strawberry.field(description="The architectures it serves, by class name.")
    async def architectures(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[UpstreamArchitecture]:
        return await nested_connection(
            info.context.loaders,
            loaders.ArchitecturePagesByReleaseLoader,
            None,
            self.pk,
            UpstreamArchitecture.from_row,
            first,
            after,
            last,
            before,
        )

    @strawberry.field(description="The architectures it says it no longer serves, by class name.")
    async def dropped_architectures(self, info: Info) -> list[UpstreamDroppedArchitecture]:
        rows = await info.context.loaders.get(loaders.DroppedArchitecturesByReleaseLoader).load(self.pk)
        return [UpstreamDroppedArchitecture.from_row(row) for row in rows]

    @strawberry.field(description="The quantization methods it implements, by method and device.")
    async def quantization(self, info: Info) -> list[UpstreamQuantization]:
        rows = await info.context.loaders.get(loaders.UpstreamQuantizationByReleaseLoader).load(self.pk)
        return [UpstreamQuantization.from_row(row) for row in rows]

    @strawberry.field(description="The engine versions (builds) that package it, highest version first.")
    async def engine_versions(self, info: Info) -> list[EngineVersion]:
        rows = await info.context.loaders.get(loaders.EngineVersionsByReleaseLoader).load(self.pk)
        return [EngineVersion.from_row(row) for row in rows]


@strawberry.type(
    description="An engine version can run models quantized with a method on its device, from a minimum"
    " compute capability where one applies. `origin`: RELEASE (derived from the upstream release the"
    " version packages), SEED (curated, with its `sourceUrl`) or API (an operator's, which a re-applied"
    " release never changes)."
)
class QuantizationSupport(Node, Tracked):
    engine_version_pk: strawberry.Private[int]
    method: str = strawberry.field(description="The method, as the engine names it (e.g. `fp8`, `awq`).")
    device_architecture: DeviceArchitecture = strawberry.field(description="The device it runs on.")
    min_compute_capability: str | None = strawberry.field(description=CAPABILITY_HELP)
    activation_dtypes: list[str] = strawberry.field(
        description="The activation dtypes it supports (e.g. `bfloat16`, `float16`)."
    )
    source_file: str | None = strawberry.field(
        description="The file of the upstream release that declares it (release rows)."
    )
    source_symbol: str | None = strawberry.field(
        description="The symbol in that file, e.g. `Fp8Config.get_min_capability` (release rows)."
    )

    @classmethod
    def from_row(cls, row: db.QuantizationSupport | AnyRow) -> QuantizationSupport:
        return cls(
            id=strawberry.ID(to_global_id("QuantizationSupport", row.id)),
            engine_version_pk=row.engine_version_id,
            method=row.method,
            device_architecture=DeviceArchitectureValue(row.device_architecture),
            min_compute_capability=row.min_compute_capability,
            activation_dtypes=list(row.activation_dtypes),
            source_file=row.source_file,
            source_symbol=row.source_symbol,
            **tracked_fields(row),
        )

    @strawberry.field(description="The engine version.")
    async def engine_version(self, info: Info) -> EngineVersion:
        row = await info.context.loaders.get(EngineVersionByIdLoader).load(self.engine_version_pk)
        assert row is not None
        return EngineVersion.from_row(row)


register_node("UpstreamRelease", loaders.UpstreamReleaseByIdLoader, UpstreamRelease.from_row)
register_node("UpstreamArchitecture", loaders.UpstreamArchitectureByIdLoader, UpstreamArchitecture.from_row)
register_node(
    "UpstreamDroppedArchitecture",
    loaders.UpstreamDroppedArchitectureByIdLoader,
    UpstreamDroppedArchitecture.from_row,
)
register_node("UpstreamQuantization", loaders.UpstreamQuantizationByIdLoader, UpstreamQuantization.from_row)
register_node("QuantizationSupport", loaders.QuantizationSupportByIdLoader, QuantizationSupport.from_row)
