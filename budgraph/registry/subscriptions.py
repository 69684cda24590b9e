"""`registryChanged`: the change feed pushed, one event per registry version, from `since` on."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Annotated

import strawberry

from budgraph.graphql.common import BigInt
from budgraph.graphql.context import Info
from budgraph.kit.db import AnyRow
from budgraph.registry import repository, service
from budgraph.registry.errors import ResyncRequired
from budgraph.registry.feed import FollowRequest
from budgraph.registry.repository import RegistryPosition
from budgraph.registry.types import RegistryChange, RegistryVersionChanges


def _event(rows: list[AnyRow], epoch: str) -> RegistryVersionChanges:
    return RegistryVersionChanges(
        registry_version=BigInt(rows[0].registry_version),
        registry_epoch=strawberry.ID(epoch),
        changes=[RegistryChange.from_row(row) for row in rows],
    )


@strawberry.type
class RegistrySubscriptions:
    @strawberry.subscription(
        description="Every registry version after `since`, one event per version with its changes (as"
        " `changes(since:)` gives them), then each new version as it is committed. A client that"
        " subscribes again with the last `registryVersion` it received loses nothing. A `since` beyond"
        " the current version, an `epoch` that is not the registry's, or a reset of the registry while"
        " subscribed is RESYNC_REQUIRED (sync from scratch, from the version and epoch in the error's"
        " extensions). New versions are noticed within `BUDGRAPH_REGISTRY_POLL_INTERVAL_SECONDS`; a"
        " waiting subscription holds no database connection."
    )
    async def registry_changed(
        self,
        info: Info,
        since: Annotated[
            BigInt | None,
            strawberry.argument(
                description="The last registry version already synced: the versions after it come first."
                " Omitted: only the versions committed from now on."
            ),
        ] = None,
        epoch: Annotated[
            strawberry.ID | None,
            strawberry.argument(
                description="The registry epoch `since` was synced in (`registryEpoch`); give it to be"
                " told when the registry was reset."
            ),
        ] = None,
        kinds: Annotated[
            list[str] | None,
            strawberry.argument(
                description="Only changes of these entity kinds (e.g. `EngineVersion`); a version without"
                " any is not sent."
            ),
        ] = None,
    ) -> AsyncGenerator[RegistryVersionChanges, None]:
        request = FollowRequest.checked(since, str(epoch) if epoch is not None else None, kinds)
        context = info.context
        watch = context.registry_watch
        assert watch is not None
        batch = context.settings.max_page_size
        # Each read is a short transaction of the operation's session: the WebSocket handler ends it
        # after each event, and it is ended here before waiting for the registry to move.
        current = await repository.current_position(context.session)
        synced = request.start(current)
        while True:
            async for rows in service.versions_after(context.session, synced.version, request.kinds, batch):
                yield _event(rows, synced.epoch)
                synced = RegistryPosition(version=rows[0].registry_version, epoch=synced.epoch)
            if current.version > synced.version:
                synced = current  # versions without changes of these kinds
            await context.uow.release()
            await watch.moved(synced)
            current = await repository.current_position(context.session)
            if current.epoch != synced.epoch:
                raise ResyncRequired(
                    f"the registry was reset (epoch {current.epoch}, was {synced.epoch}); sync from scratch",
                    field="epoch",
                    version=current.version,
                    epoch=current.epoch,
                )
