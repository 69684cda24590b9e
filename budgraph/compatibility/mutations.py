"""Mutations of the compatibility graph (write scope)."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types.unset import UNSET

from budgraph import db
from budgraph.auth.permissions import needs
from budgraph.compatibility import service
from budgraph.compatibility.types import CHAT_TEMPLATE_HELP, ModelArchitecture, ParserRule
from budgraph.db.enums import ApiKeyScope
from budgraph.engines.types import EngineVersion
from budgraph.graphql.common import MatchType, ParserRuleType
from budgraph.graphql.context import Info
from budgraph.graphql.inputs import changes_of, stored
from budgraph.graphql.lookup import row_to_change
from budgraph.kit.ids import expect_global_id

_ARCH_FIELDS = {
    "family": "family",
    "supports_lora": "supports_lora",
    "supports_pipeline_parallelism": "supports_pipeline_parallelism",
    "default_tool_call_parser": "default_tool_call_parser",
    "default_reasoning_parser": "default_reasoning_parser",
}
_RULE_FIELDS = {
    "rule_type": "rule_type",
    "parser": "parser",
    "match_type": "match_type",
    "pattern": "pattern",
    "priority": "priority",
    "enabled": "enabled",
    "notes": "notes",
    "chat_template": "chat_template",
}


@strawberry.input(description="A new model architecture.")
class CreateModelArchitectureInput:
    class_name: str = strawberry.field(description="Hugging Face class name, e.g. `LlamaForCausalLM`.")
    family: str | None = strawberry.field(default=None, description="Model family.")
    supports_lora: bool = strawberry.field(default=False, description="Whether LoRA adapters can be served.")
    supports_pipeline_parallelism: bool = strawberry.field(default=False, description="Pipeline parallelism.")
    default_tool_call_parser: str | None = strawberry.field(
        default=None, description="Default tool-call parser."
    )
    default_reasoning_parser: str | None = strawberry.field(
        default=None, description="Default reasoning parser."
    )


@strawberry.input(description="Fields of a model architecture to change; omitted fields stay as they are.")
class UpdateModelArchitectureInput:
    family: str | None = strawberry.field(default=UNSET, description="Model family.")
    supports_lora: bool | None = strawberry.field(default=UNSET, description="LoRA support.")
    supports_pipeline_parallelism: bool | None = strawberry.field(
        default=UNSET, description="Pipeline parallelism."
    )
    default_tool_call_parser: str | None = strawberry.field(
        default=UNSET, description="Default tool-call parser."
    )
    default_reasoning_parser: str | None = strawberry.field(
        default=UNSET, description="Default reasoning parser."
    )


@strawberry.input(description="A new parser rule.")
class CreateParserRuleInput:
    engine_id: strawberry.ID = strawberry.field(description="Global id of the engine.")
    rule_type: ParserRuleType = strawberry.field(description="Tool-call or reasoning.")
    parser: str = strawberry.field(description="The parser to choose.")
    match_type: MatchType = strawberry.field(description="exact, prefix or regex.")
    pattern: str = strawberry.field(description="What the model id is compared with.")
    priority: int = strawberry.field(default=0, description="Higher wins.")
    enabled: bool = strawberry.field(default=True, description="Disabled rules are ignored.")
    notes: str = strawberry.field(default="", description="Why the rule exists.")
    chat_template: str | None = strawberry.field(default=None, description=CHAT_TEMPLATE_HELP)


@strawberry.input(description="Fields of a parser rule to change; omitted fields stay as they are.")
class UpdateParserRuleInput:
    rule_type: ParserRuleType | None = strawberry.field(default=UNSET, description="Tool-call or reasoning.")
    parser: str | None = strawberry.field(default=UNSET, description="The parser to choose.")
    match_type: MatchType | None = strawberry.field(default=UNSET, description="exact, prefix or regex.")
    pattern: str | None = strawberry.field(default=UNSET, description="What the model id is compared with.")
    priority: int | None = strawberry.field(default=UNSET, description="Higher wins.")
    enabled: bool | None = strawberry.field(default=UNSET, description="Disabled rules are ignored.")
    notes: str | None = strawberry.field(default=UNSET, description="Why the rule exists.")
    chat_template: str | None = strawberry.field(default=UNSET, description=CHAT_TEMPLATE_HELP)


IdArgument = Annotated[strawberry.ID, strawberry.argument(description="Global id of the object to change.")]
ArchitecturesArgument = Annotated[
    list[str], strawberry.argument(description="Hugging Face architecture class names.")
]


@strawberry.type
class CompatibilityMutations:
    @strawberry.mutation(
        description="Declare that an engine version serves these architectures (idempotent).",
        extensions=needs(ApiKeyScope.WRITE),
    )
    async def add_compatibility(
        self,
        info: Info,
        engine_version_id: Annotated[strawberry.ID, strawberry.argument(description="The engine version.")],
        architectures: ArchitecturesArgument,
    ) -> EngineVersion:
        row = await row_to_change(info, db.EngineVersion, engine_version_id, field="engineVersionId")
        await service.add_architectures(info.context.session, row, architectures)
        return EngineVersion.from_row(row)

    @strawberry.mutation(
        description="Declare that an engine version no longer serves these architectures.",
        extensions=needs(ApiKeyScope.WRITE),
    )
    async def remove_compatibility(
        self,
        info: Info,
        engine_version_id: Annotated[strawberry.ID, strawberry.argument(description="The engine version.")],
        architectures: ArchitecturesArgument,
    ) -> EngineVersion:
        row = await row_to_change(info, db.EngineVersion, engine_version_id, field="engineVersionId")
        await service.remove_architectures(info.context.session, row, architectures)
        return EngineVersion.from_row(row)

    @strawberry.mutation(description="Register a model architecture.", extensions=needs(ApiKeyScope.WRITE))
    async def create_model_architecture(
        self,
        info: Info,
        input: Annotated[CreateModelArchitectureInput, strawberry.argument(description="It.")],
    ) -> ModelArchitecture:
        values = changes_of(input, {"class_name": "class_name", **_ARCH_FIELDS})
        values["class_name"] = values["class_name"].strip()
        return ModelArchitecture.from_row(await service.create_architecture(info.context.session, values))

    @strawberry.mutation(
        description="Change a model architecture; edited fields survive re-seeding.",
        extensions=needs(ApiKeyScope.WRITE),
    )
    async def update_model_architecture(
        self,
        info: Info,
        id: IdArgument,
        input: Annotated[
            UpdateModelArchitectureInput, strawberry.argument(description="The fields to change.")
        ],
    ) -> ModelArchitecture:
        row = await row_to_change(info, db.ModelArchitecture, id)
        changes = changes_of(
            input, _ARCH_FIELDS, frozenset({"supports_lora", "supports_pipeline_parallelism"})
        )
        return ModelArchitecture.from_row(
            await service.update_architecture(info.context.session, row, changes)
        )

    @strawberry.mutation(description="Add a parser rule to an engine.", extensions=needs(ApiKeyScope.WRITE))
    async def create_parser_rule(
        self,
        info: Info,
        input: Annotated[CreateParserRuleInput, strawberry.argument(description="The rule.")],
    ) -> ParserRule:
        values = changes_of(input, _RULE_FIELDS)
        values["engine_id"] = expect_global_id(input.engine_id, "Engine")
        values["rule_type"], values["match_type"] = stored(input.rule_type), stored(input.match_type)
        return ParserRule.from_row(await service.create_rule(info.context.session, values))

    @strawberry.mutation(
        description="Change a parser rule (e.g. disable it); edited fields survive re-seeding.",
        extensions=needs(ApiKeyScope.WRITE),
    )
    async def update_parser_rule(
        self,
        info: Info,
        id: IdArgument,
        input: Annotated[UpdateParserRuleInput, strawberry.argument(description="The fields to change.")],
    ) -> ParserRule:
        row = await row_to_change(info, db.ParserRule, id)
        changes = changes_of(input, _RULE_FIELDS, frozenset(_RULE_FIELDS) - {"notes", "chat_template"})
        return ParserRule.from_row(await service.update_rule(info.context.session, row, changes))
