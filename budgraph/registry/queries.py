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
from budgraph.registry.types import RegistryChange, RegistryChanges


def _encode(version: int, change_id: int) -> str:
    return base64.urlsafe_b64encode(f"change:{version}:{change_id}".encode()).decode()


def _decode(cursor: str) -> tuple[int, int]:
    try:
        kind, version, change_id = base64.urlsafe_b64decode(cursor.encode()).decode().split(":")
        if kind == "change":
            return int(version), int(change_id)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        pass
    raise BudgraphError(f"{cursor!r} is not a valid cursor", code=ErrorCode.INVALID_CURSOR, field="after")


@strawberry.type
class RegistryQueries:
    @strawberry.field(
        description="The registry version: a number that grows with every committed write. Runtimes store it"
        " and ask `changes(since:)` for what happened after."
    )
    async def registry_version(self, info: Info) -> BigInt:
        return BigInt(await repository.current_version(info.context.session))

    @strawberry.field(description="What changed after registry version `since`, oldest first.")
    async def changes(
        self,
        info: Info,
        since: Annotated[
            BigInt, strawberry.argument(description="The last registry version already synced.")
        ],
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
        session = info.context.session
        # Read the version first: changes committed in between are then re-sent, never skipped.
        version = await repository.current_version(session)
        rows = await repository.changes_since(session, since, position, kinds, first + 1)
        has_more = len(rows) > first
        rows = rows[:first]
        return RegistryChanges(
            changes=[RegistryChange.from_row(row) for row in rows],
            registry_version=BigInt(version),
            end_cursor=_encode(rows[-1].registry_version, rows[-1].id) if rows else after,
            has_more=has_more,
        )
