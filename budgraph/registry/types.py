"""GraphQL types of the registry version and its change feed."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from strawberry.scalars import JSON

from budgraph import db
from budgraph.auth.permissions import needs
from budgraph.db.enums import ApiKeyScope
from budgraph.db.enums import ChangeOperation as ChangeOperationValue
from budgraph.graphql.common import BigInt, ChangeOperation
from budgraph.kit.db import AnyRow
from budgraph.kit.ids import to_global_id


@strawberry.type(description="One field of a change, with its value before and after (the audit trail).")
class FieldChange:
    field: str = strawberry.field(description="The field (as in `changedFields`).")
    before: JSON | None = strawberry.field(
        description="Its value before the change; null on create. References to other objects are global"
        " ids, exact decimals strings, dates ISO 8601."
    )
    after: JSON | None = strawberry.field(description="Its value after the change; null on delete.")


@strawberry.type(
    description="One change to one entity, numbered by the registry version that made it. A deletion is a"
    " tombstone: `entityKey` names what disappeared."
)
class RegistryChange:
    registry_version: BigInt = strawberry.field(description="The registry version this change belongs to.")
    entity_kind: str = strawberry.field(
        description="The GraphQL type of the changed entity, e.g. `EngineVersion`."
    )
    entity_id: strawberry.ID = strawberry.field(
        description="Global id of the changed entity; fetch its current state with `node(id:)` (null if"
        " deleted)."
    )
    entity_key: JSON = strawberry.field(
        description="The entity's natural key, the fields that identify it (references to other objects as"
        ' global ids), e.g. `{"slug": "vllm"}`; on a deletion it says what disappeared.'
    )
    operation: ChangeOperation = strawberry.field(description="Created, updated or deleted.")
    changed_fields: list[str] = strawberry.field(
        description="Fields that changed (all of them on create and delete). A change to an engine"
        " version's compatibility edges also changes the version's `architectures`."
    )
    actor: str = strawberry.field(description="Who made the change: an API key name, `seed`, or a worker.")
    changed_at: datetime = strawberry.field(description="When the change was committed.")
    before: strawberry.Private[dict[str, Any] | None]
    after: strawberry.Private[dict[str, Any] | None]

    @strawberry.field(
        description="The value before and after of each changed field: who changed what from what to what."
        " Needs an API key (any scope).",
        extensions=needs(ApiKeyScope.READ),
    )
    def field_changes(self) -> list[FieldChange]:
        before, after = self.before or {}, self.after or {}
        return [
            FieldChange(field=name, before=before.get(name), after=after.get(name))
            for name in self.changed_fields
        ]

    @classmethod
    def from_row(cls, row: db.ChangeLogEntry | AnyRow) -> RegistryChange:
        return cls(
            registry_version=BigInt(row.registry_version),
            entity_kind=row.entity_kind,
            entity_id=strawberry.ID(to_global_id(row.entity_kind, row.entity_id)),
            entity_key=JSON(row.entity_key),
            operation=ChangeOperationValue(row.operation),
            changed_fields=list(row.changed_fields),
            actor=row.actor,
            changed_at=row.changed_at,
            before=row.before,
            after=row.after,
        )


@strawberry.type(description="A slice of the change feed, for incremental sync.")
class RegistryChanges:
    changes: list[RegistryChange] = strawberry.field(description="Changes in registry-version order.")
    registry_version: BigInt = strawberry.field(
        description="The registry version when the query started. Once `hasMore` is false, store it and"
        " pass it as `since` next time."
    )
    registry_epoch: strawberry.ID = strawberry.field(
        description="The registry's epoch: store it with `registryVersion` and pass it as `epoch` next"
        " time; a registry that was reset has a new one."
    )
    end_cursor: str | None = strawberry.field(
        description="Pass as `after` (with the same `since`) to fetch the changes that follow this slice."
    )
    has_more: bool = strawberry.field(description="Whether more changes follow this slice.")


@strawberry.type(
    description="One registry version that moved, as `registryChanged` sends it: its number and its"
    " changes, typed as the `changes` feed types them."
)
class RegistryVersionChanges:
    registry_version: BigInt = strawberry.field(
        description="The registry version. Store it: subscribe again with it as `since` (or ask"
        " `changes(since:)`) and nothing after it is lost."
    )
    registry_epoch: strawberry.ID = strawberry.field(
        description="The registry's epoch; pass it as `epoch` with `since` to be told when the registry"
        " was reset."
    )
    changes: list[RegistryChange] = strawberry.field(
        description="Every change of this version (of the kinds asked for), in the feed's order."
    )
