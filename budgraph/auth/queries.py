"""Root query fields of API keys and their audit (admin scope)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from budgraph.auth import repository, service
from budgraph.auth.permissions import needs
from budgraph.auth.types import ApiKey, ApiKeyEvent, ApiKeyEventFilter, ApiKeyFilter
from budgraph.db.enums import ApiKeyScope
from budgraph.graphql.context import Info
from budgraph.kit import clock
from budgraph.kit.errors import BudgraphError
from budgraph.kit.pagination import After, Before, Connection, First, Last, paginate

KeyName = Annotated[str, strawberry.argument(description="The key's name.")]


def _moment(value: datetime | None, field: str) -> datetime | None:
    if value is not None and value.utcoffset() is None:
        raise BudgraphError(f"`{field}` needs a time zone (e.g. `2030-01-01T00:00:00Z`)", field=field)
    return value


def event_query(filter: ApiKeyEventFilter | None) -> repository.ApiKeyEventQuery:
    if filter is None:
        return repository.ApiKeyEventQuery()
    return repository.ApiKeyEventQuery(
        key_names=filter.key_names,
        kinds=filter.kinds,
        occurred_after=_moment(filter.occurred_after, "filter.occurredAfter"),
        occurred_before=_moment(filter.occurred_before, "filter.occurredBefore"),
    )


@strawberry.type
class ApiKeyQueries:
    @strawberry.field(
        description="API keys, by name (admin scope). Never their secrets.",
        extensions=needs(ApiKeyScope.ADMIN),
    )
    async def api_keys(
        self,
        info: Info,
        filter: Annotated[ApiKeyFilter | None, strawberry.argument(description="Which keys to list.")] = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[ApiKey]:
        query = repository.ApiKeyQuery(
            statuses=filter.statuses if filter else None,
            scopes=[scope.value for scope in filter.scopes] if filter and filter.scopes is not None else None,
        )
        settings = info.context.settings
        stmt = repository.keys_statement(query, clock.now())
        return await paginate(
            info.context.session, stmt, lambda row: ApiKey.from_row(row, settings), first, after, last, before
        )

    @strawberry.field(
        description="One API key by name (admin scope); null if no key has that name.",
        extensions=needs(ApiKeyScope.ADMIN),
    )
    async def api_key(self, info: Info, name: KeyName) -> ApiKey | None:
        row = await service.find_key(info.context.session, name)
        return ApiKey.from_row(row, info.context.settings) if row is not None else None

    @strawberry.field(
        description="The audit of API keys, newest first (admin scope): creations, revocations, budget"
        " changes, and uses (recorded at most once a minute per key).",
        extensions=needs(ApiKeyScope.ADMIN),
    )
    async def api_key_events(
        self,
        info: Info,
        filter: Annotated[
            ApiKeyEventFilter | None, strawberry.argument(description="Which events to list.")
        ] = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[ApiKeyEvent]:
        stmt = repository.events_statement(event_query(filter))
        return await paginate(info.context.session, stmt, ApiKeyEvent.from_row, first, after, last, before)
