"""One registry event: what a change-log row tells a runtime, as the CloudEvent's data.

The data names the change as the ``changes`` feed does (``RegistryChange``), without the values
before and after: those are the audit trail, which needs an API key. A consumer refetches what it
follows (``node(id:)``, or ``changes(since:)`` from the version it last applied).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import orjson

from budgraph.db.enums import ChangeOperation
from budgraph.kit.db import AnyRow
from budgraph.kit.ids import to_global_id

CONTENT_TYPE = "application/json"
EVENT_TYPE = "budgraph.registry.change.v1"


@dataclass(frozen=True)
class ChangeEvent:
    change_id: int
    registry_version: int
    registry_epoch: uuid.UUID
    entity_kind: str
    entity_id: str
    operation: ChangeOperation
    changed_fields: list[str]
    changed_at: datetime

    @classmethod
    def from_row(cls, row: AnyRow, epoch: uuid.UUID) -> ChangeEvent:
        return cls(
            change_id=row.id,
            registry_version=row.registry_version,
            registry_epoch=epoch,
            entity_kind=row.entity_kind,
            entity_id=to_global_id(row.entity_kind, row.entity_id),
            operation=ChangeOperation(row.operation),
            changed_fields=list(row.changed_fields),
            changed_at=row.changed_at,
        )

    @property
    def cloud_event_id(self) -> str:
        """The CloudEvent's id: the same for every delivery of this change (consumers dedupe on it)."""
        return f"{self.registry_epoch}:{self.change_id}"

    def data(self) -> bytes:
        return orjson.dumps(
            {
                "changeId": self.change_id,
                "registryVersion": self.registry_version,
                "registryEpoch": str(self.registry_epoch),
                "entityKind": self.entity_kind,
                "entityId": self.entity_id,
                "operation": self.operation.name,
                "changedFields": self.changed_fields,
                "changedAt": self.changed_at.isoformat(),
            }
        )

    def metadata(self) -> dict[str, str]:
        """Dapr's publish metadata: the CloudEvent attributes the sidecar would otherwise make up."""
        return {"cloudevent.id": self.cloud_event_id, "cloudevent.type": EVENT_TYPE}
