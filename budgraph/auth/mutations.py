"""Mutations of API keys: create, revoke, and set a key's own rate-limit budget (admin scope)."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types.unset import UNSET

from budgraph.auth import service
from budgraph.auth.permissions import needs
from budgraph.auth.queries import KeyName
from budgraph.auth.types import ApiKey, CreateApiKeyInput, CreatedApiKey
from budgraph.db.enums import ApiKeyScope
from budgraph.graphql.context import Info
from budgraph.kit.errors import BudgraphError


@strawberry.type
class ApiKeyMutations:
    @strawberry.mutation(
        description="Create an API key (admin scope). The answer holds its secret, shown this once.",
        extensions=needs(ApiKeyScope.ADMIN),
    )
    async def create_api_key(
        self,
        info: Info,
        input: Annotated[CreateApiKeyInput, strawberry.argument(description="The new key.")],
    ) -> CreatedApiKey:
        issued = await service.issue_key(
            info.context.session,
            input.name,
            input.scope,
            actor=info.context.actor,
            address=info.context.client_address,
            expires_at=input.expires_at,
            rate_limit=input.rate_limit,
        )
        return CreatedApiKey(
            api_key=ApiKey.from_row(issued.row, info.context.settings), secret=issued.plaintext
        )

    @strawberry.mutation(
        description="Revoke an API key (admin scope): it stops working at once. Revoking a revoked key"
        " changes nothing.",
        extensions=needs(ApiKeyScope.ADMIN),
    )
    async def revoke_api_key(self, info: Info, name: KeyName) -> ApiKey:
        row = await service.revoke(
            info.context.session, name, actor=info.context.actor, address=info.context.client_address
        )
        return ApiKey.from_row(row, info.context.settings)

    @strawberry.mutation(
        description="Give an API key a query-cost budget per rate-limit window of its own (admin scope),"
        " or null to go back to the default key budget.",
        extensions=needs(ApiKeyScope.ADMIN),
    )
    async def set_api_key_rate_limit(
        self,
        info: Info,
        name: KeyName,
        rate_limit: Annotated[
            int | None,
            strawberry.argument(
                description="The budget per window (>= 1), or null for the default; required."
            ),
        ] = UNSET,
    ) -> ApiKey:
        if rate_limit is UNSET:
            raise BudgraphError(
                "give `rateLimit`: a budget per window, or null for the default", field="rateLimit"
            )
        row = await service.set_rate_limit(
            info.context.session,
            name,
            rate_limit,
            actor=info.context.actor,
            address=info.context.client_address,
        )
        return ApiKey.from_row(row, info.context.settings)
