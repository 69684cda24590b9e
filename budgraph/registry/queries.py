"""Root query fields of the registry version and change feed (what runtimes sync from)."""

from __future__ import annotations

from typing import Annotated

import strawberry

from budgraph.graphql.common import BigInt
from budgraph.graphql.context import Info
from budgraph.registry import repository
from budgraph.registry.feed import FeedRequest
from budgraph.registry.types import RegistryChanges


@strawberry.type
class RegistryQueries:
    @strawberry.field(
        description="The registry version: a number that grows with every committed write. Runtimes store it"
        " and ask `changes(since:)` for what happened after."
    )
    async def registry_version(self, info: Info) -> BigInt:
        return BigInt(await repository.current_version(info.context.session))

    @strawberry.field(
        description="The registry's epoch: an id made when the registry was created. A registry that was"
        " reset (recreated, restored from an older backup) has a new epoch, and its versions start"
        " again: a client that synced another epoch must sync from scratch."
    )
    async def registry_epoch(self, info: Info) -> strawberry.ID:
        return strawberry.ID((await repository.current_position(info.context.session)).epoch)

    @strawberry.field(
        description="What changed after registry version `since`, oldest first: creations, updates"
        " (with the values before and after) and deletions (tombstones naming what disappeared). A"
        " `since` beyond the current version, or an `epoch` that is not the registry's, is"
        " RESYNC_REQUIRED: sync from scratch, from the version and epoch in the error's extensions."
    )
    async def changes(
        self,
        info: Info,
        since: Annotated[
            BigInt, strawberry.argument(description="The last registry version already synced.")
        ],
        epoch: Annotated[
            strawberry.ID | None,
            strawberry.argument(
                description="The registry epoch `since` was synced in (`registryEpoch`); give it to be"
                " told when the registry was reset."
            ),
        ] = None,
        after: Annotated[
            str | None, strawberry.argument(description="`endCursor` of the previous slice, to continue.")
        ] = None,
        kinds: Annotated[
            list[str] | None,
            strawberry.argument(description="Only these entity kinds (e.g. `EngineVersion`)."),
        ] = None,
        first: Annotated[
            int, strawberry.argument(description="At most this many changes (at most the page cap, 100).")
        ] = 100,
    ) -> RegistryChanges:
        request = FeedRequest.checked(since, epoch, after, kinds, first, info.context.settings.max_page_size)
        session = info.context.session
        # Read the version first: changes committed in between are then re-sent, never skipped.
        current = await repository.current_position(session)
        request.check_position(current)
        rows = await repository.changes_since(session, since, request.after, request.kinds, first + 1)
        return request.answer(current, rows)
