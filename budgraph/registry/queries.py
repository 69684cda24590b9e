"""Root query fields of the registry version and change feed (what runtimes sync from)."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated

import strawberry

from budgraph.graphql.common import BigInt
from budgraph.graphql.context import Info
from budgraph.kit.errors import BudgraphError, ErrorCode
from budgraph.registry import repository
from budgraph.registry.errors import ResyncRequired
from budgraph.registry.snapshots import logged_kinds
from budgraph.registry.types import RegistryChange, RegistryChanges

_BIGINT_MAX = 2**63 - 1


def _encode(version: int, change_id: int) -> str:
    return base64.urlsafe_b64encode(f"change:{version}:{change_id}".encode()).decode()


def _decode(cursor: str) -> tuple[int, int]:
    try:
        kind, version, change_id = base64.urlsafe_b64decode(cursor.encode("ascii")).decode().split(":")
        position = int(version), int(change_id)
        if kind == "change" and all(0 <= number <= _BIGINT_MAX for number in position):
            return position
    except (binascii.Error, UnicodeError, ValueError):
        pass
    raise BudgraphError(
        f"{cursor[:64]!r} is not a valid cursor", code=ErrorCode.INVALID_CURSOR, field="after"
    )


def _checked_kinds(kinds: list[str] | None) -> list[str] | None:
    if kinds is None:
        return None
    known = logged_kinds()
    unknown = sorted(set(kinds) - set(known))
    if unknown:
        shown = ", ".join(repr(kind[:64]) for kind in unknown[:5]) + (" ..." if len(unknown) > 5 else "")
        raise BudgraphError(
            f"`kinds` names no entity kind of the feed: {shown} (known: {', '.join(known)})", field="kinds"
        )
    return kinds


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
        cap = info.context.settings.max_page_size
        if since < 0:
            raise BudgraphError("`since` must not be negative", field="since")
        if first < 1:
            raise BudgraphError("`first` must be at least 1", field="first")
        if first > cap:
            raise BudgraphError(
                f"`first` is {first}; the page cap is {cap}", code=ErrorCode.PAGE_SIZE_EXCEEDED, field="first"
            )
        position = _decode(after) if after is not None else None
        wanted = _checked_kinds(kinds)
        session = info.context.session
        # Read the version first: changes committed in between are then re-sent, never skipped.
        current = await repository.current_position(session)
        if epoch is not None and epoch != current.epoch:
            raise ResyncRequired(
                f"`epoch` {epoch[:64]!r} is not this registry's epoch ({current.epoch}): it was reset since;"
                " sync from scratch",
                field="epoch",
                version=current.version,
                epoch=current.epoch,
            )
        if since > current.version:
            raise ResyncRequired(
                f"`since` is {since}, beyond the registry's version {current.version}: the registry was"
                " reset or restored; sync from scratch",
                field="since",
                version=current.version,
                epoch=current.epoch,
            )
        rows = await repository.changes_since(session, since, position, wanted, first + 1)
        has_more = len(rows) > first
        rows = rows[:first]
        return RegistryChanges(
            changes=[RegistryChange.from_row(row) for row in rows],
            registry_version=BigInt(current.version),
            registry_epoch=strawberry.ID(current.epoch),
            end_cursor=_encode(rows[-1].registry_version, rows[-1].id) if rows else after,
            has_more=has_more,
        )
