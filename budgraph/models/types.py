"""GraphQL types of models and licenses."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry.utils.str_converters import to_camel_case

from budgraph import db
from budgraph.db.enums import LicenseKind as LicenseKindValue
from budgraph.db.enums import Modality as ModalityValue
from budgraph.db.enums import ModelSource as ModelSourceValue
from budgraph.db.enums import ModelStatus as ModelStatusValue
from budgraph.db.enums import ScanStatus
from budgraph.graphql.common import (
    BigInt,
    LicenseKind,
    Modality,
    ModelSource,
    ModelStatus,
    OrderDirection,
    Tracked,
    tracked_fields,
)
from budgraph.graphql.context import Info
from budgraph.graphql.node import Node, register_node
from budgraph.kit.db import AnyRow
from budgraph.kit.errors import BudgraphError
from budgraph.kit.ids import to_global_id
from budgraph.kit.loaders import nested_connection
from budgraph.kit.pagination import After, Before, Connection, First, Last
from budgraph.models import loaders, repository
from budgraph.plans.arguments import (
    CheapestBy,
    KvCacheDtype,
    PlanConcurrency,
    PlanContextLength,
    PlanDevices,
    PlanEngine,
    PlanKvCacheDtype,
    PlanQuantization,
)

if TYPE_CHECKING:
    from budgraph.compatibility.types import ModelArchitecture
    from budgraph.jobs.types import Job, ModelFile, ScanResult
    from budgraph.leaderboards.types import LeaderboardEntry
    from budgraph.plans.types import DeploymentPlan


@strawberry.type(description="A license models are published under.")
class License(Node, Tracked):
    key: str = strawberry.field(description="Short id, unique (e.g. `apache-2.0`, `llama3.1`).")
    name: str = strawberry.field(description="Full name.")
    url: str | None = strawberry.field(description="Where the license text is published.")
    kind: LicenseKind = strawberry.field(description="The family of terms.")
    commercial_use: bool = strawberry.field(description="Whether the license allows commercial use.")
    aliases: list[str] = strawberry.field(
        description="Other names the license is known by (model cards use them)."
    )

    @classmethod
    def from_row(cls, row: db.License | AnyRow) -> License:
        return cls(
            id=strawberry.ID(to_global_id("License", row.id)),
            key=row.key,
            name=row.name,
            url=row.url,
            kind=LicenseKindValue(row.kind),
            commercial_use=row.commercial_use,
            aliases=list(row.aliases),
            **tracked_fields(row),
        )


@strawberry.enum(description="What to sort licenses by.")
class LicenseOrderField(Enum):
    KEY = "key"
    NAME = "name"
    KIND = "kind"


@strawberry.input(description="How to sort licenses.")
class LicenseOrder:
    field: LicenseOrderField = strawberry.field(description="The field to sort by.")
    direction: OrderDirection = strawberry.field(default=OrderDirection.ASC, description="Sort direction.")


@strawberry.input(description="Which licenses to list; all given conditions must hold.")
class LicenseFilter:
    search: str | None = strawberry.field(
        default=None, description="Case-insensitive substring of key or name."
    )
    kinds: list[LicenseKind] | None = strawberry.field(default=None, description="Only these kinds.")
    commercial_use: bool | None = strawberry.field(default=None, description="Only those (not) allowing it.")


@strawberry.type(description="Where one extracted fact of a model came from.")
class FactSource:
    field: str = strawberry.field(
        description="The fact: the name of the `Model` field that holds it, e.g. `contextLength`."
    )
    source: str = strawberry.field(description="Its origin, e.g. `config.json:max_position_embeddings`.")


# Facts are stored under the model's column names and shown under its GraphQL field names.
FACT_FIELD_NAMES = {"architecture": "architectureName"}


def fact_field_name(column: str) -> str:
    """The GraphQL field of ``Model`` that holds the fact stored as ``column``."""
    return FACT_FIELD_NAMES.get(column) or to_camel_case(column)


def _big(value: int | None) -> BigInt | None:
    return BigInt(value) if value is not None else None


@strawberry.type(description="A machine-learning model known to the registry.")
class Model(Node, Tracked):
    pk: strawberry.Private[int]
    license_pk: strawberry.Private[int | None]
    uri: str = strawberry.field(description="Where the model lives, e.g. `meta-llama/Llama-3.1-8B-Instruct`.")
    source_kind: ModelSource = strawberry.field(description="Where its files come from.")
    author: str | None = strawberry.field(description="Who published it.")
    architecture_name: str | None = strawberry.field(description="Its Hugging Face architecture class name.")
    modality: Modality = strawberry.field(description="What it takes in and gives out.")
    parameter_count: BigInt | None = strawberry.field(description="Number of parameters.")
    context_length: int | None = strawberry.field(description="Maximum context length in tokens.")
    status: ModelStatus = strawberry.field(description="Lifecycle state.")
    revision: str = strawberry.field(description="The revision (branch, tag or commit) the facts describe.")
    model_type: str | None = strawberry.field(description="The config's `model_type`, e.g. `llama`.")
    layers: int | None = strawberry.field(description="Number of hidden layers.")
    hidden_size: int | None = strawberry.field(description="Hidden size.")
    attention_heads: int | None = strawberry.field(description="Number of attention heads.")
    kv_heads: int | None = strawberry.field(
        description="Number of key/value heads (grouped-query attention)."
    )
    head_dim: int | None = strawberry.field(description="Dimension of one attention head.")
    vocab_size: int | None = strawberry.field(description="Vocabulary size.")
    dtype: str | None = strawberry.field(description="The weights' data type, e.g. `bfloat16`.")
    quantization_method: str | None = strawberry.field(description="Quantization method, e.g. `gptq`, `awq`.")
    quantization_bits: int | None = strawberry.field(description="Bits per quantized weight.")
    experts_total: int | None = strawberry.field(description="Mixture-of-experts: experts per layer.")
    experts_active: int | None = strawberry.field(description="Mixture-of-experts: experts used per token.")
    active_parameter_count: BigInt | None = strawberry.field(
        description="Parameters used per token (equals parameterCount for dense models)."
    )
    weight_bytes: BigInt | None = strawberry.field(description="Bytes of the weight tensors.")
    kv_cache_bytes_per_token: BigInt | None = strawberry.field(
        description="KV-cache bytes one token takes (standard, grouped-query or latent attention)."
    )
    sliding_window: int | None = strawberry.field(description="Sliding-window attention size, if any.")
    sliding_window_layers: int | None = strawberry.field(
        description="How many layers use the sliding window (their KV cache stops growing past it)."
    )
    kv_lora_rank: int | None = strawberry.field(
        description="Multi-head latent attention: rank of the compressed key-value latent (DeepSeek-V2/V3)."
    )
    qk_rope_head_dim: int | None = strawberry.field(
        description="Multi-head latent attention: dimension of the decoupled rotary key cached per layer."
    )
    intermediate_size: int | None = strawberry.field(description="Width of the feed-forward (MLP) layers.")
    base_models: list[str] = strawberry.field(description="Models this one derives from (model card).")
    languages: list[str] = strawberry.field(description="Languages (model card).")
    datasets: list[str] = strawberry.field(description="Training datasets (model card).")
    tags: list[str] = strawberry.field(description="Tags (model card).")
    pipeline_tag: str | None = strawberry.field(description="The task, e.g. `text-generation` (model card).")
    license_name: str | None = strawberry.field(description="The license as the model card names it.")
    gated: bool | None = strawberry.field(description="Whether the repository requires accepting terms.")
    fact_sources: list[FactSource] = strawberry.field(description="Where each extracted fact came from.")
    extraction_warnings: list[str] = strawberry.field(
        description="What extraction could not determine, and why."
    )
    extracted_at: datetime | None = strawberry.field(description="When facts were last extracted.")
    extraction_error: str | None = strawberry.field(
        description="Why the latest extraction failed (status FAILED; facts of an earlier extraction, if"
        " any, are kept); null once an extraction succeeds."
    )
    scan_status: ScanStatus | None = strawberry.field(description="Summary of the latest security scan.")
    scanned_at: datetime | None = strawberry.field(description="When the model was last scanned.")

    @classmethod
    def from_row(cls, row: db.Model | AnyRow) -> Model:
        return cls(
            id=strawberry.ID(to_global_id("Model", row.id)),
            pk=row.id,
            license_pk=row.license_id,
            uri=row.uri,
            source_kind=ModelSourceValue(row.source_kind),
            author=row.author,
            architecture_name=row.architecture,
            modality=ModalityValue(row.modality),
            parameter_count=BigInt(row.parameter_count) if row.parameter_count is not None else None,
            context_length=row.context_length,
            status=ModelStatusValue(row.status),
            revision=row.revision,
            model_type=row.model_type,
            layers=row.layers,
            hidden_size=row.hidden_size,
            attention_heads=row.attention_heads,
            kv_heads=row.kv_heads,
            head_dim=row.head_dim,
            vocab_size=row.vocab_size,
            dtype=row.dtype,
            quantization_method=row.quantization_method,
            quantization_bits=row.quantization_bits,
            experts_total=row.experts_total,
            experts_active=row.experts_active,
            active_parameter_count=_big(row.active_parameter_count),
            weight_bytes=_big(row.weight_bytes),
            kv_cache_bytes_per_token=_big(row.kv_cache_bytes_per_token),
            sliding_window=row.sliding_window,
            sliding_window_layers=row.sliding_window_layers,
            kv_lora_rank=row.kv_lora_rank,
            qk_rope_head_dim=row.qk_rope_head_dim,
            intermediate_size=row.intermediate_size,
            base_models=list(row.base_models),
            languages=list(row.languages),
            datasets=list(row.datasets),
            tags=list(row.tags),
            pipeline_tag=row.pipeline_tag,
            license_name=row.license_name,
            gated=row.gated,
            fact_sources=sorted(
                (FactSource(field=fact_field_name(k), source=v) for k, v in row.fact_sources.items()),
                key=lambda fact: fact.field,
            ),
            extraction_warnings=list(row.extraction_warnings),
            extracted_at=row.extracted_at,
            extraction_error=row.extraction_error,
            scan_status=ScanStatus(row.scan_status) if row.scan_status else None,
            scanned_at=row.scanned_at,
            **tracked_fields(row),
        )

    @strawberry.field(description="Background jobs of this model, newest first.")
    async def jobs(
        self, info: Info, first: First = None, after: After = None, last: Last = None, before: Before = None
    ) -> Connection[Annotated[Job, strawberry.lazy("budgraph.jobs.types")]]:
        from budgraph.jobs.loaders import JobPagesByModelLoader, all_jobs
        from budgraph.jobs.types import Job

        return await nested_connection(
            info.context.loaders,
            JobPagesByModelLoader,
            all_jobs(),
            self.pk,
            Job.from_row,
            first,
            after,
            last,
            before,
        )

    @strawberry.field(description="Files of the current revision kept in the object store (uploaded models).")
    async def files(
        self, info: Info, first: First = None, after: After = None, last: Last = None, before: Before = None
    ) -> Connection[Annotated[ModelFile, strawberry.lazy("budgraph.jobs.types")]]:
        from budgraph.jobs.loaders import FilePagesByModelLoader
        from budgraph.jobs.types import ModelFile

        return await nested_connection(
            info.context.loaders,
            FilePagesByModelLoader,
            None,
            self.pk,
            ModelFile.from_row,
            first,
            after,
            last,
            before,
        )

    @strawberry.field(description="Per-file, per-scanner results of the latest scan, worst first.")
    async def scan_results(
        self, info: Info, first: First = None, after: After = None, last: Last = None, before: Before = None
    ) -> Connection[Annotated[ScanResult, strawberry.lazy("budgraph.jobs.types")]]:
        from budgraph.jobs.loaders import ScanResultPagesByModelLoader
        from budgraph.jobs.types import ScanResult

        return await nested_connection(
            info.context.loaders,
            ScanResultPagesByModelLoader,
            None,
            self.pk,
            ScanResult.from_row,
            first,
            after,
            last,
            before,
        )

    @strawberry.field(description="Its license, when known.")
    async def license(self, info: Info) -> License | None:
        if self.license_pk is None:
            return None
        row = await info.context.loaders.get(loaders.LicenseByIdLoader).load(self.license_pk)
        return License.from_row(row) if row else None

    @strawberry.field(description="Its architecture, when known and registered.")
    async def architecture(
        self, info: Info
    ) -> Annotated[ModelArchitecture, strawberry.lazy("budgraph.compatibility.types")] | None:
        from budgraph.compatibility.loaders import ModelArchitectureByClassNameLoader
        from budgraph.compatibility.types import ModelArchitecture

        if self.architecture_name is None:
            return None
        row = await info.context.loaders.get(ModelArchitectureByClassNameLoader).load(self.architecture_name)
        return ModelArchitecture.from_row(row) if row else None

    @strawberry.field(
        description="Its cheapest fitting deployment on any hardware SKU with a current price (see"
        " `deploymentPlans`), with `contextLength` tokens (default: its whole context) for `concurrency`"
        " sequences on at most `devices` devices; null when nothing priced fits."
    )
    async def cheapest_deployment(
        self,
        info: Info,
        context_length: PlanContextLength = None,
        concurrency: PlanConcurrency = 1,
        devices: PlanDevices = 8,
        engine: PlanEngine = None,
        quantization: PlanQuantization = None,
        kv_cache_dtype: PlanKvCacheDtype = KvCacheDtype.AUTO,
        by: Annotated[
            CheapestBy, strawberry.argument(description="Cheapest per hour, or per million output tokens.")
        ] = CheapestBy.PER_HOUR,
    ) -> Annotated[DeploymentPlan, strawberry.lazy("budgraph.plans.types")] | None:
        from budgraph.compatibility.loaders import RuleBookLoader
        from budgraph.models.shape import ModelShape
        from budgraph.plans import service as plans
        from budgraph.plans.types import DeploymentPlan

        row = await info.context.loaders.get(loaders.ModelByIdLoader).load(self.pk)
        assert row is not None
        shape = ModelShape.from_row(row)
        request = plans.checked_request(
            shape,
            context_length=context_length,
            concurrency=concurrency,
            devices=devices,
            engine=engine,
            quantization=quantization,
            kv_cache_dtype=kv_cache_dtype.dtype,
        )
        reserve = info.context.settings.plan_runtime_reserve
        per_token = by is CheapestBy.PER_MILLION_OUTPUT_TOKENS
        plan = await plans.cheapest_deployment(info.context.loaders, shape, request, reserve, per_token)
        if plan is None:
            return None
        book = await info.context.loaders.get(RuleBookLoader, info.context.rule_books).load(0)
        return DeploymentPlan.of(plan, book, shape.uri)

    @strawberry.field(
        description="The names operators recorded for it with `addModelAlias` (as typed), by their"
        " matching form; each can be undone with `removeModelAlias`."
    )
    async def leaderboard_aliases(self, info: Info) -> list[str]:
        from budgraph.leaderboards.loaders import AliasesByModelLoader

        return await info.context.loaders.get(AliasesByModelLoader).load(self.pk)

    @strawberry.field(
        description="Its scores in current (latest) leaderboard snapshots: one per benchmark (the best"
        " when several leaderboard names link to it), by benchmark key."
    )
    async def scores(
        self,
        info: Info,
        benchmarks: Annotated[
            list[str] | None,
            strawberry.argument(
                description="Only these benchmarks (keys such as `lmarena:text_overall`); unknown keys"
                " match nothing."
            ),
        ] = None,
    ) -> list[Annotated[LeaderboardEntry, strawberry.lazy("budgraph.leaderboards.types")]]:
        from budgraph.leaderboards.loaders import ScoresByModelLoader
        from budgraph.leaderboards.types import LeaderboardEntry

        keys = tuple(sorted(set(benchmarks))) if benchmarks is not None else None
        ranked = await info.context.loaders.get(ScoresByModelLoader, keys).load(self.pk)
        return [LeaderboardEntry.from_ranked(entry) for entry in ranked]


@strawberry.enum(description="What to sort models by.")
class ModelOrderField(Enum):
    URI = "uri"
    PARAMETER_COUNT = "parameter_count"
    CONTEXT_LENGTH = "context_length"
    CREATED_AT = "created_at"


@strawberry.input(description="How to sort models.")
class ModelOrder:
    field: ModelOrderField = strawberry.field(description="The field to sort by (unknown values sort last).")
    direction: OrderDirection = strawberry.field(default=OrderDirection.ASC, description="Sort direction.")


@strawberry.input(description="Which models to list; all given conditions must hold.")
class ModelFilter:
    search: str | None = strawberry.field(
        default=None, description="Case-insensitive substring of uri or author."
    )
    source_kinds: list[ModelSource] | None = strawberry.field(default=None, description="Only these sources.")
    architectures: list[str] | None = strawberry.field(default=None, description="Only these class names.")
    families: list[str] | None = strawberry.field(
        default=None, description="Only architectures of these families."
    )
    modalities: list[Modality] | None = strawberry.field(default=None, description="Only these modalities.")
    statuses: list[ModelStatus] | None = strawberry.field(default=None, description="Only these states.")
    license_keys: list[str] | None = strawberry.field(default=None, description="Only these licenses (keys).")
    license_kinds: list[LicenseKind] | None = strawberry.field(
        default=None, description="Only these license kinds."
    )
    commercial_use: bool | None = strawberry.field(
        default=None, description="Only models whose license does (or does not) allow commercial use."
    )
    min_parameters: BigInt | None = strawberry.field(
        default=None, description="At least this many parameters."
    )
    max_parameters: BigInt | None = strawberry.field(
        default=None, description="At most this many parameters."
    )
    min_context_length: int | None = strawberry.field(
        default=None, description="At least this context length."
    )


def model_query(filter: ModelFilter | None, order: ModelOrder | None) -> repository.ModelQuery:
    """The repository's query for a model list's arguments."""
    key = (order.field.value, order.direction.value) if order else None
    if filter is None:
        return repository.ModelQuery(order=key)
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
        order=key,
    )


register_node("Model", loaders.ModelByIdLoader, Model.from_row)
register_node("License", loaders.LicenseByIdLoader, License.from_row)
