"""The answer of every delete mutation."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import strawberry

from budgraph.kit.ids import to_global_id


@strawberry.type(
    description="What a delete mutation removed. Each removed object is a DELETE in the change feed (a"
    " tombstone naming it), in the registry version of the mutation."
)
class Deletion:
    deleted_id: strawberry.ID = strawberry.field(description="Global id of the object deleted.")
    also_deleted_ids: list[strawberry.ID] = strawberry.field(
        description="Global ids of the registry objects deleted with it (e.g. a hardware SKU's prices),"
        " each a tombstone in the change feed too. What is not a registry object (a model's jobs and"
        " files) goes as the mutation says, without a tombstone."
    )

    @classmethod
    def of(cls, rows: Sequence[Any]) -> Deletion:
        """The deletion of ``rows``: the object asked for first, then what went with it."""
        ids = [strawberry.ID(to_global_id(type(row).__name__, row.id)) for row in rows]
        return cls(deleted_id=ids[0], also_deleted_ids=ids[1:])
