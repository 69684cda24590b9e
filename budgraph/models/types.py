"""GraphQL types of models and licenses."""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING, Annotated

import strawberry

from budgraph import db
from budgraph.db.enums import LicenseKind as LicenseKindValue
from budgraph.db.enums import Modality as ModalityValue
from budgraph.db.enums import ModelSource as ModelSourceValue
from budgraph.db.enums import ModelStatus as ModelStatusValue
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
from budgraph.kit.ids import to_global_id
from budgraph.models import loaders

if TYPE_CHECKING:
    from budgraph.compatibility.types import ModelArchitecture


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
    def from_row(cls, row: db.License) -> License:
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


@strawberry.type(description="A machine-learning model known to the registry.")
class Model(Node, Tracked):
    license_pk: strawberry.Private[int | None]
    uri: str = strawberry.field(description="Where the model lives, e.g. `meta-llama/Llama-3.1-8B-Instruct`.")
    source_kind: ModelSource = strawberry.field(description="Where its files come from.")
    author: str | None = strawberry.field(description="Who published it.")
    architecture_name: str | None = strawberry.field(description="Its Hugging Face architecture class name.")
    modality: Modality = strawberry.field(description="What it takes in and gives out.")
    parameter_count: BigInt | None = strawberry.field(description="Number of parameters.")
    context_length: int | None = strawberry.field(description="Maximum context length in tokens.")
    status: ModelStatus = strawberry.field(description="Lifecycle state.")

    @classmethod
    def from_row(cls, row: db.Model) -> Model:
        return cls(
            id=strawberry.ID(to_global_id("Model", row.id)),
            license_pk=row.license_id,
            uri=row.uri,
            source_kind=ModelSourceValue(row.source_kind),
            author=row.author,
            architecture_name=row.architecture,
            modality=ModalityValue(row.modality),
            parameter_count=BigInt(row.parameter_count) if row.parameter_count is not None else None,
            context_length=row.context_length,
            status=ModelStatusValue(row.status),
            **tracked_fields(row),
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


register_node("Model", loaders.ModelByIdLoader, Model.from_row)
register_node("License", loaders.LicenseByIdLoader, License.from_row)
