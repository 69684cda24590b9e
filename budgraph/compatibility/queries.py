"""Root query fields of the compatibility graph, including the runtime-facing lookups."""

from __future__ import annotations

from typing import Annotated

import strawberry

from budgraph import db
from budgraph.compatibility import loaders, repository
from budgraph.compatibility.rulebook import current_book
from budgraph.compatibility.types import (
    CompatibleEngineVersion,
    ModelArchitecture,
    ModelArchitectureFilter,
    ModelArchitectureOrder,
    ParserRule,
    ParserRuleFilter,
    ParserRuleOrder,
    architecture_query,
    compatible_version,
)
from budgraph.db.enums import EngineVersionStatus as StatusValue
from budgraph.engines.service import checked_version_key
from budgraph.engines.types import EngineVersion
from budgraph.graphql.common import DeviceArchitecture, Endpoint, EngineVersionStatus
from budgraph.graphql.context import Info
from budgraph.graphql.lookup import one_by_id_or_key
from budgraph.kit.db import AnyRow
from budgraph.kit.errors import BudgraphError, NotFound
from budgraph.kit.pagination import (
    After,
    Before,
    Connection,
    First,
    Last,
    PageRequest,
    build_connection,
    fetch_page,
    paginate,
)
from budgraph.models.lookup import model_shape
from budgraph.releases.errors import checked_capability


async def _target_architecture(
    info: Info, model: str | None, architecture: str | None
) -> tuple[db.ModelArchitecture | AnyRow, str | None]:
    """The architecture asked about, and the model id used to choose parsers."""
    if model is None and architecture is None:
        raise BudgraphError("give `model`, `architecture`, or both", field="model")
    if architecture is None:
        assert model is not None
        shape = await model_shape(info.context, model)
        if shape.architecture is None:
            raise NotFound(
                f"the architecture of {model!r} is not known yet; give `architecture`", field="model"
            )
        architecture = shape.architecture
    row = await info.context.loaders.get(loaders.ModelArchitectureByClassNameLoader).load(architecture)
    if row is None:
        raise NotFound(f"no model architecture {architecture!r}", field="architecture")
    return row, model


@strawberry.type
class CompatibilityQueries:
    @strawberry.field(description="Model architectures (Hugging Face classes), by class name.")
    async def model_architectures(
        self,
        info: Info,
        filter: Annotated[
            ModelArchitectureFilter | None, strawberry.argument(description="Which architectures to list.")
        ] = None,
        order_by: Annotated[
            ModelArchitectureOrder | None,
            strawberry.argument(description="How to sort (default: class name)."),
        ] = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[ModelArchitecture]:
        stmt = repository.architectures_statement(architecture_query(filter, order_by))
        return await paginate(
            info.context.session, stmt, ModelArchitecture.from_row, first, after, last, before
        )

    @strawberry.field(description="One model architecture, by global id or by class name (give exactly one).")
    async def model_architecture(
        self,
        info: Info,
        id: Annotated[strawberry.ID | None, strawberry.argument(description="Global id.")] = None,
        class_name: Annotated[
            str | None, strawberry.argument(description="Hugging Face class name, e.g. `LlamaForCausalLM`.")
        ] = None,
    ) -> ModelArchitecture | None:
        by_name = info.context.loaders.get(loaders.ModelArchitectureByClassNameLoader)
        row = await one_by_id_or_key(
            info, loaders.ModelArchitectureByIdLoader, id, "className", class_name, by_name.load
        )
        return ModelArchitecture.from_row(row) if row else None

    @strawberry.field(description="Parser rules, highest priority first.")
    async def parser_rules(
        self,
        info: Info,
        filter: Annotated[
            ParserRuleFilter | None, strawberry.argument(description="Which rules to list.")
        ] = None,
        order_by: Annotated[
            ParserRuleOrder | None,
            strawberry.argument(description="How to sort (default: by engine, highest priority first)."),
        ] = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[ParserRule]:
        query = repository.RuleQuery(
            engine_slugs=tuple(filter.engine_slugs) if filter and filter.engine_slugs is not None else None,
            rule_type=filter.rule_type.value if filter and filter.rule_type else None,
            parser=filter.parser if filter else None,
            enabled=filter.enabled if filter else None,
            search=filter.search if filter else None,
            order=(order_by.field.value, order_by.direction.value) if order_by else None,
        )
        stmt = repository.rules_statement(query)
        return await paginate(info.context.session, stmt, ParserRule.from_row, first, after, last, before)

    @strawberry.field(
        description="The engine versions that can serve a model or architecture, each with its container"
        " image, the parsers chosen for the model id by the parser rules, and LoRA / pipeline-parallel"
        " support. By engine, highest version first."
    )
    async def compatible_engine_versions(
        self,
        info: Info,
        model: Annotated[
            str | None,
            strawberry.argument(
                description="A model id such as `Qwen/Qwen2.5-7B-Instruct`: chooses parsers, and gives the"
                " architecture: the registered model's, or for a Hub id not registered yet the one its"
                " config.json names (read once and cached; the model is then registered for a full"
                " extraction). A repository the Hub does not have is NOT_FOUND, a Hub that cannot be"
                " reached SOURCE_UNAVAILABLE."
            ),
        ] = None,
        architecture: Annotated[
            str | None, strawberry.argument(description="A Hugging Face class name, e.g. `Qwen2ForCausalLM`.")
        ] = None,
        device_architecture: Annotated[
            DeviceArchitecture | None, strawberry.argument(description="Only builds for this device.")
        ] = None,
        engine: Annotated[str | None, strawberry.argument(description="Only this engine (slug).")] = None,
        version: Annotated[
            str | None,
            strawberry.argument(description="Only this version (by version order, `0.10` is `0.10.0`)."),
        ] = None,
        endpoints: Annotated[
            list[Endpoint] | None, strawberry.argument(description="Only versions serving all of these.")
        ] = None,
        statuses: Annotated[
            list[EngineVersionStatus] | None,
            strawberry.argument(description="Only versions in these states (default: active)."),
        ] = None,
        quantization: Annotated[
            str | None,
            strawberry.argument(
                description="Only versions that can run this quantization method on their device (e.g. `fp8`,"
                " `awq`; see `quantizationSupport`). `quantizationSupported` answers it per version without"
                " filtering."
            ),
        ] = None,
        compute_capability: Annotated[
            str | None,
            strawberry.argument(
                description="The device's CUDA compute capability (`major.minor`, e.g. `8.0`): with"
                " `quantization`, only versions whose row for it needs no more than this."
            ),
        ] = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[CompatibleEngineVersion]:
        page = PageRequest.parse(first, after, last, before)
        capability = checked_capability(compute_capability, "computeCapability")
        method = quantization.strip().lower() if quantization is not None else None
        arch, model_id = await _target_architecture(info, model, architecture)
        query = repository.CompatibleQuery(
            architecture=arch.class_name,
            statuses=[s.value for s in statuses] if statuses else [StatusValue.ACTIVE.value],
            engine_slug=engine,
            device_architecture=device_architecture.value if device_architecture else None,
            endpoints=[e.value for e in endpoints] if endpoints else None,
            version_key=checked_version_key(version) if version is not None else None,
            quantization=method,
            compute_capability=capability,
        )
        stmt = repository.compatible_versions_statement(query)
        found = await fetch_page(info.context.session, stmt, page, whole_rows=True)
        book = await current_book(info.context.session, info.context.rule_books)
        arch_type = ModelArchitecture.from_row(arch)
        return build_connection(
            found,
            lambda row: compatible_version(
                book, row, EngineVersion.from_row(row), arch_type, model_id, method, capability
            ),
        )
