"""GraphQL types of model architectures, compatibility edges and parser rules."""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Any

import strawberry

from budgraph import db
from budgraph.compatibility import loaders, repository
from budgraph.compatibility.rulebook import RuleBook
from budgraph.db.enums import MatchType as MatchTypeValue
from budgraph.db.enums import ParserRuleType as ParserRuleTypeValue
from budgraph.engines.types import (
    Engine,
    EngineVersion,
    EngineVersionFilter,
    EngineVersionOrder,
    version_query,
)
from budgraph.graphql.common import MatchType, OrderDirection, ParserRuleType, Tracked, tracked_fields
from budgraph.graphql.context import Info
from budgraph.graphql.node import Node, register_node
from budgraph.kit.db import AnyRow
from budgraph.kit.ids import to_global_id
from budgraph.kit.loaders import nested_connection
from budgraph.kit.pagination import After, Before, Connection, First, Last
from budgraph.releases.errors import reaches
from budgraph.releases.loaders import (
    QuantizationMethodByModelLoader,
    QuantizationSupportByEngineVersionLoader,
)

CHAT_TEMPLATE_HELP = (
    "The chat template the engine needs with this parser, as a path the engine ships (e.g. vLLM's"
    " `examples/tool_chat_template_llama3.1_json.jinja`); null when the model's own template works."
)


@strawberry.input(description="Which model architectures to list; all given conditions must hold.")
class ModelArchitectureFilter:
    search: str | None = strawberry.field(
        default=None, description="Case-insensitive substring of the class name or family."
    )
    families: list[str] | None = strawberry.field(
        default=None, description="Only these families (e.g. `llama`)."
    )
    supports_lora: bool | None = strawberry.field(
        default=None, description="Only those with (or without) LoRA."
    )
    supports_pipeline_parallelism: bool | None = strawberry.field(
        default=None, description="Only those with (or without) pipeline parallelism."
    )


@strawberry.enum(description="What to sort model architectures by.")
class ModelArchitectureOrderField(Enum):
    CLASS_NAME = "class_name"
    FAMILY = "family"
    CREATED_AT = "created_at"


@strawberry.input(description="How to sort model architectures.")
class ModelArchitectureOrder:
    field: ModelArchitectureOrderField = strawberry.field(description="The field to sort by.")
    direction: OrderDirection = strawberry.field(default=OrderDirection.ASC, description="Sort direction.")


def architecture_query(
    filter: ModelArchitectureFilter | None, order: ModelArchitectureOrder | None
) -> repository.ArchitectureQuery:
    """The repository's query for an architecture list's arguments."""
    key = (order.field.value, order.direction.value) if order else None
    if filter is None:
        return repository.ArchitectureQuery(order=key)
    return repository.ArchitectureQuery(
        search=filter.search,
        families=tuple(filter.families) if filter.families is not None else None,
        supports_lora=filter.supports_lora,
        supports_pipeline_parallelism=filter.supports_pipeline_parallelism,
        order=key,
    )


@strawberry.enum(description="What to sort parser rules by.")
class ParserRuleOrderField(Enum):
    PRIORITY = "priority"
    PATTERN = "pattern"
    PARSER = "parser"
    CREATED_AT = "created_at"


@strawberry.input(description="How to sort parser rules.")
class ParserRuleOrder:
    field: ParserRuleOrderField = strawberry.field(description="The field to sort by.")
    direction: OrderDirection = strawberry.field(default=OrderDirection.DESC, description="Sort direction.")


@strawberry.type(description="A model architecture: a Hugging Face model class such as `LlamaForCausalLM`.")
class ModelArchitecture(Node, Tracked):
    pk: strawberry.Private[int]
    class_name: str = strawberry.field(description="The Hugging Face class name, unique.")
    family: str | None = strawberry.field(description="The model family (e.g. `llama`, `qwen2`).")
    supports_lora: bool = strawberry.field(description="Whether LoRA adapters can be served on it.")
    supports_pipeline_parallelism: bool = strawberry.field(
        description="Whether it can be split into pipeline stages."
    )
    default_tool_call_parser: str | None = strawberry.field(
        description="Tool-call parser used when no parser rule matches the model id."
    )
    default_reasoning_parser: str | None = strawberry.field(
        description="Reasoning parser used when no parser rule matches the model id."
    )

    @classmethod
    def from_row(cls, row: db.ModelArchitecture | AnyRow) -> ModelArchitecture:
        return cls(
            id=strawberry.ID(to_global_id("ModelArchitecture", row.id)),
            pk=row.id,
            class_name=row.class_name,
            family=row.family,
            supports_lora=row.supports_lora,
            supports_pipeline_parallelism=row.supports_pipeline_parallelism,
            default_tool_call_parser=row.default_tool_call_parser,
            default_reasoning_parser=row.default_reasoning_parser,
            **tracked_fields(row),
        )

    @strawberry.field(description="Engine versions that can serve this architecture, by engine then version.")
    async def engine_versions(
        self,
        info: Info,
        filter: Annotated[
            EngineVersionFilter | None, strawberry.argument(description="Which versions.")
        ] = None,
        order_by: Annotated[
            EngineVersionOrder | None,
            strawberry.argument(description="How to sort (default: by engine, highest version first)."),
        ] = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[EngineVersion]:
        return await nested_connection(
            info.context.loaders,
            loaders.EngineVersionPagesByArchitectureLoader,
            version_query(filter, order_by),
            self.pk,
            EngineVersion.from_row,
            first,
            after,
            last,
            before,
        )


@strawberry.type(
    description="An edge of the compatibility graph: an engine version can serve an architecture."
)
class CompatibilityEdge(Node, Tracked):
    engine_version_pk: strawberry.Private[int]
    architecture_pk: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: db.CompatibilityEdge | AnyRow) -> CompatibilityEdge:
        return cls(
            id=strawberry.ID(to_global_id("CompatibilityEdge", row.id)),
            engine_version_pk=row.engine_version_id,
            architecture_pk=row.architecture_id,
            **tracked_fields(row),
        )

    @strawberry.field(description="The engine version.")
    async def engine_version(self, info: Info) -> EngineVersion:
        from budgraph.engines.loaders import EngineVersionByIdLoader

        row = await info.context.loaders.get(EngineVersionByIdLoader).load(self.engine_version_pk)
        assert row is not None
        return EngineVersion.from_row(row)

    @strawberry.field(description="The architecture it serves.")
    async def architecture(self, info: Info) -> ModelArchitecture:
        row = await info.context.loaders.get(loaders.ModelArchitectureByIdLoader).load(self.architecture_pk)
        assert row is not None
        return ModelArchitecture.from_row(row)


@strawberry.input(description="Which parser rules to list; all given conditions must hold.")
class ParserRuleFilter:
    engine_slugs: list[str] | None = strawberry.field(
        default=None, description="Only rules of these engines."
    )
    rule_type: ParserRuleType | None = strawberry.field(
        default=None, description="Only tool or reasoning rules."
    )
    parser: str | None = strawberry.field(default=None, description="Only rules choosing this parser.")
    enabled: bool | None = strawberry.field(default=None, description="Only enabled (or disabled) rules.")
    search: str | None = strawberry.field(
        default=None, description="Case-insensitive substring of the pattern."
    )


@strawberry.type(
    description="Chooses a tool-call or reasoning parser for model ids that match a pattern. The enabled"
    " rule with the highest priority wins; among equals, exact beats prefix beats regex, then the longer"
    " pattern."
)
class ParserRule(Node, Tracked):
    engine_pk: strawberry.Private[int]
    rule_type: ParserRuleType = strawberry.field(
        description="Whether it chooses a tool-call or reasoning parser."
    )
    parser: str = strawberry.field(description="The parser it chooses (e.g. `hermes`).")
    match_type: MatchType = strawberry.field(
        description="exact and prefix compare case-insensitively; regex must match the whole model id."
    )
    pattern: str = strawberry.field(description="What the model id is compared with.")
    priority: int = strawberry.field(description="Higher wins.")
    enabled: bool = strawberry.field(description="Disabled rules are ignored.")
    notes: str = strawberry.field(description="Why the rule exists.")
    chat_template: str | None = strawberry.field(description=CHAT_TEMPLATE_HELP)

    @classmethod
    def from_row(cls, row: db.ParserRule | AnyRow) -> ParserRule:
        return cls(
            id=strawberry.ID(to_global_id("ParserRule", row.id)),
            engine_pk=row.engine_id,
            rule_type=ParserRuleTypeValue(row.rule_type),
            parser=row.parser,
            match_type=MatchTypeValue(row.match_type),
            pattern=row.pattern,
            priority=row.priority,
            enabled=row.enabled,
            notes=row.notes,
            chat_template=row.chat_template,
            **tracked_fields(row),
        )

    @strawberry.field(description="The engine whose parsers this rule chooses.")
    async def engine(self, info: Info) -> Engine:
        from budgraph.engines.loaders import EngineByIdLoader

        row = await info.context.loaders.get(EngineByIdLoader).load(self.engine_pk)
        assert row is not None
        return Engine.from_row(row)


@strawberry.type(
    description="An engine version that can serve a model or architecture, with what a runtime needs to"
    " start it."
)
class CompatibleEngineVersion:
    engine_version: EngineVersion = strawberry.field(description="The engine version.")
    architecture: ModelArchitecture = strawberry.field(description="The architecture it serves.")
    container_image: str = strawberry.field(description="The image to run.")
    tool_call_parser: str | None = strawberry.field(
        description="The tool-call parser for this model: from the parser rules, else the architecture"
        " default."
    )
    tool_chat_template: str | None = strawberry.field(
        description="The chat template to start the engine with for the chosen tool-call parser, when the"
        " rule that chose it names one (a path the engine ships)."
    )
    reasoning_parser: str | None = strawberry.field(
        description="The reasoning parser for this model: from the parser rules, else the architecture"
        " default."
    )
    supports_lora: bool = strawberry.field(description="Whether LoRA adapters can be served.")
    supports_pipeline_parallelism: bool = strawberry.field(description="Whether pipeline parallelism works.")
    model_id: strawberry.Private[str | None] = None
    quantization: strawberry.Private[str | None] = None  # the method asked about, if any
    compute_capability: strawberry.Private[str | None] = None

    @strawberry.field(
        description="Whether this version can run the quantization asked about: the `quantization` argument,"
        " else the registered model's own method (`Model.quantizationMethod`), on its device (with"
        " `computeCapability`, from that capability). Null when no method is known (an unquantized or"
        " unregistered model)."
    )
    async def quantization_supported(self, info: Info) -> bool | None:
        method = self.quantization
        if method is None and self.model_id is not None:
            method = await info.context.loaders.get(QuantizationMethodByModelLoader).load(self.model_id)
        if method is None:
            return None
        rows = await info.context.loaders.get(QuantizationSupportByEngineVersionLoader).load(
            self.engine_version.pk
        )
        return any(
            row.method == method and reaches(self.compute_capability, row.min_compute_capability)
            for row in rows
        )


def compatible_version(
    book: RuleBook,
    row: Any,
    version: EngineVersion,
    architecture: ModelArchitecture,
    model_id: str | None,
    quantization: str | None = None,
    compute_capability: str | None = None,
) -> CompatibleEngineVersion:
    """An engine version's answer for a model: ``row`` holds the version's columns (an ORM row or a
    record), ``architecture`` the architecture asked about; parsers are chosen from ``book``."""
    tool = book.choose(
        row.engine_id, "tool", model_id, row.tool_call_parsers, architecture.default_tool_call_parser
    )
    reasoning = book.choose(
        row.engine_id, "reasoning", model_id, row.reasoning_parsers, architecture.default_reasoning_parser
    )
    return CompatibleEngineVersion(
        engine_version=version,
        architecture=architecture,
        container_image=row.container_image,
        tool_call_parser=tool.parser,
        tool_chat_template=tool.chat_template,
        reasoning_parser=reasoning.parser,
        supports_lora=architecture.supports_lora,
        supports_pipeline_parallelism=architecture.supports_pipeline_parallelism,
        model_id=model_id,
        quantization=quantization,
        compute_capability=compute_capability,
    )


register_node("ModelArchitecture", loaders.ModelArchitectureByIdLoader, ModelArchitecture.from_row)
register_node("CompatibilityEdge", loaders.CompatibilityEdgeByIdLoader, CompatibilityEdge.from_row)
register_node("ParserRule", loaders.ParserRuleByIdLoader, ParserRule.from_row)
