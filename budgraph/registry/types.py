"""GraphQL types of the registry version and its change feed."""

from __future__ import annotations

from datetime import datetime

import strawberry

from budgraph import db
from budgraph.db.enums import ChangeOperation as ChangeOperationValue
from budgraph.graphql.common import BigInt, ChangeOperation
from budgraph.kit.ids import to_global_id


@strawberry.type(description="One change to one entity, numbered by the registry version that made it.")
class RegistryChange:
    registry_version: BigInt = strawberry.field(description="The registry version this change belongs to.")
    entity_kind: str = strawberry.field(
        description="The GraphQL type of the changed entity, e.g. `EngineVersion`."
    )
    entity_id: strawberry.ID = strawberry.field(
        description="Global id of the changed entity; fetch its current state with `node(id:)` (null if"
        " deleted)."
    )
    operation: ChangeOperation = strawberry.field(description="Created, updated or deleted.")
    changed_fields: list[str] = strawberry.field(description="Columns that changed (all of them on create).")
    actor: str = strawberry.field(description="Who made the change: an API key name, `seed`, or a worker.")
    changed_at: datetime = strawberry.field(description="When the change was committed.")

    @classmethod
    def from_row(cls, row: db.ChangeLogEntry) -> RegistryChange:
        return cls(
            registry_version=BigInt(row.registry_version),
            entity_kind=row.entity_kind,
            entity_id=strawberry.ID(to_global_id(row.entity_kind, row.entity_id)),
            operation=ChangeOperationValue(row.operation),
            changed_fields=list(row.changed_fields),
            actor=row.actor,
            changed_at=row.changed_at,
        )


@strawberry.type(description="A slice of the change feed, for incremental sync.")
class RegistryChanges:
    changes: list[RegistryChange] = strawberry.field(description="Changes in registry-version order.")
    registry_version: BigInt = strawberry.field(
        description="The registry version when the query started. Once `hasMore` is false, store it and"
        " pass it as `since` next time."
    )
    end_cursor: str | None = strawberry.field(
        description="Pass as `after` (with the same `since`) to fetch the changes that follow this slice."
    )
    has_more: bool = strawberry.field(description="Whether more changes follow this slice.")
